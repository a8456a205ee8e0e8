"""Self-contained HTML reports: tables and matplotlib figures embedded as base64 PNGs."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import tempfile
from datetime import datetime, timezone
from typing import Any, Sequence

_STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9em}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
"""


class HtmlReport:
    """Collects sections of text, tables and figures, and writes one self-contained HTML file.

    Example:
        >>> r = HtmlReport("demo")
        >>> r.table("scores", [{"method": "a", "f1": 0.5}])
        >>> "<table>" in r.render()
        True
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []

    def heading(self, text: str) -> None:
        self._parts.append(f"<h2>{html.escape(text)}</h2>")

    def text(self, text: str, cls: str | None = None) -> None:
        c = f' class="{cls}"' if cls else ""
        self._parts.append(f"<p{c}>{html.escape(text)}</p>")

    def table(self, caption: str, rows: Sequence[dict[str, Any]], floatfmt: str = "{:.4f}") -> None:
        if not rows:
            self.text(f"{caption}: (no rows)", cls="note")
            return
        cols: list[str] = []
        for r in rows:
            for k in r:
                if k not in cols:
                    cols.append(k)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)

        def cell(v: Any) -> str:
            if isinstance(v, float):
                return floatfmt.format(v)
            return html.escape("" if v is None else str(v))

        body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
        self._parts.append(f"<p><b>{html.escape(caption)}</b></p><table><tr>{head}</tr>{body}</table>")

    def figure(self, fig: Any, caption: str = "") -> None:
        """Embed a matplotlib figure (closed afterwards)."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"/>{cap}</figure>')

    def render(self) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>"
                f"<p class='note'>generated {stamp}</p>{''.join(self._parts)}</body></html>")

    def write(self, path: str | os.PathLike) -> str:
        """Write atomically (temporary file, then rename)."""
        path = os.fspath(path)
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.render())
        os.replace(tmp, path)
        return path


def write_json(path: str | os.PathLike, obj: Any) -> str:
    """Write JSON atomically."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1, default=_default)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
