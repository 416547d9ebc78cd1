"""Run lifecycle on a small hand-made warehouse: atomic re-runs, failed runs, the per-date lock
under concurrency, validation before any write, and segment migration between dates."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from etl import migrate
from etl.errors import SegwiseError
from etl.segment import pipeline, runs
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

QUICK = "rfm,tiers"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    url = create_database("segwise_segpipe")
    try:
        migrate.upgrade(url)
        small_warehouse(url)
        yield url
    finally:
        drop_database(url)


def _one(url: str, query: str, *args) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchone()[0]


def _result_rows(url: str, run_id: int) -> int:
    with psycopg.connect(url) as conn:
        return sum(
            conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE run_id = %s").format(
                    sql.Identifier("segmentation", t)
                ),
                (run_id,),
            ).fetchone()[0]
            for t in (*runs.RESULT_TABLES, "customer_segments", "memberships", "run_methods")
        )


def _status(url: str, run_id: int) -> str:
    return _one(url, "SELECT status FROM segmentation.runs WHERE run_id = %s", run_id)


def test_rerun_replaces_results_atomically(url):
    as_of = dt.date(2024, 6, 30)  # the latest date in this module: what mart shows
    first = pipeline.run_all(url, as_of, methods=QUICK, trigger="test")
    customers = _one(url, "SELECT count(*) FROM mart.customer_segments")
    assert customers == 60
    assert _one(url, "SELECT DISTINCT run_id FROM mart.customer_segments") == first

    second = pipeline.start_run(url, as_of, methods=QUICK, trigger="test")
    pipeline.build_features(url, second)
    for method in ("rfm", "tiers"):
        pipeline.run_method(url, second, method)
    pipeline.build_profiles(url, second)
    assert _status(url, second) == "succeeded"
    # computed but not published: BI still sees the first run, complete
    assert _one(url, "SELECT DISTINCT run_id FROM mart.customer_segments") == first
    assert _one(url, "SELECT count(*) FROM mart.customer_segments") == customers

    pipeline.publish(url, second)
    assert _status(url, first) == "superseded" and _status(url, second) == "published"
    assert _result_rows(url, first) == 0
    assert _one(url, "SELECT DISTINCT run_id FROM mart.customer_segments") == second
    assert _one(url, "SELECT count(*) FROM mart.customer_segments") == customers
    assert _one(url, "SELECT count(*) FROM mart.runs WHERE is_latest") == 1
    with pytest.raises(SegwiseError, match="only a succeeded run"):
        pipeline.publish(url, second)


def test_failed_run_leaves_previous_results_visible(url, monkeypatch):
    as_of = dt.date(2024, 3, 15)
    good = pipeline.run_all(url, as_of, methods=QUICK, trigger="test")
    before = _result_rows(url, good)

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "_compute", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        pipeline.run_all(url, as_of, methods=QUICK, trigger="test")
    failed = _one(url, "SELECT max(run_id) FROM segmentation.runs WHERE as_of_date = %s", as_of)
    assert _status(url, failed) == "failed"
    assert "disk on fire" in _one(
        url, "SELECT message FROM segmentation.runs WHERE run_id = %s", failed
    )
    assert _result_rows(url, failed) == 0
    assert _status(url, good) == "published" and _result_rows(url, good) == before
    # the lock was released: the date can run again
    monkeypatch.undo()
    again = pipeline.start_run(url, as_of, methods=QUICK, trigger="test")
    pipeline.fail_run(url, again, "cleanup")


def test_concurrent_starts_for_one_date_are_serialised(url):
    as_of = dt.date(2024, 2, 20)
    barrier = threading.Barrier(4)
    results: list[object] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(pipeline.start_run(url, as_of, methods=QUICK, trigger="test"))
        except SegwiseError as exc:
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, SegwiseError)]
    assert len(winners) == 1 and len(refused) == 3
    assert all("still in progress" in str(e) for e in refused)
    assert _one(url, "SELECT count(*) FROM segmentation.runs WHERE as_of_date = %s", as_of) == 1
    pipeline.fail_run(url, winners[0], "cleanup")


def test_concurrent_full_runs_publish_exactly_one(url):
    as_of = dt.date(2024, 2, 21)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(pipeline.run_all(url, as_of, methods=QUICK, trigger="test"))
        except SegwiseError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(o, int) for o in outcomes) >= 1
    assert (
        _one(
            url,
            "SELECT count(*) FROM segmentation.runs WHERE as_of_date = %s AND status = 'published'",
            as_of,
        )
        == 1
    )
    assert (
        _one(url, "SELECT count(*) FROM segmentation.run_locks WHERE as_of_date = %s", as_of) == 0
    )


def test_stale_lock_is_taken_over(url):
    as_of = dt.date(2024, 2, 22)
    stale = pipeline.start_run(
        url, as_of, methods=QUICK, trigger="test", params={"lock_timeout_minutes": 1}
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE segmentation.runs SET heartbeat_at = now() - interval '5 minutes' "
            "WHERE run_id = %s",
            (stale,),
        )
    fresh = pipeline.start_run(
        url, as_of, methods=QUICK, trigger="test", params={"lock_timeout_minutes": 1}
    )
    assert _status(url, stale) == "abandoned"
    with pytest.raises(SegwiseError, match="running run"):
        pipeline.build_features(url, stale)
    pipeline.fail_run(url, fresh, "cleanup")


BAD = [
    ({"methods": "rfm,umap"}, "unknown method"),
    (
        {"config": {"clustering": {"k": 99}}, "methods": "kmeans"},
        "clustering.k = 99 is out of range",
    ),
    ({"config": {"clustering": {"k_range": [1, 3]}}}, "clustering.k_range"),
    (
        {"config": {"rfm": {"segments": {"All": {"r": "1-5", "f": "1-4"}}}}},
        "not covered by any segment: R1/F5",
    ),
    (
        {"config": {"rfm": {"segments": {"A": {"r": "1-5", "f": "1-5"}, "B": {"r": 5, "f": 5}}}}},
        "R5/F5 by A and B",
    ),
    ({"as_of": dt.date(2023, 12, 31)}, "before all data"),
    (
        {"as_of": dt.date(2024, 1, 2), "config": {"clustering": {"k": 8}}, "methods": "kmeans"},
        "clustering needs more customers than clusters",
    ),
    ({"config": {"tiers": {"orders": {"method": "fixed", "thresholds": [5, 2]}}}}, "increasing"),
    ({"config": {"colour": "blue"}}, "unknown config setting"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_configuration_fails_before_writing(url, kwargs, message):
    kwargs = dict(kwargs)
    as_of = kwargs.pop("as_of", dt.date(2024, 3, 1))
    before = _one(url, "SELECT count(*) FROM segmentation.runs")
    with pytest.raises(SegwiseError, match=message):
        pipeline.run_all(url, as_of, trigger="test", **kwargs)
    assert _one(url, "SELECT count(*) FROM segmentation.runs") == before


def test_config_file_errors_name_the_file(url, tmp_path):
    bad = tmp_path / "seg.yml"
    bad.write_text("rfm:\n  segments: [oops\n", encoding="utf-8")
    with pytest.raises(SegwiseError, match=r"seg\.yml line \d+, column \d+: not valid YAML"):
        pipeline.start_run(url, dt.date(2024, 3, 1), config=bad)


def test_custom_segment_map_from_yaml(url, tmp_path):
    cfg = tmp_path / "map.yml"
    cfg.write_text(
        "rfm:\n  segments:\n    Best: {r: '4-5', f: '1-5'}\n    Rest: {r: '1-3', f: '1-5'}\n"
        "  actions:\n    Best: Thank them.\n",
        encoding="utf-8",
    )
    run_id = pipeline.run_all(url, dt.date(2024, 1, 31), methods="rfm", config=cfg, trigger="test")
    with psycopg.connect(url) as conn:
        rows = dict(
            conn.execute(
                "SELECT segment, recommended_action FROM segmentation.segment_profiles "
                "WHERE run_id = %s",
                (run_id,),
            ).fetchall()
        )
    assert set(rows) == {"Best", "Rest"} and rows["Best"] == "Thank them."


def test_all_methods_and_migration_between_dates(url):
    early = pipeline.run_all(url, dt.date(2024, 2, 10), trigger="test")
    late = pipeline.run_all(url, dt.date(2024, 2, 11), trigger="test")
    with psycopg.connect(url) as conn:
        labelled = conn.execute(
            "SELECT method, count(*) FROM segmentation.customer_segments WHERE run_id = %s "
            "GROUP BY method",
            (late,),
        ).fetchall()
        customers = conn.execute(
            "SELECT count(*) FROM segmentation.customer_features WHERE run_id = %s", (late,)
        ).fetchone()[0]
        moved = conn.execute(
            "SELECT method, sum(customers), sum(customers) FILTER (WHERE from_segment <> "
            "to_segment), min(previous_run_id) FROM segmentation.segment_migrations "
            "WHERE run_id = %s GROUP BY method",
            (late,),
        ).fetchall()
        history = dict(
            conn.execute(
                "SELECT method, count(*) FROM segmentation.segment_history WHERE run_id = %s "
                "GROUP BY method",
                (late,),
            ).fetchall()
        )
        models = conn.execute(
            "SELECT method, k FROM segmentation.cluster_models WHERE run_id = %s", (late,)
        ).fetchall()
    assert dict(labelled) == {m: customers for m in pipeline.seg_config.METHODS}
    assert {m for m, _ in models} == {"kmeans", "hierarchical"}
    for method, total, changed, previous in moved:
        assert total >= customers and previous == early
        assert history.get(method, 0) == (changed or 0)


def test_stage_retry_is_idempotent(url):
    run_id = pipeline.start_run(url, dt.date(2024, 1, 20), methods=QUICK, trigger="test")
    assert pipeline.build_features(url, run_id) == pipeline.build_features(url, run_id)
    first = pipeline.run_method(url, run_id, "rfm")
    assert pipeline.run_method(url, run_id, "rfm") == first
    with pytest.raises(SegwiseError, match="have not finished"):
        pipeline.build_profiles(url, run_id)
    with pytest.raises(SegwiseError, match="without method kmeans"):
        pipeline.run_method(url, run_id, "kmeans")
    pipeline.fail_run(url, run_id, "cleanup")
    assert _result_rows(url, run_id) == 0


@pytest.mark.parametrize("method", ["rfm", "channel"])
def test_a_method_labelling_fewer_customers_than_the_features_fails_its_stage(url, method):
    """The stage compares the rows it wrote with the customers the features stage counted: a
    customer gone from the features since (written by hand) is one label short."""
    run_id = pipeline.start_run(url, dt.date(2024, 1, 21), methods=[method], trigger="test")
    customers = pipeline.build_features(url, run_id)
    with psycopg.connect(url) as conn:
        conn.execute(
            "DELETE FROM segmentation.customer_features WHERE ctid = (SELECT ctid FROM "
            "segmentation.customer_features WHERE run_id = %s LIMIT 1)",
            (run_id,),
        )
    with pytest.raises(SegwiseError, match=f"labelled {customers - 1} of {customers} customers"):
        pipeline.run_method(url, run_id, method)
    pipeline.fail_run(url, run_id, "cleanup")
    assert _result_rows(url, run_id) == 0


def test_food_delivery_layout_gets_seed_tiers():
    url = create_database("segwise_segfood")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=20, layout="food_delivery")
        run_id = pipeline.run_all(url, dt.date(2024, 3, 31), methods="tiers", trigger="test")
        with psycopg.connect(url) as conn:
            tiers = conn.execute(
                "SELECT params -> 'tiers' FROM segmentation.runs WHERE run_id = %s", (run_id,)
            ).fetchone()[0]
            inactive = conn.execute(
                "SELECT count(*) FROM segmentation.customer_segments s "
                "JOIN segmentation.customer_features f USING (run_id, customer_id) "
                "WHERE run_id = %s AND (s.segment = 'inactive') <> (f.window_orders = 0)",
                (run_id,),
            ).fetchone()[0]
        assert tiers["preset"] == "food_delivery" and tiers["window_days"] == 30
        assert tiers["orders"] == {"method": "fixed", "thresholds": [2, 5]}
        assert inactive == 0
    finally:
        drop_database(url)


def test_retention_prunes_customer_rows_of_old_dates_only():
    url = create_database("segwise_segkeep")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=10)
        keep = {"keep_customer_rows_for_dates": 2}
        ids = [
            pipeline.run_all(url, day, methods="rfm", trigger="test", params=keep)
            for day in (dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3))
        ]
        with psycopg.connect(url) as conn:
            customer_rows = dict(
                conn.execute(
                    "SELECT r.run_id, (SELECT count(*) FROM segmentation.customer_segments s "
                    "WHERE s.run_id = r.run_id) FROM segmentation.runs r"
                ).fetchall()
            )
            profiles = dict(
                conn.execute(
                    "SELECT run_id, count(*) FROM segmentation.segment_profiles GROUP BY run_id"
                ).fetchall()
            )
            pruned = conn.execute(
                "SELECT run_id FROM segmentation.runs WHERE metrics ? 'customer_rows_pruned'"
            ).fetchall()
        assert customer_rows == {ids[0]: 0, ids[1]: 10, ids[2]: 10}
        assert set(profiles) == set(ids)  # per-segment results of every date stay
        assert pruned == [(ids[0],)]
    finally:
        drop_database(url)


FAILURES = {
    # the side connection's statement
    "channel_profiles": "BEFORE INSERT ON segmentation.channel_profiles FOR EACH STATEMENT",
    # the stage's own statements, while the side one runs
    "segment_profiles": "BEFORE INSERT ON segmentation.segment_profiles FOR EACH STATEMENT",
    # the stage's last write, after the side statement is done
    "succeeded": "BEFORE UPDATE ON segmentation.runs FOR EACH ROW "
    "WHEN (NEW.status = 'succeeded' AND OLD.status = 'running')",
}


@pytest.mark.parametrize("failing", FAILURES)
def test_a_failed_profile_stage_leaves_no_profiles_on_either_connection(url, failing):
    """The channel profiles run on a second connection: a failure there, in the stage's own
    statements or at its last write fails the stage with none of the three profile tables
    written for the run; the retried stage writes them all."""
    run_id = pipeline.start_run(url, dt.date(2024, 2, 10), methods="rfm,channel", trigger="test")
    pipeline.build_features(url, run_id)
    for method in ("rfm", "channel"):
        pipeline.run_method(url, run_id, method)
    on = FAILURES[failing].split(" ON ")[1].split(" ")[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION public.segwise_test_fail() RETURNS trigger "
            "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'injected profile failure'; END$$"
        )
        conn.execute(
            f"CREATE TRIGGER segwise_test_fail {FAILURES[failing]} "
            "EXECUTE FUNCTION public.segwise_test_fail()"
        )
    try:
        with pytest.raises(psycopg.Error, match="injected profile failure"):
            pipeline.build_profiles(url, run_id)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TRIGGER segwise_test_fail ON {on}")
            conn.execute("DROP FUNCTION public.segwise_test_fail()")
    assert _status(url, run_id) == "running"
    with psycopg.connect(url) as conn:
        for profiles in ("segment_profiles", "demographic_profiles", "channel_profiles"):
            written = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE run_id = %s").format(
                    sql.Identifier("segmentation", profiles)
                ),
                (run_id,),
            ).fetchone()[0]
            assert written == 0, f"{profiles} kept rows of a failed profile stage"
    pipeline.build_profiles(url, run_id)
    assert _status(url, run_id) == "succeeded"
    channel_rows = "SELECT count(*) FROM segmentation.channel_profiles WHERE run_id = %s"
    assert _one(url, channel_rows, run_id) > 0
    pipeline.fail_run(url, run_id, "cleanup")
