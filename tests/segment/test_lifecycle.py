"""Lifecycle stages: the rules on a hand-made warehouse (every stage, every boundary), custom
thresholds, and configuration errors refused before a run starts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.errors import ConfigurationError
from etl.segment import lifecycle, pipeline
from etl.segment import run_config as seg_config
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import insert_orders

AS_OF = "2024-06-30"
# customer -> sale days; expected stage with the default rules (new 30, at risk 90, lapsed 180)
HISTORY: dict[str, tuple[list[str], str]] = {
    "new": (["2024-06-20"], "new"),
    "new_29_days": (["2024-06-01"], "new"),
    "first_30_days_ago": (["2024-05-31"], "active"),
    "active": (["2024-01-10", "2024-06-01"], "active"),
    "came_back": (["2023-01-01", "2024-06-15"], "reactivated"),
    "came_back_twice": (["2023-01-01", "2024-06-10", "2024-06-20"], "active"),
    "gap_179_days": (["2023-12-19", "2024-06-15"], "active"),
    "gap_180_days": (["2023-12-18", "2024-06-15"], "reactivated"),
    "quiet_89_days": (["2024-04-02"], "active"),
    "quiet_90_days": (["2024-04-01"], "at risk"),
    "at_risk": (["2023-06-01", "2024-03-01"], "at risk"),
    "quiet_179_days": (["2024-01-03"], "at risk"),
    "quiet_180_days": (["2024-01-02"], "lapsed"),
    "lapsed": (["2023-10-01"], "lapsed"),
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    url = create_database("segwise_lifecycle")
    try:
        migrate.upgrade(url)
        lines = []
        for customer, (days, _stage) in HISTORY.items():
            for i, day in enumerate(days):
                lines.append((f"{customer}-{i}", customer, f"{day} 10:00", "P1", 1, 10.0, False))
        # a return alone is not a sale, and a sale after the as-of date is not seen
        lines.append(("ret-0", "returns_only", "2024-06-01 10:00", "P1", -1, 10.0, True))
        lines.append(("late-0", "lapsed", "2024-07-02 10:00", "P1", 1, 10.0, False))
        insert_orders(url, lines)
        yield url
    finally:
        drop_database(url)


def _labels(url: str, run_id: int) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT customer_id, segment FROM segmentation.customer_segments "
            "WHERE run_id = %s AND method = 'lifecycle'",
            (run_id,),
        ).fetchall()
    return dict(rows)


def test_every_stage_and_boundary(url):
    run_id = pipeline.run_all(
        url, dt.date.fromisoformat(AS_OF), methods="lifecycle", trigger="test"
    )
    assert _labels(url, run_id) == {c: stage for c, (_d, stage) in HISTORY.items()}
    with psycopg.connect(url) as conn:
        mart = dict(conn.execute("SELECT customer_id, lifecycle_stage FROM mart.customer_segments"))
        monthly = conn.execute(
            "SELECT metrics -> 'lifecycle' -> 'monthly' FROM segmentation.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()[0]
    assert mart == _labels(url, run_id)
    # month ends from the first sale's month to the run's date, the last one the run's date
    assert monthly[0]["as_of_date"] == "2023-01-31" and monthly[-1]["as_of_date"] == AS_OF
    assert len(monthly) == 18
    last = monthly[-1]
    for stage in lifecycle.STAGES:
        assert last[stage.replace(" ", "_")] == sum(1 for _d, s in HISTORY.values() if s == stage)
    # at the end of January 2024, by the same rules
    jan = next(m for m in monthly if m["month"] == "2024-01-01")
    expected = _stages_at(dt.date(2024, 1, 31))
    assert {s: jan[s.replace(" ", "_")] for s in lifecycle.STAGES} == expected


def _stages_at(day: dt.date) -> dict[str, int]:
    """The rules applied by hand in Python to HISTORY at ``day`` (the default thresholds)."""
    out = dict.fromkeys(lifecycle.STAGES, 0)
    for days, _stage in HISTORY.values():
        seen = sorted(dt.date.fromisoformat(d) for d in days if dt.date.fromisoformat(d) <= day)
        if not seen:
            continue
        since_last, since_first = (day - seen[-1]).days, (day - seen[0]).days
        gap = (seen[-1] - seen[-2]).days if len(seen) > 1 else None
        if since_last >= 180:
            stage = "lapsed"
        elif since_last >= 90:
            stage = "at risk"
        elif since_first < 30:
            stage = "new"
        elif gap is not None and gap >= 180:
            stage = "reactivated"
        else:
            stage = "active"
        out[stage] += 1
    return out


def test_thresholds_come_from_the_configuration(url):
    rules = {"new_days": 7, "at_risk_days": 60, "lapsed_days": 365}
    run_id = pipeline.run_all(
        url,
        dt.date.fromisoformat(AS_OF),
        methods="lifecycle",
        trigger="test",
        config={"lifecycle": rules},
    )
    labels = _labels(url, run_id)
    assert labels["new_29_days"] == "active"  # 29 days is no longer new
    assert labels["new"] == "active"  # first sale 10 days ago: not new with new_days 7
    assert labels["lapsed"] == "at risk"  # 273 days < 365
    assert labels["came_back"] == "reactivated"  # gap 531 >= 365
    assert labels["gap_180_days"] == "active"
    assert labels["quiet_89_days"] == "at risk"  # >= 60


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"new_days": 100, "at_risk_days": 90, "lapsed_days": 180}, "new_days <= at_risk_days"),
        ({"new_days": 30, "at_risk_days": 180, "lapsed_days": 180}, "at_risk_days < lapsed"),
        ({"new_days": 0, "at_risk_days": 90, "lapsed_days": 180}, "lifecycle.new_days = 0"),
        ({"new_days": 30, "at_risk_days": "90", "lapsed_days": 180}, "at_risk_days = '90'"),
        ({"new_days": 30, "at_risk_days": 90, "lapsed": 180}, "exactly new_days"),
    ],
)
def test_bad_rules_are_refused(rules, message):
    with pytest.raises(ConfigurationError, match=message):
        seg_config.resolve({"lifecycle": rules})


def test_month_ends():
    assert lifecycle.month_ends(dt.date(2023, 11, 15), dt.date(2024, 2, 10)) == [
        dt.date(2023, 11, 30),
        dt.date(2023, 12, 31),
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 10),
    ]
    assert lifecycle.month_ends(dt.date(2024, 2, 29), dt.date(2024, 2, 29)) == [
        dt.date(2024, 2, 29)
    ]
