"""Programmatic Alembic: ``segwise db upgrade`` works from any directory and any install."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from etl.db import engine as make_engine
from etl.db import sqlalchemy_url
from etl.paths import migrations_dir

# Not Alembic's default alembic_version: Airflow's metadata, which may share the database
# (server), owns that one. migrations/env.py reads these too.
VERSION_TABLE = "segwise_alembic_version"
VERSION_TABLE_SCHEMA = "public"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # Alembic's ini interpolation treats '%' specially; URL-encoded passwords contain it.
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA},
            )
            return ctx.get_current_revision()
    finally:
        eng.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://x/y")).get_current_head()
