"""Customer clustering: k-means and hierarchical (Ward) on log-scaled, standardised features.

Pure maths, no database: a customer-level DataFrame in, a ``ClusterResult`` out. The pipeline's
``kmeans`` and ``hierarchical`` methods call::

    fit_clusters(features, *, method, k=None, k_range=(2, 8), feature_columns=None, seed=42,
                 sample_size=20000, ward_sample_size=10000) -> ClusterResult

Design (see docs/clustering.md):
- Features are clipped at 0 (net revenue can be negative; log needs x > -1), ``log1p``-ed and
  standardised, so heavy-tailed spend does not dominate the distance. Missing values are imputed
  with the column median and counted in ``params``.
- Rows are sorted by customer_id first, so results depend on the seed, never on row order.
- k is chosen by silhouette over ``k_range`` on a random sample of at most ``sample_size`` rows,
  unless fixed. K-means then fits every row (scikit-learn works in chunks; memory is the feature
  matrix). Ward needs O(s^2) memory (a 10,000-row fit peaks near 1 GB, 20,000 near 3.2 GB), so it
  is fitted on at most ``ward_sample_size`` rows and everyone else joins the nearest sample-cluster
  centroid: memory stays bounded at millions of customers.
- Clusters are renumbered 1..k by descending mean monetary (then size), named from their feature
  levels relative to the other clusters and the population (``cluster_levels``), and described in
  original units. ``match_to_previous`` then carries ids over from the previous run's clusters.
- Stability: adjusted Rand index between a fit on a random 70% of customers and the full fit,
  over that 70%.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Memory
from scipy.optimize import linear_sum_assignment
from sklearn import config_context
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    pairwise_distances_argmin,
)
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from etl.errors import SegwiseError

Method = Literal["kmeans", "hierarchical"]
METHODS: tuple[str, ...] = ("kmeans", "hierarchical")
DEFAULT_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
)
N_INIT = 4
# Bump when a change makes the fit give a different model for the same data and settings:
# stored models of another version are not reused (see model_settings).
MODEL_VERSION = 1
TRANSFORM = "log1p_clip0_zscore"
TRANSFORM_TEXT = "log1p(max(x, 0)) then standardise (z-score over all customers)"
# A reused model's silhouette is estimated on at most this many customers (the fit's own uses
# sample_size): the pairwise work is quadratic, and a daily reuse must stay cheap.
REUSE_SILHOUETTE_ROWS = 5000
STABILITY_FRACTION = 0.7
WORKING_MEMORY_MB = 128
# Rows per side of a block of pairwise distances in the silhouettes (2 MB of float64: in cache).
SILHOUETTE_BLOCK = 512
# Clusters whose means of a feature span less than this many standard deviations are not told
# apart by it (every cluster is "mid" on it); see cluster_levels.
MIN_SPREAD = 0.25
# Centroids further apart than this (standard deviations) are not the same cluster from one run
# to the next; see match_to_previous.
MATCH_MAX_DISTANCE = 1.0
# Words for (low, mid, high) values of each known feature; the first three named features make
# the base name, later ones are added only to tell apart clusters that would share a name.
LEVEL_WORDS: dict[str, tuple[str, str, str]] = {
    "monetary": ("low-spend", "mid-value", "high-value"),
    "frequency": ("infrequent", "occasional", "frequent"),
    "recency_days": ("recent", "cooling", "lapsed"),
    "avg_order_value": ("small-basket", "mid-basket", "big-basket"),
    "tenure_days": ("new", "established", "long-standing"),
}
NAME_ORDER: tuple[str, ...] = ("monetary", "frequency", "recency_days")


@dataclass
class ClusterResult:
    labels: pd.DataFrame  # customer_id, cluster_id (1..k), cluster_name
    profile: pd.DataFrame  # one row per cluster, original units
    k: int
    silhouette: float  # NaN when undefined (k equal to the number of customers)
    stability_ari: float  # NaN when the 70% sample has fewer customers than k
    params: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable


def fit_clusters(
    features: pd.DataFrame,
    *,
    method: Method,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    feature_columns: Sequence[str] | None = None,
    seed: int = 42,
    sample_size: int = 20000,
    ward_sample_size: int = 10000,
    threads: int | None = 1,
) -> ClusterResult:
    """Cluster customers; ``features`` has one row per customer and a ``customer_id`` column."""
    columns = _validate(
        features, method, k, k_range, feature_columns, seed, sample_size, ward_sample_size, threads
    )
    k_fixed = k
    keep = ["customer_id", *columns]
    if "monetary" in features.columns and "monetary" not in columns:
        keep.append("monetary")  # the renumbering key even when not a clustering feature
    frame = features[keep].sort_values("customer_id", kind="stable").reset_index(drop=True)
    n = len(frame)
    raw, imputed, medians = _numeric(frame, columns)
    clipped = {c: int((raw[c] < 0).sum()) for c in columns}
    scaler = StandardScaler()
    X = scaler.fit_transform(np.log1p(raw[columns].clip(lower=0)).to_numpy())
    del raw
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    fit_rows = min(n, ward_sample_size) if method == "hierarchical" else min(n, sample_size)
    select_idx = np.sort(order[:fit_rows])

    # Chunked pairwise work (silhouette, nearest centroid) in 128 MB blocks, not the default 1 GB.
    # One OpenMP/BLAS thread by default: stages (k-means, Ward, Postgres) run side by side, and
    # oversubscribed OpenMP spins; 2 threads made KMeans ~7x slower on a loaded 2-core box.
    with (
        config_context(working_memory=WORKING_MEMORY_MB),
        threadpool_limits(limits=threads),
        tempfile.TemporaryDirectory(prefix="segwise-ward-") as cache_dir,
    ):
        memory = Memory(cache_dir, verbose=0)
        scores: dict[int, float] = {}
        chosen: tuple[np.ndarray, np.ndarray] | None = None
        if k is None:
            k, scores, chosen = _choose_k(X[select_idx], method, k_range, seed, memory)
        else:
            _check_distinct(X[select_idx], k)
        if chosen is not None and len(select_idx) == n:
            # the selection already fitted every customer: same labels, same silhouette
            labels, centres = chosen
            if n <= sample_size:
                silhouette = scores[k]
            else:
                silhouette = _silhouette(X, labels, sample_size, seed)
        else:
            # Ward's selection sample is its fit sample: the chosen cut is the sample's fit
            sample_fit = chosen if method == "hierarchical" else None
            labels, centres = _fit(X, method, k, seed, select_idx, memory, sample_fit)
            silhouette = _silhouette(X, labels, sample_size, seed)
        stability = _stability(X, labels, method, k, seed, ward_sample_size)
    new_id = _renumber(frame, X, labels, columns)
    cluster_id = pd.Series(labels).map(new_id).to_numpy().astype("int64")
    labels_df, profile = _describe(frame, X, cluster_id, None, columns, n)
    params = {
        "method": method,
        "k": int(k),
        "k_fixed": not scores,
        "k_range": [int(k_range[0]), int(k_range[1])],
        "silhouette_by_k": {str(key): _json_float(v) for key, v in scores.items()},
        "silhouette": _json_float(silhouette),
        "stability_ari": _json_float(stability),
        "feature_columns": list(columns),
        "transform": TRANSFORM_TEXT,
        "clipped_negative": clipped,
        "imputed_median": imputed,
        "seed": int(seed),
        "sample_size": int(sample_size),
        "ward_sample_size": int(ward_sample_size),
        "n_customers": int(n),
        "n_fit_rows": int(n if method == "kmeans" else fit_rows),
        "n_selection_rows": int(len(select_idx)),
        "algorithm": (
            f"KMeans(n_init={N_INIT}, random_state={seed})"
            if method == "kmeans"
            else "AgglomerativeClustering(linkage='ward') on a sample + nearest centroid"
        ),
        "stability_fraction": STABILITY_FRACTION,
        "renumbering": "1..k by descending mean monetary, then size",
        "model": {
            "version": MODEL_VERSION,
            "transform": TRANSFORM,
            "settings": model_settings(
                method, columns, k_fixed, k_range, seed, sample_size, ward_sample_size
            ),
            "columns": list(columns),
            "median": [medians[c] for c in columns],
            "mean": [float(v) for v in scaler.mean_],
            "scale": [float(v) for v in scaler.scale_],
            "centroids": {
                str(new_id[raw]): [float(v) for v in centres[raw]] for raw in sorted(new_id)
            },
            "names": {
                str(cid): str(name)
                for cid, name in zip(profile["cluster_id"], profile["cluster_name"], strict=True)
            },
        },
    }
    return ClusterResult(
        labels=labels_df,
        profile=profile,
        k=int(k),
        silhouette=float(silhouette),
        stability_ari=float(stability),
        params=params,
    )


def _validate(
    features: pd.DataFrame,
    method: str,
    k: int | None,
    k_range: tuple[int, int],
    feature_columns: Sequence[str] | None,
    seed: int,
    sample_size: int,
    ward_sample_size: int,
    threads: int | None,
) -> list[str]:
    """Every check that needs no computation, so bad input fails before any work."""
    if method not in METHODS:
        raise SegwiseError(f"unknown clustering method {method!r}: use one of {', '.join(METHODS)}")
    if not isinstance(features, pd.DataFrame) or "customer_id" not in features.columns:
        raise SegwiseError("clustering needs a DataFrame with a customer_id column")
    if features["customer_id"].isna().any():
        raise SegwiseError("clustering features: customer_id has missing values")
    if features["customer_id"].duplicated().any():
        dup = features.loc[features["customer_id"].duplicated(), "customer_id"].iloc[0]
        raise SegwiseError(
            f"clustering features must have one row per customer; {dup!r} appears twice"
        )
    if feature_columns is None:
        columns = [c for c in DEFAULT_FEATURES if c in features.columns]
        if not columns:
            raise SegwiseError(
                "clustering features: none of the default columns "
                f"({', '.join(DEFAULT_FEATURES)}) is present; pass feature_columns"
            )
    else:
        if isinstance(feature_columns, str):
            feature_columns = [feature_columns]
        columns = list(dict.fromkeys(feature_columns))
        if not columns:
            raise SegwiseError("clustering feature_columns is empty: name at least one column")
        missing = [c for c in columns if c not in features.columns]
        if missing:
            raise SegwiseError(
                f"clustering feature column(s) {', '.join(missing)} not in the features; "
                f"available: {', '.join(str(c) for c in features.columns)}"
            )
        if "customer_id" in columns:
            raise SegwiseError("customer_id is an identifier, not a clustering feature")
    if threads is not None and (not _is_int(threads) or threads < 1):
        raise SegwiseError(f"clustering threads must be None or an integer >= 1; got {threads!r}")
    for name, value, low in (
        ("seed", seed, 0),
        ("sample_size", sample_size, 3),
        ("ward_sample_size", ward_sample_size, 3),
    ):
        if not _is_int(value) or value < low:
            raise SegwiseError(f"clustering {name} must be an integer >= {low}; got {value!r}")
    n = len(features)
    fit_cap = min(n, ward_sample_size) if method == "hierarchical" else n
    if k is not None:
        if not _is_int(k) or k < 2:
            raise SegwiseError(f"number of clusters k must be an integer >= 2; got {k!r}")
        if k > n:
            raise SegwiseError(
                f"number of clusters k={k} is more than the {n} customers to cluster: "
                f"use k between 2 and {n}"
            )
        if k > fit_cap:
            raise SegwiseError(
                f"number of clusters k={k} is more than the {fit_cap} rows the Ward sample "
                "holds: lower k or raise ward_sample_size"
            )
        return columns
    if (
        not isinstance(k_range, Sequence)
        or len(k_range) != 2
        or not all(_is_int(v) for v in k_range)
    ):
        raise SegwiseError(f"k_range must be two integers (low, high); got {k_range!r}")
    low, high = k_range
    if low < 2 or high < low:
        raise SegwiseError(
            f"k_range {tuple(k_range)} is invalid: need 2 <= low <= high, e.g. (2, 8)"
        )
    select_rows = min(fit_cap, sample_size)
    if high > select_rows - 1:
        raise SegwiseError(
            f"k_range {tuple(k_range)} reaches k={high}, but silhouette needs fewer clusters "
            f"than the {select_rows} customers it is computed on: lower the upper bound to at "
            f"most {max(select_rows - 1, 1)} or fix k"
        )
    return columns


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _numeric(
    frame: pd.DataFrame, columns: list[str], medians: Mapping[str, float] | None = None
) -> tuple[pd.DataFrame, dict[str, int], dict[str, float]]:
    """Feature columns as float (Decimal from psycopg included); NaNs imputed with the median.

    Returns the values, the count imputed per column and the median of every column (what a
    reused model imputes with). ``medians``: impute with these (a stored model's) instead.
    """
    out = pd.DataFrame(index=frame.index)
    imputed: dict[str, int] = {}
    used: dict[str, float] = {}
    for column in columns:
        try:
            values = pd.to_numeric(frame[column], errors="raise").astype("float64")
        except (TypeError, ValueError) as exc:
            raise SegwiseError(f"clustering feature {column!r} is not numeric: {exc}") from exc
        missing = int(values.isna().sum()) + int(np.isinf(values).sum())
        if missing:
            values = values.replace([np.inf, -np.inf], np.nan)
        if medians is not None:
            median = float(medians[column])
        elif missing and values.isna().all():
            raise SegwiseError(
                f"clustering feature {column!r} has no values: drop it from feature_columns"
            )
        else:
            median = float(values.median())
        if missing:
            values = values.fillna(median)
            imputed[column] = missing
        used[column] = median
        out[column] = values
    return out, imputed, used


def _check_distinct(X: np.ndarray, k: int) -> None:
    distinct = len(np.unique(X, axis=0))
    if distinct < k:
        raise SegwiseError(
            f"number of clusters k={k} exceeds the {distinct} distinct customer profiles in the "
            f"data: use k <= {distinct}"
        )


def _labels_for(
    X: np.ndarray, method: str, k: int, seed: int, memory: Memory | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0..k-1 of the rows of ``X`` and the k centres (k-means' own, Ward's group means)."""
    if method == "kmeans":
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(X)
        return model.labels_, model.cluster_centers_
    # compute_full_tree + a joblib cache: the Ward tree is built once and cut at every k.
    ward = AgglomerativeClustering(
        n_clusters=k, linkage="ward", compute_full_tree=True, memory=memory
    )
    labels = ward.fit_predict(X)
    return labels, _group_means(X, labels, k)


def _group_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean row of each label 0..k-1 (used on the Ward sample only: k masks of 10k rows)."""
    return np.vstack([X[labels == c].mean(axis=0) for c in range(k)])


def _choose_k(
    X: np.ndarray, method: str, k_range: tuple[int, int], seed: int, memory: Memory
) -> tuple[int, dict[int, float], tuple[np.ndarray, np.ndarray]]:
    """The k with the best silhouette on the selection sample (smallest k on ties), its scores
    and the winning fit of the sample (labels, centres)."""
    fitted: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(k_range[0], k_range[1] + 1):
        labels, centres = _labels_for(X, method, k, seed, memory)
        if len(np.unique(labels)) == k:  # fewer distinct profiles than k: k is not achievable
            fitted[k] = (labels, centres)
    scores = dict(zip(fitted, _silhouettes(X, [f[0] for f in fitted.values()]), strict=True))
    if not scores:
        raise SegwiseError(
            f"no k in k_range {tuple(k_range)} gives that many distinct clusters: the customers "
            "have too few distinct profiles; lower the range"
        )
    best = max(scores, key=lambda key: (round(scores[key], 12), -key))
    return best, scores, fitted[best]


def _silhouettes(X: np.ndarray, labelings: list[np.ndarray]) -> list[float]:
    """Mean silhouette of several labelings of the same rows, reading the distances once.

    Hand-written because ``silhouette_score`` recomputes all n^2 distances for every k, which
    made k selection on 20,000 rows ~90% of the clustering time; this is its definition
    (singletons score 0) on one pass over the distances (``_distance_sums``), with each block's
    per-cluster distance sums as one matrix product. Tests pin it to scikit-learn's value.
    """
    if not labelings:
        return []
    codes, sizes, blocks = [], [], []
    offset = 0
    for labels in labelings:
        _, code, size = np.unique(labels, return_inverse=True, return_counts=True)
        codes.append(code + offset)
        sizes.append(size)
        blocks.append((offset, offset + len(size)))
        offset += len(size)
    n = len(X)
    member = np.zeros((n, offset))  # one-hot of every labeling side by side
    for code in codes:
        member[np.arange(n), code] = 1.0
    sums = _distance_sums(X, member)
    scores = []
    for code, size, (lo, hi) in zip(codes, sizes, blocks, strict=True):
        own = code - lo
        cluster_sums = sums[:, lo:hi]
        intra_sum = cluster_sums[np.arange(n), own]
        with np.errstate(divide="ignore", invalid="ignore"):
            intra = intra_sum / (size[own] - 1)
            mean_dist = cluster_sums / size
            mean_dist[np.arange(n), own] = np.inf
            inter = mean_dist.min(axis=1)
            sil = (inter - intra) / np.maximum(intra, inter)
        scores.append(float(np.mean(np.nan_to_num(sil))))
    return scores


def _distance_sums(X: np.ndarray, weights: np.ndarray, block: int = SILHOUETTE_BLOCK) -> np.ndarray:
    """``D @ weights`` for the Euclidean distance matrix ``D`` of the rows of ``X``, without
    holding ``D``.

    Blocks of ``block`` x ``block`` distances, each computed once and used for both of its
    (symmetric) halves, small enough to stay in the CPU cache, and computed in place with
    scikit-learn's own formula (``euclidean_distances``: ``-2 x.y + |x|^2 + |y|^2``, clipped at
    0, square root; 0 from a row to itself). On a 20,000-row sample this takes about half the
    CPU time of ``pairwise_distances_chunked``; the sums agree to ~1e-16 relative.
    """
    n = len(X)
    sums = np.zeros((n, weights.shape[1]))
    squared = np.einsum("ij,ij->i", X, X)
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        for j0 in range(i0, n, block):
            j1 = min(n, j0 + block)
            D = X[i0:i1] @ X[j0:j1].T
            D *= -2.0
            D += squared[i0:i1, None]
            D += squared[None, j0:j1]
            np.maximum(D, 0.0, out=D)
            np.sqrt(D, out=D)
            if i0 == j0:
                np.fill_diagonal(D, 0.0)
            sums[i0:i1] += D @ weights[j0:j1]
            if j0 != i0:
                sums[j0:j1] += D.T @ weights[i0:i1]
    return sums


def _fit(
    X: np.ndarray,
    method: str,
    k: int,
    seed: int,
    sample_idx: np.ndarray,
    memory: Memory | None,
    sample_fit: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw labels for every row and the centres: k-means on all rows, Ward on the sample +
    nearest centroid. ``sample_fit``: Ward's labels and centroids of ``X[sample_idx]`` at this
    k, when k selection already computed them (the same deterministic tree cut)."""
    if method == "kmeans":
        return _labels_for(X, method, k, seed)
    if sample_fit is None:
        sample_fit = _labels_for(X[sample_idx], method, k, seed, memory)
    sample_labels, centroids = sample_fit
    labels = pairwise_distances_argmin(X, centroids)  # chunked internally
    labels[sample_idx] = sample_labels
    return labels, centroids


def _silhouette(X: np.ndarray, labels: np.ndarray, sample_size: int, seed: int) -> float:
    """``silhouette_score(X, labels, sample_size=..., random_state=seed)``: the same random
    rows (``RandomState(seed).permutation``), scored by the one-pass ``_silhouettes``, which
    is faster than scikit-learn's loop over rows."""
    n = len(X)
    if not 2 <= len(np.unique(labels)) <= n - 1:
        return float("nan")
    if n > sample_size:
        rows = np.random.RandomState(seed).permutation(n)[:sample_size]
        X, labels = X[rows], labels[rows]
        if not 2 <= len(np.unique(labels)) <= sample_size - 1:
            return float("nan")
    return _silhouettes(X, [labels])[0]


def _stability(
    X: np.ndarray, labels: np.ndarray, method: str, k: int, seed: int, ward_sample_size: int
) -> float:
    """ARI between a fit on a random 70% of customers and the full fit, on that 70%."""
    n = len(X)
    rng = np.random.default_rng([seed, 70])
    sub = np.sort(rng.choice(n, size=int(round(STABILITY_FRACTION * n)), replace=False))
    if len(sub) < k or len(np.unique(X[sub], axis=0)) < k:
        return float("nan")
    X_sub = X[sub]
    sample_idx = np.sort(rng.permutation(len(sub))[: min(len(sub), ward_sample_size)])
    sub_labels, _ = _fit(X_sub, method, k, seed, sample_idx, None)
    return float(adjusted_rand_score(labels[sub], sub_labels))


def _renumber(
    frame: pd.DataFrame, X: np.ndarray, labels: np.ndarray, columns: list[str]
) -> dict[int, int]:
    """Raw label -> stable id 1..k, by descending mean monetary, then size, then centroid."""
    original = frame[columns].apply(pd.to_numeric).astype("float64")
    order_key = original["monetary"] if "monetary" in columns else original[columns[0]]
    if "monetary" not in columns and "monetary" in frame.columns:
        order_key = pd.to_numeric(frame["monetary"]).astype("float64")
    stats = pd.DataFrame({"label": labels, "key": order_key.to_numpy()}).groupby("label")
    summary = pd.DataFrame({"key": stats["key"].mean(), "size": stats.size()})
    centroid = pd.DataFrame(X, columns=columns).groupby(labels).mean()
    summary = summary.join(centroid)
    ranked = summary.sort_values(
        ["key", "size", *columns], ascending=[False, False] + [True] * len(columns)
    )
    return {int(old): i + 1 for i, old in enumerate(ranked.index)}


def _describe(
    frame: pd.DataFrame,
    X: np.ndarray,
    cluster_id: np.ndarray,
    names: Mapping[int, str] | None,
    columns: list[str],
    n: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels (customer_id, cluster_id, cluster_name) and the profile: one row per cluster
    present, sizes and original-unit means/medians, and ``z_`` the mean standardised value.
    ``names``: by cluster id; None = derived from the clusters' ``z`` (``_names``)."""
    original = frame[columns].apply(pd.to_numeric).astype("float64")
    z = pd.DataFrame(X, columns=columns).groupby(cluster_id).mean()
    if names is None:
        names = _names(z, columns)
    labels_df = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "cluster_id": cluster_id.astype("int64"),
        }
    )
    labels_df["cluster_name"] = labels_df["cluster_id"].map(names)
    grouped = original.groupby(cluster_id)
    profile = pd.DataFrame({"cluster_id": z.index.astype("int64")})
    profile["cluster_name"] = profile["cluster_id"].map(names)
    sizes = grouped.size()
    profile["customers"] = profile["cluster_id"].map(sizes).astype("int64")
    profile["customer_share"] = profile["customers"] / n
    means, medians = grouped.mean(), grouped.median()
    for column in columns:
        profile[f"mean_{column}"] = profile["cluster_id"].map(means[column])
        profile[f"median_{column}"] = profile["cluster_id"].map(medians[column])
    for column in columns:
        profile[f"z_{column}"] = profile["cluster_id"].map(z[column])
    return labels_df, profile


def cluster_levels(z: pd.DataFrame) -> pd.DataFrame:
    """0 (low), 1 (mid) or 2 (high) per cluster and feature, relative to the other clusters and
    to the population.

    ``z`` holds each cluster's mean standardised value (the population mean is 0). A cluster is
    *high* on a feature when it is among the top ``max(1, round(k / 3))`` clusters by that mean
    **and** above the population mean; *low* symmetrically; otherwise *mid*. When the clusters'
    means of a feature span less than ``MIN_SPREAD`` standard deviations, the feature does not
    tell them apart and every cluster is *mid* on it. So the cluster with the highest value is
    always *high* unless the clusters do not differ, words never contradict the ordering of the
    clusters, and near-identical clusters of two methods get the same words.
    """
    k = len(z)
    ends = max(1, round(k / 3))
    levels = pd.DataFrame(1, index=z.index, columns=z.columns, dtype="int64")
    for column in z.columns:
        values = z[column].astype("float64")
        if values.max() - values.min() < MIN_SPREAD:
            continue
        from_top = values.rank(method="average", ascending=False) - 1
        from_bottom = values.rank(method="average", ascending=True) - 1
        high = (from_top < ends) & (values > 0)
        low = (from_bottom < ends) & (values < 0)
        levels[column] = 1 + high.astype("int64") - low.astype("int64")
    return levels


def _word(column: str, level: int) -> str:
    words = LEVEL_WORDS.get(column)
    if words:
        return words[level]
    return f"{('low', 'mid', 'high')[level]} {column.replace('_', ' ')}"


def _names(z: pd.DataFrame, columns: list[str]) -> dict[int, str]:
    """Readable, unique names: three headline features, more only where names would clash."""
    ordered = [c for c in NAME_ORDER if c in columns] + [c for c in columns if c not in NAME_ORDER]
    levels = cluster_levels(z[ordered])
    words = {cid: [_word(c, int(levels.at[cid, c])) for c in ordered] for cid in z.index}
    width = {cid: min(3, len(ordered)) for cid in z.index}

    def name(cid: int) -> str:
        text = " ".join(words[cid][: width[cid]])
        return text[:1].upper() + text[1:]

    while True:
        by_name: dict[str, list[int]] = {}
        for cid in z.index:
            by_name.setdefault(name(cid), []).append(cid)
        clashes = [ids for ids in by_name.values() if len(ids) > 1]
        growable = [cid for ids in clashes for cid in ids if width[cid] < len(ordered)]
        if not growable:
            break
        for cid in growable:
            width[cid] += 1
    result: dict[int, str] = {}
    seen: dict[str, int] = {}
    for cid in sorted(z.index):  # identical profiles: the higher-value cluster keeps the name
        base = name(cid)
        seen[base] = seen.get(base, 0) + 1
        result[int(cid)] = base if seen[base] == 1 else f"{base} ({seen[base]})"
    return result


def match_to_previous(
    result: ClusterResult, previous: pd.DataFrame | None, max_distance: float = MATCH_MAX_DISTANCE
) -> ClusterResult:
    """Give each cluster the id of the previous run's cluster it continues, or flag it new.

    Clusters are paired by their centroids (mean standardised features, the profile's ``z_``
    columns) with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``, least total
    Euclidean distance); a pair further apart than ``max_distance`` standard deviations is not
    the same cluster. Matched clusters keep the previous id; the others take the smallest ids
    left free and get ``is_new``. Names are always derived afresh from today's profile (a name
    must describe the cluster), so a continued cluster keeps its name while its description
    holds; ``previous_name`` shows a rename.
    """
    profile = result.profile.copy()
    columns = [c[2:] for c in profile.columns if c.startswith("z_")]
    current_ids = profile["cluster_id"].astype("int64").to_list()
    mapping: dict[int, int] = {}
    distance: dict[int, float] = {}
    previous_name: dict[int, str] = {}
    prev_columns = (
        [] if previous is None or previous.empty
        else [c[2:] for c in previous.columns if c.startswith("z_")]
    )  # fmt: skip
    if previous is not None and not previous.empty and sorted(prev_columns) == sorted(columns):
        z_now = profile[[f"z_{c}" for c in columns]].to_numpy(dtype="float64")
        z_before = previous[[f"z_{c}" for c in columns]].to_numpy(dtype="float64")
        cost = np.sqrt(((z_now[:, None, :] - z_before[None, :, :]) ** 2).sum(axis=2))
        rows, cols = linear_sum_assignment(cost)
        prev_ids = previous["cluster_id"].astype("int64").to_list()
        prev_names = previous["cluster_name"].astype(str).to_list()
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] <= max_distance:
                mapping[current_ids[r]] = prev_ids[c]
                distance[current_ids[r]] = float(cost[r, c])
                previous_name[current_ids[r]] = prev_names[c]
    free = (i for i in range(1, len(current_ids) + len(mapping) + 2) if i not in mapping.values())
    for cid in current_ids:  # unmatched clusters, in today's order (by mean monetary)
        if cid not in mapping:
            mapping[cid] = next(free)
    profile["previous_cluster_id"] = [mapping[c] if c in distance else None for c in current_ids]
    profile["previous_name"] = [previous_name.get(c) for c in current_ids]
    profile["match_distance"] = [distance.get(c, np.nan) for c in current_ids]
    profile["is_new"] = [c not in distance for c in current_ids]
    profile["cluster_id"] = [mapping[c] for c in current_ids]
    profile = profile.sort_values("cluster_id", kind="stable").reset_index(drop=True)
    labels = result.labels.copy()
    labels["cluster_id"] = labels["cluster_id"].map(mapping).astype("int64")
    params = {
        **result.params,
        "matching": {
            "max_distance": float(max_distance),
            "matched": int(len(distance)),
            "new": int(len(current_ids) - len(distance)),
        },
    }
    if "model" in params:  # the stored model speaks the final ids
        params["model"] = _renamed_model(params["model"], mapping)
    return ClusterResult(
        labels=labels,
        profile=profile,
        k=result.k,
        silhouette=result.silhouette,
        stability_ari=result.stability_ari,
        params=params,
    )


def _renamed_model(model: Mapping[str, Any], mapping: Mapping[int, int]) -> dict[str, Any]:
    out = dict(model)
    for key in ("centroids", "names"):
        out[key] = {str(mapping[int(cid)]): value for cid, value in model[key].items()}
    return out


# ------------------------------------------------------------------- reusing a stored model


def model_settings(
    method: str,
    columns: Sequence[str],
    k: int | None,
    k_range: Sequence[int],
    seed: int,
    sample_size: int,
    ward_sample_size: int,
) -> dict[str, Any]:
    """The settings that shape a fitted model. A stored model is reused only when its settings
    equal the run's (``reuse_problem``); ``MODEL_VERSION`` covers changes of the code."""
    return {
        "method": str(method),
        "feature_columns": [str(c) for c in columns],
        "k": None if k is None else int(k),
        "k_range": None if k is not None else [int(k_range[0]), int(k_range[1])],
        "seed": int(seed),
        "sample_size": int(sample_size),
        "ward_sample_size": int(ward_sample_size),
        "n_init": N_INIT,
        "model_version": MODEL_VERSION,
    }


def settings_for(
    features: pd.DataFrame,
    *,
    method: Method,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    feature_columns: Sequence[str] | None = None,
    seed: int = 42,
    sample_size: int = 20000,
    ward_sample_size: int = 10000,
) -> dict[str, Any]:
    """``model_settings`` of what ``fit_clusters`` would fit on ``features`` with these
    arguments (the feature columns resolved as it resolves them); validates like it."""
    columns = _validate(
        features, method, k, k_range, feature_columns, seed, sample_size, ward_sample_size, 1
    )
    return model_settings(method, columns, k, k_range, seed, sample_size, ward_sample_size)


def reuse_problem(model: Mapping[str, Any] | None, settings: Mapping[str, Any]) -> str | None:
    """Why a stored model (a ``params["model"]``) cannot label customers under ``settings``;
    None when it can."""
    if not model:
        return "the stored clustering has no model (fitted before models were stored)"
    if model.get("version") != MODEL_VERSION:
        return f"the stored model is version {model.get('version')}, this code fits {MODEL_VERSION}"
    if model.get("transform") != TRANSFORM:
        return f"the stored model's transform {model.get('transform')!r} cannot be re-applied"
    stored = model.get("settings") or {}
    changed = sorted(
        key for key in set(stored) | set(settings) if stored.get(key) != settings.get(key)
    )
    if changed:
        return "clustering settings changed since the model was fitted: " + ", ".join(changed)
    columns = model.get("columns") or []
    centroids = model.get("centroids") or {}
    names = model.get("names") or {}
    width = len(columns)
    if (
        list(columns) != list(settings.get("feature_columns") or [])
        or any(len(model.get(key) or []) != width for key in ("median", "mean", "scale"))
        or not centroids
        or any(len(c) != width for c in centroids.values())
        or set(names) != set(centroids)
        or not all(np.isfinite(v) for v in [*model["median"], *model["mean"], *model["scale"]])
        or any(v <= 0 for v in model["scale"])
    ):
        return "the stored model is incomplete or inconsistent"
    return None


def assign_to_model(
    features: pd.DataFrame,
    model: Mapping[str, Any],
    *,
    seed: int = 42,
    silhouette_rows: int = REUSE_SILHOUETTE_ROWS,
    threads: int | None = 1,
) -> ClusterResult:
    """Label customers with a stored model instead of fitting one.

    Applies the model's own transform (its medians for missing values, ``log1p(max(x, 0))``, its
    means and scales), gives each customer the nearest stored centroid, and keeps the model's
    cluster ids and names; the profile describes today's members. ``silhouette`` is estimated on
    a random sample of at most ``silhouette_rows`` customers; ``stability_ari`` is NaN (nothing
    was fitted: the caller may report the model's). Clusters left without a customer are absent
    from the profile (``params["empty_clusters"]``).
    """
    problem = reuse_problem(model, model.get("settings") or {})
    if problem:
        raise SegwiseError(problem)
    columns = list(model["columns"])
    settings = model["settings"]
    _validate(features, settings["method"], None, (2, 2), columns, seed, 3, 3, threads)
    keep = ["customer_id", *columns]
    if "monetary" in features.columns and "monetary" not in columns:
        keep.append("monetary")
    frame = features[keep].sort_values("customer_id", kind="stable").reset_index(drop=True)
    n = len(frame)
    medians = dict(zip(columns, model["median"], strict=True))
    raw, imputed, _ = _numeric(frame, columns, medians)
    clipped = {c: int((raw[c] < 0).sum()) for c in columns}
    X = np.log1p(raw[columns].clip(lower=0)).to_numpy()
    del raw
    X -= np.asarray(model["mean"], dtype="float64")  # StandardScaler.transform's arithmetic
    X /= np.asarray(model["scale"], dtype="float64")
    ids = sorted(int(cid) for cid in model["centroids"])
    centres = np.asarray([model["centroids"][str(cid)] for cid in ids], dtype="float64")
    with config_context(working_memory=WORKING_MEMORY_MB), threadpool_limits(limits=threads):
        nearest = pairwise_distances_argmin(X, centres)  # ties: the smaller id
        cluster_id = np.asarray(ids, dtype="int64")[nearest]
        rows = min(n, silhouette_rows)
        sample = np.sort(np.random.default_rng(seed).permutation(n)[:rows])
        if 2 <= len(np.unique(cluster_id[sample])) <= rows - 1:
            silhouette = _silhouettes(X[sample], [cluster_id[sample]])[0]
        else:
            silhouette = float("nan")
    names = {int(cid): str(name) for cid, name in model["names"].items()}
    labels_df, profile = _describe(frame, X, cluster_id, names, columns, n)
    empty = [cid for cid in ids if cid not in set(profile["cluster_id"])]
    params = {
        "method": settings["method"],
        "k": len(ids),
        "k_fixed": settings["k"] is not None,
        "k_range": settings["k_range"],
        "silhouette": _json_float(silhouette),
        "silhouette_sample_rows": int(rows),
        "stability_ari": None,
        "feature_columns": columns,
        "transform": TRANSFORM_TEXT + " with the stored model's medians, means and scales",
        "clipped_negative": clipped,
        "imputed_median": imputed,
        "seed": settings["seed"],
        "sample_size": settings["sample_size"],
        "ward_sample_size": settings["ward_sample_size"],
        "n_customers": int(n),
        "n_fit_rows": 0,
        "algorithm": "nearest centroid of a stored model (no fit)",
        "empty_clusters": empty,
        "model": dict(model),
    }
    return ClusterResult(
        labels=labels_df,
        profile=profile,
        k=len(ids),
        silhouette=float(silhouette),
        stability_ari=float("nan"),
        params=params,
    )


def continue_previous(result: ClusterResult, previous: pd.DataFrame | None) -> ClusterResult:
    """A reused model's clusters keep their ids: record each one's previous run counterpart.

    Adds the columns ``match_to_previous`` adds (``previous_cluster_id``, ``previous_name``,
    ``match_distance`` between the profiles' ``z_`` centroids, ``is_new``), pairing clusters by
    id instead of by distance.
    """
    profile = result.profile.copy()
    columns = [c[2:] for c in profile.columns if c.startswith("z_")]
    before: dict[int, Any] = {}
    if previous is not None and not previous.empty:
        prev_columns = [c[2:] for c in previous.columns if c.startswith("z_")]
        if sorted(prev_columns) == sorted(columns):
            before = {int(row["cluster_id"]): row for _, row in previous.iterrows()}
    z_now = profile[[f"z_{c}" for c in columns]].to_numpy(dtype="float64")
    prev_id, prev_name, dist = [], [], []
    for cid, z in zip(profile["cluster_id"].astype("int64"), z_now, strict=True):
        row = before.get(int(cid))
        if row is None:
            prev_id.append(None)
            prev_name.append(None)
            dist.append(np.nan)
            continue
        z_before = np.asarray([row[f"z_{c}"] for c in columns], dtype="float64")
        prev_id.append(int(cid))
        prev_name.append(str(row["cluster_name"]))
        dist.append(float(np.sqrt(((z - z_before) ** 2).sum())))
    profile["previous_cluster_id"] = prev_id
    profile["previous_name"] = prev_name
    profile["match_distance"] = dist
    profile["is_new"] = [p is None for p in prev_id]
    matched = sum(p is not None for p in prev_id)
    params = {
        **result.params,
        "matching": {"by": "id (reused model)", "matched": matched, "new": len(prev_id) - matched},
    }
    return ClusterResult(
        labels=result.labels,
        profile=profile,
        k=result.k,
        silhouette=result.silhouette,
        stability_ari=result.stability_ari,
        params=params,
    )


def _json_float(value: float) -> float | None:
    """NaN is not valid JSON (Postgres jsonb refuses it): undefined figures become null."""
    value = float(value)
    return None if np.isnan(value) else value
