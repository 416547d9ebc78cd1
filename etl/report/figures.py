"""Pure functions from the report's DataFrames to Plotly figures (no database, no HTML).

Traces of a segment carry ``legendgroup`` = the segment's name, which the page's segment
filter uses; colours come from one mapping so a segment looks the same in every chart.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from etl.report.colors import NOT_SEGMENTS, with_alpha


def rfm_grid(grid: pd.DataFrame) -> go.Figure:
    """R x F heat map: customers per score cell, the cell's segment written on it."""
    cells = grid.groupby(["r_score", "f_score"], as_index=False).agg(
        customers=("customers", "sum"), revenue=("revenue", "sum")
    )
    names = (
        grid.sort_values("customers", ascending=False)
        .drop_duplicates(["r_score", "f_score"])
        .set_index(["r_score", "f_score"])["segment"]
    )
    scores = [1, 2, 3, 4, 5]
    z, text, custom = [], [], []
    for r in scores:
        zr, tr, cr = [], [], []
        for f in scores:
            hit = cells[(cells["r_score"] == r) & (cells["f_score"] == f)]
            n = int(hit["customers"].iloc[0]) if not hit.empty else 0
            rev = float(hit["revenue"].iloc[0]) if not hit.empty else 0.0
            name = str(names.get((r, f), ""))
            zr.append(n)
            tr.append(f"{name}<br>{n:,}")
            cr.append([name, rev])
        z.append(zr)
        text.append(tr)
        custom.append(cr)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"F{f}" for f in scores],
            y=[f"R{r}" for r in scores],
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            colorscale="Blues",
            colorbar={"title": {"text": "customers"}},
            hovertemplate="%{y} x %{x}: %{customdata[0]}<br>%{z:,} customers"
            "<br>net revenue %{customdata[1]:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="RFM grid: customers per recency (R) x frequency (F) score, 5 = best",
        xaxis_title="frequency score (F)",
        yaxis_title="recency score (R)",
    )
    return fig


def sizes_over_time(sizes: pd.DataFrame, colors: dict[str, str], method: str) -> go.Figure:
    fig = go.Figure()
    for seg, rows in sizes.groupby("segment", sort=True):
        fig.add_trace(
            go.Scatter(
                x=[str(d) for d in rows["as_of_date"]],
                y=rows["customers"].astype(int).tolist(),
                name=str(seg),
                legendgroup=str(seg),
                mode="lines+markers",
                line={"color": colors.get(str(seg))},
                customdata=(100 * rows["customer_share"]).round(1).tolist(),
                hovertemplate="%{x}: %{y:,} customers (%{customdata}%)<extra>%{fullData.name}"
                "</extra>",
            )
        )
    fig.update_layout(
        title=f"{method} segment sizes at each published as-of date",
        xaxis_title="as-of date",
        yaxis_title="customers",
        legend_title_text="segment",
    )
    fig.update_xaxes(type="category")
    return fig


def migration_sankey(moves: pd.DataFrame, colors: dict[str, str], title: str) -> go.Figure:
    """From (left) -> to (right) customers; '(new)' and '(gone)' are the edges of the base."""
    sources = sorted(moves["from_segment"].astype(str).unique())
    targets = sorted(moves["to_segment"].astype(str).unique())
    labels = [s if s in NOT_SEGMENTS else f"{s} (before)" for s in sources] + [
        t if t in NOT_SEGMENTS else f"{t} (now)" for t in targets
    ]
    node_colors = [colors.get(s, "#888") for s in sources] + [
        colors.get(t, "#888") for t in targets
    ]
    index_from = {s: i for i, s in enumerate(sources)}
    index_to = {t: len(sources) + i for i, t in enumerate(targets)}
    link_src = [index_from[str(s)] for s in moves["from_segment"]]
    link_dst = [index_to[str(t)] for t in moves["to_segment"]]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=",d",
            valuesuffix=" customers",
            node={"label": labels, "color": node_colors, "pad": 12, "thickness": 16},
            link={
                "source": link_src,
                "target": link_dst,
                "value": moves["customers"].astype(int).tolist(),
                "color": [
                    with_alpha(colors.get(str(s), "#888888"), 0.35) for s in moves["from_segment"]
                ],
            },
        )
    )
    fig.update_layout(title=title)
    return fig


def cohort_heatmap(cohorts: pd.DataFrame) -> go.Figure:
    pivot = cohorts.pivot_table(
        index="cohort_month", columns="months_since_first", values="retention_rate"
    ).sort_index()
    sizes = cohorts.drop_duplicates("cohort_month").set_index("cohort_month")["cohort_size"]
    fig = go.Figure(
        go.Heatmap(
            z=(100 * pivot).round(1).values.tolist(),
            x=[int(c) for c in pivot.columns],
            y=[f"{str(m)[:7]} ({int(sizes.get(m, 0)):,})" for m in pivot.index],
            colorscale="YlGnBu",
            colorbar={"title": {"text": "% still buying"}},
            hovertemplate="cohort %{y}<br>month %{x}: %{z}% bought<extra></extra>",
        )
    )
    fig.update_layout(
        title="Cohort retention: share of each first-purchase month's customers buying again",
        xaxis_title="months since the first purchase",
        yaxis_title="first-purchase month (customers)",
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def histogram(
    bins: pd.DataFrame,
    colors: dict[str, str],
    title: str,
    x_title: str,
    x_range: tuple[float, float] | None = None,
) -> go.Figure:
    """Stacked per-segment histogram from SQL-made bins (bin, width, customers per segment)."""
    fig = go.Figure()
    for seg, rows in bins.groupby("segment", sort=True):
        centre = (rows["bin"].astype(float) + 0.5) * rows["width"]
        fig.add_trace(
            go.Bar(
                x=centre.round(4).tolist(),
                y=rows["customers"].astype(int).tolist(),
                width=float(rows["width"].iloc[0]),
                name=str(seg),
                legendgroup=str(seg),
                marker={"color": colors.get(str(seg))},
                hovertemplate="%{x:,.2f}: %{y:,} customers<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        title=title,
        xaxis_title=x_title,
        yaxis_title="customers",
        legend_title_text="segment",
        bargap=0,
    )
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))
    return fig


def backtest(result: dict[str, Any]) -> go.Figure:
    groups = result["holdout"]["by_calibration_purchases"]
    labels = [str(g["purchases"]) for g in groups]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[g["actual_mean"] for g in groups],
            name="actual",
            mode="lines+markers",
            hovertemplate="%{x}: %{y:.3f}<extra>actual</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[g["predicted_mean"] for g in groups],
            name="predicted (BG/NBD)",
            mode="lines+markers",
            line={"dash": "dash"},
            hovertemplate="%{x}: %{y:.3f}<extra>predicted</extra>",
        )
    )
    fig.update_layout(
        title=f"Backtest {result['calibration_end']} .. {result['holdout_end']}: mean holdout "
        f"purchases, actual vs predicted (MAE {result['holdout']['mean_absolute_error']:.3f})",
        xaxis_title="repeat purchases in the calibration period",
        yaxis_title="mean purchases in the holdout",
        legend_title_text="series",
    )
    return fig


CLUSTER_MEASURES = (
    ("avg_recency_days", "recency, days"),
    ("avg_frequency", "orders"),
    ("avg_monetary", "net revenue"),
    ("avg_order_value", "order value"),
)


def cluster_profiles(profiles: pd.DataFrame, colors: dict[str, str], title: str) -> go.Figure:
    """Each cluster's mean recency, orders, net revenue and order value, in original units."""
    fig = make_subplots(
        rows=1, cols=len(CLUSTER_MEASURES), subplot_titles=[t for _, t in CLUSTER_MEASURES]
    )
    for row in profiles.sort_values("segment").itertuples(index=False):
        seg = str(row.segment)
        for i, (col, label) in enumerate(CLUSTER_MEASURES, start=1):
            fig.add_trace(
                go.Bar(
                    x=[float(getattr(row, col))],
                    y=[seg],
                    orientation="h",
                    name=seg,
                    legendgroup=seg,
                    showlegend=i == 1,
                    marker={"color": colors.get(seg)},
                    hovertemplate=f"{seg}<br>{label}: %{{x:,.2f}}<extra></extra>",
                ),
                row=1,
                col=i,
            )
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(
        title=title,
        legend_title_text="cluster",
        barmode="group",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def monthly_bars(monthly: pd.DataFrame) -> go.Figure:
    """Invoices placed (up) and cancelled (down) per month (the invoice use case)."""
    x = [str(m)[:7] for m in monthly["month"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x, y=monthly["invoices_placed"].tolist(), name="placed", marker={"color": "#4472c4"}
        )
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=(-monthly["invoices_cancelled"]).tolist(),
            name="cancelled",
            marker={"color": "#c00000"},
        )
    )
    fig.update_layout(
        title="Invoices placed (up) and cancelled (down) per month",
        barmode="relative",
        xaxis_title="month",
        yaxis_title="invoices",
        legend_title_text="status",
    )
    return fig


def kpi_trend(kpis: pd.DataFrame) -> go.Figure:
    """Net revenue per month (bars) with active and new customers (lines, right axis)."""
    x = kpis["period_label"].astype(str).tolist()
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(x=x, y=kpis["net_revenue"].tolist(), name="net revenue", marker={"color": "#9ab"}),
        secondary_y=False,
    )
    for column, name, color in (
        ("active_customers", "active customers", "#1f77b4"),
        ("new_customers", "new customers", "#2ca02c"),
    ):
        fig.add_trace(
            go.Scatter(x=x, y=kpis[column].astype(int).tolist(), name=name, mode="lines+markers",
                       line={"color": color}),
            secondary_y=True,
        )  # fmt: skip
    fig.update_layout(title="Monthly net revenue and customers", legend_title_text="measure")
    fig.update_xaxes(title_text="month")
    fig.update_yaxes(title_text="net revenue", secondary_y=False)
    fig.update_yaxes(title_text="customers", secondary_y=True, rangemode="tozero")
    fig.update_yaxes(rangemode="tozero", secondary_y=False)
    return fig
