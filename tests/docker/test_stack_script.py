"""`make up` / `make down` (scripts/stack.py) where no engine answers, and its settings reading.

Runs in every `make test`: the real script against a Docker socket nobody listens on, which is
what a newcomer sees before starting the engine. The full route on a real engine is
tests/docker/test_make_up.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402


def _compose_installed() -> bool:
    v2 = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return (v2.returncode == 0 and "compose" in v2.stdout.lower()) or bool(
        shutil.which("docker-compose")
    )


@pytest.mark.parametrize("target", ["up", "down", "clean"])
def test_without_an_engine_make_says_how_to_start_one(tmp_path: Path, target: str) -> None:
    if shutil.which("docker") is None or not _compose_installed():
        pytest.skip("needs the docker client and a compose command (no engine needed)")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/nobody-listens.sock"
    proc = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "segwise: error: no Docker engine answers `docker info`" in proc.stderr
    assert "systemctl start docker" in proc.stderr and "dockerd" in proc.stderr


def test_settings_come_from_the_environment_before_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nAIRFLOW_PORT=9000\nCOMPOSE_PROFILES='celery, bi'\nexport WAREHOUSE_PORT=\"1\"\n"
        "# POSTGRES_IMAGE=commented-out\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(stack, "ENV_FILE", env_file)
    monkeypatch.delenv("AIRFLOW_PORT", raising=False)
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    monkeypatch.setenv("WAREHOUSE_PORT", "2")
    assert stack.setting("AIRFLOW_PORT") == "9000"
    assert stack.setting("WAREHOUSE_PORT") == "2"
    assert stack.setting("POSTGRES_IMAGE", "postgres:16") == "postgres:16"
    assert stack.active_profiles() == ["celery", "bi"]


def test_stand_ins_are_recorded_once_and_replace_earlier_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("AIRFLOW_PORT=9000\nPOSTGRES_IMAGE=old\n", encoding="utf-8")
    monkeypatch.setattr(stack, "ENV_FILE", env_file)
    for _ in range(2):
        stack.record_stand_ins({"POSTGRES_IMAGE": "segwise-offline/postgres:15"})
    text = env_file.read_text(encoding="utf-8")
    assert text.count(stack.OFFLINE_MARK) == 1
    assert "POSTGRES_IMAGE=old" not in text and text.count("POSTGRES_IMAGE=") == 1
    assert stack.read_env_file(env_file) == {
        "AIRFLOW_PORT": "9000",
        "POSTGRES_IMAGE": "segwise-offline/postgres:15",
    }


def test_make_down_covers_every_profile_of_the_compose_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    profiles = stack.all_profiles()
    assert "celery" in profiles
    assert all(f'"{p}"' in text for p in profiles)
