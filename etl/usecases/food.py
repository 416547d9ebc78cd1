"""The wide customer x cuisine view, regenerated for the cuisines of each published run.

A view's columns are fixed when it is created, so ``mart.food_customer_wide`` is rebuilt from the
template ``sql/segmentation/food_customer_wide.sql`` whenever a run is published: one revenue
column per cuisine (top-level category) of that run, biggest first, up to
``use_cases.food.wide_max_categories``; the rest add up in ``other_cuisines``.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from etl.paths import read_sql

FIXED = ("as_of_date", "run_id", "customer_id", "orders", "revenue", "basket_revenue")
FIXED += ("distinct_shops", "other_cuisines")
MAX_IDENTIFIER = 63  # Postgres truncates longer names


def column_names(categories: list[str]) -> list[str]:
    """Unique column names for the categories: the name itself where possible."""
    taken = set(FIXED)
    out = []
    for category in categories:
        base = category[: MAX_IDENTIFIER - 4] or "blank"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name)
        out.append(name)
    return out


def refresh_wide_view(conn: psycopg.Connection, run_id: int, max_categories: int) -> list[str]:
    """(Re)create mart.food_customer_wide for the run's categories; returns its cuisine columns."""
    categories = [
        r[0]
        for r in conn.execute(
            "SELECT category FROM segmentation.customer_category_revenue WHERE run_id = %s "
            "GROUP BY category ORDER BY sum(revenue) DESC, category LIMIT %s",
            (run_id, max_categories),
        )
    ]
    names = column_names(categories)
    parts = [
        sql.SQL(",\n    coalesce(sum(c.revenue) FILTER (WHERE c.category = {}), 0) AS {}").format(
            sql.Literal(cat), sql.Identifier(name)
        )
        for cat, name in zip(categories, names, strict=True)
    ]
    listed = sql.SQL(", ").join(sql.Literal(c) for c in categories) if categories else None
    other = sql.SQL("c.category NOT IN ({})").format(listed) if listed else sql.SQL("true")
    parts.append(
        sql.SQL(",\n    coalesce(sum(c.revenue) FILTER (WHERE {}), 0) AS other_cuisines").format(
            other
        )
    )
    template = read_sql("segmentation/food_customer_wide.sql").split("\n", 2)[2]
    head, tail = template.split("{columns}")
    conn.execute(sql.SQL(head) + sql.Composed(parts) + sql.SQL(tail))
    comments = [
        (
            None,
            "One row per customer of the latest published run with one gross-sales "
            "column per cuisine (top-level category), generated at publish for that run's "
            "cuisines; mart.food_customer_cuisines is the same in long form.",
        ),
        ("as_of_date", "Date the run describes (inclusive)."),
        ("run_id", "Segmentation run (mart.runs)."),
        ("customer_id", "Customer key."),
        ("orders", "Sale orders of the customer."),
        ("revenue", "Net revenue (sales - returns)."),
        ("basket_revenue", "Mean basket: gross sales / orders."),
        ("distinct_shops", "Distinct shops ordered from."),
        ("other_cuisines", "Gross sales in cuisines without their own column."),
    ] + [
        (name, f"Gross sales of the customer in cuisine {cat!r}.")
        for cat, name in zip(categories, names, strict=True)
    ]
    for column, text in comments:
        target = (
            sql.SQL("VIEW mart.food_customer_wide")
            if column is None
            else sql.SQL("COLUMN mart.food_customer_wide.{}").format(sql.Identifier(column))
        )
        conn.execute(sql.SQL("COMMENT ON {} IS {}").format(target, sql.Literal(text)))
    conn.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'segwise_bi') THEN "
        "GRANT SELECT ON mart.food_customer_wide TO segwise_bi; END IF; END $$"
    )
    return names


def on_publish(conn: psycopg.Connection) -> None:
    """What publishing a run does for the use cases, in the publish transaction: the wide view
    follows the run the mart shows (the latest date, which need not be the one published)."""
    row = conn.execute(
        "SELECT a.run_id, r.params #>> '{use_cases,food,wide_max_categories}' "
        "FROM mart.as_of AS a JOIN segmentation.runs AS r USING (run_id)"
    ).fetchone()
    if row is not None:
        from etl.segment.run_config import DEFAULT_USE_CASES  # runs made before use_cases existed

        default = DEFAULT_USE_CASES["food"]["wide_max_categories"]
        refresh_wide_view(conn, int(row[0]), int(row[1] or default))
