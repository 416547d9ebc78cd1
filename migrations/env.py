"""Alembic environment for the segwise warehouse.

The version table is ``etl.migrate.VERSION_TABLE`` (not Alembic's default): the warehouse can
share a database server (even a database) with Airflow's metadata, which owns the default one.

The revisions create tables only. The mart layer (views from today's ``sql/mart``, the
``segwise_bi`` role's grants) is no revision's: it is removed before any revision runs and
applied from today's files once the database is at head (``etl.mart.layer``), so no revision
ever meets a view written for a later schema.
"""

from __future__ import annotations

from alembic import context
from alembic.util import CommandError
from sqlalchemy import text

from etl.db import engine as make_engine
from etl.mart import layer
from etl.migrate import VERSION_TABLE, VERSION_TABLE_SCHEMA

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        version_table=VERSION_TABLE,
        version_table_schema=VERSION_TABLE_SCHEMA,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def _at_head() -> bool:
    heads = context.script.get_heads()
    return sorted(context.get_context().get_current_heads()) == sorted(heads)


def _stays_at_head() -> bool:
    """At head and asked for head: no revision will run."""
    if not _at_head():
        return False
    try:
        target = context.get_revision_argument()
    except CommandError:  # e.g. a relative target: treat as a move
        return False
    targets = target if isinstance(target, tuple) else (target,)
    return sorted(targets) == sorted(context.script.get_heads())


def run_migrations_online() -> None:
    eng = make_engine(config.get_main_option("sqlalchemy.url"))
    with eng.connect() as connection:
        # Two `segwise db upgrade` started at once (e.g. init container and a DAG task) must not
        # both apply the same revision: serialise them on a transaction-level advisory lock.
        context.configure(
            connection=connection,
            version_table=VERSION_TABLE,
            version_table_schema=VERSION_TABLE_SCHEMA,
        )
        with context.begin_transaction():
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('segwise.migrate'))"))
            if not _stays_at_head():
                layer.remove(connection)
            context.run_migrations()
            if _at_head():
                layer.apply(connection)
    eng.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
