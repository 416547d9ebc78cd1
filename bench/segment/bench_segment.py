"""Benchmark `segwise run` at scale against RFM done by pulling order lines into pandas.

    .venv/bin/python bench/segment/bench_segment.py --customers 1000000 --lines 10000000
    .venv/bin/python bench/segment/bench_segment.py --demo --lines 10000000

Builds a throwaway warehouse (bench/segment/warehouse.py, written by SQL; or with --demo: the
demo generator's files, sized for --lines, loaded by `segwise load --layout segwise`), runs
`segwise run` (all methods, then RFM only) and the pandas baseline as separate processes, each
reporting its own peak RSS (getrusage), and prints JSON; JSON also goes to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import warehouse  # noqa: E402  (bench/segment/warehouse.py)

from etl import migrate  # noqa: E402

ADMIN_URL = os.environ.get(
    "SEGWISE_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AS_OF = "2023-12-31"  # the SQL-built warehouse's; the demo history ends 2026-10-31
DEMO_AS_OF = "2026-10-31"

RUN_CLI = """
import resource, sys, time
from etl.cli import main
t = time.perf_counter()
rc = main(sys.argv[1:])
print("BENCH", time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(rc)
"""


def _python() -> str:
    return str(ROOT / ".venv" / "bin" / "python")


def segwise_run(url: str, methods: str | None, as_of: str) -> dict:
    args = ["run", "--as-of", as_of, "--database-url", url]
    if methods:
        args += ["--methods", methods]
    proc = subprocess.run(
        [_python(), "-c", RUN_CLI, *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"segwise run failed ({proc.returncode}): {proc.stdout}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH"))
    _, seconds, maxrss_kb = line.split()
    with psycopg.connect(url) as conn:
        run_id, timings, counts = conn.execute(
            "SELECT run_id, timings, row_counts FROM segmentation.runs "
            "WHERE status = 'published' ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        segments = dict(
            conn.execute(
                "SELECT segment, count(*) FROM segmentation.customer_segments "
                "WHERE run_id = %s AND method = 'rfm' GROUP BY segment ORDER BY segment",
                (run_id,),
            ).fetchall()
        )
    return {
        "run_id": run_id,
        "total_seconds": round(float(seconds), 2),
        "peak_rss_mb": round(int(maxrss_kb) / 1024),
        "timings": timings,
        "row_counts": counts,
        "segments": segments,
    }


def pandas_baseline(url: str, as_of: str) -> dict:
    proc = subprocess.run(
        [_python(), str(ROOT / "bench" / "segment" / "pandas_rfm.py"), url, as_of],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def demo_warehouse(url: str, lines: int, workdir: Path) -> dict:
    """`segwise demo generate --lines N` then `segwise load --layout segwise`, timed; the files
    are kept in workdir for the next run (the generator is deterministic)."""
    out = workdir / f"demo_{lines}"
    built: dict = {}
    if not (out / "order_lines.csv").exists():
        t = time.perf_counter()
        subprocess.run(
            [_python(), "-m", "etl.cli", "demo", "generate", "--out", str(out)]
            + ["--lines", str(lines)],
            check=True,
            cwd=ROOT,
        )
        built["generate_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    subprocess.run(
        [_python(), "-m", "etl.cli", "load", str(out), "--layout", "segwise", "-q"]
        + ["--database-url", url],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    built["load_seconds"] = round(time.perf_counter() - t, 1)
    with psycopg.connect(url) as conn:
        built["lines"], built["customers"] = conn.execute(
            "SELECT (SELECT count(*) FROM warehouse.fact_order_line), "
            "(SELECT count(*) FROM warehouse.dim_customer)"
        ).fetchone()
    print(f"demo warehouse: {built}", file=sys.stderr)
    return built


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--methods", default=None, help="methods of the full run (default: all)")
    ap.add_argument("--skip-full", action="store_true", help="only the RFM comparison")
    ap.add_argument("--reuse", metavar="URL", help="an already built benchmark warehouse")
    ap.add_argument(
        "--demo", action="store_true", help="load demo data sized for --lines (not --customers)"
    )
    ap.add_argument("--as-of", help=f"default {AS_OF}, or {DEMO_AS_OF} with --demo")
    ap.add_argument(
        "--workdir", type=Path, default=Path("/tmp/segwise_bench"), help="demo files (--demo)"
    )
    opts = ap.parse_args()
    as_of = opts.as_of or (DEMO_AS_OF if opts.demo else AS_OF)

    name = f"segwise_bench_{uuid.uuid4().hex[:8]}"
    if opts.reuse:
        url, built = opts.reuse, {}
    else:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        print(f"benchmark warehouse {url}", file=sys.stderr)
        migrate.upgrade(url)
        if opts.demo:
            built = demo_warehouse(url, opts.lines, opts.workdir)
        else:
            t = time.perf_counter()
            lines = warehouse.build(
                url,
                customers=opts.customers,
                lines=opts.lines,
                say=lambda m: print(m, file=sys.stderr),
            )
            built = {"lines": lines, "build_seconds": round(time.perf_counter() - t, 1)}
    try:
        result = {"as_of": as_of, "customers_arg": opts.customers, **built}
        if not opts.skip_full:
            result["segwise_all"] = segwise_run(url, opts.methods, as_of)
        result["segwise_rfm"] = segwise_run(url, "rfm", as_of)
        result["pandas_rfm"] = pandas_baseline(url, as_of)
        same = result["pandas_rfm"].get("segments") == result["segwise_rfm"]["segments"]
        result["same_rfm_segments"] = same
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        kind = "demo" if opts.demo else str(opts.customers)
        out = out_dir / f"segment-{kind}-{opts.lines}.json"
        out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        print(json.dumps(result, indent=2, default=str))
    finally:
        if not opts.keep and not opts.reuse:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


if __name__ == "__main__":
    main()
