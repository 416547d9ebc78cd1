"""A small, deterministic warehouse for orchestration-level tests, built by the real loader.

The orders are generated here (every 17th order without a customer, every 23rd line a return
of two units, three channels, four regions) and written as files of the ``segwise`` layout that
``etl.ingest.load_paths`` loads, so the facts, the order fact, the dimensions and the ledger are
what ``segwise load`` makes of them.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import zlib
from pathlib import Path

from etl import ingest

CHANNELS = ("web", "store", "app")
REGIONS = ("north", "south", "east", "west")
PRODUCTS = [(f"P{i}", 1.5 + 0.5 * i) for i in range(9)]  # product_id, unit_cost


def _orders(customers: int, orders: int, days: int, start: dt.date) -> list[tuple]:
    """order_id, line_no, customer_id, order_ts, product_id, quantity, unit_price, is_return,
    channel, region: one row per line."""
    rows = []
    midnight = dt.datetime.combine(start, dt.time())
    for o in range(1, orders + 1):
        customer = None if o % 17 == 0 else f"C{1 + (o * 7919) % customers:04d}"
        ts = midnight + dt.timedelta(days=(o * 31) % days, hours=(o * 13) % 24)
        for line in range(1, 2 + o % 3):
            qty = -2 if (o * 3 + line) % 23 == 0 else 1 + (o + line) % 4
            rows.append(
                (
                    f"SO{o:06d}",
                    line,
                    customer,
                    ts.isoformat(sep=" "),
                    f"P{(o + line) % 9}",
                    qty,
                    2.5 + (o * line) % 40,
                    qty < 0,
                    CHANNELS[o % 3],
                    REGIONS[(o // 3) % 4],
                )
            )
    return rows


def _customers(lines: list[tuple]) -> list[tuple]:
    """customer_id, gender, birth_year, region (the first region of their orders by name)."""
    regions: dict[str, str] = {}
    for line in lines:
        if line[2] is not None:
            regions[line[2]] = min(regions.get(line[2], line[9]), line[9])
    out = []
    for customer, region in sorted(regions.items()):
        h = zlib.crc32(customer.encode())
        out.append((customer, ("f", "m")[h % 2], 1950 + h % 50, region))
    return out


def _write(path: Path, header: str, rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header.split(","))
        out.writerows(("" if v is None else v for v in row) for row in rows)


def seed(
    url: str,
    *,
    customers: int = 150,
    orders: int = 1500,
    days: int = 120,
    end: dt.date = dt.date(2026, 6, 30),
) -> dict[str, object]:
    """Load one batch of orders ending on ``end``; returns what was written."""
    start = end - dt.timedelta(days=days - 1)
    lines = _orders(customers, orders, days, start)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write(
            folder / "order_lines.csv",
            "order_id,line_no,customer_id,order_ts,product_id,quantity,unit_price,is_return,"
            "channel,region",
            lines,
        )
        _write(folder / "customers.csv", "customer_id,gender,birth_year,region", _customers(lines))
        _write(folder / "products.csv", "product_id,unit_cost", PRODUCTS)
        result = ingest.load_paths(url, [folder], layout="segwise")
    assert result.status == "succeeded" and result.rows_loaded == len(lines), result
    return {"batch_id": result.batch_id, "lines": len(lines), "start": start, "end": end}
