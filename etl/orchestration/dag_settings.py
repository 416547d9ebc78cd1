"""The DAG's settings, all from environment variables (docker compose's ``.env``), validated.

Two groups, read at different times: ``DagSettings`` when the DAG file is parsed (schedule,
retries: they shape the DAG), ``SourceSettings`` when a task runs (where data comes from: so a
worker's environment decides, and a change needs no re-parse). A bad value raises
ConfigurationError naming the variable; at parse time that shows as the DAG's import error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from etl.errors import ConfigurationError

WAREHOUSE_CONN_ID = "warehouse"
SOURCES = ("demo", "inbox", "database")
DEFAULT_SCHEDULE = "@daily"
DEFAULT_START_DATE = date(2024, 1, 1)
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY_S = 30

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d)\s*$", re.IGNORECASE)
_DURATION_UNIT = {"s": "seconds", "sec": "seconds", "m": "minutes", "min": "minutes"}
_DURATION_UNIT |= {"h": "hours", "d": "days"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() != "" else None


def parse_schedule(value: str | None) -> str | timedelta | None:
    """``SEGWISE_SCHEDULE``: a cron expression or preset (``@daily``), a duration (``30s``,
    ``15m``, ``2h``, ``1d``) for a fixed interval, or ``none`` for manual runs only."""
    if value is None:
        return DEFAULT_SCHEDULE
    if value.lower() in ("none", "manual", "off"):
        return None
    m = _DURATION.match(value)
    if m:
        amount, unit = int(m.group(1)), m.group(2).lower()
        if amount <= 0:
            raise ConfigurationError(f"SEGWISE_SCHEDULE={value!r}: a duration must be positive")
        return timedelta(**{_DURATION_UNIT.get(unit, "days"): amount})
    if value.startswith("@") or len(value.split()) in (5, 6):
        return value
    raise ConfigurationError(
        f"SEGWISE_SCHEDULE={value!r} is not a schedule: use a cron expression ('0 2 * * *'), "
        "a preset ('@daily'), a duration ('30s', '15m', '2h', '1d') or 'none'"
    )


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigurationError(f"{name}={value!r}: use true or false")


def parse_int(name: str, value: str | None, default: int, *, minimum: int = 0) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: use a whole number") from None
    if number < minimum:
        raise ConfigurationError(f"{name}={value!r}: must be at least {minimum}")
    return number


def parse_date(name: str, value: str | None, default: date) -> date:
    if value is None:
        return default
    from etl.dates import parse_date as parse_text

    try:
        return parse_text(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: use a date YYYY-MM-DD") from None


@dataclass(frozen=True)
class DagSettings:
    """What shapes the DAG itself (read when the DAG file is parsed)."""

    schedule: str | timedelta | None
    catchup: bool
    start_date: datetime
    retries: int
    retry_delay: timedelta
    default_source: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DagSettings:
        env = os.environ if env is None else env
        start = parse_date(
            "SEGWISE_START_DATE", _get(env, "SEGWISE_START_DATE"), DEFAULT_START_DATE
        )
        source = _get(env, "SEGWISE_SOURCE") or "demo"
        if source not in SOURCES:
            raise ConfigurationError(f"SEGWISE_SOURCE={source!r}: choose from {', '.join(SOURCES)}")
        return cls(
            schedule=parse_schedule(_get(env, "SEGWISE_SCHEDULE")),
            catchup=parse_bool("SEGWISE_CATCHUP", _get(env, "SEGWISE_CATCHUP"), False),
            start_date=datetime(start.year, start.month, start.day, tzinfo=UTC),
            retries=parse_int("SEGWISE_RETRIES", _get(env, "SEGWISE_RETRIES"), DEFAULT_RETRIES),
            retry_delay=timedelta(
                seconds=parse_int(
                    "SEGWISE_RETRY_DELAY", _get(env, "SEGWISE_RETRY_DELAY"), DEFAULT_RETRY_DELAY_S
                )
            ),
            default_source=source,
        )


@dataclass(frozen=True)
class SourceSettings:
    """Where a run's data comes from (read in the worker when the task runs)."""

    inbox: Path
    default_layout: str | None
    mapping: Path | None
    source_url: str | None
    source_query: str | None
    watermark_column: str | None
    demo_seed: int
    demo_customers: int
    demo_history_days: int
    demo_dir: Path | None
    run_config: Path | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SourceSettings:
        env = os.environ if env is None else env
        inbox = _get(env, "SEGWISE_INBOX")
        mapping = _get(env, "SEGWISE_MAPPING")
        demo_dir = _get(env, "SEGWISE_DEMO_DIR")
        run_config = _get(env, "SEGWISE_RUN_CONFIG")
        return cls(
            inbox=Path(inbox) if inbox else _default_inbox(),
            default_layout=_get(env, "SEGWISE_LAYOUT"),
            mapping=Path(mapping) if mapping else None,
            source_url=_get(env, "SEGWISE_SOURCE_URL"),
            source_query=_get(env, "SEGWISE_SOURCE_QUERY"),
            watermark_column=_get(env, "SEGWISE_SOURCE_WATERMARK"),
            demo_seed=parse_int("SEGWISE_DEMO_SEED", _get(env, "SEGWISE_DEMO_SEED"), 42),
            demo_customers=parse_int(
                "SEGWISE_DEMO_CUSTOMERS", _get(env, "SEGWISE_DEMO_CUSTOMERS"), 5000, minimum=10
            ),
            demo_history_days=parse_int(
                "SEGWISE_DEMO_HISTORY_DAYS", _get(env, "SEGWISE_DEMO_HISTORY_DAYS"), 730, minimum=1
            ),
            demo_dir=Path(demo_dir) if demo_dir else None,
            run_config=Path(run_config) if run_config else None,
        )


def _default_inbox() -> Path:
    from etl.paths import project_root

    return project_root() / "data" / "inbox"


@dataclass(frozen=True)
class OutputSettings:
    """Where a run's report and segment exports go (read in the worker when the task runs)."""

    reports_dir: Path
    exports_dir: Path
    export_format: str
    export_methods: tuple[str, ...] | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutputSettings:
        from etl.export import FORMATS  # noqa: PLC0415

        env = os.environ if env is None else env
        reports = _get(env, "SEGWISE_REPORTS_DIR")
        exports = _get(env, "SEGWISE_EXPORTS_DIR")
        fmt = (_get(env, "SEGWISE_EXPORT_FORMAT") or "csv").lower()
        if fmt not in FORMATS:
            raise ConfigurationError(
                f"SEGWISE_EXPORT_FORMAT={fmt!r}: choose from {', '.join(FORMATS)}"
            )
        methods = _get(env, "SEGWISE_EXPORT_METHODS")
        return cls(
            reports_dir=Path(reports) if reports else _project_dir("reports"),
            exports_dir=Path(exports) if exports else _project_dir("exports"),
            export_format=fmt,
            export_methods=tuple(m for m in re.split(r"[,\s]+", methods) if m) if methods else None,
        )


def _project_dir(name: str) -> Path:
    from etl.paths import project_root  # noqa: PLC0415

    return project_root() / name
