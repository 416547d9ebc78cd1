"""A self-contained HTML report for one segmentation run (plots embedded as PNG).

Statistics are computed in SQL over all customers; the plots use at most ``PLOT_SAMPLE``
customers drawn at random in SQL, so the report stays cheap at millions of customers.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display in containers or CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from etl.db import connect  # noqa: E402
from etl.errors import SegwiseError  # noqa: E402
from etl.segment import report_time  # noqa: E402
from etl.segment.frames import read_frame  # noqa: E402

PLOT_SAMPLE = 50_000
STAT_COLUMNS = ["recency_days", "frequency", "monetary", "gross_revenue", "avg_order_value"]


def resolve_run(url: str, run_id: int | None = None, as_of: dt.date | None = None) -> int:
    """The run to report: explicit id, else the published run of a date, else the latest."""
    with connect(url) as conn:
        if run_id is not None:
            row = conn.execute(
                "SELECT run_id FROM segmentation.runs WHERE run_id = %s", (run_id,)
            ).fetchone()
            if row is None:
                raise SegwiseError(f"no segmentation run {run_id}")
            return int(row[0])
        if as_of is None:  # the run the mart shows (its one definition: mart.as_of)
            found = conn.execute("SELECT run_id FROM mart.as_of").fetchone()
        else:  # at most one published run per date (unique index runs_one_published_per_date)
            found = conn.execute(
                "SELECT run_id FROM segmentation.runs "
                "WHERE status = 'published' AND as_of_date = %s",
                (as_of,),
            ).fetchone()
    if found is None:
        where = f" for {as_of}" if as_of else ""
        raise SegwiseError(f"no published segmentation run{where}: run `segwise run` first")
    return int(found[0])


def write_report(url: str, run_id: int, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with connect(url) as conn:
        body = _render(conn, run_id)
    out.write_text(body, encoding="utf-8")
    return out


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return '<img alt="plot" src="data:image/png;base64,{}">'.format(
        base64.b64encode(buf.getvalue()).decode("ascii")
    )


def _table(frame: pd.DataFrame, floatfmt: str = "{:,.2f}") -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else floatfmt.format(v)
        if isinstance(v, list | tuple | np.ndarray):
            return html.escape(", ".join(map(str, v)))
        return html.escape("" if v is None else str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _render(conn: psycopg.Connection, run_id: int) -> str:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        run = cur.execute(
            "SELECT run_id, as_of_date, trigger, methods, status, row_counts, timings, metrics, "
            "message, created_at, published_at FROM segmentation.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    if run is None:
        raise SegwiseError(f"no segmentation run {run_id}")
    parts = [
        f"<h1>segwise run {run_id}: customers as of {run['as_of_date']}</h1>",
        "<p>Status <b>{}</b>, trigger {}, methods {}, started {:%Y-%m-%d %H:%M}.</p>".format(
            html.escape(run["status"]),
            html.escape(run["trigger"]),
            html.escape(", ".join(run["methods"])),
            run["created_at"],
        ),
    ]
    if run["message"]:
        parts.append(f"<p class=err>{html.escape(run['message'])}</p>")
    timings = pd.DataFrame(sorted(run["timings"].items()), columns=["stage", "seconds"])
    counts = pd.DataFrame(sorted(run["row_counts"].items()), columns=["rows", "count"])
    parts += ["<h2>Stages</h2>", _table(timings, "{:,.3f}"), _table(counts, "{:,.0f}")]

    stats = _stats(conn, run_id)
    if stats.empty:
        parts.append("<p>No customer features for this run (failed or superseded).</p>")
        return _page(run_id, parts)
    parts += ["<h2>Customers: descriptive statistics</h2>", _table(stats)]
    sample = read_frame(
        conn,
        sql.SQL(
            "SELECT f.recency_days, f.frequency, f.monetary, r.segment AS rfm, t.segment AS tier "
            "FROM segmentation.customer_features f "
            "LEFT JOIN segmentation.customer_segments r ON r.run_id = f.run_id "
            "  AND r.method = 'rfm' AND r.customer_id = f.customer_id "
            "LEFT JOIN segmentation.customer_segments t ON t.run_id = f.run_id "
            "  AND t.method = 'tiers' AND t.customer_id = f.customer_id "
            "WHERE f.run_id = {} ORDER BY md5(f.customer_id) LIMIT {}"
        ).format(sql.Literal(run_id), sql.Literal(PLOT_SAMPLE)),
        dtypes={"rfm": str, "tier": str},
    )
    parts += ["<h2>Distributions</h2>", _distributions(sample)]
    parts += _boxplots(sample)

    profiles = read_frame(
        conn,
        sql.SQL(
            "SELECT method, segment, customers, customer_share, revenue, revenue_share, "
            "avg_recency_days, avg_frequency, avg_monetary, avg_order_value, "
            "array_to_string(top_categories, ', ') AS top_categories, recommended_action "
            "FROM segmentation.segment_profiles WHERE run_id = {} "
            "ORDER BY method, customers DESC"
        ).format(sql.Literal(run_id)),
        dtypes={"segment": str, "top_categories": str, "recommended_action": str},
    )
    parts.append("<h2>Segments</h2>")
    for method, frame in profiles.groupby("method", sort=False):
        parts.append(f"<h3>{html.escape(str(method))}</h3>")
        parts.append(_sizes(frame, str(method)))
        parts.append(_table(frame.drop(columns=["method"])))

    parts += report_time.sections(conn, run_id, run["as_of_date"], _png, _table)

    models = conn.execute(
        "SELECT method, k, silhouette, stability_ari FROM segmentation.cluster_models "
        "WHERE run_id = %s ORDER BY method",
        (run_id,),
    ).fetchall()
    if models:
        frame = pd.DataFrame(models, columns=["method", "k", "silhouette", "stability_ari"])
        parts += ["<h2>Clustering quality</h2>", _table(frame, "{:,.3f}")]
    from etl.segment import clv_report

    parts += clv_report.section(conn, run_id, run["as_of_date"], _table, _png, PLOT_SAMPLE)
    moves = conn.execute(
        "SELECT method, from_segment, to_segment, customers FROM segmentation.segment_migrations "
        "WHERE run_id = %s AND from_segment <> to_segment ORDER BY method, customers DESC",
        (run_id,),
    ).fetchall()
    if moves:
        frame = pd.DataFrame(moves, columns=["method", "from", "to", "customers"])
        parts += ["<h2>Moves since the previous run</h2>", _table(frame.head(60), "{:,.0f}")]
    from etl.usecases.report_sections import sections  # docs/use-cases.md

    parts += sections(conn, run_id, list(run["methods"]))
    parts.append(
        "<h2>Run metrics</h2><pre>{}</pre>".format(
            html.escape(json.dumps(run["metrics"], indent=2, default=str))
        )
    )
    return _page(run_id, parts)


def _stats(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    rows = []
    for col in STAT_COLUMNS:
        c = sql.Identifier(col)
        row = conn.execute(
            sql.SQL(
                "SELECT count({c}), avg({c}), stddev_samp({c}), min({c}), "
                "percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY {c}), max({c}) "
                "FROM segmentation.customer_features WHERE run_id = %s"
            ).format(c=c),
            (run_id,),
        ).fetchone()
        if not row or not row[0]:
            return pd.DataFrame()
        n, mean, std, lo, quartiles, hi = row
        rows.append([col, n, mean, std, lo, *quartiles, hi])
    frame = pd.DataFrame(
        rows, columns=["measure", "customers", "mean", "std", "min", "p25", "median", "p75", "max"]
    )
    for c in frame.columns[1:]:
        frame[c] = frame[c].astype("float64")
    return frame


def _distributions(sample: pd.DataFrame) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    for ax, col, title in zip(
        axes,
        ["monetary", "frequency", "recency_days"],
        ["net revenue (log10 of 1 + max(0, x))", "orders (log10 of 1 + x)", "recency, days"],
        strict=True,
    ):
        values = sample[col].astype("float64").clip(lower=0)
        if col != "recency_days":
            values = np.log10(1 + values)
        ax.hist(values, bins=40, color="#4472c4")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("customers")
    return _png(fig)


def _boxplots(sample: pd.DataFrame) -> list[str]:
    out = []
    for col, label in (("rfm", "RFM segment"), ("tier", "size tier")):
        if sample[col].isna().all():
            continue
        groups = sample.dropna(subset=[col]).groupby(col)
        names = sorted(groups.groups)
        fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
        for ax, measure in zip(axes, ("monetary", "frequency"), strict=True):
            data = [groups.get_group(n)[measure].astype("float64").to_numpy() for n in names]
            ax.boxplot(data, showfliers=False)
            ax.set_xticks(range(1, len(names) + 1), names, rotation=35, ha="right", fontsize=8)
            ax.set_title(f"{'net revenue' if measure == 'monetary' else 'orders'} by {label}")
        out.append(_png(fig))
    return out


def _sizes(frame: pd.DataFrame, method: str) -> str:
    top = frame.nlargest(20, "customers")
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(top) + 1))
    ax.barh(top["segment"].astype(str)[::-1], top["customers"][::-1], color="#70ad47")
    ax.set_xlabel("customers")
    ax.set_title(f"{method}: segment sizes", fontsize=10)
    return _png(fig)


def _page(run_id: int, parts: list[str]) -> str:
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1300px}"
        "table{border-collapse:collapse;margin:.5em 0 1em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}"
        "th{background:#eee}.err{color:#b00}img{max-width:100%}"
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>segwise run {run_id}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}"
        f"<p><small>Generated {generated} by segwise report.</small></p></body></html>"
    )
