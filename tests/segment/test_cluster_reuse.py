"""Daily runs reuse a recent published clustering model (clustering.refit_days) on real Postgres:
when they do and when they refit, the reused labels are the stored model's nearest centroids, and
ids, names and profile agree with the labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from etl import migrate
from etl.errors import ConfigurationError
from etl.segment import pipeline
from etl.segment import run_config as seg_config
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

METHODS = "kmeans,hierarchical"
D = dt.date(2024, 3, 1)

# (name, as-of date, clustering overrides); run in this order, each one published
SCENARIO: list[tuple[str, dt.date, dict[str, Any]]] = [
    ("first", D, {}),
    ("next_day", D + dt.timedelta(days=1), {}),
    ("rerun_same_date", D + dt.timedelta(days=1), {}),  # supersedes next_day (rows deleted)
    ("new_seed", D + dt.timedelta(days=2), {"seed": 5}),
    ("seed_back", D + dt.timedelta(days=3), {}),
    ("always_refit", D + dt.timedelta(days=4), {"refit_days": 0}),
    ("after_refit", D + dt.timedelta(days=5), {}),
    ("day_six", D + dt.timedelta(days=10), {}),
    ("day_seven", D + dt.timedelta(days=11), {}),
]
KEPT = [name for name, _, _ in SCENARIO if name != "next_day"]


@pytest.fixture(scope="module")
def scenario() -> Iterator[tuple[str, dict[str, int]]]:
    url = create_database("segwise_reuse")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=90)
        runs = {
            name: pipeline.run_all(
                url, as_of, methods=METHODS, trigger="test", config={"clustering": clustering}
            )
            for name, as_of, clustering in SCENARIO
        }
        yield url, runs
    finally:
        drop_database(url)


def _model(url: str, run_id: int, method: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        params, profile, silhouette, stability = conn.execute(
            "SELECT params, profile, silhouette, stability_ari FROM segmentation.cluster_models "
            "WHERE run_id = %s AND method = %s",
            (run_id, method),
        ).fetchone()
        metrics = conn.execute(
            "SELECT metrics -> %s FROM segmentation.runs WHERE run_id = %s", (method, run_id)
        ).fetchone()[0]
    return {
        "params": params,
        "profile": pd.DataFrame(profile),
        "silhouette": silhouette,
        "stability_ari": stability,
        "metrics": metrics,
    }


def _frame(url: str, query: str | sql.Composed, params: tuple = ()) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cur = conn.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_reuse_and_refit_follow_settings_and_age(scenario, method):
    url, runs = scenario
    got = {name: _model(url, runs[name], method) for name in KEPT}
    reused = {name: m["params"]["reuse"]["reused"] for name, m in got.items()}
    assert reused == {
        "first": False,
        "rerun_same_date": True,
        "new_seed": False,
        "seed_back": False,
        "always_refit": False,
        "after_refit": True,
        "day_six": True,
        "day_seven": False,
    }
    reasons = {name: m["params"]["reuse"].get("refit_reason") for name, m in got.items()}
    assert "no published clustering" in reasons["first"]
    assert reasons["new_seed"] == "clustering settings changed since the model was fitted: seed"
    assert reasons["seed_back"] == reasons["new_seed"]
    assert "refit_days is 0" in reasons["always_refit"]
    assert "fitted 7 day(s) before" in reasons["day_seven"]
    # which model each reuse took, in the stored params and in the stage metrics
    for name, fitted_by in (
        ("rerun_same_date", "first"),
        ("after_refit", "always_refit"),
        ("day_six", "always_refit"),
    ):
        reuse = got[name]["params"]["reuse"]
        assert reuse["model_fitted_by_run"] == runs[fitted_by]
        assert got[name]["params"]["model"]["fitted_by_run"] == runs[fitted_by]
        assert got[name]["metrics"]["model"] == "reused"
        assert got[name]["metrics"]["reused_model_of_run"] == runs[fitted_by]
        assert got[name]["params"]["n_fit_rows"] == 0
    assert got["day_six"]["params"]["reuse"]["model_age_days"] == 6
    assert got["day_six"]["params"]["reuse"]["read_from_run"] == runs["after_refit"]
    # a rerun of a date reuses the model its published run used (next_day's, fitted by first)
    assert got["rerun_same_date"]["params"]["reuse"]["read_from_run"] == runs["next_day"]
    assert got["rerun_same_date"]["params"]["reuse"]["model_age_days"] == 1
    for name in ("first", "new_seed", "day_seven"):
        assert got[name]["metrics"]["model"] == "fitted"
        assert got[name]["metrics"]["reused_model_of_run"] is None
        assert got[name]["params"]["model"]["fitted_by_run"] == runs[name]
    # a reuse reports a silhouette on its own labels, and the model's stability
    for name in ("rerun_same_date", "day_six"):
        assert -1 <= got[name]["silhouette"] <= 1
        assert got[name]["metrics"]["silhouette"] == pytest.approx(got[name]["silhouette"])
        model = got[name]["params"]["model"]
        assert got[name]["stability_ari"] == pytest.approx(model["fit_stability_ari"])


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
@pytest.mark.parametrize(
    ("name", "source"), [("rerun_same_date", "first"), ("day_six", "always_refit")]
)
def test_reused_labels_are_the_stored_models_nearest_centroids(scenario, method, name, source):
    url, runs = scenario
    model = _model(url, runs[source], method)["params"]["model"]
    columns = model["columns"]
    features = _frame(
        url,
        sql.SQL(
            "SELECT customer_id, {} FROM segmentation.customer_features WHERE run_id = %s"
        ).format(sql.SQL(", ").join(map(sql.Identifier, columns))),
        (runs[name],),
    ).set_index("customer_id")
    # the stored transform, written out independently of the clustering module
    values = (
        features[columns].astype(float).fillna(dict(zip(columns, model["median"], strict=True)))
    )
    z = (np.log1p(values.clip(lower=0)) - model["mean"]) / model["scale"]
    ids = sorted(model["centroids"], key=int)
    centres = np.array([model["centroids"][i] for i in ids])
    distance = ((z.to_numpy()[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    expected = pd.Series(np.array(ids, dtype=int)[distance.argmin(axis=1)], index=z.index)
    labels = _frame(
        url,
        "SELECT customer_id, segment_id, segment FROM segmentation.customer_segments "
        "WHERE run_id = %s AND method = %s",
        (runs[name], method),
    ).set_index("customer_id")
    assert len(labels) == len(features)
    assert (labels.loc[expected.index, "segment_id"] == expected).all()
    # ids and names are the stored model's
    names = labels.drop_duplicates("segment_id").set_index("segment_id")["segment"]
    assert names.to_dict() == {int(i): model["names"][str(i)] for i in names.index}


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
@pytest.mark.parametrize("name", KEPT)
def test_profile_and_names_agree_with_the_labels(scenario, method, name):
    url, runs = scenario
    got = _model(url, runs[name], method)
    labels = _frame(
        url,
        "SELECT segment_id, segment, count(*) AS customers FROM segmentation.customer_segments "
        "WHERE run_id = %s AND method = %s GROUP BY 1, 2 ORDER BY 1",
        (runs[name], method),
    )
    profile = got["profile"].sort_values("cluster_id").reset_index(drop=True)
    assert profile["cluster_id"].tolist() == labels["segment_id"].tolist()
    assert profile["cluster_name"].tolist() == labels["segment"].tolist()
    assert profile["customers"].tolist() == labels["customers"].tolist()
    model = got["params"]["model"]
    assert {int(i): n for i, n in model["names"].items()} == dict(
        zip(profile["cluster_id"], profile["cluster_name"], strict=True)
    )
    assert got["params"]["k"] == len(model["centroids"]) == len(profile)
    segments = _frame(
        url,
        "SELECT segment_id, segment FROM segmentation.segment_profiles "
        "WHERE run_id = %s AND method = %s ORDER BY 1",
        (runs[name], method),
    )
    assert segments["segment"].tolist() == labels["segment"].tolist()


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_ids_stay_stable_through_reuses_and_a_refit(scenario, method):
    url, runs = scenario
    history = _frame(
        url,
        "SELECT run_id, segment_id, segment, is_new_cluster FROM mart.segment_history "
        "WHERE method = %s",
        (method,),
    )
    by_run = {
        run: dict(zip(part["segment_id"], part["segment"], strict=True))
        for run, part in history.groupby("run_id")
    }
    # a reuse keeps the model's ids and names, and no cluster is new
    assert by_run[runs["rerun_same_date"]] == by_run[runs["first"]]
    assert by_run[runs["day_six"]] == by_run[runs["after_refit"]] == by_run[runs["always_refit"]]
    for name in ("rerun_same_date", "after_refit", "day_six"):
        assert not history.loc[history["run_id"] == runs[name], "is_new_cluster"].any()
    # a refit is matched to the previous run's clusters (match_to_previous): a continuing
    # cluster keeps the previous id, the others take ids left free
    refit = _model(url, runs["day_seven"], method)
    assert refit["params"]["matching"]["matched"] >= 1
    kept = refit["profile"][~refit["profile"]["is_new"]]
    assert (kept["previous_cluster_id"] == kept["cluster_id"]).all()
    assert set(kept["cluster_id"]) <= set(by_run[runs["day_six"]])


@pytest.mark.parametrize("bad", [-1, "7", 2.5, True, None])
def test_refit_days_must_be_a_whole_number_of_days(bad):
    with pytest.raises(ConfigurationError, match=r"clustering\.refit_days"):
        seg_config.resolve({"clustering": {"refit_days": bad}})
    assert seg_config.resolve({})["clustering"]["refit_days"] == 7
    assert seg_config.resolve({"clustering": {"refit_days": 0}})["clustering"]["refit_days"] == 0
