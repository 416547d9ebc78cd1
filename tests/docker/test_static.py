"""Static checks of the container setup: no engine needed, part of every test run.

The compose file is read with PyYAML (merge keys resolved) and, where a compose binary is
installed, validated by it; the Dockerfile is read as text.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SECRETS_VOLUME_DIR = "/run/segwise/secrets"

sys.path.insert(0, str(ROOT / "docker"))
import segwise_secrets  # noqa: E402

SECRET_WORDS = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|PRIVATE|_KEY\b|_KEY_", re.IGNORECASE)
PATH_SETTING = re.compile(r"_(DIR|FILE)$")
INTERPOLATION = re.compile(
    r"(?<!\$)\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?P<op>:?[-?+])?(?P<default>[^}]*)\}"
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment must be a mapping (KEY: value)"
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _clean_env() -> dict[str, str]:
    """No COMPOSE_* or secret from the developer's shell leaks into `config`."""
    import os

    keep = ("PATH", "HOME", "DOCKER_HOST", "LANG")
    return {k: v for k, v in os.environ.items() if k in keep}


@pytest.mark.parametrize(
    "command",
    [["docker-compose", "config", "-q"], ["docker", "compose", "config", "-q"]],
    ids=["docker-compose-1.x", "docker-compose-v2"],
)
def test_compose_binary_validates_the_file(command: list[str], tmp_path: Path) -> None:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} not installed")
    if command[:2] == ["docker", "compose"]:
        probe = subprocess.run([*command[:2], "version"], capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip("docker compose (v2 plugin) not installed")
    # A copy without the developer's .env, as on a fresh clone.
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.read_text(encoding="utf-8"))
    (tmp_path / "docker" / "superset").mkdir(parents=True)  # the bi profile's build context
    for profile in ([], ["--profile", "celery"]):
        cmd = [command[0], *command[1:-2], "-f", str(tmp_path / "docker-compose.yml"), *profile]
        cmd += command[-2:]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=_clean_env())
        assert proc.returncode == 0, proc.stderr


def test_compose_specification_without_version_key(compose: dict) -> None:
    assert "version" not in compose, "Compose Specification: no `version:` (v2 warns, spec drops)"
    assert set(compose) <= {"services", "volumes", "networks"} | {
        k for k in compose if k.startswith("x-")
    }


def test_every_service_is_on_the_named_network(compose: dict, services: dict) -> None:
    assert list(compose["networks"]) == ["segwise"]
    for name, svc in services.items():
        assert svc.get("networks") == ["segwise"], f"{name} is not on the segwise network"
        assert "network_mode" not in svc, name


def test_long_running_services_have_healthchecks(services: dict) -> None:
    long_running = [n for n, s in services.items() if not _one_shot(s)]
    assert {"postgres", "airflow-apiserver", "airflow-scheduler"} <= set(long_running)
    assert {"airflow-dag-processor", "airflow-triggerer", "redis", "airflow-worker"} <= set(
        long_running
    )
    for name in long_running:
        svc = services[name]
        assert svc.get("restart") == "unless-stopped", name
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and not hc.get("disable"), f"{name} has no healthcheck"
        assert hc["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in hc, f"{name} healthcheck lacks {key}"


def test_one_shot_services_are_waited_for_by_completion(services: dict) -> None:
    one_shot = {n for n, s in services.items() if _one_shot(s)}
    assert one_shot == {"secrets", "outputs-init", "airflow-init"}
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on needs conditions"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            expected = "service_completed_successfully" if dep in one_shot else "service_healthy"
            assert spec == {"condition": expected}, f"{name} -> {dep}: {spec}"
    # Nothing Airflow starts before the init service finished.
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert "airflow-init" in services[name]["depends_on"], name


def test_celery_profile_adds_redis_and_workers_only(services: dict) -> None:
    profiled = {n: s["profiles"] for n, s in services.items() if "profiles" in s}
    assert profiled == {"redis": ["celery"], "airflow-worker": ["celery"], "superset": ["bi"]}
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:")


def test_ports_are_published_on_loopback_only_and_settable(services: dict) -> None:
    published = {}
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert isinstance(port, str), f"{name}: use the 'HOST_IP:HOST:CONTAINER' string form"
            assert "0.0.0.0" not in port and "::" not in port, f"{name}: {port}"
            host_ip, rest = port.split(":", 1)
            host_port, _container_port = rest.rsplit(":", 1)
            assert host_ip == "127.0.0.1", f"{name}: {port} is not bound to 127.0.0.1"
            m = INTERPOLATION.fullmatch(host_port)
            assert m and m.group("op") == ":-", f"{name}: host port {host_port} not from .env"
            published[m.group("name")] = int(m.group("default"))
    assert published == {"WAREHOUSE_PORT": 15432, "AIRFLOW_PORT": 8080, "SUPERSET_PORT": 8088}
    assert not {5432, 6379} & set(published.values()), "defaults clash with the host's services"


def test_no_secret_literal_in_compose_file(services: dict) -> None:
    secret_names = {s.env for s in segwise_secrets.SECRETS}
    for name, svc in services.items():
        for key, value in _env(svc).items():
            if not SECRET_WORDS.search(key):
                continue
            if PATH_SETTING.search(key):
                assert value.startswith(SECRETS_VOLUME_DIR), f"{name}.{key}={value}"
                continue
            m = INTERPOLATION.fullmatch(value)
            assert m, f"{name}.{key} has a literal value: secrets come from .env or the volume"
            assert m.group("name") in secret_names, f"{name}.{key}: {value}"
            assert m.group("op") == "-" and m.group("default") == segwise_secrets.GENERATE, (
                f"{name}.{key}: an unset secret must mean 'generate', an empty one 'refuse'"
            )
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for m in INTERPOLATION.finditer(text):
        if SECRET_WORDS.search(m.group("name")):
            assert m.group("default") in ("", segwise_secrets.GENERATE), m.group(0)
    assert not re.search(r"(?i)://[^:/\s]+:[^@$\s]+@", text), "credentials in a URL"


def test_secrets_service_covers_every_secret(services: dict) -> None:
    env = _env(services["secrets"])
    expected = {s.env: f"${{{s.env}-{segwise_secrets.GENERATE}}}" for s in segwise_secrets.SECRETS}
    assert env == expected
    for name, svc in services.items():
        if name in ("secrets", "redis", "outputs-init"):  # outputs-init reads no secret
            continue
        assert f"secrets:{SECRETS_VOLUME_DIR}:ro" in svc.get("volumes", []), name
        assert svc["depends_on"].get("secrets") or svc["depends_on"].get("airflow-init"), name


def test_named_volumes_hold_the_database_and_the_inbox_is_mounted(
    compose: dict, services: dict
) -> None:
    assert {"pgdata", "secrets", "airflow-logs"} <= set(compose["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16}"
    assert (
        "./docker/postgres/initdb.d:/docker-entrypoint-initdb.d:ro"
        in services["postgres"]["volumes"]
    )
    assert (ROOT / "data" / "inbox" / ".gitkeep").is_file()
    for name in ("airflow-scheduler", "airflow-worker"):
        assert (
            "${SEGWISE_INBOX_DIR:-./data/inbox}:/opt/segwise/data/inbox"
            in services[name]["volumes"]
        )


def test_dag_runs_without_a_manual_step(services: dict) -> None:
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_every_compose_setting_is_listed_in_env_example() -> None:
    used = {m.group("name") for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text())}
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert used - listed == set(), "settings missing from .env.example"
    assert {s.env for s in segwise_secrets.SECRETS} <= listed


def test_env_example_commits_no_secret_value() -> None:
    secret_names = {s.env for s in segwise_secrets.SECRETS}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.match(r"^\s*([A-Z][A-Z0-9_]*)=(.*)$", line)  # uncommented assignments
        if m and m.group(1) in secret_names:
            pytest.fail(f".env.example sets {m.group(1)}: secrets stay commented out")
        m = re.match(r"^#\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m and m.group(1) in secret_names:
            assert m.group(2).strip() == "", f"{m.group(1)} has an example value"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


# --- Dockerfile --------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_base_image_is_a_build_arg_with_the_official_default() -> None:
    ins = _instructions()
    first_from = next(i for i, (w, _) in enumerate(ins) if w == "FROM")
    assert ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm") in ins[:first_from]
    froms = [rest for w, rest in ins if w == "FROM"]
    assert len(froms) >= 2, "multi-stage: build stage + runtime stage"
    assert all(f.split()[0] == "${BASE_IMAGE}" for f in froms), froms


def test_dockerfile_runs_as_non_root_and_installs_pinned_airflow() -> None:
    ins = _instructions()
    final = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM") :]
    users = [rest for w, rest in final if w == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    runs = " ".join(rest for w, rest in ins if w == "RUN")
    assert "--constraint constraints.txt '.[airflow]'" in runs
    text = DOCKERFILE.read_text()
    # The offline CA trick belongs to the test harness's stand-in base image only.
    assert "PIP_CERT" not in text and "pip-ca" not in text and "ca-certificates.crt" not in text


def test_no_secret_literal_in_dockerfile() -> None:
    for word, rest in _instructions():
        if word in ("ENV", "ARG", "LABEL"):
            for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_.]*)=", rest):
                if not PATH_SETTING.search(m.group(1)):
                    assert not SECRET_WORDS.search(m.group(1)), f"{word} {rest}"


def test_dockerignore_is_a_whitelist_that_covers_every_copy() -> None:
    lines = [
        ln.strip()
        for ln in (ROOT / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "*", "whitelist: .env, data/ and .git never reach the build context"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    for word, rest in _instructions():
        if word == "COPY" and "--from=" not in rest:
            for src in rest.split()[:-1]:
                assert src in allowed or src.split("/")[0] in allowed, f"COPY {src} is ignored"
                assert (ROOT / src).exists() or src in ("dags",), f"COPY {src}: missing"


def test_constraints_agree_with_pyproject_pins() -> None:
    """docker/constraints.txt pins the image's transitive versions; it must not contradict
    pyproject.toml (that would make the image build fail)."""

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["airflow"]
    pins = {}
    for req in wanted:
        m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^;\s]+)", req)
        assert m, f"unpinned dependency {req!r}"
        pins[norm(m.group(1))] = m.group(3)
    locked = {}
    for line in (ROOT / "docker" / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, ver = line.split("==", 1)
            locked[norm(name)] = ver.strip()
    # A pin missing from the lock still installs (pip resolves it and its dependencies freely,
    # refresh the lock to pin those too); a contradicting one breaks the image build.
    stale = {n: (v, locked[n]) for n, v in pins.items() if n in locked and locked[n] != v}
    assert not stale, f"docker/constraints.txt contradicts pyproject.toml {stale}: run " + (
        "docker/update-constraints.sh after `make install`"
    )
    assert len(set(pins) & set(locked)) >= len(pins) // 2, "constraints.txt looks unrelated"


def test_scripts_are_executable() -> None:
    for path in [
        ROOT / "scripts" / "generate-secrets",
        ROOT / "docker" / "entrypoint.sh",
        ROOT / "docker" / "airflow-init.sh",
        ROOT / "docker" / "postgres" / "initdb.d" / "10-segwise.sh",
        ROOT / "docker" / "offline" / "build-base-images.sh",
    ]:
        assert path.stat().st_mode & stat.S_IXUSR, f"{path} is not executable"


def test_output_folders_are_given_to_the_containers_user_before_airflow_starts(
    services: dict,
) -> None:
    """The DAG writes ./reports and ./exports as AIRFLOW_UID; a fresh clone's folders (or the
    ones compose creates) belong to whoever cloned, so a root one-shot hands them over first."""
    init = services["outputs-init"]
    assert init["user"] == "0:0"
    script = " ".join(init["command"])
    assert 'chown "${AIRFLOW_UID:-50000}:0"' in script
    mounts = [v.split(":")[-1] for v in init["volumes"]]
    assert mounts == ["/opt/segwise/data/reports", "/opt/segwise/data/exports"]
    assert services["airflow-init"]["depends_on"]["outputs-init"] == {
        "condition": "service_completed_successfully"
    }
    for name, svc in services.items():
        if name != "outputs-init":
            assert str(svc.get("user", "")).split(":")[0] not in ("0", "root"), name
