"""`segwise load`: files into the warehouse (the layouts it knows: etl.commands.layouts)."""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import time
from collections.abc import Callable

from etl.commands.common import add_database_option, resolve_database_url
from etl.db import redact
from etl.errors import SegwiseError


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

    build = subparsers.add_parser(
        "build",
        help="build staged batches into the warehouse (after `load --stage-only` or a load "
        "stopped during its build)",
        description="Build the given staged batches, or every staged one, oldest first: batches "
        "apply in the order they were staged.",
    )
    build.add_argument("batch_ids", nargs="*", type=int, metavar="BATCH_ID")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    add_database_option(build)
    build.set_defaults(func=_build)

    loads = subparsers.add_parser(
        "loads",
        help="list the latest batches of the load ledger (a dead load shows as abandoned)",
    )
    loads.add_argument("-n", "--limit", type=int, default=20, metavar="N")
    add_database_option(loads)
    loads.set_defaults(func=_loads)


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


def _one_line_errors(command: Callable[[argparse.Namespace], int]):
    """Every failure of a load command is one line and exit 2; Ctrl-C or SIGTERM cancels the
    server-side statements (psycopg sends the cancel on KeyboardInterrupt), then one line and
    exit 130. No tracebacks."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        import psycopg

        def on_sigterm(signum, frame):  # noqa: ARG001 - the signal handler's signature
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            return command(args)
        except KeyboardInterrupt:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal does not cut it short
            print(
                "segwise: interrupted: the batch in progress was cancelled and rolled back; "
                "run the same command again to finish it",
                file=sys.stderr,
            )
            return 130
        except SegwiseError as exc:
            print(f"segwise: error: {one_line(str(exc))}", file=sys.stderr)
            return 2
        except psycopg.Error as exc:
            reason = one_line(str(exc).strip() or type(exc).__name__)
            print(f"segwise: error: database: {redact_all(reason, args)}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"segwise: error: {one_line(str(exc))}", file=sys.stderr)
            return 2
        finally:
            signal.signal(signal.SIGTERM, previous)

    return run


def one_line(message: str) -> str:
    """A message as one line: a list of problems joined with '; '."""
    parts = [p.strip().removeprefix("- ") for p in message.splitlines() if p.strip()]
    return "; ".join(parts).replace(":;", ":")


def redact_all(text: str, args: argparse.Namespace) -> str:
    url = getattr(args, "database_url", None)
    return text.replace(url, redact(url)) if url else text


@_one_line_errors
def _load(args: argparse.Namespace) -> int:
    from etl import ingest

    url = resolve_database_url(args)
    progress = None if args.quiet else _Progress()
    started = time.monotonic()
    if not args.quiet:
        print(f"loading into {redact(url)}", file=sys.stderr)
    load = ingest.stage_paths if args.stage_only else ingest.load_paths
    result = load(url, args.paths, layout=args.layout, mapping=args.mapping, progress=progress)
    _print_summary(result, time.monotonic() - started, _examples(url, result))
    return 0


def _examples(url: str, r) -> list[tuple[int, str]]:
    """The first rejected value per reason, for the summary."""
    from etl import db
    from etl.ingest import ledger

    if not r.rows_rejected or r.batch_id is None:
        return []
    with db.connect(url, autocommit=True) as conn:
        return ledger.first_rejections(conn, r.batch_id, 5)


def _print_summary(r, seconds: float, examples: list[tuple[int, str]] = ()) -> None:
    print(f"batch {r.batch_id}: {r.status} ({r.layout}, {seconds:.1f} s)")
    if r.status == "skipped":
        print(f"  {r.message}")
        return
    print(f"  rows read        {r.rows_read:>12,}")
    if r.status == "staged":
        print(f"  staged only: build it with `segwise build {r.batch_id}` (or the DAG's build)")
        return
    print(f"  lines loaded     {r.rows_loaded:>12,}")
    print(f"  already loaded   {r.rows_duplicate:>12,}")
    print(f"  rejected         {r.rows_rejected:>12,}", end="")
    if r.rows_rejected:
        print(f"   (staging.rejected_rows WHERE batch_id = {r.batch_id})")
        for n, text in examples:
            print(f"    {n:>8,}x {text}")
    else:
        print()
    rules = {k: v for k, v in sorted(r.rule_counts.items()) if k != "build_seconds"}
    if rules:
        print("  rules:")
        for k, v in rules.items():
            print(f"    {k:<40} {v:>12,}")


@_one_line_errors
def _build(args: argparse.Namespace) -> int:
    from etl.ingest.build import build_warehouse

    url = resolve_database_url(args)
    progress = None if args.quiet else _Progress()
    started = time.monotonic()
    results = build_warehouse(url, args.batch_ids or None, progress=progress)
    if not results:
        print("no staged batches: nothing to build")
    for r in results:
        _print_summary(r, time.monotonic() - started, _examples(url, r))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise SegwiseError(
            "; ".join(f"batch {r.batch_id} failed: {one_line(r.message)}" for r in failed)
        )
    return 0


@_one_line_errors
def _loads(args: argparse.Namespace) -> int:
    from etl import db
    from etl.ingest import ledger

    url = resolve_database_url(args)
    ledger.ensure_warehouse(url)  # marks the batches of dead loaders abandoned first
    with db.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT batch_id, status, layout, rows_read, rows_loaded, rows_rejected, "
            "started_at, finished_at, coalesce(message, '') FROM staging.load_batches "
            "ORDER BY batch_id DESC LIMIT %s",
            (max(args.limit, 1),),
        ).fetchall()
    for bid, status, layout, read, loaded, rejected, started, finished, message in rows:
        took = f"{(finished - started).total_seconds():.1f} s" if finished else "-"
        print(
            f"{bid:>6}  {status:<10} {layout:<24} read {read:>10,}  loaded {loaded:>10,}  "
            f"rejected {rejected:>8,}  {started:%Y-%m-%d %H:%M:%S}  {took}"
        )
        if status in ("failed", "abandoned"):
            print(f"        {one_line(message)[:300]}")
    return 0
