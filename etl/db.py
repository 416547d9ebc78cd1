"""Connections to the warehouse.

psycopg 3 is the driver for everything that moves data (COPY, set-based SQL); SQLAlchemy only
wraps it where a library wants an Engine (Alembic, pandas.read_sql).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from sqlalchemy import Engine

_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")


def libpq_url(url: str) -> str:
    """A plain ``postgresql://`` URL for psycopg, whatever SQLAlchemy driver suffix it carries."""
    if not _SCHEME.match(url):
        raise ValueError(f"not a PostgreSQL URL: {redact(url)}")
    return _SCHEME.sub("postgresql://", url, count=1)


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL on the psycopg 3 driver."""
    return _SCHEME.sub("postgresql+psycopg://", libpq_url(url), count=1)


def redact(url: str) -> str:
    """The URL with its password hidden, for logs and the load ledger."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:  # never let redaction itself fail a message
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url), autocommit=autocommit, application_name="segwise")


@contextmanager
def transaction(url: str) -> Iterator[psycopg.Connection]:
    """One all-or-nothing unit of work: commits on success, rolls back on any error."""
    with connect(url) as conn:
        with conn.transaction():
            yield conn


def engine(url: str) -> Engine:
    from sqlalchemy import create_engine  # ~1 s to import: only where a library needs it

    return create_engine(sqlalchemy_url(url), pool_pre_ping=True)


@contextmanager
def local_settings(conn: psycopg.Connection, settings: dict[str, str]) -> Iterator[None]:
    """Transaction-local settings (planner switches, memory) for the statements of the block,
    then the previous values back. Inside an open transaction only (``set_config(..., true)``).
    """
    before = {
        name: conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0] for name in settings
    }
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    try:
        yield
    finally:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            for name, value in before.items():
                conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def ident(*parts: str) -> sql.Composable:
    """A quoted (possibly schema-qualified) identifier, for names that come from config."""
    return sql.Identifier(*parts)
