"""Small operations of the compose stack that run inside the segwise image.

- ``health http URL``: an HTTP probe; the slim image has no curl.
- ``health job JOB_TYPE``: is this container's Airflow job (``DagProcessorJob``,
  ``TriggererJob``) heartbeating? One SQL query on Airflow's ``job`` table, the same test
  ``airflow jobs check`` makes, without importing all of Airflow: that costs seconds of CPU per
  probe per container, which a 2-core machine running the whole stack feels.
- ``sync-roles``: as the superuser, set the ``airflow`` and ``segwise`` roles' passwords to the
  secrets volume's, so a password changed in ``.env`` reaches an existing database volume (the
  init scripts in /docker-entrypoint-initdb.d only run on the very first start).

Healthchecks run through ``docker exec``, not the entrypoint, so this reads the secrets itself.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import segwise_secrets  # noqa: E402

SECRETS_DIR = Path(os.environ.get("SEGWISE_SECRETS_DIR", segwise_secrets.DEFAULT_DIR))


def _settings() -> dict[str, str]:
    return {**segwise_secrets.exports(SECRETS_DIR, {}), **os.environ}


def _libpq(sqlalchemy_url: str) -> str:
    scheme, rest = sqlalchemy_url.split("://", 1)
    return "postgresql://" + rest


def airflow_hostname() -> str:
    """``airflow.utils.net.getfqdn()``, the default ``[core] hostname_callable``."""
    name = socket.gethostname()
    try:
        addrs = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    for addr in addrs:
        if addr[3]:
            return addr[3]
    return name


def health_http(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (fixed local URL)
            status = resp.status
    except OSError as exc:  # connection refused while starting, HTTP errors, timeouts
        print(f"{url}: {exc}")
        return 1
    print(f"{url}: HTTP {status}")
    return 0 if status == 200 else 1


def health_job(job_type: str, max_age_s: int = 60) -> int:
    import psycopg

    url = _libpq(_settings()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM job WHERE job_type = %s AND hostname = %s"
                " AND state = 'running' AND latest_heartbeat > now() - make_interval(secs => %s)",
                (job_type, airflow_hostname(), max_age_s),
            ).fetchone()
    except psycopg.Error as exc:
        print(f"{job_type}: metadata database not reachable: {exc}")
        return 1
    alive = bool(row and row[0])
    print(f"{job_type} on {airflow_hostname()}: {'alive' if alive else 'no recent heartbeat'}")
    return 0 if alive else 1


def sync_roles() -> int:
    import psycopg
    from psycopg import sql

    settings = _settings()
    host = settings.get("SEGWISE_DB_HOST", "postgres")
    port = settings.get("SEGWISE_DB_PORT", "5432")
    superuser = segwise_secrets.read(SECRETS_DIR, "postgres_password")
    url = f"postgresql://postgres:{quote(superuser, safe='')}@{host}:{port}/postgres"
    roles = {
        "airflow": segwise_secrets.read(SECRETS_DIR, "airflow_db_password"),
        "segwise": segwise_secrets.read(SECRETS_DIR, "warehouse_db_password"),
    }
    try:
        conn = psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as exc:
        print(
            "sync-roles: cannot log in as the postgres superuser with the secrets volume's "
            "POSTGRES_PASSWORD. The database volume keeps the password of its first start: "
            f"set POSTGRES_PASSWORD back to it, or ALTER ROLE postgres in psql. ({exc})",
            file=sys.stderr,
        )
        return 2
    with conn:
        for role, password in roles.items():
            # ALTER ROLE takes no bind parameters; sql.Literal quotes the value client-side.
            conn.execute(
                sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            print(f"sync-roles: {role} password set from the secrets volume")
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["health", "http", url]:
            return health_http(url)
        case ["health", "job", job_type]:
            return health_job(job_type)
        case ["sync-roles"]:
            return sync_roles()
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except segwise_secrets.SecretsError as exc:
        print(f"segwise: error: {exc}", file=sys.stderr)
        sys.exit(2)
