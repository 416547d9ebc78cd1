"""Alembic environment for the segwise warehouse.

The version table is ``public.segwise_alembic_version`` so the warehouse can share a database
server (even a database) with Airflow's metadata, which owns ``alembic_version``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from etl.db import engine as make_engine
from etl.migrate import VERSION_TABLE, VERSION_TABLE_SCHEMA
from etl.segment.bi import apply_bi_layer_if_present

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
            context.run_migrations()
            # Repeatable step: mart views, segwise_bi role, grants, password rotation.
            apply_bi_layer_if_present(connection)
    eng.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
