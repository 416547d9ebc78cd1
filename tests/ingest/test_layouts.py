"""Layouts of public sample datasets as built-in presets: food_delivery, atliq, instacart."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from etl import ingest
from etl.ingest import layouts
from tests.ingest.conftest import query

D = Decimal


def test_every_preset_is_a_valid_mapping():
    names = set(layouts.available())
    assert {"online_retail", "segwise", "food_delivery", "instacart", "atliq"} <= names
    for name in names:
        assert layouts.get(name).name == name


def test_food_delivery(fresh_warehouse_url, data_dir):
    url = fresh_warehouse_url
    r = ingest.load_paths(url, [data_dir / "food_delivery" / "orders.csv"], layout="food_delivery")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == ("succeeded", 6, 5, 1)
    assert r.rule_counts["rejected:non_positive_price"] == 1  # a zero basket
    assert r.rule_counts["kept:no_customer_id"] == 1
    rows = query(
        url,
        "SELECT order_id, line_no, customer_id, order_ts, product_id, amount, region, store_id "
        "FROM warehouse.fact_order_line ORDER BY order_id",
    )
    assert rows[0] == (
        "1001",
        1,
        "u1",
        datetime(2021, 1, 3, 12, 5),
        "cuisine:Pizza",
        D("12.50"),
        "Lisbon",
        "s10",
    )
    # "Z" and "+01:00" are converted to UTC
    assert rows[2][3] == datetime(2021, 1, 11, 20, 0)
    assert rows[3][3] == datetime(2021, 1, 12, 20, 15)
    assert rows[4][2] is None and rows[4][4] is None
    assert query(url, "SELECT product_id, category_l1 FROM warehouse.dim_product ORDER BY 1") == [
        ("cuisine:Burgers", "Burgers"),
        ("cuisine:Pizza", "Pizza"),
        ("cuisine:Sushi", "Sushi"),
    ]
    assert query(url, "SELECT customer_id, city FROM warehouse.dim_customer ORDER BY 1") == [
        ("u1", "Lisbon"),
        ("u2", "Porto"),
        ("u3", "Porto"),
    ]


def test_atliq_amounts_margins_and_channels(fresh_warehouse_url, data_dir):
    url = fresh_warehouse_url
    r = ingest.load_paths(url, [data_dir / "atliq"], layout="atliq")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 3, 1)
    assert r.rows_read == 2 + 2 + 4 + 2 + 2 + 2
    # fiscal year 2020 has no gross price: the line is rejected, and says why
    ((reason, line),) = query(url, "SELECT reason, line_number FROM staging.rejected_rows")
    assert line == 5 and "no matching row in gross_price" in reason
    rows = query(
        url,
        "SELECT order_id, line_no, quantity, unit_price, gross_amount, discount_amount, amount,"
        " cost_amount, channel, platform, market, region FROM warehouse.fact_order_line "
        "ORDER BY order_id, line_no",
    )
    first = rows[0]
    assert first[:4] == ("70002017:2020-09-01", 1, D("10"), D("19.0573"))
    assert first[4] == D("190.5730")
    # amount = qty * gross price * (1 - pre-invoice discount pct); cost = qty * mfg cost
    assert first[6] == D("190.573") * (1 - D("0.0735"))
    assert first[7] == D("50.2070")
    assert first[8:] == ("Direct", "Brick & Mortar", "India", "APAC")
    assert rows[2][0] == "90002002:2020-10-01" and rows[2][6] == D("95.2865") * D("0.8")
    ((margin,),) = query(url, "SELECT sum(net_amount - cost_amount) FROM warehouse.fact_order")
    assert margin == sum(r[6] - r[7] for r in rows)
    assert query(
        url,
        "SELECT category_l1, category_l2, category_l3, attributes->>'variant' "
        "FROM warehouse.dim_product WHERE product_id = 'A2118150101'",
    ) == [("PC", "Notebook", "Business Laptop", "Plus")]
    assert query(
        url,
        "SELECT country, region, attributes->>'channel' FROM "
        "warehouse.dim_customer WHERE customer_id = '90002002'",
    ) == [("USA", "NA", "Retailer")]


def test_instacart_timeline_and_demographics(fresh_warehouse_url, data_dir):
    url = fresh_warehouse_url
    r = ingest.load_paths(url, [data_dir / "instacart"], layout="instacart")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 6, 1)
    # anchor 2017-01-01 (a Sunday); user 1's first order has order_dow 2 -> Tuesday the 3rd,
    # then +15 and +21 days; hours from order_hour_of_day
    assert query(
        url,
        "SELECT order_id, customer_id, order_ts FROM warehouse.fact_order ORDER BY order_ts",
    ) == [
        ("2539329", "1", datetime(2017, 1, 3, 8, 0)),
        ("2254736", "2", datetime(2017, 1, 5, 7, 0)),
        ("2398795", "1", datetime(2017, 1, 18, 7, 0)),
        ("431534", "2", datetime(2017, 2, 2, 15, 0)),
        ("473747", "1", datetime(2017, 2, 8, 12, 0)),
    ]
    # reconstructed weekdays are the data's own (order_dow, 0 = Sunday)
    ((mismatch,),) = query(
        url,
        "SELECT count(*) FROM warehouse.fact_order o JOIN (VALUES ('2539329', 2), "
        "('2398795', 3), ('473747', 3), ('2254736', 4), ('431534', 4)) AS v(id, dow) "
        "ON v.id = o.order_id WHERE extract(dow FROM o.order_ts) <> v.dow",
    )
    assert mismatch == 0
    assert query(
        url,
        "SELECT line_no, product_id, amount FROM warehouse.fact_order_line "
        "WHERE order_id = '2539329' ORDER BY 1",
    ) == [(1, "196", D("9.0")), (2, "14084", D("12.5"))]
    assert query(
        url,
        "SELECT customer_id, gender, age, income, family_status, n_dependants, state "
        "FROM warehouse.dim_customer ORDER BY 1",
    ) == [
        ("1", "Female", 48, D("165665"), "married", 3, "Missouri"),
        ("2", "Female", 36, D("59285"), "single", 0, "New Mexico"),
    ]
    assert query(
        url,
        "SELECT category_l1, category_l2, list_price FROM warehouse.dim_product "
        "WHERE product_id = '196'",
    ) == [("beverages", "soft drinks", D("9.0"))]


def test_instacart_anchor_date_is_configurable(fresh_warehouse_url, data_dir, tmp_path):
    mapping = tmp_path / "instacart_2020.yml"
    mapping.write_text(
        "extends: instacart\nname: instacart_2020\nparams: {anchor_date: '2020-03-01'}\n"
    )
    r = ingest.load_paths(fresh_warehouse_url, [data_dir / "instacart"], mapping=mapping)
    assert r.status == "succeeded"
    # 2020-03-01 is a Sunday too: everything moves by the same number of days
    assert query(
        fresh_warehouse_url, "SELECT min(order_ts), max(order_ts) FROM warehouse.fact_order"
    ) == [(datetime(2020, 3, 3, 8, 0), datetime(2020, 4, 8, 12, 0))]


@pytest.mark.parametrize("layout", ["food_delivery", "atliq", "instacart"])
def test_reloading_a_layout_is_a_noop(fresh_warehouse_url, data_dir, layout):
    first = ingest.load_paths(fresh_warehouse_url, [data_dir / layout], layout=layout)
    again = ingest.load_paths(fresh_warehouse_url, [data_dir / layout], layout=layout)
    assert first.status == "succeeded" and again.status == "skipped"


def test_online_retail_ii_headers_and_iso_dates(fresh_warehouse_url, tmp_path):
    f = tmp_path / "online_retail_II.csv"
    f.write_text(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,"
        "United Kingdom\n"
        "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia\n"
    )
    r = ingest.load_paths(fresh_warehouse_url, [f], layout="online_retail")
    assert (r.rows_loaded, r.rows_rejected) == (2, 0)
    assert query(
        fresh_warehouse_url,
        "SELECT order_id, customer_id, order_ts, amount, is_return FROM "
        "warehouse.fact_order_line ORDER BY order_id",
    ) == [
        ("489434", "13085", datetime(2009, 12, 1, 7, 45), D("83.40"), False),
        ("C489449", "16321", datetime(2009, 12, 1, 10, 33), D("-35.40"), True),
    ]


def test_parquet_files_load_like_csv(fresh_warehouse_url, data_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "InvoiceNo": ["536365", "536365", "C536379"],
            "StockCode": ["85123A", "71053", "D"],
            "Description": ["WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN", None],
            "Quantity": pa.array([6, 6, -1], pa.int64()),
            "InvoiceDate": pa.array(
                [
                    datetime(2010, 12, 1, 8, 26),
                    datetime(2010, 12, 1, 8, 26),
                    datetime(2010, 12, 1, 9, 41),
                ],
                pa.timestamp("s"),
            ),
            "UnitPrice": pa.array([2.55, 3.39, 27.5], pa.float64()),
            "CustomerID": pa.array([17850.0, 17850.0, None], pa.float64()),
            "Country": ["United Kingdom"] * 3,
        }
    )
    path = tmp_path / "lines.parquet"
    pq.write_table(table, path)
    r = ingest.load_paths(fresh_warehouse_url, [path], layout="online_retail")
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == ("succeeded", 3, 3, 0)
    assert query(
        fresh_warehouse_url,
        "SELECT order_id, line_no, customer_id, order_ts, quantity, unit_price, amount "
        "FROM warehouse.fact_order_line ORDER BY order_id, line_no",
    ) == [
        ("536365", 1, "17850", datetime(2010, 12, 1, 8, 26), D("6"), D("2.55"), D("15.30")),
        ("536365", 2, "17850", datetime(2010, 12, 1, 8, 26), D("6"), D("3.39"), D("20.34")),
        ("C536379", 1, None, datetime(2010, 12, 1, 9, 41), D("-1"), D("27.5"), D("-27.50")),
    ]
