"""The page at ``/``: look up a node or query id; see its neighbours / ads, the version, lag and rates.

Plain HTML rendered by the server (no build step, no external assets): a form (``GET /`` with
``id``, ``ntype``, ``mode``, ``k``), the result table rendered server-side (so the page works
without JavaScript and a lookup is a URL), the store / embedding versions, the ingestion lag, and
one inline SVG chart of requests per second over the last minute. A few lines of inline
JavaScript refresh the numbers and the chart from ``/v1/stats`` every two seconds.

Example:
    >>> svg = rate_chart([0, 2, 5, 1])
    >>> svg.startswith("<svg") and "polyline" in svg
    True
"""

from __future__ import annotations

import html
from typing import Any

CHART_W, CHART_H = 360, 80


def rate_chart(series: list[int]) -> str:
    """An inline SVG polyline of ``series`` (requests per second, oldest first)."""
    n = max(len(series), 2)
    top = max(max(series, default=0), 1)
    pts = " ".join(f"{i * (CHART_W - 4) / (n - 1) + 2:.1f},{CHART_H - 2 - v * (CHART_H - 14) / top:.1f}"
                   for i, v in enumerate(series))
    return (f'<svg id="rates" width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} {CHART_H}" '
            f'role="img" aria-label="requests per second, last minute">'
            f'<rect width="{CHART_W}" height="{CHART_H}" fill="#f6f8fa"/>'
            f'<text id="rates-max" x="4" y="11" font-size="10" fill="#555">max {top}/s</text>'
            f'<polyline id="rates-line" fill="none" stroke="#0a58ca" stroke-width="1.5" points="{pts}"/></svg>')


def _lookup(service: Any, id: str, ntype: str | None, mode: str, k: int) -> tuple[str, list[tuple[str, str, str]]]:
    """Run the page's lookup through the app's own code paths; returns (title, rows) or raises."""
    snap = service.snapshot
    esc = html.escape
    if mode == "retrieve":
        from vastgraph.serve.app import _ext

        r = snap.retriever("embedding" if snap.has_ads() else "coclick")
        if r is None:
            kv = snap.keyed
            row = int(kv.index_of([_ext(snap.id_kind("query"), id, "id")], "query")[0])
            d, rows = kv.search(kv.vectors[row], k, ntype="ad", metric="geodesic")
            keys = kv.key_of(rows[0][rows[0] >= 0])
            return f"ads for query {esc(id)} (geodesic distance)", [("ad", str(kk[1]), f"{s:.4f}")
                                                                    for kk, s in zip(keys, d[0])]
        kind = "int" if len(r.query_ids) and not isinstance(r.query_ids[0], str) else "str"
        got = r.retrieve([_ext(kind, id, "id")], k)
        rows = [("ad", str(a), f"{s:.4f}") for a, s in zip(got.ads[0], got.scores[0]) if a is not None]
        return f"ads retrieved for query {esc(id)}", rows
    if mode == "neighbors":
        from vastgraph.serve.app import _dense

        g = snap.graph
        nt = g.node_type(ntype)
        ets = [et for et in g.edge_types if et.src == nt]
        rows = []
        for et in ets:
            node = _dense(g, nt, [id], "id")
            nb = g.neighbors(int(node[0]), et)[:k]
            for v in g.external_ids(et.dst, nb).tolist() if len(nb) else []:
                rows.append((str(et), str(v), ""))
        return f"out-neighbours of {esc(id)}", rows[:k]
    from vastgraph.serve.app import _keyed_ntype, _keyed_row, _scored

    kv = snap.keyed
    nt = _keyed_ntype(kv, ntype if ntype else None)
    ext, row = _keyed_row(snap, nt, id)
    metric = snap.default_metric(None)
    scores, rws = kv.search(kv.vectors[row], k + 1, metric=metric)
    res = _scored(kv, scores[0], rws[0], row, k)
    return f"nearest neighbours of {esc(str(ext))} ({metric})", [(r["ntype"], str(r["id"]), f"{r['score']:.4f}")
                                                                for r in res]


def render_page(service: Any, *, id: str | None = None, ntype: str | None = None, mode: str = "similar",
                k: int = 10) -> str:
    """The HTML of ``/`` (with a server-side lookup when ``id`` is given)."""
    snap = service.snapshot
    ing = service.ingestor.info()
    esc = html.escape
    result = ""
    if id:
        try:
            title, rows = _lookup(service, id, ntype, mode, k)
            body = "".join(f"<tr><td>{esc(a)}</td><td class=id>{esc(b)}</td><td>{esc(c)}</td></tr>" for a, b, c in rows)
            result = (f'<h2 id="result-title">{title}</h2><table id="results"><thead><tr><th>type</th><th>id</th>'
                      f'<th>score</th></tr></thead><tbody>{body}</tbody></table>'
                      f'<p class=muted>{len(rows)} result(s) from version <code>{esc(snap.version)}</code></p>')
        except Exception as exc:  # a failed lookup is shown, not raised: the page always renders
            msg = getattr(exc, "message", None) or str(exc)
            result = f'<p id="error" class=err>{esc(type(exc).__name__)}: {esc(msg)}</p>'
    modes = "".join(f'<option value="{m}"{" selected" if m == mode else ""}>{m}</option>'
                    for m in ("similar", "retrieve", "neighbors"))
    types = list(snap.keyed.node_types) if snap.keyed is not None else list(snap.graph.node_types)
    opts = '<option value="">(default)</option>' + "".join(
        f'<option{" selected" if t == ntype else ""}>{esc(t)}</option>' for t in types)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vastgraph serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:900px}}table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}}.muted{{color:#666}}.err{{color:#b00}}
dl{{display:grid;grid-template-columns:max-content auto;gap:2px 12px}}dt{{color:#666}}</style></head>
<body><h1>vastgraph</h1>
<form id="lookup" method="get" action="/">
<input id="id" name="id" placeholder="node or query id" value="{esc(id or '')}" required>
<select id="ntype" name="ntype">{opts}</select>
<select id="mode" name="mode">{modes}</select>
<input id="k" name="k" type="number" min="1" max="100" value="{k}">
<button id="go" type="submit">look up</button></form>
{result}
<h2>service</h2><dl>
<dt>store version</dt><dd id="version">{esc(snap.version)}</dd>
<dt>embeddings follow</dt><dd id="emb-version">{snap.embedding_version if snap.embedding_version is not None else '-'}</dd>
<dt>ingestion lag</dt><dd id="lag">{ing['pending_records']} pending, oldest {ing['oldest_pending_s']:.3f} s, last batch {ing['last_lag_s']:.3f} s</dd>
<dt>applied / inbox</dt><dd id="applied">{ing['applied_seq']} / {ing['inbox_seq']}</dd>
</dl><h2>requests per second</h2>{rate_chart(service.rates.series())}
<script>
async function refresh() {{
  try {{
    const s = await (await fetch('/v1/stats')).json();
    document.getElementById('version').textContent = s.version;
    document.getElementById('emb-version').textContent = s.embedding_version ?? '-';
    const i = s.ingestion;
    document.getElementById('lag').textContent = i.pending_records + ' pending, oldest ' + i.oldest_pending_s.toFixed(3)
      + ' s, last batch ' + i.last_lag_s.toFixed(3) + ' s';
    document.getElementById('applied').textContent = i.applied_seq + ' / ' + i.inbox_seq;
    const n = Math.max(s.rates.length, 2), top = Math.max(1, ...s.rates);
    document.getElementById('rates-line').setAttribute('points', s.rates.map((v, j) =>
      (j * ({CHART_W} - 4) / (n - 1) + 2).toFixed(1) + ',' + ({CHART_H} - 2 - v * ({CHART_H} - 14) / top).toFixed(1)).join(' '));
    document.getElementById('rates-max').textContent = 'max ' + top + '/s';
  }} catch (e) {{}}
}}
setInterval(refresh, 2000);
</script></body></html>"""
