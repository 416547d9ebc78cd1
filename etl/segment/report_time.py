"""The report's time sections: KPI trend, cohort retention heat map, segment sizes over time and
the migrations since the previous run (plots embedded by ``report._png``).

Every figure comes from a small aggregate: the ``mart`` time views (one row per month or cohort
cell), the per-segment profiles of published runs and the stored migration matrix.
"""

from __future__ import annotations

import datetime as dt
import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import psycopg

MAX_SEGMENTS = 12  # per method in the over-time plots and migration matrices


def _frame(conn: psycopg.Connection, query: str, params: tuple = ()) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def sections(conn: psycopg.Connection, run_id: int, as_of: dt.date, png, table) -> list[str]:
    """HTML parts; ``png`` and ``table`` are the report's own renderers (one style)."""
    parts: list[str] = []
    kpis = _frame(
        conn,
        "SELECT period_start, period_label, is_complete, gross_revenue, net_revenue, orders, "
        "active_customers, new_customers, returning_customers, revenue_mom_growth, "
        "revenue_yoy_growth FROM mart.monthly_kpis "
        "WHERE grain = 'month' AND dimension = 'all' AND period_start <= %s "
        "ORDER BY period_start",
        (as_of,),
    )
    if not kpis.empty:
        parts += ["<h2>Monthly KPIs</h2>", png(_kpi_trend(kpis))]
        shown = kpis.drop(columns=["period_start"]).tail(24)
        parts.append(table(shown))
    cohorts = _frame(
        conn,
        "SELECT cohort_month, months_since_first, retention_rate, cohort_size "
        "FROM mart.cohort_retention WHERE activity_month <= %s",
        (as_of,),
    )
    if not cohorts.empty:
        parts += ["<h2>Cohort retention</h2>", png(_cohort_heatmap(cohorts))]
    history = _frame(
        conn,
        "SELECT r.as_of_date, p.method, p.segment, p.customers "
        "FROM segmentation.runs r JOIN segmentation.segment_profiles p USING (run_id) "
        "WHERE (r.status = 'published' AND r.as_of_date <= %s) OR r.run_id = %s "
        "ORDER BY r.as_of_date",
        (as_of, run_id),
    )
    if history["as_of_date"].nunique() > 1:
        parts += ["<h2>Segment sizes over time</h2>", png(_sizes_over_time(history))]
    moves = _frame(
        conn,
        "SELECT m.method, m.from_segment, m.to_segment, m.customers, p.as_of_date "
        "FROM segmentation.segment_migrations m "
        "JOIN segmentation.runs p ON p.run_id = m.previous_run_id WHERE m.run_id = %s",
        (run_id,),
    )
    if not moves.empty:
        since = moves["as_of_date"].iloc[0]
        parts.append(f"<h2>Migrations since the previous run ({html.escape(str(since))})</h2>")
        parts.append(png(_migration_matrices(moves)))
    return parts


def _kpi_trend(kpis: pd.DataFrame) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 3.4))
    x = pd.to_datetime(kpis["period_start"])
    left.bar(x, kpis["net_revenue"].astype(float), width=20, color="#4472c4", label="net")
    left.plot(x, kpis["gross_revenue"].astype(float), color="#ed7d31", marker=".", label="gross")
    left.set_title("revenue per month (last month may be partial)", fontsize=10)
    left.legend(fontsize=8)
    right.bar(x, kpis["returning_customers"], width=20, color="#70ad47", label="returning")
    right.bar(
        x, kpis["new_customers"], width=20, bottom=kpis["returning_customers"],
        color="#ffc000", label="new",
    )  # fmt: skip
    right.set_title("active customers per month", fontsize=10)
    right.legend(fontsize=8)
    fig.autofmt_xdate()
    return fig


def _cohort_heatmap(cohorts: pd.DataFrame) -> plt.Figure:
    grid = cohorts.pivot(
        index="cohort_month", columns="months_since_first", values="retention_rate"
    )
    grid = grid.sort_index().tail(24)
    values = grid.to_numpy(dtype="float64")
    fig, ax = plt.subplots(figsize=(min(14, 2 + 0.5 * grid.shape[1]), 0.3 * len(grid) + 1.5))
    image = ax.imshow(np.ma.masked_invalid(values), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks(range(len(grid)), [str(m)[:7] for m in grid.index], fontsize=8)
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns], fontsize=8)
    ax.set_xlabel("months since first sale")
    ax.set_ylabel("cohort (month of first sale)")
    for (i, j), v in np.ndenumerate(values):
        if j > 0 and np.isfinite(v):
            ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, label="share of the cohort buying")
    return fig


def _sizes_over_time(history: pd.DataFrame) -> plt.Figure:
    methods = sorted(history["method"].unique())
    cols = min(3, len(methods))
    rows = -(-len(methods) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3 * rows), squeeze=False)
    for ax, method in zip(axes.flat, methods, strict=False):
        part = history[history["method"] == method]
        wide = part.pivot_table(
            index="as_of_date", columns="segment", values="customers", aggfunc="sum"
        ).fillna(0)
        top = wide.sum().nlargest(MAX_SEGMENTS).index
        for segment in top:
            ax.plot(pd.to_datetime(wide.index), wide[segment], marker=".", label=str(segment))
        ax.set_title(method, fontsize=10)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(methods) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _migration_matrices(moves: pd.DataFrame) -> plt.Figure:
    methods = sorted(moves["method"].unique())
    cols = min(3, len(methods))
    rows = -(-len(methods) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4.2 * rows), squeeze=False)
    for ax, method in zip(axes.flat, methods, strict=False):
        part = moves[moves["method"] == method]
        grid = part.pivot_table(
            index="from_segment", columns="to_segment", values="customers", aggfunc="sum"
        ).fillna(0)
        keep_rows = grid.sum(axis=1).nlargest(MAX_SEGMENTS).index
        keep_cols = grid.sum(axis=0).nlargest(MAX_SEGMENTS).index
        grid = grid.loc[sorted(keep_rows), sorted(keep_cols)]
        ax.imshow(np.log1p(grid.to_numpy()), cmap="Greens", aspect="auto")
        ax.set_yticks(range(len(grid)), grid.index, fontsize=6)
        ax.set_xticks(range(grid.shape[1]), grid.columns, fontsize=6, rotation=40, ha="right")
        for (i, j), v in np.ndenumerate(grid.to_numpy()):
            if v:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6)
        ax.set_title(f"{method}: from (rows) -> to (columns)", fontsize=9)
    for ax in list(axes.flat)[len(methods) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig
