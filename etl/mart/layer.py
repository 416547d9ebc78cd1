"""The mart layer as a whole, as ``migrations/env.py`` applies and removes it.

The layer is *repeatable*, not versioned: it exists while the database is at the head revision.
Before any revision runs, up or down, ``remove`` takes it away (no view can stand in the way of
a revision, whatever today's views read); once an upgrade reaches head, ``apply`` builds it from
today's ``sql/mart/*.sql``. An upgrade already at head re-applies it in place, which is how
edits to ``sql/mart`` and a new ``SEGWISE_BI_PASSWORD`` reach an existing warehouse without a
new revision. Both run inside Alembic's transaction, under its advisory lock.
"""

from __future__ import annotations

from typing import Any

import psycopg

from etl.mart import role, views


def driver_connection(conn: Any) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (Alembic), so SQL text is sent verbatim."""
    if isinstance(conn, psycopg.Connection):
        return conn
    return conn.connection.driver_connection


def apply(conn: Any) -> None:
    """(Re)create the mart views, the generated ones, the role, its grants and password."""
    pg = driver_connection(conn)
    views.apply_views(pg)
    _regenerate_generated_views(pg)
    role.grant_role(pg)


def remove(conn: Any) -> None:
    """Drop this database's mart views and the role's grants on it (the role stays)."""
    pg = driver_connection(conn)
    views.drop_views(pg)
    role.revoke_role(pg)


def _regenerate_generated_views(pg: psycopg.Connection) -> None:
    """Views a publish generates (``mart.food_customer_wide``) come back for the run the mart
    shows when a schema change or a changed column list dropped them."""
    if pg.execute("SELECT to_regclass('mart.food_customer_wide') IS NULL").fetchone()[0]:
        from etl.usecases.food import on_publish  # the use cases' generated views

        on_publish(pg)
