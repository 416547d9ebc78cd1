"""Benchmark the daily increment against a full load and run, side by side in one session.

    .venv/bin/python bench/segment/bench_daily.py --lines 10000000 [--reuse URL] [--keep]

On a throwaway warehouse: the demo history sized for --lines (2024-11-01..2026-10-31) is loaded
with `segwise load --layout segwise`, then, each as its own process (wall time and peak RSS from
getrusage):
1. the six-method run for the last day, reading the order lines (`customer_state: false`, what
   every run did before the kept customer totals): the full recompute;
2. the same run as a daily schedule makes it: the first run after the load, which stores the
   customer totals, then a second one that reads them (the full run of a warehouse in use);
3. `segwise run --methods rfm` for that day and the pandas baseline (pull the lines, same
   scores; the customers per segment of the two are compared);
4. the daily increment: the next day's demo feed loaded (`segwise load`) and the six-method run
   for that day.
Ratios are printed and written to bench/results/daily-<lines>.json. The three mart tables of
runs 1 and 2 are compared by md5 of their sorted rows (they must be identical).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from bench_segment import (  # noqa: E402
    RUN_CLI,
    _python,
    demo_warehouse,
    pandas_baseline,
    throwaway_database,
)

from etl import migrate  # noqa: E402
from etl.demo.history import customers_for_lines  # noqa: E402

SIX = "rfm,tiers,kmeans,hierarchical,demographic,channel"
START, END = dt.date(2024, 11, 1), dt.date(2026, 10, 31)
NEXT_DAY = END + dt.timedelta(days=1)
COMPARED = {
    "customer_segments": "method, customer_id, segment_id, segment, scores",
    "segment_profiles": "method, segment, customers, revenue, avg_monetary, median_monetary, "
    "top_categories, extra",
    "channel_profiles": "method, segment, dimension, value, customers, orders, revenue, "
    "gross_margin, extra",
    "demographic_profiles": "method, segment, dimension, value, customers, revenue, extra",
}


def timed_cli(args: list[str], cwd: Path = ROOT) -> dict:
    """One `segwise` command in its own process (the code of the checkout ``cwd``): wall
    seconds and peak RSS."""
    proc = subprocess.run(
        [_python(), "-c", RUN_CLI, *args], capture_output=True, text=True, cwd=cwd, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"segwise {args[0]} failed ({proc.returncode})")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH"))
    _, seconds, maxrss_kb = line.split()
    return {"seconds": round(float(seconds), 2), "peak_rss_mb": round(int(maxrss_kb) / 1024)}


def run(url: str, as_of: dt.date, methods: str, config: Path | None = None) -> dict:
    args = ["run", "--as-of", as_of.isoformat(), "--methods", methods, "--database-url", url]
    if config is not None:
        args += ["--config", str(config)]
    out = timed_cli(args)
    with psycopg.connect(url) as conn:
        out["run_id"], out["timings"], out["metrics"] = conn.execute(
            "SELECT run_id, timings, metrics -> 'features' FROM segmentation.runs "
            "WHERE status = 'published' ORDER BY published_at DESC, run_id DESC LIMIT 1"
        ).fetchone()
    print(f"run {as_of} {methods}: {out}", file=sys.stderr)
    return out


def digests(url: str, run_id: int) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                sql.SQL(
                    "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) "
                    "FROM (SELECT {} FROM segmentation.{} WHERE run_id = %s) AS t"
                ).format(sql.SQL(columns), sql.Identifier(table)),
                (run_id,),
            ).fetchone()[0]
            for table, columns in COMPARED.items()
        }


def day_feed(workdir: Path, lines: int) -> Path:
    return day_feed_for(workdir, lines, NEXT_DAY)


def rfm_sizes(url: str, run_id: int) -> dict[str, int]:
    """Customers per rfm segment of the run (the pandas baseline reports the same)."""
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT segment, count(*) FROM segmentation.customer_segments "
                "WHERE run_id = %s AND method = 'rfm' GROUP BY segment",
                (run_id,),
            ).fetchall()
        )


def day_feed_for(workdir: Path, lines: int, day: dt.date) -> Path:
    """The demo feed of one day after the history sized for ``lines`` (generated once)."""
    out = workdir / f"demo_{lines}_day_{day}"
    if not out.exists():
        customers = customers_for_lines(42, lines, START, END)
        subprocess.run(
            [_python(), "-m", "etl.cli", "demo", "generate", "--out", str(out), "--day"]
            + [day.isoformat(), "--customers", str(customers)],
            check=True,
            cwd=ROOT,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--reuse", metavar="URL", help="a warehouse with the history loaded")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/segwise_bench"))
    ap.add_argument(
        "--history-load-seconds",
        type=float,
        help="with --reuse: how long loading the history took (for the first ratio)",
    )
    opts = ap.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    result: dict = {"lines_arg": opts.lines, "load_average_start": os.getloadavg()}
    with (
        nullcontext(opts.reuse)
        if opts.reuse
        else throwaway_database("segwise_daily", keep=opts.keep) as url
    ):
        if not opts.reuse:
            migrate.upgrade(url)
            result["history"] = demo_warehouse(url, opts.lines, opts.workdir)
        elif opts.history_load_seconds:
            result["history"] = {"load_seconds": opts.history_load_seconds}
        measure(url, result, day_feed(opts.workdir, opts.lines), opts.workdir)


def measure(url: str, result: dict, feed: Path, workdir: Path) -> None:
    """Steps 1-4 of the module docstring on the warehouse at ``url``; writes the results."""
    lines_only = workdir / "customer_state_off.yml"
    lines_only.write_text("customer_state: false\n", encoding="utf-8")
    # digests right after each run: publishing the next run of the date deletes its rows
    result["full_from_lines"] = run(url, END, SIX, lines_only)
    from_lines = digests(url, result["full_from_lines"]["run_id"])
    result["first_run_after_load"] = run(url, END, SIX)
    result["full_from_state"] = run(url, END, SIX)
    from_state = digests(url, result["full_from_state"]["run_id"])
    result["same_marts_lines_vs_state"] = from_lines == from_state and all(from_lines.values())
    result["rfm_only"] = run(url, END, "rfm")
    result["pandas_rfm"] = pandas_baseline(url, END.isoformat())
    result["same_rfm_segments_as_pandas"] = rfm_sizes(url, result["rfm_only"]["run_id"]) == (
        result["pandas_rfm"].get("segments")
    )
    t = time.perf_counter()
    result["daily_load"] = timed_cli(
        ["load", str(feed), "--layout", "segwise", "-q", "--database-url", url]
    )
    result["daily_run"] = run(url, NEXT_DAY, SIX)
    daily = time.perf_counter() - t
    result["daily_seconds"] = round(daily, 2)
    history_load = result.get("history", {}).get("load_seconds")
    full_lines = result["full_from_lines"]["seconds"]
    pandas_seconds = result["pandas_rfm"].get("total_seconds")
    result["ratios"] = {
        "daily / (history load + full run from lines)": round(
            daily / (history_load + full_lines), 4
        )
        if history_load
        else None,
        "daily / full run from lines": round(daily / full_lines, 4),
        "daily / full run from state": round(daily / result["full_from_state"]["seconds"], 4),
        "rfm run / pandas baseline": round(result["rfm_only"]["seconds"] / pandas_seconds, 3)
        if pandas_seconds
        else None,
    }
    result["load_average_end"] = os.getloadavg()
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = result.get("lines_arg")
    out = out_dir / f"daily-{lines}.json"
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
