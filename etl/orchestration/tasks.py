"""The DAG's task bodies, as plain functions of (warehouse URL, parameters).

No Airflow in here: the DAG file resolves the connection and the context and passes values, so
each stage can be run and tested without a scheduler. The stage modules (ingest, demo,
segmentation) are imported inside the functions, in the worker, to keep DAG parsing light.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from etl.errors import SegwiseError
from etl.orchestration import params as run_params
from etl.orchestration.dag_settings import SourceSettings

log = logging.getLogger(__name__)

DEMO_LAYOUT = "segwise"


def known_layouts() -> list[str]:
    from etl.ingest import layouts

    return sorted(layouts.available())


def validate_params(
    raw: Mapping[str, Any],
    *,
    default_as_of: date,
    settings: SourceSettings | None = None,
) -> dict[str, Any]:
    """First task: every parameter and the chosen source's settings, before any database work."""
    settings = settings or SourceSettings.from_env()
    p, problems = run_params.check(
        raw,
        default_as_of=default_as_of,
        known_layouts=known_layouts(),
        default_layout=settings.default_layout if raw.get("source") != "demo" else None,
    )
    if p.source == "demo" and p.layout not in (None, DEMO_LAYOUT):
        problems.append(f"the demo source always uses the {DEMO_LAYOUT!r} layout, not {p.layout!r}")
    if p.source == "inbox" and not settings.inbox.is_dir():
        problems.append(
            f"inbox folder {settings.inbox} does not exist: create it or set SEGWISE_INBOX"
        )
    if p.source == "database":
        missing = [
            name
            for name, value in (
                ("SEGWISE_SOURCE_URL", settings.source_url),
                ("SEGWISE_SOURCE_QUERY", settings.source_query),
                ("SEGWISE_SOURCE_WATERMARK", settings.watermark_column),
            )
            if not value
        ]
        if missing:
            problems.append(f"source 'database' needs {', '.join(missing)} in the environment")
    if p.source in ("inbox", "database"):
        # The loader takes exactly one of a layout name or a mapping file.
        if p.layout and settings.mapping is not None:
            problems.append(
                f"source {p.source!r} got both layout {p.layout!r} and SEGWISE_MAPPING="
                f"{settings.mapping}: give a layout or a mapping file, not both"
            )
        elif not p.layout and settings.mapping is None:
            problems.append(
                f"source {p.source!r} needs a layout (param 'layout' or SEGWISE_LAYOUT; see "
                "`segwise layouts`) or a mapping file (SEGWISE_MAPPING)"
            )
    if settings.mapping is not None and not settings.mapping.is_file():
        problems.append(f"SEGWISE_MAPPING={settings.mapping} is not a file")
    if settings.run_config is not None and not settings.run_config.is_file():
        problems.append(f"SEGWISE_RUN_CONFIG={settings.run_config} is not a file")
    run_params.raise_problems(problems)
    if p.n_clusters is not None and not {"kmeans", "hierarchical"} & set(p.methods):
        log.warning("n_clusters=%s is ignored: no clustering method selected", p.n_clusters)
    return p.to_dict()


def migrate(url: str) -> str | None:
    from etl import migrate as migrations

    migrations.upgrade(url)
    return migrations.current_revision(url)


def _summary(result: Any) -> dict[str, Any]:
    data = asdict(result) if is_dataclass(result) else dict(vars(result))
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool | dict | None)}


def _warehouse_has_facts(url: str) -> bool:
    from etl.db import connect

    with connect(url) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM warehouse.fact_order_line)").fetchone()[0]


def extract_load(
    url: str, p: Mapping[str, Any], *, settings: SourceSettings | None = None
) -> dict[str, Any]:
    """Stage the run's new data (no warehouse build: that is the next task). Re-running is a
    no-op for data already in the ledger (same content hash / watermark)."""
    from etl import ingest

    settings = settings or SourceSettings.from_env()
    rp = run_params.RunParams.from_dict(p)
    if rp.source == "demo":
        results = _stage_demo(url, rp.as_of, settings)
    elif rp.source == "inbox":
        results = list(
            ingest.load_inbox(
                url, settings.inbox, layout=rp.layout, mapping=settings.mapping, build=False
            )
        )
    else:
        results = [
            ingest.load_query(
                url,
                settings.source_url,
                settings.source_query,
                watermark_column=settings.watermark_column,
                layout=rp.layout,
                mapping=settings.mapping,
                build=False,
            )
        ]
    summaries = [_summary(r) for r in results]
    for s in summaries:
        log.info("batch %s", s)
    failed = [s for s in summaries if s.get("status") == "failed"]
    if failed:
        raise SegwiseError(
            "load failed (the failed batches wrote nothing):\n"
            + "\n".join(f"- batch {s.get('batch_id')}: {s.get('message')}" for s in failed)
        )
    return {
        "batches": summaries,
        "staged_batch_ids": [s["batch_id"] for s in summaries if s.get("status") == "staged"],
    }


def _stage_demo(url: str, as_of: date, settings: SourceSettings) -> list[Any]:
    """The demo feed's orders for ``as_of``; on a warehouse without facts, first the demo history
    up to the day before, so the first run already has customers worth segmenting."""
    from etl import demo, ingest

    results = []
    with tempfile.TemporaryDirectory(prefix="segwise_demo_", dir=settings.demo_dir) as tmp:
        out = Path(tmp)
        if not _warehouse_has_facts(url):
            start = as_of - timedelta(days=settings.demo_history_days)
            end = as_of - timedelta(days=1)
            log.info("empty warehouse: generating the demo history %s..%s", start, end)
            paths = demo.generate(
                out / "history",
                seed=settings.demo_seed,
                customers=settings.demo_customers,
                start=start,
                end=end,
            )
            results.append(ingest.stage_paths(url, paths, layout=DEMO_LAYOUT))
        paths = demo.generate_day(
            out / "day", as_of, seed=settings.demo_seed, customers=settings.demo_customers
        )
        results.append(ingest.stage_paths(url, paths, layout=DEMO_LAYOUT))
    return results


def build_warehouse(url: str) -> dict[str, Any]:
    """Build every staged-but-not-built batch (this run's and any left by an earlier failure)."""
    from etl import ingest

    results = ingest.build_warehouse(url)
    summaries = [_summary(r) for r in (results or [])] if isinstance(results, list) else []
    for s in summaries:
        log.info("built %s", s)
    failed = [s for s in summaries if s.get("status") == "failed"]
    if failed:
        raise SegwiseError(
            "warehouse build failed:\n"
            + "\n".join(f"- batch {s.get('batch_id')}: {s.get('message')}" for s in failed)
        )
    return {"built": summaries}


def config_overrides(p: Mapping[str, Any]) -> dict[str, Any]:
    """The form's settings as segmentation config overrides (on top of SEGWISE_RUN_CONFIG)."""
    clustering: dict[str, Any] = {}
    if p.get("n_clusters") is not None:
        clustering["k"] = p["n_clusters"]
    if p.get("refit_days") is not None:
        clustering["refit_days"] = p["refit_days"]
    out: dict[str, Any] = {"clustering": clustering} if clustering else {}
    if p.get("full_quality_checks"):
        out["quality"] = "full"
    return out


def features(
    url: str,
    p: Mapping[str, Any],
    *,
    airflow_run_id: str | None = None,
    settings: SourceSettings | None = None,
) -> int:
    """Open a segmentation run (validated, locked per as-of date) and build its features."""
    from etl.segment import pipeline

    settings = settings or SourceSettings.from_env()
    run_id = pipeline.start_run(
        url,
        run_params.RunParams.from_dict(p).as_of,
        methods=list(p["methods"]),
        config=settings.run_config,
        trigger="airflow",
        params=config_overrides(p),
    )
    log.info("Airflow run %s works on segmentation run %s", airflow_run_id, run_id)
    try:
        customers = pipeline.build_features(url, run_id)
    except BaseException as exc:
        # A retry starts a new run: release this one's lock and delete its rows first.
        pipeline.fail_run(url, run_id, f"features: {type(exc).__name__}: {exc}")
        raise
    log.info("segmentation run %s: features for %s customers", run_id, customers)
    return run_id


def segment(url: str, run_id: int, method: str) -> None:
    from etl.segment import pipeline

    pipeline.run_method(url, run_id, method)


def profiles(url: str, run_id: int) -> None:
    from etl.segment import pipeline

    pipeline.build_profiles(url, run_id)


def quality_checks(url: str, run_id: int) -> list[dict[str, Any]]:
    from etl.segment import pipeline

    return [asdict(c) for c in pipeline.check_quality(url, run_id)]


def publish(url: str, run_id: int) -> None:
    from etl.segment import pipeline

    pipeline.publish(url, run_id)


def mark_failed(url: str, run_id: int | None, message: str) -> bool:
    """Record the failure on the segmentation run (its rows go, the published run stays)."""
    if run_id is None:
        log.info("no segmentation run was started: nothing to mark failed")
        return False
    from etl.segment import pipeline

    try:
        pipeline.fail_run(url, run_id, message)
    except SegwiseError as exc:  # e.g. it was published before a later step failed
        log.warning("segmentation run %s not marked failed: %s", run_id, exc)
        return False
    return True
