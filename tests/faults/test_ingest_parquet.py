"""Item 6 of the reliability work: typed Parquet columns load as their values, without any
`formats` in the layout (online_retail's are US-style text formats)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl import ingest
from tests.faults.helpers import HEADER
from tests.ingest.conftest import query

STAMPS = [datetime(2010, 12, 1, 8, 26, 0, 123456), datetime(2011, 1, 2, 9, 5, 7)]


def table(first: int, ts: pa.Array, price: pa.Array) -> pa.Table:
    n = len(ts)
    return pa.table(
        {
            "InvoiceNo": pa.array([str(first + i) for i in range(n)]).dictionary_encode(),
            "StockCode": pa.array(["85123A", "71053"]),
            "Description": pa.array(["WHITE HEART", "LANTERN"]),
            "Quantity": pa.array([6, 8], pa.int64()),
            "InvoiceDate": ts,
            "UnitPrice": price,
            "CustomerID": pa.array([17850.0, None], pa.float64()),
            "Country": pa.array(["United Kingdom", "France"]).dictionary_encode(),
        }
    )


CASES = {
    "ns": (pa.array(pd.to_datetime(STAMPS).as_unit("ns")), STAMPS),
    "us": (pa.array(STAMPS, pa.timestamp("us")), STAMPS),
    "ms": (
        pa.array(STAMPS, pa.timestamp("us")).cast(pa.timestamp("ms"), safe=False),
        [s.replace(microsecond=s.microsecond // 1000 * 1000) for s in STAMPS],
    ),
    "tz": (
        pa.array(pd.to_datetime(STAMPS).as_unit("ns").tz_localize("Europe/Paris")),
        [s.replace(hour=s.hour - 1) for s in STAMPS],  # Paris is UTC+1 in winter
    ),
    "date": (
        pa.array([s.date() for s in STAMPS], pa.date32()),
        [datetime(2010, 12, 1), datetime(2011, 1, 2)],
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_typed_parquet_columns_load_without_formats(warehouse_url, tmp_path, kind):
    ts, expected = CASES[kind]
    first = 970000 + 10 * list(CASES).index(kind)
    price = pa.array([Decimal("2.55"), Decimal("3.39")], pa.decimal128(10, 2))
    f = tmp_path / f"typed_{kind}.parquet"
    pq.write_table(table(first, ts, price), f)
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 2, 0), r.rule_counts
    rows = query(
        warehouse_url,
        "SELECT order_ts, unit_price, customer_id, country FROM warehouse.fact_order_line "
        "WHERE batch_id = %s ORDER BY order_id",
        (r.batch_id,),
    )
    assert rows == [
        (expected[0], Decimal("2.55"), "17850", "United Kingdom"),
        (expected[1], Decimal("3.39"), None, "France"),
    ]


def test_float_prices_and_a_csv_beside_a_typed_parquet(warehouse_url, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    pq.write_table(
        table(980000, CASES["ns"][0], pa.array([2.55, 3.39], pa.float64())),
        folder / "a.parquet",
    )
    (folder / "b.csv").write_text(
        HEADER + "980010,85123A,WHITE HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
    )
    r = ingest.load_paths(warehouse_url, [folder], layout="online_retail")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 3, 0), r.rule_counts
    got = query(
        warehouse_url,
        "SELECT order_ts::date, unit_price FROM warehouse.fact_order_line "
        "WHERE batch_id = %s ORDER BY order_id",
        (r.batch_id,),
    )
    assert got == [
        (date(2010, 12, 1), Decimal("2.55")),
        (date(2011, 1, 2), Decimal("3.39")),
        (date(2010, 12, 1), Decimal("2.55")),
    ]
