"""The warehouse URL from the Airflow connection ``warehouse`` (``AIRFLOW_CONN_WAREHOUSE``).

The Postgres provider's hook resolves the connection through Airflow's secrets backends
(environment first), so nothing secret lives in code; the URL it gives is handed to the ``etl``
stage functions, which speak psycopg 3 themselves.
"""

from __future__ import annotations

from urllib.parse import urlencode

from etl.errors import ConfigurationError
from etl.orchestration.dag_settings import WAREHOUSE_CONN_ID

# Connection extras that are libpq parameters and must survive into the URL.
LIBPQ_EXTRAS = (
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
)


def warehouse_url(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """``postgresql://user:password@host:port/db?sslmode=...`` for the Airflow connection."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    try:
        hook = PostgresHook(postgres_conn_id=conn_id)
        conn = hook.connection
        url = hook.sqlalchemy_url
    except Exception as exc:  # noqa: BLE001 - Airflow raises several types for a missing conn
        if "isn't defined" in str(exc) or type(exc).__name__ == "AirflowNotFoundException":
            raise ConfigurationError(
                f"Airflow connection {conn_id!r} is not defined: set AIRFLOW_CONN_"
                f"{conn_id.upper()}=postgresql://user:password@host:5432/dbname in the "
                "environment of the scheduler and workers (or add it in Admin > Connections)"
            ) from exc
        raise
    if not url.database:
        raise ConfigurationError(
            f"Airflow connection {conn_id!r} names no database: put it in the URL path "
            "(postgresql://user:password@host:5432/dbname)"
        )
    extras = conn.extra_dejson
    query = {k: str(extras[k]) for k in LIBPQ_EXTRAS if extras.get(k) not in (None, "")}
    base = url.set(drivername="postgresql").render_as_string(hide_password=False)
    if query and not url.query:
        base = f"{base}?{urlencode(query)}"
    return base
