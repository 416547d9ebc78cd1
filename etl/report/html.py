"""HTML building blocks: tables, chart containers, number formats and the page shell.

Charts are Plotly figures stored as JSON in the page and drawn by plotly.js, which is inlined
once into the file: the report opens without a network. plotly.js (about 4.8 MB) is stored
gzip-compressed (about 1.4 MB, base64 1.9 MB) and unpacked by the browser's own
DecompressionStream, which keeps a report at a million customers well under 5 MB.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import html
import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

esc = html.escape


def num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{float(value):,.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def change(now: Any, before: Any, kind: str = "num") -> str:
    """' (+1,234 since the previous run)' style delta; '' when there is nothing to compare."""
    if before is None or now is None:
        return ""
    try:
        now_f, before_f = float(now), float(before)
    except (TypeError, ValueError):
        return ""
    if math.isnan(now_f) or math.isnan(before_f):
        return ""
    delta = now_f - before_f
    cls = "up" if delta > 0 else "down" if delta < 0 else "same"
    if kind == "pts":
        text = f"{100 * delta:+.1f} pts"
    else:
        text = f"{delta:+,.0f}"
        if before_f:
            text += f" ({delta / abs(before_f):+.1%})"
    return f'<span class="delta {cls}">{esc(text)}</span>'


def table(frame: pd.DataFrame, floatfmt: str = "{:,.2f}") -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else floatfmt.format(v)
        if isinstance(v, list | tuple | np.ndarray):
            return esc(", ".join(map(str, v)))
        return esc("" if v is None else str(v))

    head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def png(fig: Any) -> str:
    """A matplotlib figure as an inline PNG (the personality report's static charts)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return '<img alt="plot" src="data:image/png;base64,{}">'.format(
        base64.b64encode(buf.getvalue()).decode("ascii")
    )


class Charts:
    """Collects a report's figures; each gets a container div and its spec in the page."""

    def __init__(self) -> None:
        self.specs: dict[str, Any] = {}

    def add(self, fig: go.Figure, height: int = 380) -> str:
        chart_id = f"chart-{len(self.specs) + 1}"
        fig.update_layout(
            template="plotly_white",
            height=height,
            margin={"l": 60, "r": 20, "t": 60, "b": 50},
            font={"family": "system-ui, sans-serif", "size": 12},
        )
        self.specs[chart_id] = fig.to_plotly_json()
        return f'<div class="chart" id="{chart_id}"></div>'


STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
main{max-width:1280px;margin:auto;padding:1em 2em}
header.top{background:#1f2a44;color:#fff;padding:1em 2em}
header.top h1{margin:0 0 .3em;font-size:1.5em}
h2{margin-top:1.6em;border-bottom:2px solid #dde;padding-bottom:.2em}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.8em}
.kpi,.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:.8em 1em}
.kpi .label{font-size:.85em;color:#555}.kpi .value{font-size:1.6em;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1em}
.card{border-top:6px solid var(--seg)}.card h3{margin:.1em 0 .4em}
.card dl{display:grid;grid-template-columns:auto 1fr;gap:.15em .8em;margin:.3em 0;font-size:.92em}
.card dt{color:#555}.card dd{margin:0}
.card .action{background:#f0f4ff;padding:.4em;border-radius:4px}
.delta{font-size:.8em;margin-left:.3em}.delta.up{color:#1a7f37}.delta.down{color:#c0392b}
.delta.same{color:#777}.chart{background:#fff;border-radius:8px;margin:.8em 0;min-height:200px}
table{border-collapse:collapse;margin:.5em 0 1em;background:#fff}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}
th{background:#eee}.err{color:#b00}img{max-width:100%}.note{color:#555;font-size:.9em}
.filter{margin-top:.5em}.filter select{font-size:1em;padding:.2em}
details.appendix{margin-top:2em}details.appendix summary{font-size:1.3em;cursor:pointer}
"""

SCRIPT = """
async function segwiseLoadPlotly() {
  var packed = atob(document.getElementById('segwise-plotly').textContent);
  var bytes = new Uint8Array(packed.length);
  for (var i = 0; i < packed.length; i++) { bytes[i] = packed.charCodeAt(i); }
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  var code = await new Response(stream).text();
  var tag = document.createElement('script');
  tag.text = code;
  document.head.appendChild(tag);
}
segwiseLoadPlotly().then(function () {
  var specs = JSON.parse(document.getElementById('segwise-charts').textContent);
  var config = {displaylogo: false, responsive: true};
  var jobs = Object.keys(specs).map(function (id) {
    var s = specs[id];
    return Plotly.newPlot(id, s.data, s.layout, config);
  });
  Promise.all(jobs).then(function () {
    window.segwiseChartsDrawn = jobs.length;
    window.segwiseReadyMs = performance.now();
    document.body.setAttribute('data-ready', String(jobs.length));
  });
  var select = document.getElementById('segment-filter');
  if (!select) { return; }
  select.addEventListener('change', function () {
    var chosen = select.value;
    document.querySelectorAll('.card[data-segment]').forEach(function (card) {
      card.hidden = Boolean(chosen) && card.getAttribute('data-segment') !== chosen;
    });
    Object.keys(specs).forEach(function (id) {
      var gd = document.getElementById(id);
      if (!gd.data || !gd.data.some(function (t) { return t.legendgroup; })) { return; }
      var visible = gd.data.map(function (t) {
        return !t.legendgroup || !chosen || t.legendgroup === chosen ? true : 'legendonly';
      });
      Plotly.restyle(gd, {visible: visible});
    });
  });
});
"""


@functools.lru_cache(maxsize=1)
def packed_plotly() -> str:
    """plotly.js from the pinned plotly package, gzip-compressed and base64-encoded."""
    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode()


def _json_for_script(value: Any) -> str:
    return json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":")).replace("</", "<\\/")


def page(title: str, header: str, body: list[str], charts: Charts) -> str:
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        "</head><body>"
        f"<header class='top'>{header}</header><main>{''.join(body)}"
        f"<p class='note'>Generated {generated} by segwise report.</p></main>"
        f"<script type='application/octet-stream' id='segwise-plotly'>{packed_plotly()}</script>"
        f"<script type='application/json' id='segwise-charts'>"
        f"{_json_for_script(charts.specs)}</script><script>{SCRIPT}</script></body></html>"
    )


def static_page(run_id: int, parts: list[str]) -> str:
    """A page without charts (the personality report and runs without customers)."""
    style = STYLE + "body{padding:1em 2em}"
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>segwise run {run_id}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}"
        f"<p><small>Generated {generated} by segwise report.</small></p></body></html>"
    )
