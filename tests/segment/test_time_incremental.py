"""The time marts' aggregates after several batches equal a recomputation from scratch, also
when a later batch moves a customer's first sale (their cohort and "new" month) and adds orders
to old months; a changed fiscal year start recomputes every fiscal year."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.segment import time_marts
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import insert_orders

TABLES = {
    "kpi_periods": "grain, period_start, dimension, dimension_value",
    "cohort_cells": "cohort_month, activity_month",
    "customer_first_sale": "customer_id",
}


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_kpi")
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_database(url)


def _snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT * FROM segmentation.{t} ORDER BY {k}").fetchall()  # noqa: S608
            for t, k in TABLES.items()
        }


def _from_scratch(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        for table in TABLES:
            conn.execute(f"TRUNCATE segmentation.{table}")
        conn.execute("UPDATE segmentation.kpi_state SET refreshed_batches = '{}'")
        time_marts.refresh(conn)
    return _snapshot(url)


def _refresh(url: str, **kwargs) -> dict:
    with psycopg.connect(url) as conn:
        return time_marts.refresh(conn, **kwargs)


def test_batches_add_up_to_a_full_recomputation(url):
    insert_orders(
        url,
        [
            ("A1", "c1", "2024-01-10 10:00", "P1", 2, 10.0, False, "web"),
            ("A2", "c1", "2024-03-05 11:00", "P2", 1, 5.0, False, "app"),
            ("A3", "c2", "2024-02-20 09:00", "P1", 3, 10.0, False, "web"),
        ],
        products=[("P1", "toys", 4.0), ("P2", "home", 1.0)],
    )
    # the warehouse build refreshed the aggregates for its batch in its own transaction
    assert _refresh(url)["batches"] == []
    assert _snapshot(url) == _from_scratch(url)
    insert_orders(
        url,
        [
            ("B1", "c2", "2023-12-01 10:00", "P2", 1, 8.0, False, "web"),  # earlier first sale
            ("B2", "c3", "2024-03-15 10:00", "P1", 1, 10.0, False, "store"),
            ("B3", "c1", "2024-01-20 10:00", "P1", -1, 10.0, True, "web"),  # a return
        ],
    )
    assert _refresh(url)["batches"] == []  # counted by the second build
    incremental = _snapshot(url)
    assert incremental == _from_scratch(url)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT period_label, net_revenue, active_customers, new_customers "
            "FROM mart.monthly_kpis WHERE grain = 'month' AND dimension = 'all' "
            "ORDER BY period_start"
        ).fetchall()
        cohorts = conn.execute(
            "SELECT cohort_month::text, activity_month::text, cohort_size, active_customers "
            "FROM mart.cohort_retention WHERE active_customers > 0 ORDER BY 1, 2"
        ).fetchall()
    assert [(r[0], float(r[1]), r[2], r[3]) for r in rows] == [
        ("2023-12", 8.0, 1, 1),
        ("2024-01", 10.0, 1, 1),  # 20 sold, 10 returned
        ("2024-02", 30.0, 1, 0),  # c2 is no longer new in February
        ("2024-03", 15.0, 2, 1),
    ]
    assert cohorts == [
        ("2023-12-01", "2023-12-01", 1, 1),
        ("2023-12-01", "2024-02-01", 1, 1),
        ("2024-01-01", "2024-01-01", 1, 1),
        ("2024-01-01", "2024-03-01", 1, 1),
        ("2024-03-01", "2024-03-01", 1, 1),
    ]
    # nothing new: nothing recomputed
    assert _refresh(url)["months"] == []


def test_a_new_fiscal_year_start_recomputes_the_fiscal_years(url):
    insert_orders(
        url,
        [
            ("A1", "c1", "2023-08-10 10:00", "P1", 1, 10.0, False),
            ("A2", "c1", "2023-09-10 10:00", "P1", 1, 20.0, False),
        ],
    )
    _refresh(url)
    with psycopg.connect(url) as conn:
        calendar_years = conn.execute(
            "SELECT period_start::text, gross_revenue FROM segmentation.kpi_periods "
            "WHERE grain = 'fiscal_year' AND dimension = 'all' ORDER BY 1"
        ).fetchall()
    assert [(d, float(v)) for d, v in calendar_years] == [("2023-01-01", 30.0)]
    _refresh(url, fiscal_year_start_month=9)
    with psycopg.connect(url) as conn:
        years = conn.execute(
            "SELECT period_label, gross_revenue FROM mart.monthly_kpis "
            "WHERE grain = 'fiscal_year' AND dimension = 'all' ORDER BY period_start"
        ).fetchall()
    assert [(d, float(v)) for d, v in years] == [("FY2023", 10.0), ("FY2024", 20.0)]
