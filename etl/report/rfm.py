"""The RFM R x F grid section."""

from __future__ import annotations

from etl.report import figures
from etl.report.html import Charts


def render(data, charts: Charts) -> str:  # data: ReportData
    if data.rfm_grid.empty:
        return ""
    return (
        "<h2>RFM grid</h2><p class='note'>Each cell is a recency x frequency score pair; the "
        "name is the segment those customers get.</p>"
        + charts.add(figures.rfm_grid(data.rfm_grid), 460)
    )
