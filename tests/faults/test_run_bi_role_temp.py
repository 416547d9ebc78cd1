"""The read-only BI role cannot create temporary tables in the warehouse (any server, not only
the Docker one, whose init script also revokes it), while the pipeline's own role still can."""

from __future__ import annotations

import psycopg
import pytest

from etl import migrate


def test_bi_role_cannot_create_temp_tables(fresh_warehouse_url):
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        # a new session: the temporary-table privilege is checked on its first temp table
        conn.execute("SET ROLE segwise_bi")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="temporary tables"):
            conn.execute("CREATE TEMP TABLE t (x int)")
        conn.execute("RESET ROLE")
        assert conn.execute(
            "SELECT has_database_privilege('segwise_bi', current_database(), 'TEMP'), "
            "has_database_privilege('public', current_database(), 'TEMP'), "
            "has_database_privilege(current_user, current_database(), 'TEMP')"
        ).fetchone() == (False, False, True)


def test_upgrade_revokes_it_again(fresh_warehouse_url):
    """A warehouse where someone granted it back gets it revoked on the next upgrade."""
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', "
            "current_database()); END $$"
        )
    migrate.upgrade(fresh_warehouse_url)
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        assert not conn.execute(
            "SELECT has_database_privilege('segwise_bi', current_database(), 'TEMP')"
        ).fetchone()[0]
