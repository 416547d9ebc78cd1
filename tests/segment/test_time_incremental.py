"""The time marts' aggregates after several batches equal a recomputation from scratch, also
when a later batch moves a customer's first sale (their cohort and "new" month), adds orders
to old months, or corrects orders already loaded (their lines, date, customer, channel); a
changed product category or fiscal year start recomputes what it changes."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl import migrate
from etl.segment import time_marts
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import insert_orders, load_online_retail

TABLES = {
    "kpi_periods": "grain, period_start, dimension, dimension_value",
    "cohort_cells": "cohort_month, activity_month",
    "customer_first_sale": "customer_id",
    "customer_months": "customer_id, month",
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


def _same(incremental: dict[str, list[tuple]], scratch: dict[str, list[tuple]]) -> None:
    for table, rows in scratch.items():
        extra = sorted(set(incremental[table]) - set(rows))
        missing = sorted(set(rows) - set(incremental[table]))
        assert not extra and not missing, (table, "extra", extra, "missing", missing)


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


def _added(caplog) -> list[str]:
    """How the builds' refreshes counted their batches (from the log)."""
    return [
        r.getMessage().split(" in ")[0]
        for r in caplog.records
        if r.name == "etl.segment.time_marts"
    ]


BASE = [
    ("A1", "c1", "2024-01-10 10:00", "P1", 2, 10.0, False, "web", "north"),
    ("A1", "c1", "2024-01-10 10:00", "P2", 1, 5.0, False, "web", "north"),
    ("A2", "c2", "2024-01-15 10:00", "P2", 3, 5.0, False, "app", "south"),
    ("A3", "c3", "2024-02-10 09:00", "P1", 1, 10.0, False, "web", "north"),
    ("A4", "c4", "2024-02-12 09:00", "P3", 1, 7.0, False, "store", "south"),
    ("A5", "c1", "2024-03-05 11:00", "P1", 1, 10.0, False, "web", "north"),
    ("A6", "c2", "2024-03-06 11:00", "P3", 2, 7.0, False, "app", "south"),
    ("A7", None, "2024-03-07 12:00", "P2", 1, 5.0, False, "store", "north"),
    ("A8", "c3", "2024-04-01 08:00", "P2", 4, 5.0, False, "web", "north"),
    ("A9", "c5", "2024-04-02 08:00", "P1", 1, 10.0, False, "app", "south"),
]


def test_corrections_and_late_returns_in_old_months_match_a_recomputation(url, caplog):
    caplog.set_level(logging.INFO, logger="etl.segment.time_marts")
    insert_orders(
        url, BASE, products=[("P1", "toys", 4.0), ("P2", "home", 1.0), ("P3", None, None)]
    )
    _same(_snapshot(url), _from_scratch(url))
    caplog.clear()
    insert_orders(
        url,
        [
            # a late return of January's order, dated in January
            ("R1", "c1", "2024-01-25 10:00", "P1", -1, 10.0, True, "web", "north"),
            # A2 corrected: another quantity, and a second line (its first is unchanged)
            ("A2", "c2", "2024-01-15 10:00", "P2", 2, 5.0, False, "app", "south"),
            ("A2", "c2", "2024-01-15 10:00", "P1", 1, 10.0, False, "app", "south"),
            # A3 was c3's first sale: moved to March (c3's cohort moves to April... then March)
            ("A3", "c3", "2024-03-20 09:00", "P1", 1, 10.0, False, "web", "north"),
            # A4 belonged to another customer: c4 had no other order and disappears
            ("A4", "c6", "2024-02-12 09:00", "P3", 1, 7.0, False, "store", "south"),
            # A5 was recorded in the wrong channel
            ("A5", "c1", "2024-03-05 11:00", "P1", 1, 10.0, False, "app", "north"),
            # the order without a customer gets one, and a cost-less product
            ("A7", "c5", "2024-03-07 12:00", "P3", 1, 5.0, False, "store", "north"),
            # c5's earlier first sale arrives late
            ("B1", "c5", "2023-12-30 10:00", "P2", 1, 5.0, False, "web", "south"),
            # a new order without a customer in an old month
            ("B2", None, "2024-02-01 10:00", "P1", 1, 10.0, False, "web", "north"),
        ],
    )
    assert _added(caplog) and all("added" in m for m in _added(caplog)), _added(caplog)
    incremental = _snapshot(url)
    _same(incremental, _from_scratch(url))
    with psycopg.connect(url) as conn:
        first = dict(
            conn.execute(
                "SELECT customer_id, first_date::text FROM segmentation.customer_first_sale"
            )
        )
        versions = conn.execute(
            "SELECT (SELECT count(*) FROM segmentation.kpi_order_versions) "
            "+ (SELECT count(*) FROM segmentation.kpi_line_versions)"
        ).fetchone()[0]
    assert first["c3"] == "2024-03-20" and first["c5"] == "2023-12-30" and "c4" not in first
    assert versions == 0  # consumed by the refresh
    # the same rows rewritten by a later batch once more: still the recomputation
    caplog.clear()
    insert_orders(
        url,
        [
            ("A3", "c3", "2024-02-10 09:00", "P1", 1, 12.0, False, "web", "north"),
            ("R1", "c1", "2024-01-25 10:00", "P1", -2, 10.0, True, "web", "north"),
        ],
    )
    assert all("added" in m for m in _added(caplog)), _added(caplog)
    _same(_snapshot(url), _from_scratch(url))
    # a product changes category: every line of it moves; recomputed from the facts
    caplog.clear()
    insert_orders(
        url,
        [("C1", "c2", "2024-04-20 10:00", "P2", 1, 5.0, False, "web", "south")],
        products=[("P1", "garden", 4.0)],
    )
    assert any("category changed" in m for m in _added(caplog)), _added(caplog)
    _same(_snapshot(url), _from_scratch(url))
    with psycopg.connect(url) as conn:
        (garden,) = conn.execute(
            "SELECT count(*) FROM segmentation.kpi_periods "
            "WHERE dimension = 'category' AND dimension_value = 'garden'"
        ).fetchone()
    assert garden > 0


def test_a_run_counts_only_the_ledgers_new_batches(url):
    insert_orders(url, BASE[:3])
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE segmentation.kpi_state SET fiscal_year_start_month = 4")
        (counted,) = conn.execute("SELECT refreshed_batches FROM segmentation.kpi_state").fetchone()
    assert len(counted) == 1
    done = _refresh(url, fiscal_year_start_month=4)
    assert done["batches"] == [] and done["months"] == []
    done = _refresh(url, fiscal_year_start_month=7)  # a new fiscal year start: years again
    assert done["batches"] == [] and done["fiscal_years"]
    _same(_snapshot(url), _from_scratch(url))


def _retail_batches(path: Path, folder: Path) -> list[Path]:
    """The Online Retail file as three batches: (1) the invoices up to September 2011 but a few;
    (2) October to December and those few, late (cancellations among them); (3) corrections
    of old invoices sent again whole: a quantity changed, some moved to another customer or
    to November 2011."""
    with gzip.open(path, "rt", encoding="latin-1", newline="") as fh:
        rows = list(csv.reader(fh))
    header, rows = rows[0], rows[1:]
    invoices: dict[str, list[list[str]]] = {}
    for row in rows:
        invoices.setdefault(row[0], []).append(row)

    def month(rows: list[list[str]]) -> tuple[int, int]:
        day = dt.datetime.strptime(rows[0][4], "%m/%d/%Y %H:%M")
        return day.year, day.month

    def number(invoice: str) -> int:
        return int("".join(c for c in invoice if c.isdigit()) or 0)

    first, late, fixes = [], [], []
    for n, (invoice, lines) in enumerate(invoices.items()):
        if month(lines) >= (2011, 10) or number(invoice) % 29 == 0:
            late.extend(lines)
            continue
        first.extend(lines)
        if number(invoice) % 97 == 1 and month(lines) <= (2011, 6):
            fixed = [list(r) for r in lines]
            fixed[0][3] = str(int(fixed[0][3]) + 1)
            for r in fixed:
                if n % 3 == 0:
                    r[6] = "12346"
                if n % 5 == 0:
                    r[4] = "11/15/2011 10:00"
            fixes.extend(fixed)
    paths = []
    for name, part in (("1_first", first), ("2_late", late), ("3_fixes", fixes)):
        paths.append(folder / f"{name}.csv")
        with paths[-1].open("w", encoding="latin-1", newline="") as fh:
            csv.writer(fh).writerows([header, *part])
    return paths


def test_online_retail_in_late_and_corrected_batches_matches_a_recomputation(
    url, online_retail_path, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="etl.segment.time_marts")
    for path in _retail_batches(online_retail_path, tmp_path):
        load_online_retail(url, path)
    counted = _added(caplog)
    assert len(counted) == 3 and all("added" in m for m in counted[1:]), counted
    incremental = _snapshot(url)
    _same(incremental, _from_scratch(url))
    assert len(incremental["kpi_periods"]) > 300 and len(incremental["cohort_cells"]) > 50
