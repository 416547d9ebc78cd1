"""THE reference test: the real UCI Online Retail file, loaded with the online_retail layout,
reproduces the known reference numbers from the warehouse facts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from etl import ingest
from tests.ingest.conftest import batch_row, query, raw_tables, snapshot

AS_OF = date(2011, 12, 9)


@pytest.fixture(scope="module")
def loaded(warehouse_url, online_retail_path):
    result = ingest.load_paths(warehouse_url, [online_retail_path], layout="online_retail")
    return warehouse_url, result


def test_ledger_counts_every_line(loaded):
    url, r = loaded
    assert r.status == "succeeded"
    assert r.rows_read == 541_909
    # 2,517 lines with a zero or negative unit price are rejected, everything else is loaded
    assert r.rows_rejected == 2_517
    assert r.rows_loaded == 541_909 - 2_517
    assert r.rows_duplicate == 0
    assert r.rows_read == r.rows_loaded + r.rows_rejected + r.rows_duplicate
    assert r.rule_counts["rejected:non_positive_price"] == 2_517
    assert r.rule_counts["return:cancellation"] == 9_288
    assert r.rule_counts["kept:no_customer_id"] == 132_603
    row = batch_row(url, r.batch_id)
    assert row["status"] == "succeeded" and row["finished_at"] is not None
    assert row["content_sha256"] and row["bytes"] == loaded_size()
    assert query(
        url, "SELECT count(*) FROM staging.rejected_rows WHERE batch_id = %s", (r.batch_id,)
    ) == [(2_517,)]
    assert raw_tables(url) == []


def loaded_size() -> int:
    from tests.conftest import ONLINE_RETAIL

    return ONLINE_RETAIL.stat().st_size


def test_reference_totals(loaded):
    url, _ = loaded
    ((lines, customers, invoices, gross),) = query(
        url,
        """
        SELECT count(*), count(DISTINCT customer_id), count(DISTINCT order_id),
               round(sum(amount), 2)
        FROM warehouse.fact_order_line
        WHERE customer_id IS NOT NULL AND quantity > 0 AND unit_price > 0 AND NOT is_return
        """,
    )
    assert (lines, customers, invoices) == (397_884, 4_338, 18_532)
    assert gross == Decimal("8911407.90")


def test_reference_customers_as_of_2011_12_09(loaded):
    url, _ = loaded
    rows = query(
        url,
        """
        SELECT customer_id,
               %(as_of)s::date - max(order_date) FILTER (WHERE quantity > 0 AND NOT is_return),
               count(DISTINCT order_id) FILTER (WHERE quantity > 0 AND NOT is_return),
               coalesce(sum(amount) FILTER (WHERE quantity > 0 AND NOT is_return), 0),
               sum(amount)
        FROM warehouse.fact_order_line
        WHERE customer_id IN ('12346', '12347', '12748', '17850')
          AND order_date <= %(as_of)s::date
        GROUP BY customer_id ORDER BY customer_id
        """.replace("%(as_of)s", f"'{AS_OF.isoformat()}'"),
    )
    assert rows == [
        ("12346", 325, 1, Decimal("77183.60"), Decimal("0.00")),
        ("12347", 2, 7, Decimal("4310.00"), Decimal("4310.00")),
        ("12748", 0, 209, Decimal("33719.73"), Decimal("29072.10")),
        ("17850", 372, 34, Decimal("5391.21"), Decimal("5288.63")),
    ]


def test_order_fact_agrees_with_lines(loaded):
    url, _ = loaded
    rows = query(
        url,
        """
        SELECT customer_id, count(*) FILTER (WHERE n_sale_lines > 0), sum(sales_amount),
               sum(return_amount), sum(net_amount)
        FROM warehouse.fact_order WHERE customer_id IN ('12346', '12748') GROUP BY 1 ORDER BY 1
        """,
    )
    assert rows == [
        ("12346", 1, Decimal("77183.60"), Decimal("77183.60"), Decimal("0.00")),
        ("12748", 209, Decimal("33719.73"), Decimal("4647.63"), Decimal("29072.10")),
    ]
    ((n_orders, n_lines, net_orders, net_lines),) = query(
        url,
        "SELECT (SELECT count(*) FROM warehouse.fact_order), "
        "(SELECT sum(n_lines) FROM warehouse.fact_order), "
        "(SELECT sum(net_amount) FROM warehouse.fact_order), "
        "(SELECT sum(amount) FROM warehouse.fact_order_line)",
    )
    assert n_lines == 541_909 - 2_517
    assert net_orders == net_lines


def test_exact_duplicate_lines_stay_separate(loaded):
    url, _ = loaded
    # 5,225 exact duplicate lines have a customer id: each keeps its own line number. The facts
    # hold no description, and two more pairs differ only in it, hence 5,227 here.
    ((dups,),) = query(
        url,
        """
        SELECT sum(n - 1) FROM (
            SELECT count(*) AS n FROM warehouse.fact_order_line
            WHERE customer_id IS NOT NULL
            GROUP BY order_id, product_id, quantity, unit_price, order_ts, customer_id
            HAVING count(*) > 1) AS d
        """,
    )
    assert dups == 5_227


def test_dimensions_and_rejections(loaded):
    url, r = loaded
    assert query(url, "SELECT country FROM warehouse.dim_customer WHERE customer_id = '12346'") == [
        ("United Kingdom",)
    ]
    # the file is latin-1: its pound signs arrive as proper text
    assert query(
        url, "SELECT product_name FROM warehouse.dim_product WHERE product_id = 'gift_0001_40'"
    ) == [("Dotcomgiftshop Gift Voucher \u00a340.00",)]
    ((reason, column, line, raw),) = query(
        url,
        "SELECT reason, column_name, line_number, raw_row FROM staging.rejected_rows "
        "WHERE batch_id = %s ORDER BY line_number LIMIT 1",
        (r.batch_id,),
    )
    assert column == "UnitPrice" and "price" in reason
    assert raw["UnitPrice"] in ("0", "0.0") and line > 1


def test_reloading_the_same_file_is_a_noop(loaded, online_retail_path):
    url, first = loaded
    before = snapshot(url)
    again = ingest.load_paths(url, [online_retail_path], layout="online_retail")
    assert again.status == "skipped"
    assert f"batch {first.batch_id}" in again.message and "nothing to do" in again.message
    assert again.rows_loaded == 0
    assert snapshot(url) == before
