"""What a published run leaves for people: its HTML report, its segment lists, and warnings.

Plain functions of (warehouse URL, run id) like ``tasks``; the DAG adds the Airflow parts (the
asset event, notifiers). Folders come from ``OutputSettings`` (env), one per run:
``<reports>/segwise-report-<as-of>-run<id>.html`` and ``<exports>/<as-of>-run<id>/`` holding one
file per segment and change list and a ``manifest.json`` written last.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from etl.db import connect
from etl.errors import SegwiseError
from etl.orchestration.dag_settings import OutputSettings

log = logging.getLogger(__name__)


def published(url: str, run_id: int) -> dict[str, Any]:
    """The published run's date and size, and whether the marts now show it. A run for an
    earlier as-of date than the latest published one is published (its own results, report
    and exports are kept), but ``mart.*`` keeps showing the latest date: say so in the log."""
    with connect(url) as conn:
        as_of, customers = conn.execute(
            "SELECT as_of_date, (row_counts ->> 'customers')::bigint "
            "FROM segmentation.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        latest_run, latest_as_of = conn.execute(
            "SELECT run_id, as_of_date FROM mart.runs WHERE is_latest"
        ).fetchone()
    shown = latest_run == run_id
    if shown:
        log.info("segmentation run %s (as of %s) is what the mart views show now", run_id, as_of)
    else:
        log.warning(
            "segmentation run %s for the past as-of date %s is published, but the mart views keep "
            "showing the latest as-of date %s (run %s); its report and exports are written as "
            "usual",
            run_id,
            as_of,
            latest_as_of,
            latest_run,
        )
    return {
        "segmentation_run": run_id,
        "as_of": as_of.isoformat(),
        "customers": customers,
        "shown_in_marts": shown,
        "marts_as_of": latest_as_of.isoformat(),
    }


def write_outputs(url: str, run_id: int, settings: OutputSettings | None = None) -> dict[str, Any]:
    """The run's HTML report and its export folder; returns where they are."""
    from etl import export  # noqa: PLC0415
    from etl.segment import report  # noqa: PLC0415

    settings = settings or OutputSettings.from_env()
    for variable, folder in (
        ("SEGWISE_REPORTS_DIR", settings.reports_dir),
        ("SEGWISE_EXPORTS_DIR", settings.exports_dir),
    ):
        _writable(variable, folder)
    with connect(url) as conn:
        (as_of,) = conn.execute(
            "SELECT as_of_date FROM segmentation.runs WHERE run_id = %s AND status = 'published'",
            (run_id,),
        ).fetchone()
    name = f"{as_of.isoformat()}-run{run_id}"
    report_path = Path(
        report.write_report(url, run_id, settings.reports_dir / f"segwise-report-{name}.html")
    )
    log.info("report of segmentation run %s: %s", run_id, report_path)
    folder = settings.exports_dir / name
    manifest = export.export_run(
        url, folder, run_id=run_id, methods=settings.export_methods, fmt=settings.export_format
    )
    log.info(
        "exports of segmentation run %s: %s (%s files, manifest %s)",
        run_id,
        folder,
        len(manifest["files"]),
        folder / export.MANIFEST,
    )
    return {
        "report": str(report_path),
        "exports": str(folder),
        "manifest": str(folder / export.MANIFEST),
        "files": len(manifest["files"]),
        "previous_run_id": manifest["previous_run_id"],
    }


def _writable(variable: str, folder: Path) -> None:
    """One readable error instead of a traceback deep in a writer."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SegwiseError(f"{variable}={folder}: cannot create it ({exc.strerror})") from exc
    if not os.access(folder, os.W_OK):
        raise SegwiseError(
            f"{variable}={folder} is not writable by uid {os.getuid()}: with docker compose set "
            "AIRFLOW_UID=$(id -u) in .env (or make the host folder writable)"
        )


def watch(url: str, run_id: int) -> list[str]:
    """Freshness / volume / segment-share warnings, logged; they never fail the run."""
    from etl import checks  # noqa: PLC0415

    found = checks.warnings(url, run_id, checks.WatchThresholds.from_env())
    for w in found:
        log.warning("data warning: %s", w)
    if not found:
        log.info("no data warnings for segmentation run %s", run_id)
    return [str(w) for w in found]
