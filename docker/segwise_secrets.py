"""The compose stack's secrets: one list that names, generates, checks and exports them.

Why a file volume instead of plain ``${VAR:?}`` interpolation: the README's quick start is
``docker compose up -d`` on a fresh clone with no ``.env``, and the stack must still never run on
a known default password. So the one-shot ``secrets`` service runs ``init``: a secret set in the
environment (``.env``) is written to the ``secrets`` volume; one not set at all keeps the value
already in the volume or gets a fresh random one on first start; one set but EMPTY is refused.
Every other container reads the files (``export``), never a default.

Stdlib only: it runs in the image's entrypoint before anything else, and on the host for
``scripts/generate-secrets``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import secrets
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

#: What compose passes for a secret that is not set at all (``${NAME-@generate}``).
GENERATE = "@generate"
DEFAULT_DIR = "/run/segwise/secrets"


def _password() -> str:
    return secrets.token_urlsafe(24)


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _check_fernet_key(value: str) -> str | None:
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return None
    except (binascii.Error, ValueError):
        pass
    return "must be 32 url-safe base64-encoded bytes (scripts/generate-secrets makes one)"


def _check_password(value: str) -> str | None:
    if value != value.strip():
        return "has leading or trailing whitespace"
    return None


@dataclass(frozen=True)
class Secret:
    env: str  # the setting in .env
    file: str  # its file in the secrets volume
    what: str
    generate: Callable[[], str] = _password
    check: Callable[[str], str | None] = _check_password


SECRETS: tuple[Secret, ...] = (
    Secret("POSTGRES_PASSWORD", "postgres_password", "PostgreSQL superuser (postgres) password"),
    Secret("AIRFLOW_DB_PASSWORD", "airflow_db_password", "role airflow (Airflow metadata DB)"),
    Secret("WAREHOUSE_DB_PASSWORD", "warehouse_db_password", "role segwise (owns the warehouse)"),
    Secret("SEGWISE_BI_PASSWORD", "bi_password", "read-only BI role segwise_bi"),
    Secret("AIRFLOW_ADMIN_PASSWORD", "airflow_admin_password", "Airflow UI / REST API admin"),
    Secret(
        "AIRFLOW_FERNET_KEY", "fernet_key", "Airflow Fernet key", _fernet_key, _check_fernet_key
    ),
    Secret("AIRFLOW_JWT_SECRET", "jwt_secret", "JWT secret shared by all Airflow components"),
    Secret("AIRFLOW_API_SECRET_KEY", "api_secret_key", "Airflow API server secret key"),
)


class SecretsError(Exception):
    """A refused or missing secret; the message says which and what to do."""


def init(directory: Path, environ: dict[str, str]) -> list[str]:
    """Write every secret into ``directory``; return one line per secret saying where it came from.

    Validates all before writing any, so a refused value leaves the volume as it was.
    """
    problems: list[str] = []
    plan: list[tuple[Secret, str | None, str]] = []
    for s in SECRETS:
        given = environ.get(s.env)
        path = directory / s.file
        if given is None or given == GENERATE:
            old = path.read_text(encoding="utf-8") if path.is_file() else ""
            if old:
                plan.append((s, None, "kept from the secrets volume"))
            else:
                plan.append((s, s.generate(), "generated (first start)"))
        elif given == "":
            problems.append(
                f"{s.env} ({s.what}) is set but EMPTY: refusing to start with an empty secret. "
                f"Give it a value (scripts/generate-secrets --env-file .env writes fresh ones) "
                f"or remove the line from .env to have one generated into the secrets volume."
            )
        else:
            why = s.check(given)
            if why:
                problems.append(f"{s.env} ({s.what}) {why}")
            else:
                plan.append((s, given, "set from the environment"))
    if problems:
        raise SecretsError("\n".join(problems))
    directory.mkdir(parents=True, exist_ok=True)
    report = []
    for s, value, source in plan:
        if value is not None:
            _write(directory / s.file, value)
        report.append(f"{s.env}: {source}")
    return report


def _write(path: Path, value: str) -> None:
    # 0644: the postgres and Airflow containers run as different users; only containers that
    # mount the secrets volume can see it.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(value, encoding="utf-8")
    tmp.chmod(0o644)
    tmp.replace(path)


def read(directory: Path, name: str) -> str:
    """One secret by its file name or setting name; refuses a missing or empty one."""
    by_name = {s.file: s for s in SECRETS} | {s.env: s for s in SECRETS}
    s = by_name[name]
    path = directory / s.file
    try:
        value = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretsError(
            f"secret {s.env} missing at {path}: the one-shot `secrets` service must complete "
            "first (docker compose up runs it)"
        ) from None
    if not value:
        raise SecretsError(f"secret {s.env} at {path} is empty: refusing to start")
    return value


def exports(directory: Path, environ: dict[str, str]) -> dict[str, str]:
    """The settings Airflow and segwise read, built from the secret files.

    A setting already present in the environment wins, so any of them can still be given
    directly (for example an external metadata database).
    """

    def r(name: str) -> str:
        return read(directory, name)

    host = environ.get("SEGWISE_DB_HOST", "postgres")
    port = environ.get("SEGWISE_DB_PORT", "5432")
    airflow_db = environ.get("AIRFLOW_DB_NAME", "airflow")
    warehouse_db = environ.get("WAREHOUSE_DB_NAME", "segwise")

    def url(scheme: str, user: str, password: str, db: str) -> str:
        return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}"

    airflow_pw = r("airflow_db_password")
    warehouse_pw = r("warehouse_db_password")
    warehouse_url = url("postgresql", "segwise", warehouse_pw, warehouse_db)
    home = Path(environ.get("AIRFLOW_HOME", "/opt/airflow"))
    out = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url(
            "postgresql+psycopg2", "airflow", airflow_pw, airflow_db
        ),
        "AIRFLOW__CELERY__RESULT_BACKEND": url("db+postgresql", "airflow", airflow_pw, airflow_db),
        "AIRFLOW__CORE__FERNET_KEY": r("fernet_key"),
        "AIRFLOW__API_AUTH__JWT_SECRET": r("jwt_secret"),
        "AIRFLOW__API__SECRET_KEY": r("api_secret_key"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            home / "simple_auth_manager_passwords.json"
        ),
        "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
        "SEGWISE_DATABASE_URL": warehouse_url,
        "SEGWISE_BI_PASSWORD": r("bi_password"),
    }
    return {k: v for k, v in out.items() if not environ.get(k)}


def write_passwords_file(directory: Path, path: Path, users: str) -> None:
    """SimpleAuthManager's password file: the admin user(s) get the admin secret."""
    password = read(directory, "airflow_admin_password")
    names = [u.split(":", 1)[0].strip() for u in users.split(",") if u.strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(dict.fromkeys(names, password)), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="segwise_secrets", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("SEGWISE_SECRETS_DIR", DEFAULT_DIR))
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="write the secrets volume (the one-shot secrets service)")
    sub.add_parser("export", help="print shell exports of the derived settings (entrypoint)")
    show = sub.add_parser("show", help="print one secret, e.g. AIRFLOW_ADMIN_PASSWORD")
    show.add_argument("name", choices=sorted({s.env for s in SECRETS} | {s.file for s in SECRETS}))
    args = parser.parse_args(argv)
    env = dict(os.environ)
    try:
        if args.cmd == "init":
            for line in init(args.dir, env):
                print(f"secrets: {line}")
            print(f"secrets: ready in {args.dir}")
        elif args.cmd == "export":
            values = exports(args.dir, env)
            key = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
            pw_file = Path(env.get(key) or values[key])
            users = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
            write_passwords_file(args.dir, pw_file, users)
            for key, value in values.items():
                print(f"export {key}={shlex.quote(value)}")
        else:
            print(read(args.dir, args.name))
    except SecretsError as exc:
        print(f"segwise secrets: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
