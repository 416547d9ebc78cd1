""" "Latest published run" has one definition (mart.as_of); every reader agrees with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.errors import SegwiseError
from etl.segment import pipeline, report
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

VIEWS_OF_ONE_RUN = [
    "customer_segments",
    "segment_profiles",
    "demographic_profiles",
    "channel_profiles",
    "segment_migrations",
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    url = create_database("segwise_latest")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=12)
        yield url
    finally:
        drop_database(url)


def _readers(url: str) -> dict[str, set]:
    """The run id each reader of "the latest published run" resolves to."""
    seen: dict[str, set] = {}
    with psycopg.connect(url) as conn:
        seen["as_of"] = {r[0] for r in conn.execute("SELECT run_id FROM mart.as_of")}
        seen["runs.is_latest"] = {
            r[0] for r in conn.execute("SELECT run_id FROM mart.runs WHERE is_latest")
        }
        for view in VIEWS_OF_ONE_RUN:
            seen[view] = {r[0] for r in conn.execute(f"SELECT DISTINCT run_id FROM mart.{view}")}  # noqa: S608
    seen["report"] = {report.resolve_run(url)}
    return seen


def test_no_published_run(url):
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM mart.as_of").fetchone()[0] == 0
    with pytest.raises(SegwiseError, match="no published segmentation run"):
        report.resolve_run(url)


def test_every_reader_follows_the_latest_as_of_date_not_the_latest_run(url):
    methods = "rfm,tiers,demographic,channel"
    late = pipeline.run_all(url, dt.date(2024, 3, 31), methods=methods, trigger="test")
    early = pipeline.run_all(url, dt.date(2024, 2, 29), methods=methods, trigger="test")
    unpublished = pipeline.run_all(
        url, dt.date(2024, 4, 30), methods=methods, trigger="test", publish_result=False
    )
    assert early > late and unpublished > early
    seen = _readers(url)
    assert seen.pop("segment_migrations") <= {late}  # no earlier run before `late` was published
    assert all(ids == {late} for ids in seen.values()), seen
    assert report.resolve_run(url, as_of=dt.date(2024, 2, 29)) == early

    rerun = pipeline.run_all(url, dt.date(2024, 3, 31), methods=methods, trigger="test")
    seen = _readers(url)
    assert seen.pop("segment_migrations") == {rerun}  # compared with `early`
    assert all(ids == {rerun} for ids in seen.values()), seen
