"""The read-only ``segwise_bi`` role: reads schema mart of this database and nothing else.

Roles are cluster-wide and several databases (test runs, staging and prod) may share one server,
so every role statement tolerates the role already existing or being created concurrently, and
removing this database's grants keeps the role for the others.
"""

from __future__ import annotations

import os
import time

import psycopg
from psycopg import sql

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

# Whatever schemas exist: run before any revision, down to an empty database.
_REVOKES = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'segwise_bi') THEN
        IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'mart') THEN
            EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA mart FROM segwise_bi';
            EXECUTE 'REVOKE ALL ON SCHEMA mart FROM segwise_bi';
            EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA mart '
                    'REVOKE SELECT ON TABLES FROM segwise_bi';
        END IF;
        EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM segwise_bi', current_database());
        EXECUTE format('ALTER ROLE segwise_bi IN DATABASE %I RESET ALL', current_database());
    END IF;
END $$;
"""


def grant_role(pg: psycopg.Connection) -> None:
    """Create the role if needed, set its password (if one is configured) and its grants."""
    pg.execute(_CREATE_ROLE)
    password = os.environ.get(BI_PASSWORD_ENV, "")
    if password:
        set_password(pg, password)
    pg.execute(_GRANTS)


def revoke_role(pg: psycopg.Connection) -> None:
    """Take back this database's grants; the cluster-wide role stays for the other databases."""
    pg.execute(_REVOKES)


def set_password(pg: psycopg.Connection, password: str) -> None:
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
