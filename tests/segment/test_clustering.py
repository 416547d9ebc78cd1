"""Clustering maths (pure, no database): determinism, k selection, bounded Ward, names, profile."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from etl.errors import SegwiseError
from etl.segment.clustering import (
    MIN_SPREAD,
    _names,
    _silhouettes,
    assign_to_model,
    cluster_levels,
    continue_previous,
    fit_clusters,
    match_to_previous,
    reuse_problem,
    settings_for,
)

FEATURES = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"]
NAME_WORD = re.compile(r"^[A-Za-z][a-z-]*( [a-z-]+)*( \(\d+\))?$")


def blobs(n: int = 1200, centers: int = 4, seed: int = 7, std: float = 0.35) -> pd.DataFrame:
    """Well-separated groups in log space, exponentiated back to customer-like positive units."""
    X, truth = make_blobs(
        n_samples=n, centers=centers, n_features=len(FEATURES), cluster_std=std,
        center_box=(0.0, 8.0), random_state=seed,
    )  # fmt: skip
    frame = pd.DataFrame(np.expm1(X.clip(min=0)), columns=FEATURES)
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(n)])
    frame["truth"] = truth
    return frame


@pytest.fixture(scope="module")
def four_blobs() -> pd.DataFrame:
    return blobs()


def test_same_seed_same_result_whatever_the_row_order(four_blobs: pd.DataFrame) -> None:
    first = fit_clusters(four_blobs, method="kmeans", k=4, seed=3)
    again = fit_clusters(four_blobs, method="kmeans", k=4, seed=3)
    shuffled = four_blobs.sample(frac=1.0, random_state=11)
    reordered = fit_clusters(shuffled, method="kmeans", k=4, seed=3)
    pd.testing.assert_frame_equal(first.labels, again.labels)
    pd.testing.assert_frame_equal(first.profile, again.profile)
    pd.testing.assert_frame_equal(first.labels, reordered.labels)
    assert first.silhouette == again.silhouette and first.stability_ari == again.stability_ari


def test_hierarchical_is_deterministic_for_a_seed() -> None:
    frame = blobs(n=900, centers=3, seed=5, std=0.8)
    a = fit_clusters(frame, method="hierarchical", seed=9, ward_sample_size=400)
    b = fit_clusters(frame, method="hierarchical", seed=9, ward_sample_size=400)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    assert a.params["silhouette_by_k"] == b.params["silhouette_by_k"]


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
@pytest.mark.parametrize("centers", [3, 5])
def test_silhouette_recovers_k_on_separated_blobs(method: str, centers: int) -> None:
    frame = blobs(n=1000, centers=centers, seed=centers)
    result = fit_clusters(frame, method=method, k_range=(2, 7))
    assert result.k == centers
    assert set(result.params["silhouette_by_k"]) == {str(k) for k in range(2, 8)}
    assert result.silhouette == pytest.approx(result.params["silhouette_by_k"][str(centers)])
    assert max(result.params["silhouette_by_k"].values()) == pytest.approx(result.silhouette)
    # the clusters are the true groups (up to numbering)
    merged = result.labels.merge(frame[["customer_id", "truth"]], on="customer_id")
    assert merged.groupby("truth")["cluster_id"].nunique().eq(1).all()
    assert merged.groupby("cluster_id")["truth"].nunique().eq(1).all()


def test_one_pass_silhouettes_equal_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, 4))
    labelings = [rng.integers(0, k, len(X)) for k in (2, 3, 5, 8)]
    labelings.append(np.r_[np.zeros(len(X) - 2, int), [1, 2]])  # two singleton clusters
    labelings.append(np.where(X[:, 0] > 0, 7, 3))  # arbitrary label values
    expected = [silhouette_score(X, labels) for labels in labelings]
    np.testing.assert_allclose(_silhouettes(X, labelings), expected, rtol=0, atol=1e-12)


def test_blockwise_distance_sums_equal_the_full_distance_matrix() -> None:
    from sklearn.metrics import pairwise_distances

    from etl.segment.clustering import _distance_sums

    rng = np.random.default_rng(8)
    X = rng.normal(size=(530, 4))
    weights = rng.uniform(size=(530, 6))
    expected = pairwise_distances(X) @ weights
    for block in (97, 265, 530, 2048):  # uneven, two halves, one block, bigger than the data
        np.testing.assert_allclose(_distance_sums(X, weights, block), expected, rtol=1e-12)


def test_sampled_silhouette_equals_scikit_learns_sampled_score() -> None:
    from etl.segment.clustering import _silhouette

    rng = np.random.default_rng(5)
    X = rng.normal(size=(1500, 3))
    labels = rng.integers(0, 4, len(X))
    for sample_size, seed in ((400, 42), (400, 7), (5000, 42)):
        expected = silhouette_score(
            X, labels, sample_size=sample_size if sample_size < len(X) else None,
            random_state=seed,
        )  # fmt: skip
        assert _silhouette(X, labels, sample_size, seed) == pytest.approx(expected, abs=1e-12)


def test_hierarchical_fits_a_bounded_sample_and_labels_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fitted_rows: list[int] = []
    original = AgglomerativeClustering.fit

    def spy(self, X, y=None):  # noqa: ANN001 - the library's signature
        fitted_rows.append(len(X))
        return original(self, X, y)

    monkeypatch.setattr(AgglomerativeClustering, "fit", spy)
    frame = blobs(n=5000, centers=4, seed=21)
    result = fit_clusters(frame, method="hierarchical", sample_size=1500, ward_sample_size=600)
    assert fitted_rows and max(fitted_rows) <= 600
    assert len(result.labels) == 5000
    assert result.labels["customer_id"].is_unique
    assert set(result.labels["customer_id"]) == set(frame["customer_id"])
    assert result.labels["cluster_id"].notna().all()
    assert set(result.labels["cluster_id"]) == set(range(1, result.k + 1))
    assert result.k == 4
    assert result.params["n_fit_rows"] == 600
    merged = result.labels.merge(frame[["customer_id", "truth"]], on="customer_id")
    assert merged.groupby("truth")["cluster_id"].nunique().eq(1).all()


def test_names_are_unique_readable_and_follow_the_profile(four_blobs: pd.DataFrame) -> None:
    result = fit_clusters(four_blobs, method="kmeans", k=4)
    names = result.profile["cluster_name"]
    assert names.is_unique
    assert all(NAME_WORD.match(name) for name in names), list(names)
    # ids are ordered by mean monetary, highest first
    assert result.profile["mean_monetary"].is_monotonic_decreasing
    assert list(result.profile["cluster_id"]) == [1, 2, 3, 4]
    # the name's words agree with the clusters' order: the top spender is high-value, the
    # most recent group is recent, the least recent is lapsed
    by = result.profile.set_index("cluster_id")
    assert by.loc[by["z_monetary"].idxmax(), "cluster_name"].lower().startswith("high-value")
    assert "recent" in by.loc[by["z_recency_days"].idxmin(), "cluster_name"].lower()
    assert "lapsed" in by.loc[by["z_recency_days"].idxmax(), "cluster_name"].lower()
    # labels carry the same names as the profile
    named = result.labels.drop_duplicates("cluster_id").set_index("cluster_id")["cluster_name"]
    assert named.to_dict() == result.profile.set_index("cluster_id")["cluster_name"].to_dict()


def test_names_clashing_on_headline_features_get_a_distinguishing_word() -> None:
    """Two groups equal in spend, frequency and recency, different only in tenure."""
    rng = np.random.default_rng(4)
    n = 400
    base = {
        "recency_days": rng.normal(30, 1, 2 * n),
        "frequency": rng.normal(5, 0.1, 2 * n),
        "monetary": rng.normal(500, 5, 2 * n),
    }
    frame = pd.DataFrame(base)
    frame["tenure_days"] = np.r_[rng.normal(20, 1, n), rng.normal(900, 10, n)]
    frame.insert(0, "customer_id", [f"T{i}" for i in range(2 * n)])
    result = fit_clusters(
        frame, method="kmeans", k=2, feature_columns=["recency_days", "frequency", "monetary"]
        + ["tenure_days"],
    )  # fmt: skip
    names = sorted(result.profile["cluster_name"])
    assert len(set(names)) == 2
    assert any(name.endswith(" new") for name in names), names
    assert any(name.endswith(" long-standing") for name in names), names


def test_profile_in_original_units_matches_an_independent_groupby(
    four_blobs: pd.DataFrame,
) -> None:
    frame = four_blobs.copy()
    frame.loc[frame.index[:25], "monetary"] = -frame.loc[frame.index[:25], "monetary"]  # refunds
    result = fit_clusters(frame, method="kmeans", k=4)
    joined = frame.merge(result.labels, on="customer_id")
    expected = joined.groupby("cluster_id")[FEATURES].agg(["mean", "median"])
    sizes = joined.groupby("cluster_id").size()
    profile = result.profile.set_index("cluster_id")
    for column in FEATURES:
        np.testing.assert_allclose(profile[f"mean_{column}"], expected[(column, "mean")])
        np.testing.assert_allclose(profile[f"median_{column}"], expected[(column, "median")])
    assert (profile["customers"] == sizes).all()
    np.testing.assert_allclose(profile["customer_share"], sizes / len(frame))
    assert profile["customer_share"].sum() == pytest.approx(1.0)
    # negative net revenue is kept in the profile but clipped for the distance, and counted
    assert result.params["clipped_negative"]["monetary"] == 25
    assert (profile["mean_monetary"] < joined.groupby("cluster_id")["monetary"].max()).all()


def test_stability_is_an_ari_high_on_clean_blobs(four_blobs: pd.DataFrame) -> None:
    clean = fit_clusters(four_blobs, method="kmeans", k=4)
    assert clean.stability_ari == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.uniform(1, 100, size=(800, 3)), columns=FEATURES[:3])
    noise.insert(0, "customer_id", range(800))
    for method in ("kmeans", "hierarchical"):
        noisy = fit_clusters(noise, method=method, k=5)
        assert -1.0 <= noisy.stability_ari <= 1.0
        assert noisy.params["stability_ari"] == pytest.approx(noisy.stability_ari)


def test_missing_values_are_imputed_and_decimals_accepted() -> None:
    from decimal import Decimal

    frame = blobs(n=300, centers=3, seed=2)
    frame["monetary"] = [Decimal(str(round(v, 2))) for v in frame["monetary"]]
    frame.loc[frame.index[:4], "avg_order_value"] = np.nan
    result = fit_clusters(frame, method="kmeans", k=3)
    assert result.params["imputed_median"] == {"avg_order_value": 4}
    assert len(result.labels) == 300
    # the profile describes the recorded values, not the imputed ones
    joined = frame.merge(result.labels, on="customer_id")
    expected = joined.groupby("cluster_id")["avg_order_value"].mean()
    np.testing.assert_allclose(result.profile.set_index("cluster_id")["mean_avg_order_value"],
                               expected)  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "kmeans", "k": 1}, "k must be an integer >= 2"),
        ({"method": "kmeans", "k": 61}, "more than the 60 customers"),
        ({"method": "kmeans", "k": 2.5}, "k must be an integer"),
        ({"method": "hierarchical", "k": 9, "ward_sample_size": 8}, "raise ward_sample_size"),
        ({"method": "kmeans", "k_range": (1, 4)}, "need 2 <= low <= high"),
        ({"method": "kmeans", "k_range": (6, 3)}, "need 2 <= low <= high"),
        ({"method": "kmeans", "k_range": (2,)}, "two integers"),
        ({"method": "kmeans", "k_range": (2, 70)}, "lower the upper bound to at most 59"),
        ({"method": "dbscan"}, "unknown clustering method 'dbscan'"),
        ({"method": "kmeans", "feature_columns": ["spend"]}, "spend not in the features"),
        ({"method": "kmeans", "sample_size": 1}, "sample_size must be an integer >= 3"),
        ({"method": "kmeans", "threads": 0}, "threads must be None or an integer >= 1"),
    ],
)
def test_bad_parameters_fail_before_any_fitting(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict, message: str
) -> None:
    def refuse(*args, **kw):  # noqa: ANN002, ANN003
        raise AssertionError("a model was fitted before validation")

    monkeypatch.setattr(KMeans, "fit", refuse)
    monkeypatch.setattr(AgglomerativeClustering, "fit", refuse)
    frame = blobs(n=60, centers=2)
    with pytest.raises(SegwiseError, match=re.escape(message)):
        fit_clusters(frame, **kwargs)


def test_duplicate_customers_and_too_few_distinct_profiles_are_refused() -> None:
    frame = blobs(n=50, centers=2)
    twice = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(SegwiseError, match="one row per customer"):
        fit_clusters(twice, method="kmeans", k=2)
    same = pd.DataFrame(
        {"customer_id": range(10), "frequency": [1] * 8 + [3, 3], "monetary": [10.0] * 9 + [20.0]}
    )
    with pytest.raises(SegwiseError, match="3 distinct customer profiles"):
        fit_clusters(same, method="kmeans", k=4)


def _online_retail_features(path) -> pd.DataFrame:  # noqa: ANN001
    """Plain-pandas customer features as of 2011-12-09 (docs/segmentation.md definitions)."""
    lines = pd.read_csv(
        path, encoding="latin-1",
        usecols=["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
        dtype={"InvoiceNo": str, "CustomerID": "Int64"},
    )  # fmt: skip
    lines = lines[lines["CustomerID"].notna()].copy()
    lines["day"] = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    lines["amount"] = lines["Quantity"] * lines["UnitPrice"]
    cancelled = lines["InvoiceNo"].str.startswith("C")
    sales = lines[~cancelled & (lines["Quantity"] > 0) & (lines["UnitPrice"] > 0)]
    returns = lines[cancelled | (lines["Quantity"] < 0)]
    as_of = pd.Timestamp("2011-12-09")
    by = sales.groupby("CustomerID")
    features = pd.DataFrame(
        {
            "recency_days": (as_of - by["day"].max()).dt.days,
            "frequency": by["InvoiceNo"].nunique(),
            "gross": by["amount"].sum(),
            "tenure_days": (as_of - by["day"].min()).dt.days,
        }
    )
    returned = -returns.groupby("CustomerID")["amount"].sum()
    features["monetary"] = features["gross"] - returned.reindex(features.index).fillna(0)
    features["avg_order_value"] = features["gross"] / features["frequency"]
    return features.rename_axis("customer_id").reset_index().astype({"customer_id": str})


def test_kmeans_on_real_online_retail_customers(online_retail_path) -> None:  # noqa: ANN001
    features = _online_retail_features(online_retail_path)
    assert len(features) == 4338
    ref = features.set_index("customer_id").loc[["12346", "12748"]]
    assert list(ref["recency_days"]) == [325, 0] and list(ref["frequency"]) == [1, 209]
    assert ref.loc["12748", "monetary"] == pytest.approx(29072.10)

    result = fit_clusters(features, method="kmeans", k_range=(2, 6))
    assert 2 <= result.k <= 6
    assert len(result.labels) == 4338
    assert set(result.labels["customer_id"]) == set(features["customer_id"])
    assert result.labels["cluster_name"].notna().all()
    assert result.profile["customers"].sum() == 4338
    assert result.profile["cluster_name"].is_unique
    assert 0 < result.silhouette <= 1 and -1 <= result.stability_ari <= 1
    assert result.params["clipped_negative"]["monetary"] == int((features["monetary"] < 0).sum())
    # ids follow spend, and the profile is the members' own mean
    assert result.profile["mean_monetary"].is_monotonic_decreasing
    top = result.labels.loc[result.labels["cluster_id"] == 1, "customer_id"]
    top_mean = features.set_index("customer_id").loc[top, "monetary"].mean()
    assert top_mean == pytest.approx(result.profile.iloc[0]["mean_monetary"])


# --------------------------------------------------------------------- names tell the truth


def _z(**columns: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def test_the_most_recent_cluster_is_never_lapsed_or_cooling() -> None:
    """Every recency mean within +-0.5 sd: the old fixed cut called all three "cooling"."""
    z = _z(monetary=[0.9, 0.0, -0.8], frequency=[0.4, 0.1, -0.3], recency_days=[-0.3, 0.1, 0.4])
    names = _names(z, list(z.columns))
    assert names[1].endswith("recent"), names
    assert names[3].endswith("lapsed"), names


def test_near_identical_clusters_of_two_methods_get_the_same_words() -> None:
    """k-means and Ward find nearly the same groups; 0.49 vs 0.51 sd flipped the old words."""
    kmeans = _z(monetary=[1.2, 0.2, -0.9], frequency=[0.49, -0.1, -0.4], recency_days=[-1, 0, 1])
    ward = _z(monetary=[1.19, 0.21, -0.9], frequency=[0.51, -0.1, -0.41], recency_days=[-1, 0, 1])
    assert _names(kmeans, list(kmeans.columns)) == _names(ward, list(ward.columns))


def test_levels_follow_the_order_of_the_clusters_and_the_population() -> None:
    """On random cluster profiles: levels never contradict the ordering of the clusters, high
    means above the population mean, low below, and the extreme clusters always get the extreme
    words unless the clusters do not differ on that feature."""
    rng = np.random.default_rng(8)
    for _ in range(300):
        k = int(rng.integers(2, 9))
        sizes = rng.integers(1, 100, k)
        values = rng.normal(0, rng.choice([0.05, 0.4, 1.5]), k)
        values -= np.average(values, weights=sizes)  # cluster means average to the population's
        z = _z(recency_days=list(values))
        level = cluster_levels(z)["recency_days"]
        order = np.argsort(values)
        assert (np.diff(level.to_numpy()[order]) >= 0).all(), (values, level.to_list())
        assert (values[level.to_numpy() == 2] > 0).all()
        assert (values[level.to_numpy() == 0] < 0).all()
        if values.max() - values.min() >= MIN_SPREAD:
            assert level.iloc[int(np.argmin(values))] == 0  # the most recent is "recent"
            assert level.iloc[int(np.argmax(values))] == 2
        else:
            assert (level == 1).all()


def test_kmeans_and_ward_name_the_same_groups_alike() -> None:
    frame = blobs(n=900, centers=3, seed=12, std=0.3)
    names = {}
    for method in ("kmeans", "hierarchical"):
        result = fit_clusters(frame, method=method, k=3, ward_sample_size=900)
        merged = result.labels.merge(frame[["customer_id", "truth"]], on="customer_id")
        names[method] = merged.groupby("truth")["cluster_name"].agg(lambda s: s.mode()[0])
    assert names["kmeans"].to_dict() == names["hierarchical"].to_dict()


# ------------------------------------------------------------ matching to the previous run


def test_matching_keeps_ids_of_the_previous_run() -> None:
    frame = blobs(n=800, centers=4, seed=21)
    first = fit_clusters(frame, method="kmeans", k=4, seed=1)
    # the previous run numbered the same clusters differently
    previous = first.profile.copy()
    previous["cluster_id"] = previous["cluster_id"].map({1: 7, 2: 3, 3: 9, 4: 1})
    again = match_to_previous(fit_clusters(frame, method="kmeans", k=4, seed=5), previous)
    assert not again.profile["is_new"].any()
    joined = again.labels.merge(first.labels, on="customer_id", suffixes=("", "_first"))
    expected = joined["cluster_id_first"].map({1: 7, 2: 3, 3: 9, 4: 1})
    assert (joined["cluster_id"] == expected).all()
    assert (again.profile["previous_name"] == again.profile["cluster_name"]).all()


def test_a_cluster_without_a_near_predecessor_is_new() -> None:
    frame = blobs(n=1000, centers=4, seed=3, std=0.2)
    old = frame[frame["truth"] != 3]
    before = match_to_previous(fit_clusters(old, method="kmeans", k=3, seed=2), None)
    assert before.profile["is_new"].all() and list(before.profile["cluster_id"]) == [1, 2, 3]
    now = match_to_previous(fit_clusters(frame, method="kmeans", k=4, seed=2), before.profile)
    merged = now.labels.merge(frame[["customer_id", "truth"]], on="customer_id")
    new_cluster = merged.loc[merged["truth"] == 3, "cluster_id"].mode()[0]
    flags = now.profile.set_index("cluster_id")
    assert flags.loc[new_cluster, "is_new"] and new_cluster == 4
    assert not flags.drop(index=new_cluster)["is_new"].any()
    # the three continuing groups keep the ids they had
    old_ids = before.labels.merge(frame[["customer_id", "truth"]], on="customer_id")
    for truth in (0, 1, 2):
        assert (
            merged.loc[merged["truth"] == truth, "cluster_id"].mode()[0]
            == old_ids.loc[old_ids["truth"] == truth, "cluster_id"].mode()[0]
        )
    # a looser threshold is still a threshold: with 0 every pair is too far apart
    strict = match_to_previous(
        fit_clusters(frame, method="kmeans", k=4, seed=2), before.profile, max_distance=0.0
    )
    assert strict.profile["is_new"].all()


# ------------------------------------------------------------------ reusing a stored model


def _nearest_stored_centroid(frame: pd.DataFrame, model: dict) -> np.ndarray:
    """The stored model's transform and nearest centroid, written out independently."""
    columns = model["columns"]
    values = frame[columns].astype(float).fillna(dict(zip(columns, model["median"], strict=True)))
    z = ((np.log1p(values.clip(lower=0)) - model["mean"]) / model["scale"]).to_numpy()
    ids = sorted(model["centroids"], key=int)
    centres = np.array([model["centroids"][i] for i in ids])
    distance = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.array(ids, dtype="int64")[distance.argmin(axis=1)]


def test_a_stored_kmeans_model_labels_its_own_customers_as_the_fit_did(
    four_blobs: pd.DataFrame,
) -> None:
    fit = fit_clusters(four_blobs, method="kmeans", k_range=(2, 6), seed=3)
    model = fit.params["model"]
    assert model["settings"] == settings_for(four_blobs, method="kmeans", k_range=(2, 6), seed=3)
    again = assign_to_model(four_blobs, model, seed=3)
    pd.testing.assert_frame_equal(again.labels, fit.labels)
    pd.testing.assert_frame_equal(again.profile, fit.profile)
    assert again.k == fit.k and again.params["n_fit_rows"] == 0
    assert again.silhouette == pytest.approx(fit.silhouette)  # every row: the same definition
    assert np.isnan(again.stability_ari) and again.params["empty_clusters"] == []


def test_a_stored_ward_model_labels_everyone_but_its_sample_as_the_fit_did() -> None:
    frame = blobs(n=3000, centers=3, seed=8, std=0.9)
    fit = fit_clusters(frame, method="hierarchical", k=3, ward_sample_size=500)
    again = assign_to_model(frame, fit.params["model"])
    differ = (again.labels["cluster_id"] != fit.labels["cluster_id"]).sum()
    assert differ <= 500  # only Ward's own sample keeps its tree labels in the fit
    assert (
        again.labels["cluster_id"] == _nearest_stored_centroid(frame, fit.params["model"])
    ).all()


def test_a_reused_model_gives_new_data_its_nearest_stored_centroid_and_its_names() -> None:
    before = blobs(n=1500, centers=4, seed=12)
    fit = fit_clusters(before, method="kmeans", seed=2)
    rng = np.random.default_rng(1)
    later = blobs(n=1700, centers=4, seed=12)  # the same customers and 200 new ones...
    for column in FEATURES:  # ...whose features moved on
        later[column] = later[column] * rng.uniform(0.8, 1.3, len(later))
    later.loc[later.index[:5], "frequency"] = np.nan  # imputed with the stored median
    later = later.sample(frac=1.0, random_state=4)  # row order does not matter
    reused = assign_to_model(later, fit.params["model"], seed=2)
    expected = _nearest_stored_centroid(later.sort_values("customer_id"), fit.params["model"])
    assert (reused.labels["cluster_id"].to_numpy() == expected).all()
    assert reused.params["imputed_median"] == {"frequency": 5}
    names = fit.profile.set_index("cluster_id")["cluster_name"]
    assert (reused.labels["cluster_name"] == reused.labels["cluster_id"].map(names)).all()
    assert (reused.profile["cluster_name"] == reused.profile["cluster_id"].map(names)).all()
    assert reused.profile["customers"].sum() == 1700
    joined = later.merge(reused.labels, on="customer_id")
    np.testing.assert_allclose(
        reused.profile.set_index("cluster_id")["mean_monetary"],
        joined.groupby("cluster_id")["monetary"].mean(),
    )
    assert -1 <= reused.silhouette <= 1 and reused.params["silhouette_sample_rows"] == 1700
    # a cluster left without customers is reported, not invented
    alone = later[reused.labels.set_index("customer_id").loc[later["customer_id"], "cluster_id"]
                  .to_numpy() != 1]  # fmt: skip
    assert assign_to_model(alone, fit.params["model"]).params["empty_clusters"] == [1]


def test_a_model_is_not_reused_when_what_shapes_it_changed(four_blobs: pd.DataFrame) -> None:
    model = fit_clusters(four_blobs, method="kmeans", k=4, seed=3).params["model"]
    same = settings_for(four_blobs, method="kmeans", k=4, seed=3)
    assert reuse_problem(model, same) is None
    for kwargs, changed in (
        ({"seed": 4}, "seed"),
        ({"k": None}, "k, k_range"),
        ({"sample_size": 900}, "sample_size"),
        ({"feature_columns": ["monetary", "frequency"]}, "feature_columns"),
    ):
        settings = settings_for(four_blobs, **{"method": "kmeans", "k": 4, "seed": 3, **kwargs})
        assert reuse_problem(model, settings) == (
            f"clustering settings changed since the model was fitted: {changed}"
        )
    hierarchical = settings_for(four_blobs, method="hierarchical", k=4, seed=3)
    assert reuse_problem(model, hierarchical).endswith(": method")
    assert "no model" in reuse_problem(None, same)
    assert "version" in reuse_problem({**model, "version": 0}, same)
    assert "cannot be re-applied" in reuse_problem({**model, "transform": "rank"}, same)
    broken = {**model, "centroids": {"1": [0.0, 1.0]}}
    assert "incomplete" in reuse_problem(broken, same)


def test_matching_renumbers_the_stored_model_with_the_profile() -> None:
    frame = blobs(n=800, centers=4, seed=21)
    first = fit_clusters(frame, method="kmeans", k=4, seed=1)
    previous = first.profile.copy()
    previous["cluster_id"] = previous["cluster_id"].map({1: 7, 2: 3, 3: 9, 4: 1})
    matched = match_to_previous(first, previous)
    model = matched.params["model"]
    names = dict(zip(matched.profile["cluster_id"], matched.profile["cluster_name"], strict=True))
    assert {int(i): n for i, n in model["names"].items()} == names
    original = first.params["model"]["centroids"]
    assert model["centroids"] == {str(new): original[str(old)] for old, new in
                                  {1: 7, 2: 3, 3: 9, 4: 1}.items()}  # fmt: skip
    # the renumbered model labels the customers with the renumbered ids
    again = assign_to_model(frame, model, seed=1)
    pd.testing.assert_frame_equal(again.labels, matched.labels)
    # and a reuse records its previous run counterpart by id, none of them new
    carried = continue_previous(again, matched.profile)
    assert not carried.profile["is_new"].any()
    assert (carried.profile["previous_cluster_id"] == carried.profile["cluster_id"]).all()
    np.testing.assert_allclose(carried.profile["match_distance"], 0.0, atol=1e-12)
