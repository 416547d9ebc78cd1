"""The BI layer: the ``mart`` views and the read-only ``segwise_bi`` role.

Repeatable rather than versioned: ``apply_bi_layer`` runs in migration 0002 and again on every
``segwise db upgrade`` (``migrations/env.py``), so edits to ``sql/mart/*.sql`` and a new
``SEGWISE_BI_PASSWORD`` reach an existing warehouse without a new revision. Roles are
cluster-wide and several databases (test runs, staging and prod) may share one server, so every
role statement tolerates the role already existing or being created concurrently.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from etl.paths import sql_dir

BI_ROLE = "segwise_bi"
BI_PASSWORD_ENV = "SEGWISE_BI_PASSWORD"

_CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'segwise_bi') THEN
        BEGIN
            CREATE ROLE segwise_bi NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database on this server
        END;
    END IF;
END $$;
"""

# Concurrent updates of one role row from two transactions fail with this (no retry inside).
_CONCURRENT_ROLE_UPDATE = "tuple concurrently updated"
_ROLE_ATTEMPTS = 5

_GRANTS = """
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO segwise_bi', current_database());
    EXECUTE format('ALTER ROLE segwise_bi IN DATABASE %I SET search_path = mart',
                   current_database());
    BEGIN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'segwise: not owner of schema public; CREATE on it left as it is';
    END;
    -- Temporary tables only for the pipeline's own role (it builds with them), not for PUBLIC
    -- and so not for segwise_bi, whatever server the warehouse is on.
    BEGIN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), current_user);
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM segwise_bi', current_database());
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'segwise: not owner of the database; TEMPORARY on it left as it is';
    END;
END $$;
REVOKE ALL ON SCHEMA staging, warehouse, segmentation FROM PUBLIC;
REVOKE ALL ON SCHEMA staging, warehouse, segmentation FROM segwise_bi;
REVOKE ALL ON ALL TABLES IN SCHEMA staging, warehouse, segmentation FROM segwise_bi;
GRANT USAGE ON SCHEMA mart TO segwise_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO segwise_bi;
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO segwise_bi;
"""

_REVOKES = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'segwise_bi') THEN
        EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA mart FROM segwise_bi';
        EXECUTE 'REVOKE ALL ON SCHEMA mart FROM segwise_bi';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA mart REVOKE SELECT ON TABLES FROM segwise_bi';
        EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM segwise_bi', current_database());
        EXECUTE format('ALTER ROLE segwise_bi IN DATABASE %I RESET ALL', current_database());
    END IF;
END $$;
"""


# Comments and string literals (COMMENTs name other views) do not make a dependency.
_SQL_NOISE = re.compile(r"--[^\n]*|'(?:[^']|'')*'")


def mart_view_files() -> list[Path]:
    """``sql/mart/<view>.sql``, one view per file, named after the file; a view after the mart
    views it reads (``mart.<name>`` in its text), else by name."""
    files = sorted((sql_dir() / "mart").glob("*.sql"))
    by_name = {p.stem: p for p in files}
    ordered: list[Path] = []
    seen: set[str] = set()

    def visit(path: Path, stack: tuple[str, ...]) -> None:
        if path.stem in seen or path.stem in stack:
            return
        code = _SQL_NOISE.sub(" ", path.read_text(encoding="utf-8"))
        for name in sorted(set(re.findall(r"\bmart\.(\w+)", code)) - {path.stem}):
            if name in by_name:
                visit(by_name[name], (*stack, path.stem))
        seen.add(path.stem)
        ordered.append(path)

    for path in files:
        visit(path, ())
    return ordered


def _pg(conn: Any) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (Alembic), so SQL text is sent verbatim."""
    if isinstance(conn, psycopg.Connection):
        return conn
    return conn.connection.driver_connection


def apply_bi_layer(conn: Any) -> None:
    """(Re)create the mart views, the role, its grants and (if set) its password.

    Runs inside the caller's transaction (Alembic's, under its advisory lock).
    """
    pg = _pg(conn)
    skipped = [path for path in mart_view_files() if not _apply_view(pg, path)]
    for path in skipped:  # views over views that sort later
        _apply_view(pg, path)
    pg.execute(_CREATE_ROLE)
    password = os.environ.get(BI_PASSWORD_ENV, "")
    if password:
        _set_password(pg, password)
    pg.execute(_GRANTS)


def _set_password(pg: psycopg.Connection, password: str) -> None:
    """Give the role its login password as a SCRAM verifier computed here (libpq's
    PQencryptPasswordConn, what psql's \\password does): the plain password never reaches the
    server, so no error message or server log can show it.

    The role is one row for the whole server: when databases on it upgrade at the same time,
    the second update of that row fails once the first commits ("tuple concurrently updated");
    it is retried from a savepoint."""
    verifier = pg.pgconn.encrypt_password(
        password.encode(), BI_ROLE.encode(), b"scram-sha-256"
    ).decode()
    statement = sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(BI_ROLE), sql.Literal(verifier)
    )
    for attempt in range(1, _ROLE_ATTEMPTS + 1):
        pg.execute("SAVEPOINT segwise_role")
        try:
            pg.execute(statement)
        except psycopg.errors.InternalError_ as exc:
            pg.execute("ROLLBACK TO SAVEPOINT segwise_role")
            if _CONCURRENT_ROLE_UPDATE not in str(exc) or attempt == _ROLE_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
        else:
            pg.execute("RELEASE SAVEPOINT segwise_role")
            return


def apply_bi_layer_if_present(conn: Any) -> None:
    """The env.py hook: only once this database has the segmentation tables (revision 0002+)."""
    pg = _pg(conn)
    row = pg.execute("SELECT to_regclass('segmentation.runs') IS NOT NULL").fetchone()
    if row and row[0]:
        apply_bi_layer(pg)


def drop_bi_layer(conn: Any) -> None:
    """Drop this database's mart views and grants; the cluster-wide role stays for the others."""
    pg = _pg(conn)
    for path in reversed(mart_view_files()):
        pg.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier("mart", path.stem)))
    pg.execute(_REVOKES)


def _apply_view(pg: psycopg.Connection, path: Path) -> bool:
    """CREATE OR REPLACE keeps grants and dependants; a changed column list needs drop+create.

    The drop cascades to mart views reading this one; they come later in ``mart_view_files``
    order and are created again in the same transaction. False (nothing applied) when the view
    reads a relation or function that does not exist yet.
    """
    text = path.read_text(encoding="utf-8")
    pg.execute("SAVEPOINT segwise_view")
    try:
        pg.execute(text)
    except (
        psycopg.errors.UndefinedTable,
        psycopg.errors.UndefinedFunction,
        psycopg.errors.UndefinedColumn,
    ):
        # a view over tables of a later revision (migration 0002 applies every view file):
        # skipped here, created by the env.py hook once the last revision has run
        pg.execute("ROLLBACK TO SAVEPOINT segwise_view")
        return False
    except psycopg.errors.InvalidTableDefinition:
        pg.execute("ROLLBACK TO SAVEPOINT segwise_view")
        pg.execute(
            sql.SQL("DROP VIEW IF EXISTS {} CASCADE").format(sql.Identifier("mart", path.stem))
        )
        pg.execute(text)
    pg.execute("RELEASE SAVEPOINT segwise_view")
    return True
