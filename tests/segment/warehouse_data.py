"""Test warehouses for segmentation, built by the real loader (``etl.ingest.load_paths``).

The rows are written as files of a built-in layout and loaded like any user's files, so the
facts, the order fact and the dimensions are exactly what ``segwise load`` makes of them and
cannot drift from it.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable
from pathlib import Path

from etl import ingest

SEGWISE_FILES = {
    "customers": [
        "customer_id", "gender", "birth_year", "income", "family_status", "n_dependants", "region"
    ],
    "products": ["product_id", "category_l1", "unit_cost"],
    "order_lines": [
        "order_id", "line_no", "customer_id", "order_ts", "product_id", "quantity", "unit_price",
        "is_return", "channel", "region",
    ],
}  # fmt: skip


def load_online_retail(url: str, path: Path) -> None:
    result = ingest.load_paths(url, [path], layout="online_retail")
    assert result.status in ("succeeded", "skipped"), result


def _write_csv(path: Path, header: list[str], rows: Iterable[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(("" if v is None else v for v in row) for row in rows)


def insert_orders(
    url: str,
    lines: list[tuple],
    *,
    customers: list[tuple] | None = None,
    products: list[tuple] | None = None,
) -> ingest.LoadResult:
    """Load a small hand-made batch in the ``segwise`` layout through the real loader.

    lines: (order_id, customer_id, 'YYYY-MM-DD HH:MM[:SS]', product_id, quantity, unit_price,
            is_return, channel, region) - channel and region optional.
    customers: (customer_id, gender, birth_year, income, family_status, n_dependants, region).
    products: (product_id, category_l1, unit_cost).
    """
    seen: dict[str, int] = {}
    rows = []
    for order_id, cust, ts, product, qty, price, is_return, *rest in lines:
        seen[order_id] = seen.get(order_id, 0) + 1
        when = dt.datetime.fromisoformat(ts).isoformat(sep=" ")
        channel, region = (list(rest) + [None, None])[:2]
        rows.append(
            (order_id, seen[order_id], cust, when, product, qty, price, is_return, channel, region)
        )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_csv(folder / "order_lines.csv", SEGWISE_FILES["order_lines"], rows)
        if customers:
            _write_csv(folder / "customers.csv", SEGWISE_FILES["customers"], customers)
        if products:
            _write_csv(folder / "products.csv", SEGWISE_FILES["products"], products)
        result = ingest.load_paths(url, [folder], layout="segwise")
    assert result.status == "succeeded" and not result.rows_rejected, result
    return result


def insert_food_delivery_orders(url: str, lines: list[tuple], products: list[tuple]) -> None:
    """The same orders as one row per order in the ``food_delivery`` layout (sales only: the
    layout has no returns); the cuisine is the category of the order's first product."""
    category = {p[0]: p[1] for p in products}
    orders: dict[str, list] = {}
    for order_id, cust, ts, product, qty, price, is_return, *rest in lines:
        if is_return:
            continue
        region = rest[1] if len(rest) > 1 else None
        if order_id not in orders:
            when = dt.datetime.fromisoformat(ts).isoformat(sep=" ")
            orders[order_id] = [order_id, cust, when, region, category.get(product), 0, None]
        orders[order_id][5] += qty * price
    header = ["order_id", "user_id", "order_timestamp", "city", "cuisine_parent", "basket",
              "shop_id"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        _write_csv(path, header, [(*o[:5], round(o[5], 2), o[6]) for o in orders.values()])
        result = ingest.load_paths(url, [path], layout="food_delivery")
    assert result.status == "succeeded" and not result.rows_rejected, result


def small_warehouse(
    url: str, *, customers: int = 60, seed: int = 7, layout: str = "segwise"
) -> None:
    """A deterministic toy warehouse: customers with varied orders, returns, channels, bands,
    loaded as ``segwise`` files (or as ``food_delivery`` orders)."""
    import random

    rng = random.Random(seed)
    products = [(f"P{i}", ["food", "home", "toys", None][i % 4], 1.0 + i % 5) for i in range(12)]
    people = [
        (
            f"C{c:03d}",
            rng.choice(["F", "M", None]),
            rng.choice([1950, 1970, 1985, 1995, 2001, None]),
            rng.choice([18000, 40000, 90000, 200000, None]),
            rng.choice(["single", "married", None]),
            rng.choice([0, 1, 2, 4, None]),
            rng.choice(["north", "south", None]),
        )
        for c in range(customers)
    ]
    lines: list[tuple] = []
    start = dt.datetime(2024, 1, 1, 9)
    n_order = 0
    for c in range(customers):
        for _ in range(1 + (c % 7) + rng.randrange(3)):
            n_order += 1
            when = start + dt.timedelta(days=rng.randrange(90), hours=rng.randrange(12))
            channel = rng.choice(["web", "app", "store"])
            for _ in range(1 + rng.randrange(3)):
                pid, _cat, _cost = rng.choice(products)
                lines.append(
                    (
                        f"O{n_order}",
                        f"C{c:03d}",
                        when.isoformat(sep=" "),
                        pid,
                        1 + rng.randrange(4),
                        round(2 + rng.random() * 20, 2),
                        False,
                        channel,
                        rng.choice(["north", "south"]),
                    )
                )
            if rng.random() < 0.1:  # a return a few days later
                n_order += 1
                back = when + dt.timedelta(days=2)
                lines.append(
                    (
                        f"R{n_order}",
                        f"C{c:03d}",
                        back.isoformat(sep=" "),
                        pid,
                        -1,
                        5.0,
                        True,
                        channel,
                        "north",
                    )
                )
    lines.append(("X1", None, "2024-01-05 10:00", "P1", 3, 2.0, False, "web", "north"))
    if layout == "food_delivery":
        insert_food_delivery_orders(url, lines, products)
    elif layout == "segwise":
        insert_orders(url, lines, customers=people, products=products)
    else:
        raise ValueError(
            f"small_warehouse writes the segwise or food_delivery layout, not {layout}"
        )
