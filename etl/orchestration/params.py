"""The DAG's run parameters: the trigger form's JSON schema, and the same rules again in Python.

Airflow validates conf against the form's schema when a run is created, but keys the schema does
not know pass straight through, and a run can be created by paths that skip the form; so the
first task validates everything again here and fails the run with one readable message that lists
every problem, before anything touches the warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from etl.dates import parse_date
from etl.errors import SegwiseError
from etl.orchestration.dag_settings import SOURCES
from etl.segment.run_config import METHODS

PARAM_NAMES = (
    "as_of",
    "source",
    "layout",
    "methods",
    "n_clusters",
    "refit_days",
    "full_quality_checks",
)
N_CLUSTERS_RANGE = (2, 20)
REFIT_DAYS_RANGE = (0, 366)
LAYOUT_PATTERN = r"^[a-z][a-z0-9_]*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def param_schemas(default_source: str = "demo") -> dict[str, dict[str, Any]]:
    """JSON schema (with the default under ``default``) for each trigger-form field."""
    lo, hi = N_CLUSTERS_RANGE
    return {
        "as_of": {
            "default": None,
            "type": ["null", "string"],
            # A plain text field: a date picker shows the browser's own format (mm/dd/yyyy in
            # some locales) and would contradict the help; the pattern keeps one format.
            "pattern": DATE_PATTERN,
            "title": "As-of date (YYYY-MM-DD)",
            "description": "Segment customers as of this date, inclusive; type it as YYYY-MM-DD "
            "(e.g. 2011-12-09). Empty: the run's data-interval end date, or today (UTC) for a "
            "manual run. A past date is segmented and published (report and exports too), but "
            "the mart views keep showing the latest as-of date.",
        },
        "source": {
            "default": default_source,
            "type": "string",
            "enum": list(SOURCES),
            "title": "Source",
            "description": "demo: the demo feed's orders for the as-of date (plus the demo "
            "history on an empty warehouse); inbox: new files in SEGWISE_INBOX; database: "
            "new rows from SEGWISE_SOURCE_URL / SEGWISE_SOURCE_QUERY.",
        },
        "layout": {
            "default": None,
            "type": ["null", "string"],
            "pattern": LAYOUT_PATTERN,
            "title": "Layout",
            "description": "Input layout (see `segwise layouts`); empty: SEGWISE_LAYOUT, or the "
            "mapping file in SEGWISE_MAPPING. The demo source always uses the segwise layout.",
        },
        "methods": {
            "default": list(METHODS),
            "type": "array",
            "items": {"type": "string", "enum": list(METHODS)},
            # `examples` makes the Airflow form render a multi-select of the known methods.
            "examples": list(METHODS),
            "minItems": 1,
            "uniqueItems": True,
            "title": "Segmentation methods",
            "description": "Pick one or more; each runs as its own task, in parallel.",
        },
        "n_clusters": {
            "default": None,
            "type": ["null", "integer"],
            "minimum": lo,
            "maximum": hi,
            "title": "Number of clusters",
            "description": f"k for kmeans and hierarchical ({lo}-{hi}); empty: chosen by "
            "silhouette.",
        },
        "refit_days": {
            "default": None,
            "type": ["null", "integer"],
            "minimum": REFIT_DAYS_RANGE[0],
            "maximum": REFIT_DAYS_RANGE[1],
            "title": "Refit clusters after (days)",
            "description": "kmeans and hierarchical reuse the latest published model (same "
            "settings) fitted fewer than this many days before the as-of date; 0: fit a new "
            "model on every run. Empty: the run config's clustering.refit_days (default 7).",
        },
        "full_quality_checks": {
            "default": False,
            "type": "boolean",
            "title": "Full data-quality checks",
            "description": "Reconcile every order line with the ledger, the orders and the "
            "features (quality: full), instead of reading the checks each load ran when it was "
            "built. Off: the run config's quality setting (default: the build-time record, "
            "with a full scan whenever something is unverified).",
        },
    }


def dag_params(default_source: str = "demo") -> dict[str, Any]:
    """``airflow.sdk.Param`` objects for ``@dag(params=...)`` (Airflow imported only here)."""
    from airflow.sdk import Param  # here: keep this module importable without Airflow

    out = {}
    for name, schema in param_schemas(default_source).items():
        schema = dict(schema)
        default = schema.pop("default")
        out[name] = Param(default, **schema)
    return out


@dataclass(frozen=True)
class RunParams:
    as_of: date
    source: str
    layout: str | None
    methods: tuple[str, ...]
    n_clusters: int | None
    refit_days: int | None = None
    full_quality_checks: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (XCom)."""
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["methods"] = list(self.methods)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunParams:
        return cls(
            as_of=parse_date(data["as_of"]),
            source=data["source"],
            layout=data.get("layout"),
            methods=tuple(data["methods"]),
            n_clusters=data.get("n_clusters"),
            refit_days=data.get("refit_days"),
            full_quality_checks=bool(data.get("full_quality_checks", False)),
        )


def default_as_of(
    *,
    data_interval_end: datetime | None = None,
    logical_date: datetime | None = None,
    run_after: datetime | None = None,
) -> date:
    """The run's data-interval end date; for a manual run without a logical date, the UTC date
    it was triggered for (``run_after``), so a retry next morning still uses the same date."""
    for moment in (data_interval_end, logical_date, run_after):
        if moment is not None:
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC)
            return moment.date()
    return datetime.now(UTC).date()


def check(
    raw: Mapping[str, Any],
    *,
    default_as_of: date,
    known_layouts: Iterable[str] | None = None,
    default_layout: str | None = None,
) -> tuple[RunParams, list[str]]:
    """The parameters as far as they could be read, and every problem found."""
    errors: list[str] = []
    unknown = sorted(set(raw) - set(PARAM_NAMES))
    if unknown:
        errors.append(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}: known are "
            f"{', '.join(PARAM_NAMES)}"
        )
    as_of = _as_of(raw.get("as_of"), default_as_of, errors)
    source = raw.get("source", "demo")
    if source not in SOURCES:
        errors.append(f"source {source!r} is not one of {', '.join(SOURCES)}")
    layout = _layout(raw.get("layout") or default_layout, known_layouts, errors)
    methods = _methods(raw.get("methods", list(METHODS)), errors)
    n_clusters = _n_clusters(raw.get("n_clusters"), errors)
    refit_days = _refit_days(raw.get("refit_days"), errors)
    full = raw.get("full_quality_checks", False)
    if full is None:
        full = False
    if not isinstance(full, bool):
        errors.append(f"full_quality_checks {full!r} is not true or false")
        full = False
    return RunParams(as_of, source, layout, methods, n_clusters, refit_days, full), errors


def raise_problems(errors: list[str]) -> None:
    if errors:
        raise SegwiseError(
            "invalid run parameters (nothing was written):\n" + "\n".join(f"- {e}" for e in errors)
        )


def _as_of(value: Any, default: date, errors: list[str]) -> date:
    if value is None or value == "":
        return default
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value.strip())
        except ValueError:
            pass
    errors.append(f"as_of {value!r} is not a date: use YYYY-MM-DD (e.g. 2011-12-09) or leave empty")
    return default


def _layout(value: Any, known: Iterable[str] | None, errors: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.match(LAYOUT_PATTERN, value):
        errors.append(f"layout {value!r} is not a layout name (lower-case letters, digits, _)")
        return None
    if known is not None:
        known = sorted(known)
        if value not in known:
            errors.append(f"layout {value!r} is unknown: choose from {', '.join(known)}")
    return value


def _methods(value: Any, errors: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [m for m in re.split(r"[,\s]+", value) if m]
    if not isinstance(value, list | tuple) or not value:
        errors.append(f"methods must be a non-empty list drawn from {', '.join(METHODS)}")
        return ()
    bad = [m for m in value if m not in METHODS]
    if bad:
        errors.append(f"unknown method(s) {bad}: choose from {', '.join(METHODS)}")
    dupes = sorted({m for m in value if isinstance(m, str) and value.count(m) > 1})
    if dupes:
        errors.append(f"method(s) listed twice: {', '.join(dupes)}")
    return tuple(m for m in METHODS if m in value)  # canonical order


def _n_clusters(value: Any, errors: list[str]) -> int | None:
    if value is None or value == "":
        return None
    lo, hi = N_CLUSTERS_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        errors.append(
            f"n_clusters {value!r} is out of range: use a whole number from {lo} to {hi}, or "
            "leave empty to choose k by silhouette"
        )
        return None
    return value


def _refit_days(value: Any, errors: list[str]) -> int | None:
    if value is None or value == "":
        return None
    lo, hi = REFIT_DAYS_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        errors.append(
            f"refit_days {value!r} is out of range: use a whole number of days from {lo} to {hi} "
            "(0 = fit the clusters on every run), or leave empty for the run config's"
        )
        return None
    return value
