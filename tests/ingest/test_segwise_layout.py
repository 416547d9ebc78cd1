"""The canonical `segwise` layout: customers, products and order lines (the demo generator's
output), a daily feed on top, and the demo generator's real files."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from decimal import Decimal

import pytest

from etl import demo, ingest
from tests.ingest.conftest import batch_row, query

D = Decimal


@pytest.fixture(scope="module")
def first(warehouse_url, data_dir):
    return ingest.load_paths(warehouse_url, [data_dir / "segwise"], layout="segwise")


def test_first_batch_counts(first):
    r = first
    assert r.status == "succeeded"
    assert r.rows_read == 3 + 3 + 8
    assert (r.rows_loaded, r.rows_rejected, r.rows_duplicate) == (6, 2, 0)
    assert r.rule_counts["rejected:invalid_timestamp"] == 1
    assert r.rule_counts["rejected:duplicate_line_in_batch"] == 1
    assert r.rule_counts["return:flagged"] == 1
    assert r.rule_counts["kept:no_customer_id"] == 1
    assert r.rule_counts["customers_inserted"] == 3
    assert r.rule_counts["products_inserted"] == 3 + 1  # P9 is only in the order lines


def test_lines_amounts_discounts_costs_and_returns(warehouse_url, first):
    rows = query(
        warehouse_url,
        "SELECT order_id, line_no, customer_id, quantity, gross_amount, discount_amount, amount,"
        " cost_amount, is_return FROM warehouse.fact_order_line ORDER BY order_id, line_no",
    )
    assert rows == [
        ("R1", 1, "C1", D("-1"), D("-10.00"), D("-1.00"), D("-9.00"), D("-6.50"), True),
        ("S1", 1, "C1", D("2"), D("20.00"), D("2.00"), D("18.00"), D("13.00"), False),
        ("S1", 2, "C1", D("1"), D("5.00"), D("0.00"), D("5.00"), D("1.25"), False),
        ("S2", 1, "C2", D("1"), D("15.00"), D("0"), D("15.00"), D("3.00"), False),
        ("S3", 1, None, D("3"), D("15.00"), D("0.00"), D("15.00"), D("3.75"), False),
        ("S4", 1, "C3", D("1"), D("99.00"), D("0.00"), D("99.00"), None, False),
    ]
    ((channel, platform, market, country, region, store, ts),) = query(
        warehouse_url,
        "SELECT channel, platform, market, country, region, store_id, order_ts "
        "FROM warehouse.fact_order_line WHERE order_id = 'S3'",
    )
    assert (channel, platform, market, country, region, store) == (
        "store",
        "pos",
        "DACH",
        "Germany",
        "Europe",
        "ST-DE-MUC-1",
    )
    assert ts == datetime(2024, 1, 12, 12, 0)


def test_orders_and_dimensions(warehouse_url, first):
    orders = query(
        warehouse_url,
        "SELECT order_id, customer_id, n_lines, n_sale_lines, sales_amount, return_amount, "
        "net_amount, cost_amount, is_return FROM warehouse.fact_order ORDER BY order_id",
    )
    assert orders[0] == ("R1", "C1", 1, 0, D("0"), D("9.00"), D("-9.00"), D("-6.50"), True)
    assert orders[1] == ("S1", "C1", 2, 2, D("23.00"), D("0"), D("23.00"), D("14.25"), False)
    assert len(orders) == 5
    (c1,) = query(
        warehouse_url,
        "SELECT gender, birth_year, income, family_status, n_dependants, country, state, "
        "region, city, signup_date FROM warehouse.dim_customer WHERE customer_id = 'C1'",
    )
    assert c1 == (
        "female",
        1980,
        D("52000"),
        "married",
        2,
        "Germany",
        "Bavaria",
        "Europe",
        "Munich",
        date(2023, 5, 1),
    )
    assert query(
        warehouse_url, "SELECT state FROM warehouse.dim_customer WHERE customer_id = 'C2'"
    ) == [("São Paulo",)]
    assert query(
        warehouse_url,
        "SELECT product_id, product_name, category_l1, category_l2, category_l3, list_price, "
        "unit_cost FROM warehouse.dim_product ORDER BY product_id",
    ) == [
        ("P1", "Kettle 1.7l", "Home", "Kitchen", "Kettles", D("12.00"), D("6.50")),
        ("P2", "Tea towel", "Home", "Kitchen", "Textiles", D("5.00"), D("1.25")),
        ("P3", "Phone case", "Electronics", "Accessories", "Cases", D("15.00"), D("3.00")),
        ("P9", None, None, None, None, None, None),
    ]


def test_daily_feed_adds_updates_and_counts_duplicates(warehouse_url, first, data_dir):
    r = ingest.load_paths(warehouse_url, [data_dir / "segwise_day"], layout="segwise")
    assert r.status == "succeeded"
    assert (r.rows_read, r.rows_loaded, r.rows_duplicate, r.rows_rejected) == (5, 1, 2, 0)
    assert r.rule_counts["duplicate:updated"] == 1  # S2/1 changed its discount
    assert r.rule_counts["customers_inserted"] == 1 and r.rule_counts["customers_updated"] == 1
    assert query(
        warehouse_url,
        "SELECT amount, batch_id FROM warehouse.fact_order_line WHERE order_id = 'S2'",
    ) == [(D("13.50"), r.batch_id)]
    assert query(
        warehouse_url, "SELECT net_amount FROM warehouse.fact_order WHERE order_id = 'S2'"
    ) == [(D("13.50"),)]
    # an update with empty fields keeps what the dimension knew
    assert query(
        warehouse_url,
        "SELECT city, state, birth_year FROM warehouse.dim_customer WHERE customer_id = 'C1'",
    ) == [("Nuremberg", "Bavaria", 1980)]
    assert query(
        warehouse_url, "SELECT cost_amount FROM warehouse.fact_order_line WHERE order_id = 'S6'"
    ) == [(D("6.00"),)]


def test_demo_generator_output_loads(fresh_warehouse_url, tmp_path):
    paths = demo.generate(
        tmp_path / "history", customers=300, start="2024-01-01", end="2024-02-29", gzip=True
    )
    r = ingest.load_paths(fresh_warehouse_url, paths, layout="segwise")
    assert r.status == "succeeded" and r.rows_loaded > 0
    (order_file,) = [p for p in paths if p.name.startswith("order_lines")]
    with gzip.open(order_file, "rt") as f:
        n_lines = sum(1 for _ in f) - 1
    (n_facts,) = query(fresh_warehouse_url, "SELECT count(*) FROM warehouse.fact_order_line")[0]
    assert n_facts == r.rows_loaded
    # every order line is either in the warehouse or rejected (customers./products. rules are
    # the other files')
    rejected = sum(
        v for k, v in r.rule_counts.items() if k.startswith("rejected:") and "." not in k
    )
    assert r.rows_loaded + rejected == n_lines
    day = demo.generate_day(tmp_path / "day", "2024-03-01", customers=300)
    r2 = ingest.load_paths(fresh_warehouse_url, day, layout="segwise")
    assert r2.status == "succeeded" and r2.rows_loaded > 0 and r2.rows_duplicate == 0


def test_an_unchanged_dimension_row_is_not_rewritten(fresh_warehouse_url, data_dir, tmp_path):
    """A daily full export of customers/products (same rows, a new file) changes nothing: no
    row is rewritten or counted as updated; a changed row is."""
    url = fresh_warehouse_url
    r = ingest.load_paths(url, [data_dir / "segwise"], layout="segwise")
    assert r.status == "succeeded"
    before = query(url, "SELECT customer_id, xmin::text, batch_id FROM warehouse.dim_customer")
    export = tmp_path / "export"
    export.mkdir()
    customers = (data_dir / "segwise" / "customers.csv").read_text(encoding="utf-8")
    products = (data_dir / "segwise" / "products.csv").read_text(encoding="utf-8")
    # the same rows in another order: new bytes, so a new batch
    head, *rows = customers.strip("\n").split("\n")
    (export / "customers.csv").write_text("\n".join([head, *reversed(rows)]) + "\n", "utf-8")
    (export / "products.csv").write_text(products, encoding="utf-8")
    again = ingest.load_paths(url, [export], layout="segwise")
    assert again.status == "succeeded"
    assert again.rule_counts.get("customers_updated", 0) == 0
    assert again.rule_counts.get("products_updated", 0) == 0
    assert (
        query(url, "SELECT customer_id, xmin::text, batch_id FROM warehouse.dim_customer") == before
    )
    changed = customers.replace("Munich", "Augsburg")
    assert changed != customers
    (export / "customers.csv").write_text(changed, encoding="utf-8")
    third = ingest.load_paths(url, [export], layout="segwise")
    assert third.rule_counts["customers_updated"] == 1
    assert query(url, "SELECT city FROM warehouse.dim_customer WHERE customer_id = 'C1'") == [
        ("Augsburg",)
    ]


def test_clean_iso_timestamps_are_cast_not_looked_up(fresh_warehouse_url, data_dir):
    """Staging saw only plain ISO timestamps in the day's lines: the build casts them (no
    per-value parse and join), with the same values; the first batch's invalid 2024-02-30
    keeps the lookup (and its rejection)."""
    url = fresh_warehouse_url
    first = ingest.load_paths(url, [data_dir / "segwise"], layout="segwise")
    day = ingest.load_paths(url, [data_dir / "segwise_day"], layout="segwise")
    metas = {
        r.batch_id: {
            f["source"]: f.get("date_formats") for f in batch_row(url, r.batch_id)["files"]
        }
        for r in (first, day)
    }
    # the formats that read every value of the column in that file, in the layout's order
    assert metas[first.batch_id]["order_lines"] == {"order_ts": []}
    assert metas[day.batch_id]["order_lines"] == {"order_ts": ["%Y-%m-%d %H:%M:%S", "iso"]}
    assert metas[day.batch_id]["customers"] == {"signup_date": ["%Y-%m-%d"]}
    assert first.rule_counts["rejected:invalid_timestamp"] == 1
    assert "typing:careful_path:order lines" not in day.rule_counts
    assert query(url, "SELECT order_ts FROM warehouse.fact_order_line WHERE order_id = 'S6'") == [
        (datetime(2024, 2, 2, 14, 30),)
    ]
    assert query(
        url, "SELECT signup_date FROM warehouse.dim_customer WHERE customer_id = 'C4'"
    ) == [(date(2024, 2, 2),)]
