"""Trends: segment sizes over time and cohort retention.

Segment sizes come from the profiles of every published run (never pruned); cohort retention
from mart.cohort_retention where the warehouse has it. Monthly KPI trends plug in here too.
"""

from __future__ import annotations

from etl.report import figures
from etl.report.html import Charts, esc, table


def sizes(data, charts: Charts, colors: dict[str, str]) -> str:  # data: ReportData
    if data.sizes.empty:
        return ""
    dates = data.sizes["as_of_date"].nunique()
    note = (
        ""
        if dates > 1
        else "<p class='note'>One published date so far: trends grow with each run.</p>"
    )
    fig = figures.sizes_over_time(data.sizes, colors, data.method)
    return f"<h2>Segment sizes over time</h2>{note}" + charts.add(fig)


def kpis(data, charts: Charts) -> str:
    if data.kpis.empty:
        return ""
    return "<h2>Monthly KPIs</h2>" + charts.add(figures.kpi_trend(data.kpis))


def cohorts(data, charts: Charts) -> str:
    if data.cohorts.empty:
        return ""
    return "<h2>Cohort retention</h2>" + charts.add(figures.cohort_heatmap(data.cohorts), 520)


def migrations(data, charts: Charts, colors: dict[str, str]) -> str:
    moves = data.migrations
    if moves.empty:
        return (
            "<h2>Migrations since the previous run</h2><p class='note'>No earlier published run of "
            f"{esc(data.method)} to compare with.</p>"
        )
    prev = moves["previous_as_of_date"].iloc[0]
    title = f"Customers moving between {data.method} segments, {prev} -> {data.run['as_of_date']}"
    moved = moves[moves["from_segment"] != moves["to_segment"]]
    top = moved.head(10)[["from_segment", "to_segment", "customers"]]
    return (
        f"<h2>Migrations since the previous run ({esc(str(prev))})</h2>"
        + charts.add(figures.migration_sankey(moves, colors, title), 520)
        + "<h3>Biggest moves</h3>"
        + table(top.rename(columns={"from_segment": "from", "to_segment": "to"}), "{:,.0f}")
    )
