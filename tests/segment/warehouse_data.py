"""Test data for segmentation: warehouse rows written straight into the canonical model.

``load_online_retail`` uses the ingest engineer's ``etl.ingest.load_paths`` when it exists (the
real path); until then it loads the file with COPY and builds fact_order_line / fact_order with
SQL that follows the 0001 contract. ``insert_orders`` writes small hand-made warehouses.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import subprocess
from pathlib import Path

import psycopg


def _ingest_committed() -> bool:
    """Use the ingest engineer's loader once it is committed (always true in a CI clone)."""
    root = Path(__file__).resolve().parents[2]
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "etl/ingest/__init__.py"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return tracked.returncode == 0 or not (root / ".git").exists()


def load_online_retail(url: str, path: Path) -> str:
    """Which loader: SEGWISE_TEST_LOADER=ingest|sql, default ingest when committed."""
    choice = os.environ.get("SEGWISE_TEST_LOADER", "auto")
    if choice == "sql" or (choice == "auto" and not _ingest_committed()):
        _load_online_retail_sql(url, path)
        return "test-sql"
    from etl.ingest import load_paths  # type: ignore[attr-defined]

    result = load_paths(url, [path], layout="online_retail")
    assert result.status in ("succeeded", "skipped"), result
    return "etl.ingest"


def _batch(conn: psycopg.Connection, layout: str, uri: str) -> int:
    return conn.execute(
        "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status) "
        "VALUES ('file', %s, %s, 'succeeded') RETURNING batch_id",
        (layout, uri),
    ).fetchone()[0]


def _load_online_retail_sql(url: str, path: Path) -> None:
    with psycopg.connect(url) as conn:
        batch = _batch(conn, "online_retail", str(path))
        conn.execute(
            "CREATE TEMP TABLE raw (n bigint GENERATED ALWAYS AS IDENTITY, invoice text, "
            "stock_code text, description text, quantity text, invoice_date text, "
            "unit_price text, customer_id text, country text)"
        )
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY raw (invoice, stock_code, description, quantity, invoice_date, unit_price, "
                "customer_id, country) FROM STDIN (FORMAT csv, HEADER true, ENCODING 'LATIN1')"
            ) as copy,
            gzip.open(path, "rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.execute(
            """
            INSERT INTO warehouse.fact_order_line (order_id, line_no, customer_id, order_ts,
                order_date, product_id, quantity, unit_price, gross_amount, amount, is_return,
                country, batch_id)
            SELECT invoice, row_number() OVER (PARTITION BY invoice ORDER BY n),
                   nullif(customer_id, ''), ts, ts::date, stock_code, quantity::numeric,
                   unit_price::numeric, quantity::numeric * unit_price::numeric,
                   quantity::numeric * unit_price::numeric,
                   invoice LIKE 'C%%' OR quantity::numeric < 0, country, %s
            FROM raw CROSS JOIN LATERAL
                (SELECT to_timestamp(invoice_date, 'MM/DD/YYYY HH24:MI')::timestamp AS ts) t
            """,
            (batch,),
        )
        build_fact_order(conn)
        conn.execute(
            "INSERT INTO warehouse.dim_customer (customer_id, country, batch_id) "
            "SELECT customer_id, min(country), %s FROM warehouse.fact_order_line "
            "WHERE customer_id IS NOT NULL GROUP BY customer_id ON CONFLICT DO NOTHING",
            (batch,),
        )


def build_fact_order(conn: psycopg.Connection) -> None:
    """fact_order from fact_order_line as the build writes it (sql/warehouse/order_totals.sql:
    a sale line has quantity > 0, unit_price > 0 and is no return); the ledger's rows_loaded
    is set to the lines of each batch, so the data-quality checks hold."""
    conn.execute("DELETE FROM warehouse.fact_order")
    conn.execute(
        """
        INSERT INTO warehouse.fact_order (order_id, customer_id, order_ts, order_date, n_lines,
            n_sale_lines, quantity, gross_amount, discount_amount, sales_amount, return_amount,
            net_amount, cost_amount, is_return, channel, platform, market, country, region,
            store_id, batch_id)
        SELECT order_id, max(customer_id), min(order_ts), min(order_date), count(*),
            count(*) FILTER (WHERE sale), sum(quantity), sum(gross_amount),
            sum(discount_amount),
            coalesce(sum(amount) FILTER (WHERE sale), 0),
            coalesce(-sum(amount) FILTER (WHERE is_return), 0),
            coalesce(sum(amount) FILTER (WHERE sale), 0)
                + coalesce(sum(amount) FILTER (WHERE is_return), 0),
            sum(cost_amount), bool_and(is_return), max(channel), max(platform), max(market),
            max(country), max(region), max(store_id), max(batch_id)
        FROM (
            SELECT *, quantity > 0 AND unit_price > 0 AND NOT is_return AS sale
            FROM warehouse.fact_order_line
        ) l
        GROUP BY order_id
        """
    )
    conn.execute(
        "UPDATE staging.load_batches AS b SET rows_loaded = l.n "
        "FROM (SELECT batch_id, count(*) AS n FROM warehouse.fact_order_line GROUP BY batch_id) l "
        "WHERE b.batch_id = l.batch_id"
    )


def insert_orders(
    url: str,
    lines: list[tuple],
    *,
    layout: str = "segwise",
    customers: list[tuple] | None = None,
    products: list[tuple] | None = None,
) -> None:
    """Small hand-made warehouse.

    lines: (order_id, customer_id, 'YYYY-MM-DD HH:MM', product_id, quantity, unit_price,
            is_return, channel, region) - extra trailing fields optional.
    customers: (customer_id, gender, birth_year, income, family_status, n_dependants, region).
    products: (product_id, category_l1, unit_cost).
    """
    with psycopg.connect(url) as conn:
        batch = _batch(conn, layout, "test")
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY warehouse.fact_order_line (order_id, line_no, customer_id, order_ts, "
                "order_date, product_id, quantity, unit_price, gross_amount, amount, cost_amount, "
                "is_return, channel, region, batch_id) FROM STDIN"
            ) as copy,
        ):
            seen: dict[str, int] = {}
            costs = {p[0]: p[2] for p in products or []}
            for line in lines:
                order_id, cust, ts, product, qty, price, is_return, *rest = line
                channel = rest[0] if rest else None
                region = rest[1] if len(rest) > 1 else None
                seen[order_id] = seen.get(order_id, 0) + 1
                when = dt.datetime.fromisoformat(ts)
                cost = costs.get(product)
                copy.write_row(
                    (
                        order_id,
                        seen[order_id],
                        cust,
                        when,
                        when.date(),
                        product,
                        qty,
                        price,
                        qty * price,
                        qty * price,
                        None if cost is None else cost * qty,
                        is_return,
                        channel,
                        region,
                        batch,
                    )
                )
        for p in products or []:
            conn.execute(
                "INSERT INTO warehouse.dim_product (product_id, category_l1, unit_cost, batch_id)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (product_id) DO UPDATE "
                "SET category_l1 = EXCLUDED.category_l1, unit_cost = EXCLUDED.unit_cost",
                (*p, batch),
            )
        for c in customers or []:
            conn.execute(
                "INSERT INTO warehouse.dim_customer (customer_id, gender, birth_year, income, "
                "family_status, n_dependants, region, batch_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (customer_id) DO NOTHING",
                (*c, batch),
            )
        build_fact_order(conn)


def small_warehouse(
    url: str, *, customers: int = 60, seed: int = 7, layout: str = "segwise"
) -> None:
    """A deterministic toy warehouse: customers with varied orders, returns, channels, bands."""
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
    insert_orders(url, lines, layout=layout, customers=people, products=products)
