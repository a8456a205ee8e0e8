"""The page in a real headless browser: Chromium loads ``/``, submits a lookup, and the result shows.

Driven through the DevTools protocol (``websocket-client``); without that package, through
``chromium --headless --dump-dom`` on the lookup's URL. Skipped with a reason when no Chromium is
installed (Debian/Ubuntu: ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import serve_util as U

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
BROWSER = next((b for b in BROWSERS if os.path.exists(b)), None) or shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-dev-shm-usage"]

pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page target."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, name: str, timeout: float = 30.0) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv()))
        raise AssertionError(f"no {name} within {timeout} s")

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self) -> None:
        self.ws.close()


def _launch(profile: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([BROWSER, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                             "--remote-allow-origins=*", "about:blank"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.time() + 60
    while time.time() < deadline and not (port_file.exists() and port_file.read_text().strip()):
        assert proc.poll() is None, "chromium exited"
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    import httpx

    for _ in range(100):
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return proc, pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise AssertionError("chromium opened no page target")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the browser's own process group (start_new_session)
    except ProcessLookupError:
        pass
    proc.wait(30)


@pytest.fixture
def served(store, dne):
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.serve.app import create_app
    from vastgraph.serve.state import ServeConfig

    app = create_app(ServeConfig(store=str(store), artifacts=str(dne), token=U.TOKEN, start_worker=False))
    want = [str(k) for k, _ in KeyedEmbeddings.load(dne).most_similar(5, topn=4)]
    with U.thread_server(app) as url:
        yield url, want, app.state.service.snapshot.version


def test_page_lookup_in_headless_chromium(served, tmp_path):
    url, want, version = served
    try:
        import websocket  # noqa: F401
    except ImportError:
        websocket = None
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
    if websocket is None:  # fallback: the lookup as a URL, the rendered DOM dumped
        out = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                              f"{url}/?id=5&k=4"], capture_output=True, text=True, timeout=120, start_new_session=True)
        assert all(f"<td class=\"id\">{w}</td>" in out.stdout for w in want), out.stdout[:2000]
        return
    proc, ws_url = _launch(profile)
    try:
        dt = DevTools(ws_url)
        dt.call("Page.enable")
        dt.call("Page.navigate", url=f"{url}/")
        dt.wait_event("Page.loadEventFired")
        assert dt.js("document.getElementById('version').textContent") == version
        assert dt.js("document.querySelector('svg#rates polyline') !== null")
        dt.js("document.getElementById('id').value = '5'; document.getElementById('k').value = '4'; "
              "document.getElementById('lookup').requestSubmit(); true")
        dt.wait_event("Page.loadEventFired")
        got = dt.js("Array.from(document.querySelectorAll('#results td.id')).map(td => td.textContent)")
        assert got == want
        assert "nearest neighbours of 5" in dt.js("document.getElementById('result-title').textContent")
        assert dt.js("location.search") == "?id=5&ntype=&mode=similar&k=4"
        # the inline script refreshes the numbers from /v1/stats
        deadline = time.time() + 20
        while time.time() < deadline and not dt.js("document.getElementById('rates-max').textContent"
                                                   ".startsWith('max')"):
            time.sleep(0.2)
        assert dt.js("document.getElementById('applied').textContent") == "0 / 0"
        dt.close()
    finally:
        _kill(proc)
