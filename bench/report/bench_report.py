"""The report at 1M customers: file size and time until every chart is drawn in Chromium.

Builds a throwaway warehouse with bench/segment/warehouse.py (SQL-generated files loaded by the
real loader), runs two published runs (so the report has a previous run, migrations and sizes
over time), writes the report and opens it in headless Chromium (tests/chromium.py)
several times. Prints one JSON line; BENCHMARKS.md ("Report") records the results.

    .venv/bin/python bench/report/bench_report.py --customers 1000000 --lines 4000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "segment")]

import warehouse  # noqa: E402  (bench/segment/warehouse.py)

from etl import migrate  # noqa: E402
from etl.report import write_report  # noqa: E402
from etl.segment import pipeline  # noqa: E402
from tests.chromium import CHART_MARKS_JS, Chromium  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402

EARLIER, AS_OF = dt.date(2023, 9, 30), dt.date(2023, 12, 31)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=4_000_000)
    ap.add_argument("--opens", type=int, default=5, help="times the report is opened")
    ap.add_argument("--methods", default="rfm,tiers,kmeans,clv")
    ap.add_argument("--reuse", metavar="URL", help="a warehouse with both runs already made")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--report", metavar="PATH", help="open this report again (with --reuse)")
    args = ap.parse_args()
    load = os.getloadavg()
    url = args.reuse or create_database("segwise_bench_report")
    timings: dict[str, float] = {}
    try:
        if not args.reuse:
            migrate.upgrade(url)
            t = time.perf_counter()
            warehouse.build(url, customers=args.customers, lines=args.lines, say=print)
            timings["build_s"] = time.perf_counter() - t
            methods = args.methods.split(",")
            for as_of in (EARLIER, AS_OF):
                t = time.perf_counter()
                pipeline.run_all(url, as_of, methods=methods, trigger="test")
                timings[f"run_{as_of}_s"] = time.perf_counter() - t
        if args.report:
            out = Path(args.report)
        else:
            out = Path(tempfile.mkdtemp(prefix="segwise-bench-report-")) / "report.html"
            from etl.report import resolve_run  # noqa: PLC0415

            t = time.perf_counter()
            write_report(url, resolve_run(url), out)
            timings["write_report_s"] = time.perf_counter() - t
        opens = []
        with Chromium() as browser:
            for _ in range(args.opens):
                page = browser.new_page()
                seconds = page.open_file(out)
                charts = page.evaluate(CHART_MARKS_JS)
                log = page.log()
                assert all(c["marks"] for c in charts), charts
                assert not log.network_requests and not log.console_errors, log
                opens.append(seconds)
        print(
            json.dumps(
                {
                    "customers": args.customers,
                    "lines": args.lines,
                    "load_before": load,
                    "load_after": os.getloadavg(),
                    "report_bytes": out.stat().st_size,
                    "charts": len(charts),
                    "open_to_all_charts_s": opens,
                    "median_open_s": statistics.median(opens),
                    **timings,
                    "report": str(out),
                    "url": url if args.keep else None,
                }
            )
        )
    finally:
        if not args.keep and not args.reuse:
            drop_database(url)


if __name__ == "__main__":
    main()
