"""The demo data through the real loader (`segwise` layout) into a fresh warehouse: everything
loads except exactly the malformed rows the generator injected."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from etl import demo, ingest

CUSTOMERS = 1000


def _count(url: str, query: str, *params: object) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def test_history_and_next_day_feed_load_and_reject_only_the_malformed_rows(
    tmp_path, fresh_warehouse_url
):
    url = fresh_warehouse_url
    history = demo.write_history(tmp_path / "history", customers=CUSTOMERS)
    injected = sum(history.malformed.values())
    assert injected > 0

    res = ingest.load_paths(url, [tmp_path / "history"], layout="segwise")
    assert res.status == "succeeded", res.message
    assert res.rows_rejected == injected
    assert (
        res.rule_counts.get("rejected:invalid_timestamp", 0)
        == (history.malformed["unparseable date"])
    )
    assert (
        res.rule_counts.get("rejected:non_positive_price", 0)
        == (history.malformed["negative price"])
    )
    assert (
        res.rule_counts.get("rejected:invalid_number", 0)
        == (history.malformed["non-numeric quantity"])
    )
    assert res.rows_loaded == history.order_lines - injected
    assert _count(url, "SELECT count(*) FROM staging.rejected_rows") == injected
    assert _count(url, "SELECT count(*) FROM warehouse.fact_order_line") == res.rows_loaded
    assert _count(url, "SELECT count(*) FROM warehouse.dim_customer") == history.customers
    assert _count(url, "SELECT count(*) FROM warehouse.dim_product") == history.products
    returns = "SELECT count(*) FROM warehouse.fact_order_line WHERE is_return AND amount < 0"
    assert _count(url, returns) == history.return_lines
    orphans = """
        SELECT count(*) FROM warehouse.fact_order_line f
        LEFT JOIN warehouse.dim_customer c USING (customer_id)
        LEFT JOIN warehouse.dim_product p USING (product_id)
        WHERE c.customer_id IS NULL OR p.product_id IS NULL
    """
    assert _count(url, orphans) == 0

    again = ingest.load_paths(url, [tmp_path / "history"], layout="segwise")
    assert again.status == "skipped"

    # The daily feed after the history: new signups and their orders join the same warehouse.
    day = demo.DEFAULT_END + timedelta(days=1)
    feed = demo.write_day(tmp_path / "feed", day, customers=CUSTOMERS)
    res = ingest.load_paths(url, feed.paths, layout="segwise")
    assert res.status == "succeeded", res.message
    assert res.rows_rejected == sum(feed.malformed.values())
    assert res.rows_loaded == feed.order_lines - res.rows_rejected
    assert _count(url, "SELECT count(*) FROM warehouse.dim_customer") == (
        history.customers + feed.customers
    )
    on_day = "SELECT count(*) FROM warehouse.fact_order_line WHERE order_date = %s"
    assert _count(url, on_day, day) == res.rows_loaded
