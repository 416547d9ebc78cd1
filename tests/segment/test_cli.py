"""`segwise run` and `segwise report` end to end through the console entry point."""

from __future__ import annotations

import psycopg

from etl import migrate
from etl.cli import main
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse


def test_run_then_report(tmp_path, capsys):
    url = create_database("segwise_segcli")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=25)
        args = ["--database-url", url]
        assert main(["run", "--as-of", "2024-03-31", "--methods", "rfm,tiers,channel", *args]) == 0
        out, err = capsys.readouterr()
        assert "published: 25 customers" in out.replace("run 1 published:", "published:")
        assert "features for 25 customers" in err and "rfm done" in err

        assert main(["run", "--as-of", "2023-01-01", *args]) == 2
        assert "before all data" in capsys.readouterr().err
        assert main(["run", "--as-of", "2024-03-31", "--methods", "rfm,magic", *args]) == 2
        assert "unknown method" in capsys.readouterr().err
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM segmentation.runs").fetchone()[0] == 1
        # the data-quality checks read the loads' build-time checks (the features, from the
        # customer totals the run stored, are checked against the lines once), unless asked
        assert "data-quality checks passed (facts_vs_features scanned every order line)" in err
        full = ["run", "--as-of", "2024-03-31", "--methods", "rfm", "--full-quality-checks"]
        assert main([*full, "--no-publish", *args]) == 0
        err = capsys.readouterr().err
        assert "(facts_vs_features, ledger_vs_facts, lines_vs_orders scanned every order" in err
        newest = "SELECT params ->> 'quality' FROM segmentation.runs ORDER BY run_id DESC"
        with psycopg.connect(url) as conn:
            assert conn.execute(newest).fetchone()[0] == "full"

        report = tmp_path / "out" / "report.html"
        assert main(["report", "--out", str(report), *args]) == 0
        text = report.read_text(encoding="utf-8")
        assert "segwise run 1" in text and "descriptive statistics" in text
        assert text.count('class="chart"') >= 2  # interactive charts: R x F grid, sizes, ...
        assert "Champions" in text or "Hibernating" in text
        tiers = tmp_path / "out" / "tiers.html"
        assert main(["report", "--method", "tiers", "--out", str(tiers), *args]) == 0
        assert "Segments (tiers)" in tiers.read_text(encoding="utf-8")
        assert main(["report", "--run-id", "999", "--out", str(report), *args]) == 2
    finally:
        drop_database(url)
