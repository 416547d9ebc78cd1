"""The daily increment of two checkouts side by side on one warehouse that holds the history.

    .venv/bin/python bench/segment/bench_daily_compare.py --database-url URL --compare DIR \
        [--days 2] [--lines 10000000]

URL is a warehouse kept by `bench_daily.py --keep` (the demo history and its runs). DIR is
another checkout of this repository (a `git worktree` of the baseline commit) whose code runs
against the same warehouse. The script alternates the two codes, baseline first, each step in
its own process (wall time and peak RSS, as bench_daily.py measures them):
1. per day: the next day's demo feed loaded with `segwise load` and the six-method run for
   that day (one new day per code and round, so each code loads a day of the same size);
2. the six-method run for the last loaded day again (a full run reading the kept totals);
3. `segwise run --methods rfm` for that day (carrying the other methods forward).
Prints each step's seconds and stage timings; writes bench/results/daily-compare.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from bench_daily import SIX, day_feed_for, timed_cli  # noqa: E402


def newest_day(url: str) -> dt.date:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT max(order_date) FROM warehouse.fact_order").fetchone()[0]


def run(url: str, as_of: dt.date, methods: str, code: Path) -> dict:
    args = ["run", "--as-of", as_of.isoformat(), "--methods", methods, "--database-url", url]
    out = timed_cli(args, cwd=code)
    with psycopg.connect(url) as conn:
        out["run_id"], out["timings"] = conn.execute(
            "SELECT run_id, timings FROM segmentation.runs "
            "WHERE status = 'published' ORDER BY published_at DESC, run_id DESC LIMIT 1"
        ).fetchone()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--compare", required=True, type=Path, help="the baseline checkout")
    ap.add_argument("--days", type=int, default=2, help="days loaded per code")
    ap.add_argument("--lines", type=int, default=10_000_000, help="the history's size")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/segwise_bench"))
    opts = ap.parse_args()
    codes = {"baseline": opts.compare.resolve(), "this": ROOT}
    steps: list[dict] = []

    def record(step: str, code: str, out: dict) -> None:
        steps.append({"step": step, "code": code, **out})
        print(f"{step:<12} {code:<8} {out['seconds']:>7.1f} s  {out.get('timings', '')}")

    for _ in range(opts.days):
        for code, tree in codes.items():
            day = newest_day(opts.database_url) + dt.timedelta(days=1)
            feed = day_feed_for(opts.workdir, opts.lines, day)
            load = ["load", str(feed), "--layout", "segwise", "-q"]
            record(
                "daily load",
                code,
                timed_cli([*load, "--database-url", opts.database_url], cwd=tree),
            )
            record("daily run", code, run(opts.database_url, day, SIX, tree))
    last = newest_day(opts.database_url)
    for step, methods in (("full run", SIX), ("rfm only", "rfm")):
        for code, tree in codes.items():
            record(step, code, run(opts.database_url, last, methods, tree))
    out = ROOT / "bench" / "results" / "daily-compare.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"baseline": str(opts.compare), "steps": steps}, indent=2, default=str)
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
