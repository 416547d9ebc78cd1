"""Where the project's non-Python assets (``sql/``, ``migrations/``) live.

They sit at the repository top level (one folder per kind of asset), not inside the package, so an
installed copy finds them through ``SEGWISE_HOME``; an editable install finds them beside ``etl/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from psycopg import sql

from etl.errors import ConfigurationError


def project_root() -> Path:
    home = os.environ.get("SEGWISE_HOME")
    root = Path(home) if home else Path(__file__).resolve().parent.parent
    if not (root / "sql").is_dir() or not (root / "migrations").is_dir():
        raise RuntimeError(
            f"segwise assets not found under {root}: set SEGWISE_HOME to the directory that "
            "holds sql/ and migrations/"
        )
    return root


def sql_dir() -> Path:
    return project_root() / "sql"


def migrations_dir() -> Path:
    return project_root() / "migrations"


def read_sql(relative: str) -> str:
    """Text of one model file, e.g. ``read_sql("warehouse/fact_order.sql")``."""
    path = sql_dir() / relative
    return path.read_text(encoding="utf-8")


def model(name: str, **parts: sql.Composable) -> sql.Composed:
    """A template model of sql/ with its {parts} filled (the first line names the parts)."""
    try:
        return sql.SQL(read_sql(name)).format(**parts)
    except KeyError as exc:
        raise ConfigurationError(f"sql/{name} needs a value for {exc}") from None
