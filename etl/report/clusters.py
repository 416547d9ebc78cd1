"""Cluster profiles (k-means and Ward) in original units: days, orders, money."""

from __future__ import annotations

from etl.report import figures
from etl.report.colors import segment_colors
from etl.report.html import Charts

TITLES = {"kmeans": "k-means", "hierarchical": "Ward (hierarchical)"}


def render(data, charts: Charts) -> str:  # data: ReportData
    run_id = int(data.run["run_id"])
    parts = []
    for method, title in TITLES.items():
        mine = data.profiles[
            (data.profiles["run_id"] == run_id) & (data.profiles["method"] == method)
        ]
        if mine.empty:
            continue
        colors = segment_colors(mine["segment"])
        fig = figures.cluster_profiles(
            mine,
            colors,
            f"{title} clusters: mean recency (days), orders, net revenue and order value",
        )
        parts.append(charts.add(fig, 220 + 40 * len(mine)))
    return ("<h2>Cluster profiles</h2>" + "".join(parts)) if parts else ""
