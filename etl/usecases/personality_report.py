"""The HTML report of a customer-level (personality) run: curves, dendrogram, cluster mixes.

The curves and the dendrogram come from the run's stored metrics; sizes and mixes from the
``mart.personality_*`` views (computed in SQL), pivoted here for display only.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from etl.db import connect  # noqa: E402
from etl.errors import SegwiseError  # noqa: E402
from etl.report.html import png as _png  # noqa: E402
from etl.report.html import static_page as _page  # noqa: E402
from etl.report.html import table as _table  # noqa: E402
from etl.segment.frames import read_frame  # noqa: E402

UNAVAILABLE = (
    "RFM, size tiers, clustering on order features and channel profiles need order lines, which "
    "customer-level data do not have: they are unavailable for these customers (segwise does not "
    "invent order lines)."
)


def write_report(url: str, run_id: int, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with connect(url) as conn:
        out.write_text(render(conn, run_id), encoding="utf-8")
    return out


def curve_plots(metrics: dict[str, Any]) -> str:
    """Elbow (inertia) and silhouette against k, with the chosen k marked."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, key, title in (
        (axes[0], "elbow_inertia", "elbow: k-means inertia"),
        (axes[1], "silhouette_by_k", "silhouette"),
    ):
        points = sorted((int(k), v) for k, v in metrics[key].items())
        ax.plot([k for k, _ in points], [v for _, v in points], marker="o", color="#4472c4")
        ax.axvline(metrics["k"], color="#c00000", linestyle="--", linewidth=1)
        ax.set_xlabel("k")
        ax.set_title(title, fontsize=10)
    return _png(fig)


def dendrogram_plot(tree: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(11, 3.8))
    for xs, ys in zip(tree["icoord"], tree["dcoord"], strict=True):
        ax.plot(xs, ys, color="#4472c4", linewidth=1)
    ax.set_xticks([5 + 10 * i for i in range(len(tree["leaves"]))], tree["leaves"], rotation=90)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("Ward distance")
    ax.set_title(
        f"Ward dendrogram: the last {len(tree['leaves'])} merges of {tree['sample_rows']} "
        "customers (leaf labels: customers under the branch)",
        fontsize=10,
    )
    return _png(fig)


def render(conn: psycopg.Connection, run_id: int) -> str:
    row = conn.execute(
        "SELECT customers, params, metrics, created_at FROM segmentation.personality_runs "
        "WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    if row is None:
        raise SegwiseError(f"no personality run {run_id}")
    customers, params, metrics, created = row
    parts = [
        f"<h1>segwise customer-level clustering, run {run_id}</h1>",
        f"<p>{customers:,} customers, made {created:%Y-%m-%d %H:%M}; features "
        f"{html.escape(', '.join(params['features']))}; reference date "
        f"{html.escape(str(params['reference_date']))}; k = {metrics['k']}"
        f"{' (fixed)' if metrics['k_fixed'] else ' (best silhouette)'}.</p>",
        f"<p>{html.escape(UNAVAILABLE)}</p>",
        "<h2>Choosing k: elbow and silhouette</h2>",
        curve_plots(metrics),
        "<h2>Dendrogram</h2>",
        dendrogram_plot(metrics["dendrogram"]),
    ]
    latest = conn.execute("SELECT max(run_id) FROM segmentation.personality_runs").fetchone()[0]
    if latest != run_id:
        parts.append("<p>Cluster mixes are shown for the latest run only.</p>")
        return _page(run_id, parts)
    clusters = read_frame(
        conn,
        sql.SQL(
            "SELECT method, cluster_id, cluster_name, customers, customer_share, avg_age, "
            "avg_income, avg_children, avg_spend, avg_purchases, avg_campaigns_accepted, "
            "silhouette FROM mart.personality_clusters ORDER BY method DESC, cluster_id"
        ),
        dtypes={"cluster_name": str},
    )
    parts += ["<h2>Clusters</h2>", _table(clusters)]
    profiles = read_frame(
        conn,
        sql.SQL(
            "SELECT method, cluster_id, dimension, value, share, amount_share "
            "FROM mart.personality_cluster_profiles"
        ),
        dtypes={"value": str},
    )
    titles = {
        "age_band": ("share", "Age mix (share of the cluster's customers)"),
        "education": ("share", "Education mix"),
        "family_status": ("share", "Family status mix"),
        "children": ("share", "Children at home"),
        "income_band": ("share", "Income mix"),
        "spend": ("amount_share", "Spend mix per category (share of the cluster's spend)"),
        "channel": ("amount_share", "Channel mix (share of the cluster's purchases)"),
        "campaign": ("share", "Campaign response rates"),
    }
    for method in ("kmeans", "hierarchical"):
        parts.append(f"<h2>{'k-means' if method == 'kmeans' else 'Ward'}: per-cluster mixes</h2>")
        mine = profiles[profiles["method"] == method]
        for dimension, (measure, title) in titles.items():
            frame = mine[mine["dimension"] == dimension]
            if frame.empty:
                continue
            table = frame.pivot_table(
                index="cluster_id", columns="value", values=measure, aggfunc="sum"
            ).reset_index()
            parts += [f"<h3>{html.escape(title)}</h3>", _table(pd.DataFrame(table), "{:.1%}")]
    return _page(run_id, parts)
