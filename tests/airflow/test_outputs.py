"""What a published run leaves, without a scheduler: report and exports folders, the past-date
note in the log, the freshness / volume / share warnings and their thresholds from env."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import checks, migrate
from etl.errors import ConfigurationError, SegwiseError
from etl.orchestration import outputs
from etl.orchestration.dag_settings import OutputSettings
from etl.segment import pipeline
from tests.airflow import small_warehouse
from tests.conftest import create_database, drop_database

END = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def runs() -> Iterator[tuple[str, dict[dt.date, int]]]:
    url = create_database("segwise_outputs")
    try:
        migrate.upgrade(url)
        small_warehouse.seed(url, customers=300, orders=4000, days=150, end=END)
        ids = {}
        for as_of in (dt.date(2026, 5, 31), END, dt.date(2026, 7, 20), dt.date(2026, 6, 15)):
            ids[as_of] = pipeline.run_all(url, as_of, methods="rfm,tiers", trigger="test")
        yield url, ids
    finally:
        drop_database(url)


def _settings(tmp_path: Path, **kw) -> OutputSettings:
    return OutputSettings(
        reports_dir=tmp_path / "reports",
        exports_dir=tmp_path / "exports",
        export_format=kw.get("fmt", "csv"),
        export_methods=kw.get("methods"),
    )


def test_outputs_land_in_one_folder_per_run(runs, tmp_path) -> None:
    url, ids = runs
    run = ids[END]
    where = outputs.write_outputs(url, run, _settings(tmp_path, fmt="parquet", methods=("rfm",)))
    assert Path(where["report"]) == tmp_path / "reports" / f"segwise-report-{END}-run{run}.html"
    assert Path(where["report"]).read_text().lstrip().lower().startswith("<!doctype html")
    folder = tmp_path / "exports" / f"{END}-run{run}"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["methods"] == ["rfm"] and manifest["format"] == "parquet"
    assert manifest["previous_run_id"] == ids[dt.date(2026, 5, 31)]
    assert {p.name for p in folder.iterdir()} == {"manifest.json"} | {
        f["file"] for f in manifest["files"]
    }
    assert where["files"] == len(manifest["files"]) > 0


def test_past_as_of_is_published_but_the_log_says_the_marts_show_the_latest(runs, caplog):
    url, ids = runs
    with caplog.at_level(logging.INFO, logger="etl.orchestration.outputs"):
        past = outputs.published(url, ids[dt.date(2026, 6, 15)])
        latest = outputs.published(url, ids[dt.date(2026, 7, 20)])
    assert past["shown_in_marts"] is False and past["marts_as_of"] == "2026-07-20"
    assert latest["shown_in_marts"] is True
    assert "the mart views keep showing the latest as-of date 2026-07-20" in caplog.text


def test_unusable_folder_is_one_readable_error(runs, tmp_path) -> None:
    url, ids = runs
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    settings = OutputSettings(a_file / "reports", tmp_path / "e", "csv", None)
    with pytest.raises(SegwiseError, match="SEGWISE_REPORTS_DIR=.*cannot create it"):
        outputs.write_outputs(url, ids[END], settings)
    assert not (tmp_path / "e").exists()  # nothing half-written


def test_warnings_for_stale_data_and_thin_volume(runs) -> None:
    url, ids = runs
    late = {w.check: w for w in checks.warnings(url, ids[dt.date(2026, 7, 20)])}
    assert "2026-06-30" in late["freshness"].observed  # no orders for 20 days
    assert late["volume"].observed == "0"
    assert not checks.warnings(url, ids[END], checks.WatchThresholds(share_points=50))


def test_share_shift_threshold_decides(runs) -> None:
    url, ids = runs
    rows = [w for w in checks.run_watch(url, ids[END]) if w.check == "share_shift"]
    assert rows  # one per segment against the previous published run
    biggest = max(abs(float(w.observed.split("%")[0]) - float(w.observed.split("was ")[1][:-2]))
                  for w in rows)  # fmt: skip
    below = checks.WatchThresholds(share_points=biggest - 0.2)
    above = checks.WatchThresholds(share_points=biggest + 0.2)
    assert any(w.check == "share_shift" for w in checks.warnings(url, ids[END], below))
    assert not any(w.check == "share_shift" for w in checks.warnings(url, ids[END], above))


def test_thresholds_and_output_settings_from_env() -> None:
    t = checks.WatchThresholds.from_env(
        {"SEGWISE_WARN_STALE_DAYS": "5", "SEGWISE_WARN_SHARE_POINTS": "2.5"}
    )
    assert (t.stale_days, t.share_points, t.volume_factor) == (5, 2.5, 3.0)
    with pytest.raises(ConfigurationError, match="SEGWISE_WARN_VOLUME_FACTOR"):
        checks.WatchThresholds.from_env({"SEGWISE_WARN_VOLUME_FACTOR": "lots"})
    with pytest.raises(ConfigurationError, match="SEGWISE_EXPORT_FORMAT"):
        OutputSettings.from_env({"SEGWISE_EXPORT_FORMAT": "xlsx"})
    s = OutputSettings.from_env(
        {"SEGWISE_EXPORT_METHODS": "rfm, tiers", "SEGWISE_REPORTS_DIR": "/x"}
    )
    assert s.export_methods == ("rfm", "tiers") and s.reports_dir == Path("/x")


def test_warnings_are_mailed_through_the_smtp_notifier(monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from etl.orchestration import alerts
    from tests.airflow.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", sink.connection_uri)
        dags = Path(__file__).resolve().parents[2] / "dags"
        dag = DagBag(dag_folder=str(dags), safe_mode=False).dags["customer_segmentation"]
        on = alerts.AlertSettings(email_to=("ops@example.com",), email_from="s@example.com")
        context = {"dag": dag, "run_id": "manual__w"}
        assert alerts.send_warnings(on, context, ["volume: <0> lines"]) == 1
        mail = sink.wait_for("data warnings: customer_segmentation manual__w", timeout=30)
        assert "volume: &lt;0&gt; lines" in mail.get_body().get_content()
        # off by default, and warnings can be switched off on their own
        assert alerts.send_warnings(alerts.AlertSettings(), context, ["x"]) == 0
        quiet = alerts.AlertSettings(email_to=("ops@example.com",), warn=False)
        assert alerts.send_warnings(quiet, context, ["x"]) == 0
        assert len(sink.messages) == 1
    finally:
        sink.stop()
