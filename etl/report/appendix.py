"""The appendix: stage timings, row counts, data-quality checks and run metrics."""

from __future__ import annotations

import json

import pandas as pd

from etl.report.html import esc, table


def render(data) -> str:  # data: ReportData
    run = data.run
    timings = pd.DataFrame(sorted((run["timings"] or {}).items()), columns=["stage", "seconds"])
    counts = pd.DataFrame(sorted((run["row_counts"] or {}).items()), columns=["rows", "count"])
    timings["seconds"] = pd.to_numeric(timings["seconds"], errors="coerce").astype("float64")
    counts["count"] = pd.to_numeric(counts["count"], errors="coerce").astype("float64")
    parts = [
        "<details class='appendix'><summary>Appendix: how this run was made</summary>",
        f"<p>Status <b>{esc(run['status'])}</b>, trigger {esc(run['trigger'])}, methods "
        f"{esc(', '.join(run['methods']))}, started {run['created_at']:%Y-%m-%d %H:%M}.</p>",
        "<h3>Stages</h3>",
        table(timings, "{:,.3f}"),
        table(counts, "{:,.0f}"),
    ]
    if not data.quality.empty:
        parts += [
            "<h3>Data-quality checks (re-run when the report was written)</h3>",
            table(data.quality),
        ]
    if not data.feature_stats.empty:
        parts += ["<h3>Customers: descriptive statistics</h3>", table(data.feature_stats)]
    if not data.cluster_models.empty:
        parts += ["<h3>Clustering quality</h3>", table(data.cluster_models, "{:,.3f}")]
    parts.append(
        f"<h3>Run metrics</h3><pre>{esc(json.dumps(run['metrics'], indent=2, default=str))}</pre>"
    )
    parts.append("</details>")
    return "".join(parts)
