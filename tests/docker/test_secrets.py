"""The stack's secrets: generated when not given, kept across starts, refused when empty.

Exercises docker/segwise_secrets.py (what the `secrets` service and the image's entrypoint run)
and scripts/generate-secrets on a temporary directory; no engine needed.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docker"))
import segwise_secrets as ss  # noqa: E402

NAMES = [s.env for s in ss.SECRETS]


def _files(d: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(d.iterdir())}


def test_unset_secrets_are_generated_once_then_kept(tmp_path: Path) -> None:
    first = ss.init(tmp_path, {})
    assert all(line.endswith("generated (first start)") for line in first)
    values = _files(tmp_path)
    assert set(values) == {s.file for s in ss.SECRETS}
    assert all(len(v) >= 32 for v in values.values())
    assert len(set(values.values())) == len(values), "every secret is its own random value"
    # The compose file passes the sentinel for an unset variable.
    again = ss.init(tmp_path, dict.fromkeys(NAMES, ss.GENERATE))
    assert all(line.endswith("kept from the secrets volume") for line in again)
    assert _files(tmp_path) == values


def test_a_given_secret_replaces_the_volume_value(tmp_path: Path) -> None:
    ss.init(tmp_path, {})
    ss.init(tmp_path, {"SEGWISE_BI_PASSWORD": "bi-pass word%@/"})
    assert (tmp_path / "bi_password").read_text() == "bi-pass word%@/"


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"])
def test_an_empty_secret_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    with pytest.raises(ss.SecretsError, match=rf"{name} .*EMPTY: refusing to start"):
        ss.init(tmp_path, {name: ""})
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_malformed_fernet_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ss.SecretsError, match="AIRFLOW_FERNET_KEY .*32 url-safe base64"):
        ss.init(tmp_path, {"AIRFLOW_FERNET_KEY": "not-a-key"})


def test_secrets_service_exits_2_with_a_message_naming_the_secret(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docker" / "segwise_secrets.py"),
            "--dir",
            str(tmp_path),
            "init",
        ],
        env={"AIRFLOW_ADMIN_PASSWORD": "", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "AIRFLOW_ADMIN_PASSWORD" in proc.stderr and "EMPTY" in proc.stderr


def test_exports_build_urls_with_encoded_passwords(tmp_path: Path) -> None:
    ss.init(tmp_path, {"WAREHOUSE_DB_PASSWORD": "p@ss:w/rd%", "AIRFLOW_DB_PASSWORD": "a b"})
    env = ss.exports(tmp_path, {"AIRFLOW_HOME": str(tmp_path / "home")})
    wh = urlsplit(env["AIRFLOW_CONN_WAREHOUSE"])
    assert (wh.scheme, wh.username, wh.hostname, wh.port, wh.path) == (
        "postgresql",
        "segwise",
        "postgres",
        5432,
        "/segwise",
    )
    assert unquote(wh.password) == "p@ss:w/rd%"
    assert env["SEGWISE_DATABASE_URL"] == env["AIRFLOW_CONN_WAREHOUSE"]
    meta = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert meta.scheme == "postgresql+psycopg2" and unquote(meta.password) == "a b"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:")
    assert env["SEGWISE_BI_PASSWORD"] == (tmp_path / "bi_password").read_text()
    # A setting given directly wins over the derived one.
    assert "AIRFLOW_CONN_WAREHOUSE" not in ss.exports(tmp_path, {"AIRFLOW_CONN_WAREHOUSE": "x"})


def test_export_refuses_a_missing_or_emptied_secret(tmp_path: Path) -> None:
    ss.init(tmp_path, {})
    (tmp_path / "jwt_secret").write_text("")
    with pytest.raises(ss.SecretsError, match="AIRFLOW_JWT_SECRET .* empty"):
        ss.exports(tmp_path, {})
    (tmp_path / "jwt_secret").unlink()
    with pytest.raises(ss.SecretsError, match="secrets` service must complete"):
        ss.exports(tmp_path, {})


def test_admin_password_file_for_simple_auth_manager(tmp_path: Path) -> None:
    ss.init(tmp_path / "s", {"AIRFLOW_ADMIN_PASSWORD": "adm1n-pw"})
    target = tmp_path / "home" / "passwords.json"
    ss.write_passwords_file(tmp_path / "s", target, "admin:admin,ops:admin")
    assert target.read_text() == '{"admin": "adm1n-pw", "ops": "adm1n-pw"}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "generate-secrets"), *args],
        capture_output=True,
        text=True,
        check=True,
    )


def _env_values(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def test_generate_secrets_prints_fresh_values() -> None:
    a = dict(line.split("=", 1) for line in _generate().stdout.splitlines())
    b = dict(line.split("=", 1) for line in _generate().stdout.splitlines())
    assert list(a) == NAMES
    assert all(a[k] != b[k] for k in NAMES)
    assert ss.SECRETS[NAMES.index("AIRFLOW_FERNET_KEY")].check(a["AIRFLOW_FERNET_KEY"]) is None


def test_generate_secrets_writes_env_file_from_the_example(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    _generate("--env-file", str(env_file))
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = _env_values(env_file)
    assert all(values[k] for k in NAMES)
    assert values["WAREHOUSE_PORT"] == "15432", "the rest of .env.example is carried over"
    # Re-running keeps them; --rotate replaces them.
    _generate("--env-file", str(env_file))
    assert _env_values(env_file) == values
    _generate("--env-file", str(env_file), "--rotate")
    rotated = _env_values(env_file)
    assert all(rotated[k] != values[k] for k in NAMES)
    assert sum(1 for line in env_file.read_text().splitlines() if line.startswith(NAMES[0])) == 1


def test_generate_secrets_fills_an_emptied_secret(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("AIRFLOW_PORT=9090\nPOSTGRES_PASSWORD=\nAIRFLOW_JWT_SECRET=mine\n")
    _generate("--env-file", str(env_file))
    values = _env_values(env_file)
    assert values["AIRFLOW_PORT"] == "9090" and values["AIRFLOW_JWT_SECRET"] == "mine"
    assert len(values["POSTGRES_PASSWORD"]) >= 32 and set(NAMES) <= set(values)
