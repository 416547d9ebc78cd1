"""Data access for the report: aggregated SQL (sql/report/*.sql) into small DataFrames.

Everything read here is per segment, per score cell, per histogram bin or per date, never one
row per customer, so the report's size does not grow with the number of customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import psycopg

from etl.errors import SegwiseError
from etl.paths import read_sql

CLV_BINS = 40


@dataclass
class ReportData:
    """What one report shows; the render functions take these frames and nothing else."""

    run: dict[str, Any]
    method: str
    previous: dict[str, Any] | None
    profiles: pd.DataFrame  # every method, this run and the previous one
    rfm_grid: pd.DataFrame
    sizes: pd.DataFrame
    migrations: pd.DataFrame
    mixes: pd.DataFrame
    lift: pd.DataFrame
    top_products: pd.DataFrame
    clv_model: dict[str, Any] | None
    clv_bins: pd.DataFrame
    clv_quantiles: list[float] | None
    cohorts: pd.DataFrame
    kpis: pd.DataFrame
    cluster_models: pd.DataFrame
    feature_stats: pd.DataFrame
    quality: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)


def query(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """One sql/report file's result as a DataFrame (the results are small: aggregates only)."""
    with conn.cursor() as cur:
        cur.execute(read_sql(f"report/{name}.sql"), params)
        columns = [c.name for c in cur.description or []]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def _numeric(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for c in columns:
        if c in frame:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return frame


def run_row(conn: psycopg.Connection, run_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        run = cur.execute(
            "SELECT run_id, as_of_date, trigger, methods, status, row_counts, timings, metrics, "
            "message, created_at, published_at FROM segmentation.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    if run is None:
        raise SegwiseError(f"no segmentation run {run_id}")
    return dict(run)


def _has_view(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def cohorts(conn: psycopg.Connection) -> pd.DataFrame:
    """Cohort retention from mart.cohort_retention where the warehouse has that view."""
    if not _has_view(conn, "mart.cohort_retention"):
        return pd.DataFrame(
            columns=["cohort_month", "months_since_first", "cohort_size", "retention_rate"]
        )
    frame = query(conn, "cohort_retention", {})
    return _numeric(frame, "retention_rate", "cohort_size")


def monthly_kpis(conn: psycopg.Connection, as_of: dt.date) -> pd.DataFrame:
    """Monthly KPIs from mart.monthly_kpis where the warehouse has that view."""
    if not _has_view(conn, "mart.monthly_kpis"):
        return pd.DataFrame(columns=["period_label", "net_revenue", "active_customers"])
    return _numeric(query(conn, "monthly_kpis", {"as_of": as_of}), "net_revenue")


def load(
    conn: psycopg.Connection, run_id: int, method: str, quality: pd.DataFrame | None = None
) -> ReportData:
    run = run_row(conn, run_id)
    prev = query(conn, "previous_run", {"run_id": run_id})
    previous = None if prev.empty else prev.iloc[0].to_dict()
    ids = [run_id] + ([int(previous["run_id"])] if previous else [])
    profiles = _numeric(
        query(conn, "profiles", {"run_ids": ids}),
        "customers",
        "customer_share",
        "revenue",
        "revenue_share",
        "avg_recency_days",
        "avg_frequency",
        "avg_monetary",
        "avg_order_value",
        "median_monetary",
        "avg_clv",
        "total_clv",
        "avg_p_alive",
    )
    params = {"run_id": run_id, "method": method}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        model = cur.execute(
            "SELECT * FROM segmentation.clv_models WHERE run_id = %s", (run_id,)
        ).fetchone()
    clv_bins = pd.DataFrame(columns=["measure", "segment", "bin", "width", "customers"])
    quantiles = None
    if model is not None and model["status"] == "fitted":
        clv_bins = _numeric(
            query(conn, "clv_distribution", {**params, "bins": CLV_BINS}), "width", "customers"
        )
        q = query(conn, "clv_quantiles", {"run_id": run_id})
        quantiles = None if q.empty or q.iloc[0, 0] is None else list(q.iloc[0, 0])
    models = pd.DataFrame(
        conn.execute(
            "SELECT method, k, silhouette, stability_ari FROM segmentation.cluster_models "
            "WHERE run_id = %s ORDER BY method",
            (run_id,),
        ).fetchall(),
        columns=["method", "k", "silhouette", "stability_ari"],
    )
    return ReportData(
        run=run,
        method=method,
        previous=previous,
        profiles=profiles,
        rfm_grid=_numeric(query(conn, "rfm_grid", {"run_id": run_id}), "revenue"),
        sizes=_numeric(query(conn, "segment_sizes", params), "customer_share", "revenue"),
        migrations=query(conn, "migrations", params),
        mixes=_numeric(query(conn, "mixes", params), "share", "index_vs_all"),
        lift=_numeric(query(conn, "category_lift", params), "lift", "segment_share"),
        top_products=(
            query(conn, "top_products", {"run_id": run_id})
            if method == "rfm"
            else pd.DataFrame(columns=["segment", "product", "revenue_rank"])
        ),
        clv_model=dict(model) if model else None,
        clv_bins=clv_bins,
        clv_quantiles=quantiles,
        cohorts=cohorts(conn),
        kpis=monthly_kpis(conn, run["as_of_date"]),
        cluster_models=_numeric(models, "silhouette", "stability_ari"),
        feature_stats=_numeric(
            query(conn, "feature_stats", {"run_id": run_id}),
            "customers",
            "mean",
            "std",
            "min",
            "p25",
            "median",
            "p75",
            "max",
        ),
        quality=quality if quality is not None else pd.DataFrame(),
    )


def first_order_date(conn: psycopg.Connection, as_of: dt.date) -> dt.date | None:
    return conn.execute(
        "SELECT min(order_date) FROM warehouse.fact_order_line WHERE order_date <= %s", (as_of,)
    ).fetchone()[0]
