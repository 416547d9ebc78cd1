"""`segwise load`: files into the warehouse (the layouts it knows: etl.commands.layouts)."""

from __future__ import annotations

import argparse
import sys
import time

from etl.commands.common import add_database_option, resolve_database_url
from etl.db import redact


def register(subparsers: argparse._SubParsersAction) -> None:
    load = subparsers.add_parser(
        "load",
        help="load order files (CSV, CSV.gz, Parquet; files or folders) into the warehouse",
        description=(
            "Stage the files as one batch (COPY) and build the warehouse from it (set-based SQL, "
            "one transaction). Loading identical content again does nothing. Rejected rows go "
            "to staging.rejected_rows with their file, line and reason."
        ),
    )
    load.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder of files")
    which = load.add_mutually_exclusive_group(required=True)
    which.add_argument("--layout", metavar="NAME", help="a built-in layout (see `segwise layouts`)")
    which.add_argument(
        "--mapping", metavar="FILE", help="a mapping file for any other layout (docs/mapping.md)"
    )
    load.add_argument(
        "--stage-only",
        action="store_true",
        help="only COPY into staging; the warehouse build runs later (the DAG's split)",
    )
    load.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    add_database_option(load)
    load.set_defaults(func=_load)


class _Progress:
    """Rows and rows/s on stderr while staging (at most once a second), then each build step."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, stage: str, rows: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        if stage.startswith("staging") or stage == "staged":
            line = f"{stage}: {rows:,} rows ({rows / elapsed:,.0f} rows/s)"
        else:
            line = stage + (f": {rows:,} rows" if rows else "")
        print(f"  [{elapsed:6.1f} s] {line}", file=sys.stderr, flush=True)


def _load(args: argparse.Namespace) -> int:
    from etl import ingest

    url = resolve_database_url(args)
    progress = None if args.quiet else _Progress()
    started = time.monotonic()
    if not args.quiet:
        print(f"loading into {redact(url)}", file=sys.stderr)
    load = ingest.stage_paths if args.stage_only else ingest.load_paths
    result = load(url, args.paths, layout=args.layout, mapping=args.mapping, progress=progress)
    _print_summary(result, time.monotonic() - started)
    return 0


def _print_summary(r, seconds: float) -> None:
    print(f"batch {r.batch_id}: {r.status} ({r.layout}, {seconds:.1f} s)")
    if r.status == "skipped":
        print(f"  {r.message}")
        return
    print(f"  rows read        {r.rows_read:>12,}")
    if r.status == "staged":
        print("  staged only: build with the DAG's build task or ingest.build_warehouse()")
        return
    print(f"  lines loaded     {r.rows_loaded:>12,}")
    print(f"  already loaded   {r.rows_duplicate:>12,}")
    print(f"  rejected         {r.rows_rejected:>12,}", end="")
    if r.rows_rejected:
        print(f"   (staging.rejected_rows WHERE batch_id = {r.batch_id})")
    else:
        print()
    rules = {k: v for k, v in sorted(r.rule_counts.items()) if k != "build_seconds"}
    if rules:
        print("  rules:")
        for k, v in rules.items():
            print(f"    {k:<40} {v:>12,}")
