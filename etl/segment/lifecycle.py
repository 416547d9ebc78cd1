"""Lifecycle stages: where each customer is in their life with the business, as of a date.

Rules (thresholds in days, ``lifecycle`` in the run configuration; docs/segmentation.md), first
match wins, from the customer's sale days on or before the date:

1. ``lapsed``: last sale ``lapsed_days`` or more ago;
2. ``at risk``: last sale ``at_risk_days`` or more ago;
3. ``new``: first sale less than ``new_days`` ago;
4. ``reactivated``: the last sale came after a gap of ``lapsed_days`` or more (the customer had
   lapsed and came back);
5. ``active``: everyone else.

The rules are written once, in ``sql/segmentation/lifecycle_stages.sql``, and applied in one
statement at the run's date (the method's labels) and at every month end before it (the counts
per month, kept in the run's ``metrics.lifecycle.monthly`` and shown by ``mart.monthly_kpis``),
so the two always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import psycopg

from etl.db import local_settings
from etl.errors import ConfigurationError
from etl.paths import read_sql

STAGES: tuple[str, ...] = ("new", "active", "reactivated", "at risk", "lapsed")
RULE_KEYS = ("new_days", "at_risk_days", "lapsed_days")


def check_rules(rules: Any) -> None:
    """Whole days with 0 < new_days <= at_risk_days < lapsed_days; raises ConfigurationError."""
    if not isinstance(rules, Mapping) or set(rules) != set(RULE_KEYS):
        raise ConfigurationError(
            f"lifecycle must set exactly {', '.join(RULE_KEYS)} (days), e.g. "
            "{new_days: 30, at_risk_days: 90, lapsed_days: 180}"
        )
    for key in RULE_KEYS:
        value = rules[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigurationError(f"lifecycle.{key} = {value!r}: a whole number of days >= 1")
    if not rules["new_days"] <= rules["at_risk_days"] < rules["lapsed_days"]:
        raise ConfigurationError(
            "lifecycle: need new_days <= at_risk_days < lapsed_days, got "
            + ", ".join(f"{k}={rules[k]}" for k in RULE_KEYS)
        )


def month_ends(first: dt.date, as_of: dt.date) -> list[dt.date]:
    """The last day of every month from ``first``'s to ``as_of``'s; ``as_of`` for its own month."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (as_of.year, as_of.month):
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        out.append(min(nxt - dt.timedelta(days=1), as_of))
        year, month = nxt.year, nxt.month
    return out


def label(
    conn: psycopg.Connection, run_id: int, as_of: dt.date, rules: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Write the run's lifecycle labels; returns the stage counts at every month end.

    The counts (one small dict per month: ``month``, ``as_of_date`` and one key per stage, spaces
    as underscores) go to the run's metrics, where ``mart.monthly_kpis`` reads them.
    """
    first = conn.execute(
        "SELECT min(order_date) FROM warehouse.fact_order "
        "WHERE customer_id IS NOT NULL AND n_sale_lines > 0"
    ).fetchone()[0]
    dates = month_ends(min(first or as_of, as_of), as_of)
    conn.execute("DROP TABLE IF EXISTS pg_temp.segwise_lifecycle")
    # The (customer, sale day) pairs are grouped by sorting, in the order the window functions
    # need next: hashed, the planner sized the table for 40,000 groups and filled it with 3.6M
    # at 10M order lines (about 13 s of the statement).
    with local_settings(conn, {"enable_hashagg": "off"}):
        conn.execute(
            read_sql("segmentation/lifecycle_stages.sql"),
            {"dates": dates, "as_of": as_of, **{k: int(rules[k]) for k in RULE_KEYS}},
        )
    conn.execute(
        read_sql("segmentation/segments_lifecycle.sql"),
        {"run_id": run_id, "as_of": as_of, "stages": list(STAGES)},
    )
    counts = conn.execute(
        "SELECT as_of_date, stage, count(*) FROM segwise_lifecycle GROUP BY 1, 2"
    ).fetchall()
    conn.execute("DROP TABLE pg_temp.segwise_lifecycle")
    return monthly_counts(dates, counts)


def monthly_counts(
    dates: list[dt.date], counts: list[tuple[dt.date, str, int]]
) -> list[dict[str, Any]]:
    """One record per month end with every stage's count (0 when empty)."""
    by_date = {d: dict.fromkeys(STAGES, 0) for d in dates}
    for day, stage, n in counts:
        by_date[day][stage] = int(n)
    return [
        {
            "month": d.replace(day=1).isoformat(),
            "as_of_date": d.isoformat(),
            **{s.replace(" ", "_"): n for s, n in stages.items()},
        }
        for d, stages in by_date.items()
    ]
