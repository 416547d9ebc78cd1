#!/usr/bin/env python3
"""Bring the compose stack up (or down) the way a newcomer expects: one command, any machine.

  scripts/stack.py up              (make up)     start the stack, wait for the first published run
  scripts/stack.py down            (make down)   remove the containers; data and secrets are kept
  scripts/stack.py down --volumes  (make clean)  remove the containers and the volumes (all data)

`up` is what `docker compose up -d` does on a machine with an image registry, plus what a fresh
machine needs around it:

1. finds `docker compose` (v2 plugin) or `docker-compose` (1.29): the same compose file serves both;
2. checks that an engine answers and, if none does, says how to start one;
3. makes sure the base images are there: present, or pulled; if the registry cannot be reached it
   builds local stand-ins from Debian packages (docker/offline/build-base-images.sh) and records
   them in `.env`, so later plain `docker compose` commands use them too;
4. builds the segwise image and starts the stack, printing progress until every service is
   healthy and the `customer_segmentation` DAG's first run has published the marts;
5. prints the UI address, how to read the admin password, and the BI connection.

Standard library only (runs before `make install`), Python 3.9+. Settings come from the
environment and `.env`, as compose reads them; `SEGWISE_UP_TIMEOUT` (seconds, default 2400)
bounds the wait. Exit status 0 on success, 1 when the stack does not come up, 2 when something
on the machine is missing (the message says what to do).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
COMPOSE_FILE = ROOT / "docker-compose.yml"
OFFLINE_SCRIPT = ROOT / "docker" / "offline" / "build-base-images.sh"
DAG_ID = "customer_segmentation"
SECRETS_TOOL = "/opt/segwise/app/docker/segwise_secrets.py"
OFFLINE_MARK = "# make up: no image registry answered"

# Base images: setting -> (default as in docker-compose.yml, the profile that needs it or None).
BASE_IMAGES = {
    "BASE_IMAGE": ("python:3.11-slim-bookworm", None),
    "POSTGRES_IMAGE": ("postgres:16", None),
    "REDIS_IMAGE": ("redis:7.2-bookworm", "celery"),
}
ONE_SHOTS = {"secrets", "outputs-init", "airflow-init"}

# Addresses printed for optional profiles: profile -> (service, container port, label).
# Hook for a dashboard profile: when COMPOSE_PROFILES includes the profile and the service
# publishes that port, `up` prints its address. Adjust the service/port here if they change.
PROFILE_ADDRESSES = {
    "bi": ("superset", 8088, "BI dashboard"),
}


class StackError(Exception):
    """Something the user has to act on; the message says what. ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def say(message: str) -> None:
    print(f"segwise: {message}", flush=True)


# --- settings -----------------------------------------------------------------------------------
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose `.env` (comments and blank lines skipped, quotes removed)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ENV_LINE.match(line)
        if not m:
            continue
        value = m.group("value").strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[m.group("key")] = value
    return values


def setting(name: str, default: str = "") -> str:
    """A setting as compose resolves it: the environment wins over `.env`."""
    if name in os.environ:
        return os.environ[name]
    return read_env_file(ENV_FILE).get(name, default)


def active_profiles() -> list[str]:
    return [p.strip() for p in setting("COMPOSE_PROFILES").split(",") if p.strip()]


def all_profiles() -> list[str]:
    """Every profile named in the compose file (read as text: PyYAML may not be installed)."""
    found: list[str] = []
    for m in re.finditer(r"profiles:\s*\[([^\]]*)\]", COMPOSE_FILE.read_text(encoding="utf-8")):
        for name in m.group(1).split(","):
            name = name.strip().strip("'\"")
            if name and name not in found:
                found.append(name)
    return found


# --- the machine --------------------------------------------------------------------------------
def _capture(cmd: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except FileNotFoundError:
        return subprocess.CompletedProcess(cmd, 127, "", f"{cmd[0]}: not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", f"{' '.join(cmd)}: timed out")


def find_compose() -> list[str]:
    """`docker compose` if the v2 plugin is installed, else `docker-compose`.

    Without the plugin, Docker 28 does not fail on `docker compose ...` the way one would hope:
    `docker compose version` may print the engine's version, so the output is checked too.
    """
    if shutil.which("docker") is None:
        raise StackError(
            "`docker` is not installed. Install Docker Engine (Debian/Ubuntu: "
            "`sudo apt-get install docker.io docker-compose`; elsewhere: "
            "https://docs.docker.com/engine/install/), then run `make up` again.",
            2,
        )
    v2 = _capture(["docker", "compose", "version"])
    if v2.returncode == 0 and "compose" in v2.stdout.lower():
        return ["docker", "compose"]
    v1 = _capture(["docker-compose", "version", "--short"])
    if v1.returncode == 0:
        return ["docker-compose"]
    raise StackError(
        "neither `docker compose` (the v2 plugin) nor `docker-compose` is installed. "
        "Install one: Debian/Ubuntu `sudo apt-get install docker-compose` (1.29) or the "
        "`docker-compose-plugin` package from Docker's repository; then run `make up` again.",
        2,
    )


def check_engine() -> str:
    """The engine's version; a StackError saying how to start one when none answers."""
    info = _capture(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30)
    version = info.stdout.strip()
    if info.returncode == 0 and version:
        return version
    detail = (info.stderr.strip().splitlines() or ["no answer"])[-1]
    if "permission denied" in info.stderr.lower():
        hint = (
            "your user may not talk to the engine: run `sudo make up`, or add yourself to the "
            "`docker` group (`sudo usermod -aG docker $USER`, then log in again)"
        )
    else:
        hint = (
            "start one: `sudo systemctl start docker` (systemd), or open Docker Desktop, or "
            "without systemd `sudo dockerd > /tmp/dockerd.log 2>&1 &` and wait until "
            "`docker info` answers"
        )
    raise StackError(f"no Docker engine answers `docker info` ({detail}); {hint}.", 2)


# --- images -------------------------------------------------------------------------------------
def _image_present(ref: str) -> bool:
    return _capture(["docker", "image", "inspect", ref]).returncode == 0


def _pull(ref: str) -> bool:
    say(f"pulling {ref}")
    return _capture(["docker", "pull", "-q", ref], timeout=900).returncode == 0


def ensure_base_images() -> dict[str, str]:
    """Settings for base images to pass to compose: none when present or pullable, else stand-ins.

    An image named in the environment or `.env` that is missing and cannot be pulled is an error
    (the user chose it); a missing default is replaced by the Debian-built stand-in.
    """
    profiles = active_profiles()
    unpullable: list[str] = []
    for name, (default, profile) in BASE_IMAGES.items():
        if profile and profile not in profiles:
            continue
        ref = setting(name) or default
        if _image_present(ref) or _pull(ref):
            continue
        if setting(name):
            raise StackError(
                f"{name}={ref} (from the environment or .env) is not on this machine and cannot "
                f"be pulled. Pull or build it, or remove {name} to use the default.",
                2,
            )
        unpullable.append(name)
    if not unpullable:
        return {}
    say(
        f"cannot pull {', '.join(BASE_IMAGES[n][0] for n in unpullable)}: no image registry "
        "answers. Building local stand-ins from Debian packages instead (docker/offline; "
        "first time about 2-4 minutes)."
    )
    return build_stand_ins(unpullable)


def build_stand_ins(names: list[str]) -> dict[str, str]:
    if shutil.which("debootstrap") is None:
        raise StackError(
            "building the stand-in base images needs debootstrap: "
            "`sudo apt-get install debootstrap`, then run `make up` again (or make the official "
            "images available with `docker pull` / `docker load`).",
            2,
        )
    if os.geteuid() != 0:
        raise StackError(
            "building the stand-in base images runs debootstrap, which needs root: run "
            "`sudo make up` (or, once, `sudo docker/offline/build-base-images.sh`).",
            2,
        )
    proc = subprocess.Popen(
        ["bash", str(OFFLINE_SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None and proc.stdout is not None
    for line in proc.stderr:  # the script logs its steps to stderr, results to stdout
        print(f"  {line.rstrip()}", flush=True)
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise StackError(f"{OFFLINE_SCRIPT.relative_to(ROOT)} failed (see above).")
    built = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    # The script names the Python stand-in after what it is; compose's setting is BASE_IMAGE.
    built["BASE_IMAGE"] = built["PYTHON_IMAGE"]
    chosen = {name: built[name] for name in names}
    record_stand_ins(chosen)
    return chosen


def record_stand_ins(chosen: dict[str, str]) -> None:
    """Write the stand-ins into `.env` so plain `docker compose` commands use them as well."""
    lines = ENV_FILE.read_text(encoding="utf-8").splitlines() if ENV_FILE.exists() else []
    lines = [ln for ln in lines if not any(ln.startswith(f"{n}=") for n in chosen)]
    if OFFLINE_MARK not in "\n".join(lines):
        lines += [""] if lines else []
        lines += [
            f"{OFFLINE_MARK}, so these base images are local stand-ins",
            "# built from Debian packages (docker/offline). Remove these lines (and `make clean`:",
            "# the stand-in is PostgreSQL 15) to use the official images.",
        ]
    lines += [f"{name}={ref}" for name, ref in chosen.items()]
    ENV_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    say(f"recorded {', '.join(f'{k}={v}' for k, v in chosen.items())} in .env")


# --- compose ------------------------------------------------------------------------------------
class Compose:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command = command
        self.env = {**os.environ, **env}

    @property
    def shown(self) -> str:
        """How the user types it, for the printed instructions."""
        return " ".join(self.command)

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return _capture([*self.command, *args], timeout=timeout, cwd=ROOT, env=self.env)

    def stream(self, *args: str, keep=None) -> None:
        """Run, printing the lines ``keep`` accepts (all if None); the tail of all on failure."""
        proc = subprocess.Popen(
            [*self.command, *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        tail: list[str] = []
        shown_at = time.monotonic()
        for line in proc.stdout:
            line = line.rstrip()
            tail = (tail + [line])[-40:]
            if keep is None or keep(line):
                print(f"  {line[:110]}", flush=True)
                shown_at = time.monotonic()
            elif line.strip() and time.monotonic() - shown_at > 20:
                # A long step (pip installing Airflow) prints a sample line now and then.
                print(f"    ... {line.strip()[:100]}", flush=True)
                shown_at = time.monotonic()
        if proc.wait() != 0:
            raise StackError(
                f"`{self.shown} {' '.join(args)}` failed:\n" + "\n".join(f"  {t}" for t in tail)
            )

    def states(self) -> dict[str, str]:
        """service -> healthy / starting / unhealthy / running / exited N, for this project."""
        ids = self.run("ps", "-a", "-q").stdout.split()
        if not ids:
            return {}
        fmt = '{{index .Config.Labels "com.docker.compose.service"}}|{{json .State}}'
        out = _capture(["docker", "inspect", "--format", fmt, *ids]).stdout
        states: dict[str, str] = {}
        for line in out.splitlines():
            service, _, raw = line.partition("|")
            state = json.loads(raw)
            if state.get("Health"):
                states[service] = state["Health"]["Status"]
            elif state["Status"] == "exited":
                states[service] = f"exited {state['ExitCode']}"
            else:
                states[service] = state["Status"]
        return states

    def port(self, service: str, container_port: int) -> str | None:
        """Published host:port of a service, or None."""
        out = self.run("port", service, str(container_port)).stdout.strip()
        return out.splitlines()[0] if out else None

    def secret(self, name: str) -> str:
        proc = self.run("exec", "-T", "airflow-apiserver", "python", SECRETS_TOOL, "show", name)
        if proc.returncode != 0:
            raise StackError(f"cannot read {name} from the stack: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def psql(self, query: str) -> str | None:
        """One value-per-line result from the warehouse, as the superuser inside its container."""
        proc = self.run(
            "exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "segwise", "-tA", "-F", "|",
            "-c", query,
        )  # fmt: skip
        return proc.stdout.strip() if proc.returncode == 0 else None


_BUILD_PROGRESS = re.compile(
    r"^(Step \d+/\d+ :|#\d+ \[.*\]|Successfully built [0-9a-f]{12}$|Successfully tagged )"
)


def _ready(name: str, state: str) -> bool:
    return state == "healthy" or (name in ONE_SHOTS and state == "exited 0")


def _summary(states: dict[str, str]) -> str:
    waiting = [f"{n} ({s})" for n, s in sorted(states.items()) if not _ready(n, s)]
    ready = len(states) - len(waiting)
    head = f"{ready}/{len(states)} ready"
    return head + (f", waiting for {', '.join(waiting)}" if waiting else "")


def wait_healthy(compose: Compose, deadline: float) -> None:
    """Until every service is healthy or, for a one-shot, exited 0; print each change."""
    last = ""
    while True:
        states = compose.states()
        failed = {
            n: s
            for n, s in states.items()
            if (s.startswith("exited") and s != "exited 0") or s == "unhealthy"
        }
        if failed:
            name = sorted(failed)[0]
            logs = compose.run("logs", "--no-color", "--tail", "30", name).stdout
            raise StackError(
                f"service {name} is {failed[name]}. Its last log lines:\n{logs}\n"
                f"More: `{compose.shown} logs {name}`."
            )
        summary = _summary(states)
        if summary != last:
            say(f"services {summary}")
            last = summary
        if states and all(_ready(n, s) for n, s in states.items()):
            return
        if time.monotonic() > deadline:
            raise StackError(f"the stack is not healthy in time: {summary}")
        time.sleep(5)


class Api:
    """The Airflow REST API on the published port, as the admin user."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base
        self.user = user
        self.password = password
        self.token: str | None = None

    def get(self, path: str) -> dict:
        if self.token is None:
            self.token = self._call(
                "POST", "/auth/token", {"username": self.user, "password": self.password}
            )["access_token"]
        return self._call("GET", path)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (local API)
            return json.loads(resp.read() or b"{}")


def published_run(compose: Compose) -> tuple[str, str, int] | None:
    """(run id, as-of date, customers) of the run the marts show, or None before the first."""
    row = compose.psql(
        "SELECT run_id, as_of_date, (SELECT count(*) FROM mart.customer_segments) "
        "FROM mart.runs WHERE is_latest"
    )
    if not row:
        return None
    run_id, as_of, customers = row.splitlines()[0].split("|")
    return run_id, as_of, int(customers)


def run_progress(compose: Compose, api: Api) -> str:
    """One line on the DAG's newest run; a StackError when it failed."""
    try:
        runs = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns?order_by=-run_after&limit=1")
        if not runs.get("dag_runs"):
            return "waiting for the scheduler to start the first run"
        run = runs["dag_runs"][0]
        quoted = urllib.parse.quote(run["dag_run_id"], safe="")
        tasks = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=100")
    except (OSError, KeyError, ValueError) as exc:  # URLError/HTTPError are OSErrors
        return f"waiting for the Airflow API ({exc})"
    tis = tasks.get("task_instances", [])
    done = sum(t["state"] in ("success", "skipped") for t in tis)
    running = Counter(t["task_id"] for t in tis if t["state"] == "running")
    failed = sorted(t["task_id"] for t in tis if t["state"] in ("failed", "upstream_failed"))
    if run["state"] == "failed" or failed:
        raise StackError(
            f"the first run {run['dag_run_id']} failed (tasks: {', '.join(failed)}). "
            "Open the Airflow UI for the task logs, or "
            f"`{compose.shown} logs airflow-scheduler`."
        )
    progress = f"first run {run['state']}: {done}/{len(tis)} tasks done"
    names = [f"{t} x{n}" if n > 1 else t for t, n in sorted(running.items())]
    return progress + (f", running {', '.join(names)}" if names else "")


def wait_first_run(compose: Compose, api: Api, deadline: float) -> tuple[str, str, int]:
    """Until a published run is in the marts, printing the DAG run's task progress."""
    last = ""
    while True:
        found = published_run(compose)
        if found:
            return found
        progress = run_progress(compose, api)
        if progress != last:
            say(progress)
            last = progress
        if time.monotonic() > deadline:
            raise StackError(f"no published run in time ({progress})")
        time.sleep(10)


# --- commands -----------------------------------------------------------------------------------
def up() -> int:
    t0 = time.monotonic()
    deadline = t0 + float(setting("SEGWISE_UP_TIMEOUT", "2400"))
    command = find_compose()
    version = check_engine()
    say(f"Docker engine {version}, compose command `{' '.join(command)}`")
    images = ensure_base_images()
    compose = Compose(command, images)
    say("building the segwise image (first time: several minutes)")
    # Every Airflow service and `secrets` share one image: building it once for one service is
    # enough (compose 1.29 would otherwise run the same build once per service).
    compose.stream("build", "secrets", keep=_BUILD_PROGRESS.match)
    say("starting the stack")
    compose.stream("up", "-d")
    wait_healthy(compose, deadline)
    say(f"all services healthy after {time.monotonic() - t0:.0f} s")

    ui = compose.port("airflow-apiserver", 8080)
    if ui is None:
        raise StackError("airflow-apiserver publishes no port (AIRFLOW_PORT?)")
    ui_url = "http://" + ui.replace("127.0.0.1", "localhost").replace("0.0.0.0", "localhost")
    user = setting("AIRFLOW_ADMIN_USER", "admin")
    # -T: works in a terminal and in scripts (`PASSWORD=$(...)`) alike.
    show = f"{compose.shown} exec -T airflow-apiserver python {SECRETS_TOOL} show"
    if setting("SEGWISE_SCHEDULE").strip().lower() == "none" and published_run(compose) is None:
        say("SEGWISE_SCHEDULE=none: no run starts by itself; trigger one in the UI.")
        run = None
    else:
        api = Api(f"http://{ui}", user, compose.secret("AIRFLOW_ADMIN_PASSWORD"))
        run = wait_first_run(compose, api, deadline)
    elapsed = time.monotonic() - t0

    wh_port = (compose.port("postgres", 5432) or "?").rpartition(":")[2]
    lines = ["", f"segwise is up ({elapsed:.0f} s)."]
    if run:
        lines.append(f"  First run published: run {run[0]}, as of {run[1]}, {run[2]} customers.")
    lines += [
        f"  Airflow UI:     {ui_url}  (user {user})",
        f"  Admin password: {show} AIRFLOW_ADMIN_PASSWORD",
        f"  BI connection:  host localhost, port {wh_port}, database segwise, user segwise_bi "
        "(read-only, schema mart)",
        f"  BI password:    {show} SEGWISE_BI_PASSWORD",
    ]
    for profile, (service, port, label) in PROFILE_ADDRESSES.items():
        if profile in active_profiles():
            address = compose.port(service, port)
            where = (
                f"http://{address.replace('127.0.0.1', 'localhost')}"
                if address
                else (f"not published (service {service}, port {port})")
            )
            lines.append(f"  {label + ':':<15} {where}")
    lines += [
        "  Stop:           make down (keeps data); make clean (deletes data and secrets)",
        "",
    ]
    print("\n".join(lines), flush=True)
    return 0


def down(volumes: bool) -> int:
    command = find_compose()
    check_engine()
    compose = Compose(command, {})
    args = [arg for p in all_profiles() for arg in ("--profile", p)]
    args += ["down", "--remove-orphans"]
    if volumes:
        args.append("--volumes")
    say(
        "removing the stack and its volumes (database, secrets, logs)"
        if volumes
        else "removing the stack's containers (volumes kept: `make clean` deletes them)"
    )
    compose.stream(*args)
    say("done")
    return 0


def main(argv: list[str]) -> int:
    try:
        if argv == ["up"]:
            return up()
        if argv in (["down"], ["down", "--volumes"], ["down", "-v"]):
            return down(volumes=len(argv) == 2)
    except StackError as exc:
        print(f"segwise: error: {exc}", file=sys.stderr, flush=True)
        return exc.status
    except KeyboardInterrupt:
        print("segwise: interrupted; the stack keeps running (`make down` stops it)", flush=True)
        return 130
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
