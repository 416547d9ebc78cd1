"""Benchmark the clv method: `segwise run --methods rfm` against `--methods rfm,clv`.

    .venv/bin/python bench/clv/bench_clv.py --customers 1000000 --lines 10000000
    .venv/bin/python bench/clv/bench_clv.py --reuse URL      # an already built warehouse

Builds a throwaway warehouse with the segmentation benchmark's SQL generator
(bench/segment/warehouse.py; --demo: the demo generator's files loaded by `segwise load`), then
runs both commands as separate processes, each reporting its wall time and peak RSS (getrusage),
and prints JSON with the per-stage timings and the fitted model (also to bench/results/).

Before each timed run: the previous runs' results are deleted (untimed), so neither run pays
for superseding the other in its publish stage; and the 1-minute load average must fall below
--max-load (polled for up to --wait seconds; the load at the start is recorded either way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "segment")]

import bench_segment  # noqa: E402  (bench/segment/bench_segment.py: runner, demo warehouse)
import warehouse  # noqa: E402  (bench/segment/warehouse.py)

from etl import migrate  # noqa: E402
from etl.segment import runs  # noqa: E402


def wait_for_quiet(max_load: float, wait: float) -> dict:
    """Poll the 1-minute load average until below ``max_load`` or ``wait`` seconds passed."""
    start = time.monotonic()
    while os.getloadavg()[0] >= max_load and time.monotonic() - start < wait:
        time.sleep(10)
    load = os.getloadavg()[0]
    return {
        "load_1min_at_start": round(load, 2),
        "waited_seconds": round(time.monotonic() - start),
        "quiet": load < max_load,
    }


def clear_results(url: str) -> None:
    """Supersede earlier runs and delete their rows, as publish would, outside the timing."""
    with psycopg.connect(url) as conn:
        old = [
            r[0]
            for r in conn.execute(
                "UPDATE segmentation.runs SET status = 'superseded' "
                "WHERE status IN ('published', 'succeeded') RETURNING run_id"
            )
        ]
        runs.delete_results(conn, old)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def timed_run(url: str, methods: str, as_of: str, opts: argparse.Namespace) -> dict:
    clear_results(url)
    load = wait_for_quiet(opts.max_load, opts.wait)
    out = bench_segment.segwise_run(url, methods, as_of)
    out["load"] = {**load, "load_1min_at_end": round(os.getloadavg()[0], 2)}
    return out


def clv_model(url: str, run_id: int) -> dict:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        row = cur.execute(
            "SELECT status, message, time_unit, customers, repeat_customers, r, alpha, a, b, "
            "bgnbd_log_likelihood, p, q, v, fit_seconds FROM segmentation.clv_models "
            "WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        cur.execute(
            "SELECT segment, count(*) AS n FROM segmentation.customer_segments "
            "WHERE run_id = %s AND method = 'clv' GROUP BY segment ORDER BY segment",
            (run_id,),
        )
        tiers = {r["segment"]: r["n"] for r in cur.fetchall()}
    return {"model": row, "tiers": tiers}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--demo", action="store_true", help="demo data sized for --lines")
    ap.add_argument("--reuse", metavar="URL", help="an already built benchmark warehouse")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--as-of", help="default: the generator's last day")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/segwise_bench_clv"))
    ap.add_argument("--max-load", type=float, default=2.0, help="wait for a quieter machine")
    ap.add_argument("--wait", type=float, default=600.0, help="longest wait for --max-load (s)")
    opts = ap.parse_args()
    as_of = opts.as_of or (bench_segment.DEMO_AS_OF if opts.demo else bench_segment.AS_OF)
    admin = bench_segment.ADMIN_URL
    name = f"segwise_bench_clv_{uuid.uuid4().hex[:8]}"
    if opts.reuse:
        url, built = opts.reuse, {}
    else:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = admin.rsplit("/", 1)[0] + "/" + name
        print(f"benchmark warehouse {url}", file=sys.stderr)
        migrate.upgrade(url)
        t = time.perf_counter()
        if opts.demo:
            built = bench_segment.demo_warehouse(url, opts.lines, opts.workdir)
        else:
            lines = warehouse.build(
                url,
                customers=opts.customers,
                lines=opts.lines,
                say=lambda m: print(m, file=sys.stderr),
            )
            built = {"lines": lines}
        built["build_seconds"] = round(time.perf_counter() - t, 1)
    try:
        result = {"as_of": as_of, "customers_arg": opts.customers, **built}
        result["rfm"] = timed_run(url, "rfm", as_of, opts)
        result["rfm_clv"] = timed_run(url, "rfm,clv", as_of, opts)
        result["clv"] = clv_model(url, result["rfm_clv"]["run_id"])
        result["clv_added_seconds"] = round(
            result["rfm_clv"]["total_seconds"] - result["rfm"]["total_seconds"], 1
        )
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        kind = "demo" if opts.demo else str(opts.customers)
        out = out_dir / f"clv-{kind}-{opts.lines}.json"
        out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        print(json.dumps(result, indent=2, default=str))
    finally:
        if not opts.keep and not opts.reuse:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


if __name__ == "__main__":
    main()
