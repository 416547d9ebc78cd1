"""A run with fewer methods than the date's published run keeps the other methods' published
results (carried forward into the new run); `--replace` drops them."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.cli import main
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

AS_OF = "2024-06-30"
ALL_THREE = "rfm,tiers,channel"


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_runmeth")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=25)
        yield url
    finally:
        drop_database(url)


def _one(url: str, query: str, *args: object) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchone()[0]


def _labelled(url: str) -> dict[str, int]:
    """Customers in mart.customer_segments with a label per method column."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(rfm_segment), count(size_tier), count(channel_segment) "
            "FROM mart.customer_segments"
        ).fetchone()
    return dict(zip(["customers", "rfm", "tiers", "channel"], row, strict=True))


def test_run_with_two_methods_keeps_the_third(url):
    first = pipeline.run_all(url, AS_OF, methods=ALL_THREE, trigger="test")
    before = _labelled(url)
    assert before == {"customers": 25, "rfm": 25, "tiers": 25, "channel": 25}
    channel_rows = _one(url, "SELECT count(*) FROM mart.channel_profiles")

    second = pipeline.run_all(url, AS_OF, methods="rfm,tiers", trigger="ui")
    assert _labelled(url) == before
    assert _one(url, "SELECT DISTINCT run_id FROM mart.customer_segments") == second
    assert _one(url, "SELECT count(*) FROM mart.channel_profiles") == channel_rows
    assert _one(url, "SELECT methods FROM mart.runs WHERE run_id = %s", second) == [
        "rfm",
        "tiers",
        "channel",
    ]
    assert _one(
        url, "SELECT metrics -> 'carried_forward' FROM segmentation.runs WHERE run_id = %s", second
    ) == {"channel": first}
    assert _one(url, "SELECT status FROM segmentation.runs WHERE run_id = %s", first) == (
        "superseded"
    )


def test_cli_keeps_by_default_and_replace_drops(url, capsys):
    args = ["--as-of", AS_OF, "--database-url", url]
    assert main(["run", "--methods", ALL_THREE, *args]) == 0
    capsys.readouterr()

    assert main(["run", "--methods", "rfm", *args]) == 0
    out = capsys.readouterr().out
    assert "kept the published results of tiers (from run 1), channel (from run 1)" in out
    assert _labelled(url) == {"customers": 25, "rfm": 25, "tiers": 25, "channel": 25}

    assert main(["run", "--methods", "rfm", "--replace", *args]) == 0
    assert "kept" not in capsys.readouterr().out
    assert _labelled(url) == {"customers": 25, "rfm": 25, "tiers": 0, "channel": 0}
    assert _one(url, "SELECT count(*) FROM mart.channel_profiles") == 0
