"""Connections to the warehouse.

psycopg 3 is the driver for everything that moves data (COPY, set-based SQL); SQLAlchemy only
wraps it where a library wants an Engine (Alembic, pandas.read_sql).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from etl.errors import SegwiseError

if TYPE_CHECKING:
    from sqlalchemy import Engine

_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")


def libpq_url(url: str) -> str:
    """A connection string psycopg takes: a ``postgresql://`` URL (whatever SQLAlchemy driver
    suffix it carried) or a libpq keyword string (``host=... dbname=...``) as it is."""
    if _SCHEME.match(url):
        return _SCHEME.sub("postgresql://", url, count=1)
    if "://" not in url and "=" in url:
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise SegwiseError(f"not a PostgreSQL connection string: {redact(str(exc))}") from None
        return url
    raise SegwiseError(
        f"not a PostgreSQL URL: {redact(url)} (use postgresql://user:password@host:5432/db "
        "or 'host=... dbname=... user=...')"
    )


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL on the psycopg 3 driver (keyword strings become
    query parameters, which the driver hands to libpq unchanged)."""
    plain = libpq_url(url)
    if _SCHEME.match(plain):
        return _SCHEME.sub("postgresql+psycopg://", plain, count=1)
    params = conninfo_to_dict(plain)
    dbname = params.pop("dbname", "")
    return f"postgresql+psycopg:///{quote(str(dbname), safe='')}?{urlencode(params)}"


# ---------------------------------------------------------------------------- masking secrets
# Passwords can sit in a URL's user info (even with an unencoded '@'), in a URL query
# (?password=...) or in a keyword string (password=... or password='...'); and libpq echoes a
# mis-parsed part of one back in its errors ('could not translate host name "ss@host"'). So
# every text shown is masked by pattern, and the passwords the process was given are also
# masked wherever they appear (``register_secret``).
_MASK = "***"
_USERINFO = re.compile(
    r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s:/?#@'\"]*:)(?P<pw>[^\s'\"]*)@(?P<host>[^\s@/?#'\"]*)"
)
_KEYWORD = re.compile(
    r"(?P<key>\b(?:\w*password|passwd|pwd)\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&'\"]+)",
    re.IGNORECASE,
)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value (and its URL-encoded forms) in everything ``redact`` returns."""
    if not value:
        return
    # An unencoded '@' splits a password: libpq then shows the part after it as the host.
    pieces = [value, *value.split("@")]
    for piece in pieces:
        if len(piece) >= 4:
            _secrets.update({piece, quote(piece, safe=""), quote_plus(piece)})


def register_connection_secrets(url: str | None) -> None:
    """Register the password of a connection string in any libpq form (best effort)."""
    if not url:
        return
    for match in _USERINFO.finditer(url):
        register_secret(match.group("pw"))
    for match in _KEYWORD.finditer(url):
        register_secret(match.group("pw").strip("'"))
    try:
        plain = _SCHEME.sub("postgresql://", url, count=1)
        register_secret(conninfo_to_dict(plain).get("password"))
    except (psycopg.Error, ValueError, TypeError):
        pass


def redact(text: object) -> str:
    """The text with every password hidden: for messages, logs and the load ledger."""
    out = str(text)
    for secret in sorted(_secrets, key=len, reverse=True):
        out = out.replace(secret, _MASK)
    out = _USERINFO.sub(lambda m: f"{m['pre']}{_MASK}@{m['host']}", out)
    return _KEYWORD.sub(lambda m: f"{m['key']}{_MASK}", out)


# Ask the server to check, while a statement runs, that the client is still there, so the
# statements (and parallel workers) of a killed process stop within seconds (PostgreSQL 14+).
# pg advisory lock held by a warehouse build (one at a time) and, without waiting, by a run
# that fills the customer totals (etl.segment.customer_state)
WAREHOUSE_BUILD_LOCK = 0x5E6_1001
# Transaction-local setting naming a checked writer of the order lines, the order fact and the
# kept customer totals (a build, a run storing the totals); the triggers of revision
# 0012_quality_per_batch note every other write in staging.unchecked_writes (etl.quality_record).
CHECKED_WRITE = "segwise.checked_write"

CLIENT_CHECK = "-c client_connection_check_interval=2000"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    conninfo = libpq_url(url)
    options = f"{conninfo_to_dict(conninfo).get('options', '')} {CLIENT_CHECK}".strip()
    try:
        return psycopg.connect(
            make_conninfo(conninfo, options=options),
            autocommit=autocommit,
            application_name="segwise",
        )
    except psycopg.OperationalError as exc:
        raise SegwiseError(
            f"cannot connect to the warehouse {redact(url)}: {one_line(exc)}"
        ) from None


def one_line(exc: BaseException | str) -> str:
    """An error message on one line, passwords masked."""
    lines = [line.strip() for line in redact(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__


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
