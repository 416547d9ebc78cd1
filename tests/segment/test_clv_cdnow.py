"""The exactness anchor: the CDNOW sample loaded through a mapping file reproduces Fader, Hardie
and Lee (2005): BG/NBD r, alpha, a, b and log-likelihood, Gamma-Gamma p, q, v (weeks,
calibration 1997-01-01 to 1997-09-30, purchases on one day counted once)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl import migrate
from etl.cli import main
from etl.segment import pipeline, report
from tests.conftest import create_database, drop_database

DATA = Path(__file__).resolve().parents[1] / "data" / "cdnow"
# as printed in the paper; each is matched to every digit printed (at least 3 s.f.)
PAPER_BGNBD = {"r": "0.243", "alpha": "4.414", "a": "0.793", "b": "2.426"}
PAPER_LL = -9582.4
PAPER_GG = {"p": "6.25", "q": "3.74", "v": "15.44"}


def as_printed(value: float, printed: str) -> str:
    """``value`` rounded to as many decimals as ``printed`` shows."""
    return f"{value:.{len(printed.split('.')[1])}f}"


@pytest.fixture(scope="module")
def cdnow_url() -> Iterator[str]:
    url = create_database("segwise_cdnow")
    try:
        migrate.upgrade(url)
        rc = main(
            [
                "load",
                str(DATA / "CDNOW_sample.txt"),
                "--mapping",
                str(DATA / "cdnow.yml"),
                "--database-url",
                url,
                "--quiet",
            ]
        )
        assert rc == 0
        yield url
    finally:
        drop_database(url)


def test_every_purchase_is_loaded_including_the_zero_value_ones(cdnow_url):
    with psycopg.connect(cdnow_url) as conn:
        lines, customers, free = conn.execute(
            "SELECT count(*), count(DISTINCT customer_id), count(*) FILTER (WHERE amount = 0) "
            "FROM warehouse.fact_order_line"
        ).fetchone()
    assert (lines, customers, free) == (6919, 2357, 8)


def test_backtest_json_reproduces_the_published_parameters(cdnow_url, capsys):
    rc = main(
        [
            "clv",
            "backtest",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--time-unit",
            "week",
            "--json",
            "--database-url",
            cdnow_url,
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["customers"] == 2357
    assert out["repeat_customers"] == 946
    assert out["gamma_gamma_customers"] == 946
    for name, printed in PAPER_BGNBD.items():
        assert as_printed(out["bgnbd"][name], printed) == printed, name
    assert round(out["bgnbd"]["log_likelihood"], 1) == PAPER_LL
    for name, printed in PAPER_GG.items():
        assert as_printed(out["gamma_gamma"][name], printed) == printed, name
    holdout = out["holdout"]
    groups = [g["purchases"] for g in holdout["by_calibration_purchases"]]
    assert groups == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(g["customers"] for g in holdout["by_calibration_purchases"]) == 2357
    # the paper's conditional expectations: customers without a repeat purchase in the first
    # 39 weeks make about 0.23 purchases in the next 39 (actual and predicted)
    zero = holdout["by_calibration_purchases"][0]
    assert zero["customers"] == 1411
    assert zero["predicted_mean"] == pytest.approx(0.23, abs=0.01)
    assert 0 < holdout["mean_absolute_error"] < 1.5


def test_backtest_text_output_and_per_customer_file(cdnow_url, capsys, tmp_path):
    per_customer = tmp_path / "pc.csv"
    chart = tmp_path / "bt.png"
    rc = main(
        [
            "clv",
            "backtest",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--per-customer",
            str(per_customer),
            "--chart",
            str(chart),
            "--database-url",
            cdnow_url,
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "r=0.2426 alpha=4.414 a=0.7929 b=2.426 log-likelihood -9582.4" in text
    assert "mean absolute error" in text
    assert len(per_customer.read_text().splitlines()) == 2358
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_backtest_refuses_a_holdout_before_the_calibration_end(cdnow_url, capsys):
    rc = main(
        [
            "clv",
            "backtest",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1997-09-01",
            "--database-url",
            cdnow_url,
        ]
    )
    assert rc == 2
    assert "must be after --calibration-end" in capsys.readouterr().err


def test_run_stores_the_model_and_publishes_clv_columns(cdnow_url, tmp_path):
    run_id = pipeline.run_all(cdnow_url, dt.date(1997, 9, 30), methods="rfm,clv", trigger="test")
    with psycopg.connect(cdnow_url) as conn:
        model = conn.execute(
            "SELECT status, r, alpha, a, b, bgnbd_log_likelihood, p, q, v, customers, "
            "repeat_customers FROM segmentation.clv_models WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        status, r, alpha, a, b, ll, p, q, v, customers, repeat = model
        assert status == "fitted"
        fitted = {"r": r, "alpha": alpha, "a": a, "b": b, "p": p, "q": q, "v": v}
        for name, printed in {**PAPER_BGNBD, **PAPER_GG}.items():
            assert as_printed(fitted[name], printed) == printed, name
        assert round(ll, 1) == PAPER_LL
        assert (customers, repeat) == (2357, 946)
        rows = conn.execute(
            "SELECT clv_segment, p_alive, expected_purchases_90d, predicted_clv_12m "
            "FROM mart.customer_segments"
        ).fetchall()
        assert rows and all(r[0] is not None for r in rows)
        assert all(0 <= r[1] <= 1 and r[2] >= 0 and r[3] >= 0 for r in rows)
        labels = {r[0] for r in rows}
        assert labels <= {"High value", "Medium value", "Low value", "Likely churned"}
        profiles = conn.execute(
            "SELECT method, customers, avg_predicted_clv_12m, total_predicted_clv_12m, "
            "avg_p_alive FROM mart.segment_profiles"
        ).fetchall()
        assert {p[0] for p in profiles} == {"rfm", "clv"}
        for method in ("rfm", "clv"):
            total = sum(float(p[3]) for p in profiles if p[0] == method)
            assert total == pytest.approx(sum(float(r[3]) for r in rows), rel=1e-4)
            assert all(0 <= p[4] <= 1 for p in profiles if p[0] == method)
        comments = conn.execute(
            "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
            "WHERE a.attrelid = 'mart.customer_segments'::regclass AND a.attname = ANY(%s)",
            (["p_alive", "expected_purchases_90d", "predicted_clv_12m", "clv_segment"],),
        ).fetchall()
        assert len(comments) == 4 and all(c[1] for c in comments)
    html = report.write_report(cdnow_url, run_id, tmp_path / "r.html").read_text()
    assert "Customer value (CLV)" in html
    assert "Backtest: fitted to" in html
