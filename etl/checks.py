"""Freshness and volume warnings: signs that the data feeding a run look wrong, without blocking
its publication (the data-quality gate in ``etl.quality`` is what blocks).

Three checks, one SQL file each in ``sql/checks/``, returning ``(subject, observed, expected,
warn)`` rows: no new orders for N days, the as-of date's order lines far outside the recent daily
range, a segment's share of customers moving more than X points since the previous published run.
Thresholds come from the environment (``WatchThresholds.from_env``), defaults below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from etl.db import connect
from etl.errors import ConfigurationError, SegwiseError
from etl.paths import read_sql

CHECKS = ("freshness", "volume", "share_shift")


@dataclass(frozen=True)
class WatchThresholds:
    stale_days: int = 3  # warn when the newest order is older than this many days
    volume_window_days: int = 28  # the recent range: daily line counts over this window
    volume_factor: float = 3.0  # warn below min / factor or above max * factor
    volume_min_days: int = 7  # no volume verdict with fewer days of history
    share_points: float = 10.0  # warn when a segment's share moves more than this

    ENV = {
        "stale_days": "SEGWISE_WARN_STALE_DAYS",
        "volume_window_days": "SEGWISE_WARN_VOLUME_WINDOW_DAYS",
        "volume_factor": "SEGWISE_WARN_VOLUME_FACTOR",
        "volume_min_days": "SEGWISE_WARN_VOLUME_MIN_DAYS",
        "share_points": "SEGWISE_WARN_SHARE_POINTS",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WatchThresholds:
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for field, name in cls.ENV.items():
            raw = (env.get(name) or "").strip()
            if not raw:
                continue
            kind = type(getattr(cls, field))
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{name}={raw!r}: use a number") from None
            lowest = 1 if field == "volume_factor" else 0
            if value <= 0 or value < lowest:
                raise ConfigurationError(f"{name}={raw!r}: must be above 0 (a factor at least 1)")
            values[field] = value
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class WatchResult:
    check: str
    subject: str
    observed: str
    expected: str
    warn: bool

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.observed}, expected {self.expected}"


def run_watch(
    url: str, run_id: int, thresholds: WatchThresholds | None = None
) -> list[WatchResult]:
    """Every watch check's rows for a run (read-only, one snapshot); ``warn`` marks a warning."""
    t = thresholds or WatchThresholds()
    out: list[WatchResult] = []
    with connect(url) as conn:
        conn.read_only = True
        conn.isolation_level = 3  # REPEATABLE READ: one snapshot for all checks
        row = conn.execute(
            "SELECT as_of_date FROM segmentation.runs WHERE run_id = %s", (run_id,)
        ).fetchone()
        if row is None:
            raise SegwiseError(f"segmentation run {run_id} does not exist")
        params = {
            "run_id": run_id,
            "as_of": row[0],
            "stale_days": t.stale_days,
            "window_days": t.volume_window_days,
            "factor": t.volume_factor,
            "min_days": t.volume_min_days,
            "points": t.share_points,
        }
        for check in CHECKS:
            for subject, observed, expected, warn in conn.execute(
                read_sql(f"checks/{check}.sql"), params
            ):
                out.append(WatchResult(check, subject, observed, expected, bool(warn)))
        conn.rollback()
    return out


def warnings(url: str, run_id: int, thresholds: WatchThresholds | None = None) -> list[WatchResult]:
    """Only the rows that warn."""
    return [w for w in run_watch(url, run_id, thresholds) if w.warn]
