"""The per-customer totals the warehouse build keeps (etl.segment.customer_state) give exactly
what the order lines give: a run for the latest date that reads them writes the same features,
category revenue and channel profiles as one that aggregates every line (compared with EXCEPT
ALL both ways), on the real Online Retail file and on demo data with a daily batch, returns,
late corrections and an order moved to another customer."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from etl import demo, ingest, migrate
from etl.segment import customer_state, features, pipeline
from tests.conftest import create_database, drop_database
from tests.segment.conftest import AS_OF as RETAIL_AS_OF
from tests.segment.warehouse_data import insert_orders

DEMO_CUSTOMERS = 400
DEMO_START, DEMO_END = dt.date(2025, 1, 1), dt.date(2025, 2, 28)
NEXT_DAY = DEMO_END + dt.timedelta(days=1)

FEATURE_COLUMNS = (
    "customer_id, recency_days, frequency, monetary, gross_revenue, returns_value, "
    "return_orders, return_rate, first_order_date, last_order_date, tenure_days, "
    "avg_order_value, mean_days_between_orders, total_quantity, distinct_products, "
    "distinct_shops, distinct_categories, top_categories, preferred_weekday, preferred_hour, "
    "main_channel, main_platform, main_market, main_region, main_country, cost_amount, "
    "gross_margin, window_orders, window_revenue"
)
CATEGORY_COLUMNS = "customer_id, category, revenue, products, quantity"


def _differences(conn: psycopg.Connection, left: str, right: str) -> int:
    """Rows in one query and not the other, duplicates counted (EXCEPT ALL both ways)."""
    query = f"SELECT count(*) FROM (({left}) EXCEPT ALL ({right})) AS a"  # noqa: S608
    back = f"SELECT count(*) FROM (({right}) EXCEPT ALL ({left})) AS b"  # noqa: S608
    return conn.execute(query).fetchone()[0] + conn.execute(back).fetchone()[0]


def _make_run(conn: psycopg.Connection, as_of: dt.date) -> int:
    """A bare runs row for the feature rows' foreign key (rolled back with the test)."""
    return conn.execute(
        "INSERT INTO segmentation.runs (as_of_date, status, trigger, methods, params) "
        "VALUES (%s, 'failed', 'test', '{}', '{}') RETURNING run_id",
        (as_of,),
    ).fetchone()[0]


def _compare_paths(conn: psycopg.Connection, as_of: dt.date, window: int | None) -> dict:
    """Features from the lines and from the kept totals, in the caller's transaction."""
    window_start = as_of - dt.timedelta(days=window - 1) if window else None
    lines_run, state_run = _make_run(conn, as_of), _make_run(conn, as_of)
    from_lines = features.insert_features(conn, lines_run, as_of, window_start, use_state=False)
    from_state = features.insert_features(conn, state_run, as_of, window_start)
    assert from_lines["source"] == "lines"
    assert from_state["source"] == "state"
    assert from_lines["customers"] == from_state["customers"] > 0
    out = {"customers": from_state["customers"]}
    for table, columns in (
        ("customer_features", FEATURE_COLUMNS),
        ("customer_category_revenue", CATEGORY_COLUMNS),
    ):
        out[table] = _differences(
            conn,
            f"SELECT {columns} FROM segmentation.{table} WHERE run_id = {lines_run}",  # noqa: S608
            f"SELECT {columns} FROM segmentation.{table} WHERE run_id = {state_run}",  # noqa: S608
        )
    return out


def _totals_match_a_recomputation(conn: psycopg.Connection) -> dict[str, int]:
    """Each kept table against its model over every order."""
    everything = customer_state.orders_up_to(None)
    pairs = {
        "customer_order_totals": customer_state.order_totals(everything),
        "customer_category_totals": customer_state.category_totals(everything, None),
        "customer_channel_totals": customer_state.channel_totals(everything, None),
    }
    return {
        name: _differences(
            conn,
            f"SELECT * FROM warehouse.{name}",  # noqa: S608
            model.as_string(conn),
        )
        for name, model in pairs.items()
    }


def _fill(url: str, as_of: dt.date) -> None:
    """A latest-date features pass that stores the totals (what the first run does), kept."""
    with psycopg.connect(url) as conn:
        run_id = _make_run(conn, as_of)
        done = features.insert_features(conn, run_id, as_of, None)
        assert done["source"] == "lines, stored as the customer totals"
        conn.execute("DELETE FROM segmentation.runs WHERE run_id = %s", (run_id,))


# ------------------------------------------------------------------------ Online Retail


def test_online_retail_state_equals_lines(retail_url: str) -> None:
    with psycopg.connect(retail_url) as conn:
        if not customer_state.usable_for(conn, RETAIL_AS_OF):
            run_id = _make_run(conn, RETAIL_AS_OF)
            features.insert_features(conn, run_id, RETAIL_AS_OF, None)
        assert customer_state.usable_for(conn, RETAIL_AS_OF)
        assert _totals_match_a_recomputation(conn) == dict.fromkeys(
            ("customer_order_totals", "customer_category_totals", "customer_channel_totals"), 0
        )
        for window in (None, 30):
            got = _compare_paths(conn, RETAIL_AS_OF, window)
            assert got["customer_features"] == got["customer_category_revenue"] == 0, got
        assert got["customers"] == 4338  # customers with a sale in Online Retail
        conn.rollback()  # the test writes nothing that lasts


# -------------------------------------------------------------------------------- demo data


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = create_database("segwise_state")
    history = tmp_path_factory.mktemp("state_history")
    day = tmp_path_factory.mktemp("state_day")
    demo.generate(history, customers=DEMO_CUSTOMERS, start=DEMO_START, end=DEMO_END)
    demo.generate_day(day, NEXT_DAY, customers=DEMO_CUSTOMERS)
    try:
        migrate.upgrade(url)
        assert ingest.load_paths(url, [history], layout="segwise").status == "succeeded"
        yield url, day
    finally:
        drop_database(url)
        shutil.rmtree(history, ignore_errors=True)


def _status(url: str) -> tuple[bool, dict]:
    with psycopg.connect(url) as conn:
        current = customer_state.is_current(conn)
        counts = conn.execute(
            "SELECT rule_counts FROM staging.load_batches ORDER BY batch_id DESC LIMIT 1"
        ).fetchone()[0]
    return current, counts


def _an_order(url: str, *, returns: bool = False) -> tuple[str, str, dt.datetime, str]:
    """(order_id, customer, time, product) of a multi-day customer's first order."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT o.order_id, o.customer_id, o.order_ts, l.product_id "
            "FROM warehouse.fact_order AS o JOIN warehouse.fact_order_line AS l "
            "ON l.order_id = o.order_id AND l.line_no = 1 "
            "WHERE o.n_sale_lines > 0 AND o.customer_id IS NOT NULL "
            "ORDER BY o.order_date, o.order_id OFFSET %s LIMIT 1",
            (7 if returns else 3,),
        ).fetchone()


def test_demo_daily_batches_and_corrections_keep_the_totals_exact(demo_url) -> None:
    url, day = demo_url
    _fill(url, DEMO_END)
    assert _status(url)[0]

    # a daily batch: only its customers are recomputed, the totals stay current; it only adds
    # orders, so their category and channel sums are added to the kept ones
    assert ingest.load_paths(url, [day], layout="segwise").status == "succeeded"
    current, counts = _status(url)
    assert current and counts.get("customer_totals_refreshed", 0) > 0
    assert counts.get("customer_totals_added_not_recomputed") == 1
    with psycopg.connect(url) as conn:
        assert _totals_match_a_recomputation(conn) == dict.fromkeys(
            ("customer_order_totals", "customer_category_totals", "customer_channel_totals"), 0
        )

    # late corrections: a line re-sent with another quantity, a return of an old sale, and an
    # order moved to another customer (both customers change)
    changed, moved = _an_order(url), _an_order(url, returns=True)
    with psycopg.connect(url) as conn:
        other = conn.execute(
            "SELECT customer_id FROM warehouse.fact_order WHERE customer_id <> %s "
            "ORDER BY customer_id LIMIT 1",
            (moved[1],),
        ).fetchone()[0]
    stamp = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    insert_orders(
        url,
        [
            (changed[0], changed[1], stamp(changed[2]), changed[3], 7, 3.5, False),
            ("R-late", changed[1], f"{NEXT_DAY} 18:00:00", changed[3], -1, 3.5, True),
            (moved[0], other, stamp(moved[2]), moved[3], 1, 9.0, False),
        ],
    )
    current, counts = _status(url)
    assert current and counts.get("customer_totals_refreshed", 0) >= 3
    assert "customer_totals_added_not_recomputed" not in counts  # changed orders: recomputed

    with psycopg.connect(url) as conn:
        assert _totals_match_a_recomputation(conn) == dict.fromkeys(
            ("customer_order_totals", "customer_category_totals", "customer_channel_totals"), 0
        )
        newest = customer_state.newest_order_date(conn)
        for window in (None, 30):
            got = _compare_paths(conn, newest, window)
            assert got["customer_features"] == got["customer_category_revenue"] == 0, got
        # a backfill (an earlier date) never reads the totals
        assert not customer_state.usable_for(conn, newest - dt.timedelta(days=1))
        conn.rollback()


def test_demo_runs_publish_the_same_marts_from_either_source(demo_url) -> None:
    """Whole runs, profiles included: the published mart rows are identical."""
    url, _ = demo_url
    with psycopg.connect(url) as conn:
        if not customer_state.is_current(conn):
            conn.close()
            _fill(url, DEMO_END)
        newest = customer_state.newest_order_date(psycopg.connect(url))
    methods = ["rfm", "tiers", "demographic", "channel"]
    snapshots = []
    for use_state in (False, True):
        run_id = pipeline.run_all(
            url, newest, methods=methods, trigger="test", params={"customer_state": use_state}
        )
        with psycopg.connect(url) as conn:
            source = conn.execute(
                "SELECT metrics -> 'features' ->> 'source' FROM segmentation.runs "
                "WHERE run_id = %s",
                (run_id,),
            ).fetchone()[0]
            assert source == ("state" if use_state else "lines")
            snapshots.append(
                {
                    table: conn.execute(
                        sql.SQL(
                            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM "
                            "(SELECT {} FROM segmentation.{} WHERE run_id = %s) AS t"
                        ).format(sql.SQL(columns), sql.Identifier(table)),
                        (run_id,),
                    ).fetchone()[0]
                    for table, columns in {
                        "customer_features": FEATURE_COLUMNS,
                        "customer_segments": "method, customer_id, segment_id, segment, scores",
                        "segment_profiles": "method, segment, customers, revenue, "
                        "avg_monetary, median_monetary, top_categories, extra",
                        "channel_profiles": "method, segment, dimension, value, customers, "
                        "share, index_vs_all, orders, revenue, revenue_share, gross_margin, "
                        "margin_pct, extra",
                        "demographic_profiles": "method, segment, dimension, value, "
                        "customers, share, revenue, extra",
                    }.items()
                }
            )
    assert snapshots[0] == snapshots[1]
    assert all(snapshots[0].values())


def test_a_backfill_reads_the_lines(demo_url) -> None:
    url, _ = demo_url
    with psycopg.connect(url) as conn:
        assert not customer_state.usable_for(conn, DEMO_START + dt.timedelta(days=20))
