"""The report of two runs on the real Online Retail file, opened in headless Chromium.

No console errors, no network request, every chart drawn with marks and a title, and the
numbers on the segment cards equal mart.segment_profiles. A screenshot is kept in the pytest
tmp dir and copied to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import psycopg
import pytest

from etl import ingest, migrate
from etl.report import write_report
from etl.segment import pipeline
from tests.chromium import CHART_MARKS_JS, Chromium
from tests.conftest import REPO_ROOT, create_database, drop_database

EARLIER, AS_OF = dt.date(2011, 9, 30), dt.date(2011, 12, 9)
METHODS = ["rfm", "tiers", "kmeans", "clv", "lifecycle"]

KPIS_JS = """
(() => Object.fromEntries(Array.from(document.querySelectorAll('.kpi[data-kpi]')).map(
  k => [k.getAttribute('data-kpi'), k.querySelector('.value').textContent.trim()])))()
"""

CARDS_JS = """
(() => Array.from(document.querySelectorAll('.card[data-segment]')).map(c => {
  const out = {segment: c.getAttribute('data-segment')};
  c.querySelectorAll('dd[data-field]').forEach(d => {
    out[d.getAttribute('data-field')] = d.childNodes[0].textContent.trim();
  });
  return out;
}))()
"""


@pytest.fixture(scope="module")
def retail_two_runs(online_retail_path: Path):
    url = create_database("segwise_report")
    try:
        migrate.upgrade(url)
        result = ingest.load_paths(url, [online_retail_path], layout="online_retail")
        assert result.status == "succeeded", result
        for as_of in (EARLIER, AS_OF):
            pipeline.run_all(url, as_of, methods=METHODS, trigger="test")
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def report_file(retail_two_runs, tmp_path_factory) -> Path:
    from etl.report import resolve_run

    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(retail_two_runs, resolve_run(retail_two_runs), out)


def test_report_in_chromium(retail_two_runs, report_file, tmp_path):
    with Chromium() as browser:
        page = browser.new_page()
        seconds = page.open_file(report_file)
        assert math.isfinite(seconds), "the page never said its charts were drawn"
        charts = page.evaluate(CHART_MARKS_JS)
        cards = page.evaluate(CARDS_JS)
        kpis = page.evaluate(KPIS_JS)
        shot = page.screenshot(tmp_path / "report.png", full_page=True)
        log = page.log()
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "report-online-retail.png")
    assert shot.stat().st_size > 50_000

    assert log.console_errors == []
    assert log.network_requests == []
    assert log.requests, "the navigation itself should be seen"
    # the sections a marketer needs are all there as drawn charts
    assert len(charts) >= 6, charts
    for chart in charts:
        assert chart["svg"] >= 1 and chart["marks"] >= 1, chart
        assert chart["title"], chart
    titles = " | ".join(c["title"] for c in charts)
    for needle in ("RFM grid", "segment sizes", "Customers moving", "CLV", "Backtest", "k-means"):
        assert needle in titles, (needle, titles)

    with psycopg.connect(retail_two_runs) as conn:
        mart = conn.execute(
            "SELECT segment, customers, revenue, customer_share, revenue_share, avg_frequency "
            "FROM mart.segment_profiles WHERE method = 'rfm'"
        ).fetchall()
        products = dict(
            conn.execute(
                "SELECT rfm_segment, coalesce(product_name, product_id) "
                "FROM mart.invoice_segment_top_products WHERE revenue_rank = 1"
            ).fetchall()
        )
        headline = conn.execute(
            "SELECT count(*), round(sum(monetary)), count(*) FILTER (WHERE lifecycle_stage = "
            "'active'), count(*) FILTER (WHERE lifecycle_stage = 'new'), count(*) FILTER (WHERE "
            "lifecycle_stage = 'lapsed'), round(sum(predicted_clv_12m)) "
            "FROM mart.customer_segments"
        ).fetchone()
    keys = ("customers", "revenue", "active", "new", "lapsed", "predicted_value")
    assert kpis == {k: f"{int(v):,}" for k, v in zip(keys, headline, strict=True)}
    assert sorted(c["segment"] for c in cards) == sorted(r[0] for r in mart)
    by_segment = {c["segment"]: c for c in cards}
    for segment, customers, revenue, customer_share, revenue_share, frequency in mart:
        card = by_segment[segment]
        assert card["customers"] == f"{customers:,}", segment
        assert card["revenue"] == f"{float(revenue):,.0f}", segment
        assert card["customer_share"] == f"{100 * float(customer_share):.1f}%", segment
        assert card["revenue_share"] == f"{100 * float(revenue_share):.1f}%", segment
        assert card["avg_frequency"] == f"{float(frequency):,.2f}", segment
        assert card["avg_clv"] and card["avg_p_alive"], segment
        # Online Retail has no product categories: the card names the top products instead
        assert card["categories"].startswith(products[segment]), segment


def test_report_file_is_self_contained(report_file):
    text = report_file.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link " not in text  # network use: the browser test
    assert "What changed" in text and "Appendix" in text
    assert text.index("What changed") < text.index("Appendix: how this run was made")
    assert report_file.stat().st_size < 5_000_000
