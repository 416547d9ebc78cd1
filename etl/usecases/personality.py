"""Clustering of customer-level data (one row per customer, no order lines): `segwise personality`.

Customer-level data are customers whose ``warehouse.dim_customer.attributes`` carry
``spend_<category>`` keys (with ``purchases_<channel>`` and ``campaign_<name>`` alongside; the
``customer_personality`` layout writes them). No order lines are made up for them, so the
order-line methods (RFM, size tiers, order-feature clustering, channel profiles) are unavailable.

A run encodes the features (etl.usecases.personality_features), draws the elbow (k-means
inertia) and silhouette curves over ``k_range``, picks k by silhouette unless fixed, fits k-means
and Ward with the project's clustering (etl.segment.clustering.fit_clusters) and keeps a Ward
dendrogram of the top merges; results go to ``segmentation.personality_runs`` /
``personality_clusters`` in one transaction, read by the ``mart.personality_*`` views.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from etl.db import transaction
from etl.errors import SegwiseError
from etl.paths import read_sql
from etl.segment import run_config as seg_config
from etl.segment.frames import copy_frame, read_frame
from etl.usecases.personality_features import encode

CURVE_SAMPLE = 5000
DENDROGRAM_SAMPLE = 3000
DENDROGRAM_LEAVES = 30
NUMERIC_KEY = re.compile(r"^(spend|purchases|campaign)_[a-z0-9_]+$")
NUMERIC_ATTRIBUTES = (
    "kids_at_home",
    "teens_at_home",
    "recency_days",
    "deals_purchases",
    "web_visits_month",
    "complain",
)


def line_methods_unavailable(conn: psycopg.Connection) -> str | None:
    """The message for `segwise run` when the warehouse holds customer-level data only."""
    keys = conn.execute(read_sql("segmentation/personality_attribute_keys.sql")).fetchall()
    if not keys:
        return None
    return (
        "this warehouse holds customer-level data only (one row per customer, no order lines): "
        "rfm, tiers, kmeans/hierarchical on order features, demographic and channel profiles "
        "need order lines and are unavailable; cluster the customers with `segwise personality`"
    )


def read_customers(conn: psycopg.Connection) -> pd.DataFrame:
    """Customer-level rows: canonical fields plus every numeric attribute, one row per customer."""
    keys = [r[0] for r in conn.execute(read_sql("segmentation/personality_attribute_keys.sql"))]
    numeric = [k for k in keys if NUMERIC_KEY.match(k) or k in NUMERIC_ATTRIBUTES]
    if not any(k.startswith("spend_") for k in numeric):
        return pd.DataFrame()
    items = [
        sql.SQL("c.customer_id, c.birth_year, c.income, c.family_status, c.n_dependants, "
                "c.signup_date, c.attributes ->> 'education' AS education")
    ] + [
        sql.SQL("(c.attributes ->> {})::double precision AS {}").format(
            sql.Literal(k), sql.Identifier(k)
        )
        for k in numeric
    ]  # fmt: skip
    query = sql.SQL(
        "SELECT {} FROM warehouse.dim_customer AS c "
        "WHERE EXISTS (SELECT 1 FROM jsonb_object_keys(c.attributes) AS k (key) "
        "WHERE k.key LIKE 'spend\\_%%') ORDER BY c.customer_id"
    ).format(sql.SQL(", ").join(items))
    return read_frame(
        conn,
        query,
        dtypes={"customer_id": str, "family_status": str, "education": str},
        dates=["signup_date"],
    )


def standardised(frame: pd.DataFrame) -> np.ndarray:
    """The clustering's transform: median-imputed, log1p(max(x, 0)), z-scores."""
    from sklearn.preprocessing import StandardScaler

    values = frame.astype("float64")
    values = values.fillna(values.median()).fillna(0)
    return StandardScaler().fit_transform(np.log1p(values.clip(lower=0)).to_numpy())


def curves(X: np.ndarray, k_range: tuple[int, int], seed: int) -> dict[str, dict[str, float]]:
    """Elbow (k-means inertia) and silhouette per k, on a sample of at most CURVE_SAMPLE rows."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sample = X[np.sort(rng.permutation(len(X))[:CURVE_SAMPLE])]
    inertia, silhouette = {}, {}
    for k in range(k_range[0], min(k_range[1], len(sample) - 1) + 1):
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(sample)
        inertia[str(k)] = float(model.inertia_)
        silhouette[str(k)] = float(silhouette_score(sample, model.labels_))
    return {"inertia": inertia, "silhouette": silhouette}


def dendrogram(X: np.ndarray, seed: int) -> dict[str, Any]:
    """Ward linkage on a sample, truncated to its last DENDROGRAM_LEAVES merges (for plotting)."""
    from scipy.cluster import hierarchy

    rng = np.random.default_rng(seed)
    sample = X[np.sort(rng.permutation(len(X))[:DENDROGRAM_SAMPLE])]
    tree = hierarchy.linkage(sample, method="ward")
    drawn = hierarchy.dendrogram(tree, truncate_mode="lastp", p=DENDROGRAM_LEAVES, no_plot=True)
    return {
        "icoord": drawn["icoord"],
        "dcoord": drawn["dcoord"],
        "leaves": drawn["ivl"],
        "sample_rows": int(len(sample)),
    }


def run_personality(
    url: str,
    config: str | Path | Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Cluster the customer-level customers; returns the personality run id."""
    from etl.segment.clustering import fit_clusters

    say = progress or (lambda _msg: None)
    settings = seg_config.resolve(seg_config.load_config(config))["use_cases"]["personality"]
    seed = settings["seed"]
    with transaction(url) as conn:
        raw = read_customers(conn)
        if raw.empty:
            raise SegwiseError(
                "no customer-level data in the warehouse (customers with spend_<category> "
                "attributes): load a file first, e.g. `segwise load marketing_campaign.csv "
                "--layout customer_personality`"
            )
        features, ref = encode(raw, settings)
        columns = list(settings["features"])
        missing = [c for c in columns if c not in features.columns]
        if missing:
            raise SegwiseError(
                f"use_cases.personality.features: {missing} not in the data; available: "
                f"{[c for c in features.columns if c != 'customer_id']}"
            )
        empty = [c for c in columns if features[c].isna().all()]
        if empty:
            raise SegwiseError(f"use_cases.personality.features: {empty} have no values")
        n = len(features)
        k_range = (settings["k_range"][0], min(settings["k_range"][1], n - 1))
        X = standardised(features[columns])
        say(f"personality: {n} customers, features {', '.join(columns)}")
        curve = curves(X, k_range, seed)
        k = settings["k"] or int(max(curve["silhouette"], key=lambda key: curve["silhouette"][key]))
        frame = features[["customer_id", *columns]].copy()
        frame["monetary"] = features["spend_total"]  # clusters are numbered by spend
        metrics: dict[str, Any] = {
            "k": k,
            "k_fixed": settings["k"] is not None,
            "elbow_inertia": curve["inertia"],
            "silhouette_by_k": curve["silhouette"],
            "dendrogram": dendrogram(X, seed),
            "reference_date": ref.isoformat(),
        }
        labels = []
        for method in ("kmeans", "hierarchical"):
            result = fit_clusters(frame, method=method, k=k, feature_columns=columns, seed=seed)
            metrics[method] = {
                "silhouette": _finite(result.silhouette),
                "stability_ari": _finite(result.stability_ari),
            }
            out = result.labels.copy()
            out["method"] = method
            labels.append(out)
            say(f"personality: {method} k={k} silhouette={result.silhouette:.3f}")
        params = {**settings, "reference_year": ref.year, "reference_date": ref.isoformat()}
        run_id = conn.execute(
            "INSERT INTO segmentation.personality_runs (customers, params, metrics) "
            "VALUES (%s, %s, %s) RETURNING run_id",
            (n, Jsonb(params), Jsonb(metrics)),
        ).fetchone()[0]
        result_frame = pd.concat(labels, ignore_index=True)
        result_frame["run_id"] = run_id
        copy_frame(
            conn,
            ("segmentation", "personality_clusters"),
            result_frame,
            ["run_id", "method", "customer_id", "cluster_id", "cluster_name"],
        )
    return int(run_id)


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
