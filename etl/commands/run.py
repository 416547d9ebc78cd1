"""`segwise run` (segment the customers as of a date) and `segwise report` (HTML per run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.commands.common import add_database_option, date_arg, resolve_database_url
from etl.db import connect
from etl.errors import SegwiseError


def register(subparsers: argparse._SubParsersAction) -> None:
    from etl.segment.run_config import METHODS

    run = subparsers.add_parser(
        "run",
        help="segment the customers as of a date (features, methods, profiles, publish)",
        description="Compute customer features as of a date in the warehouse, label every "
        "customer with each method, build the profiles, run the data-quality checks and "
        "publish the run to the mart views (replacing any earlier run of the same date "
        "atomically). Methods of the date's published run that this run does not compute are "
        "kept (carried forward) unless --replace is given.",
    )
    add_database_option(run)
    run.add_argument("--as-of", required=True, type=date_arg, metavar="YYYY-MM-DD")
    run.add_argument(
        "--methods",
        metavar="LIST",
        help=f"comma-separated subset of {','.join(METHODS)} (default: all)",
    )
    run.add_argument("--config", metavar="FILE", help="YAML overrides (docs/segmentation.md)")
    run.add_argument("--trigger", default="cli", help=argparse.SUPPRESS)
    run.add_argument(
        "--no-publish",
        action="store_true",
        help="compute and keep the run as 'succeeded' without making it visible",
    )
    run.add_argument(
        "--replace",
        action="store_true",
        help="drop the date's published results of methods not in --methods (default: keep)",
    )
    run.add_argument(
        "--full-quality-checks",
        action="store_true",
        help="reconcile every order line with the ledger, the orders and the features (run "
        "setting quality: full) instead of reading the checks each load passed when it was built",
    )
    run.set_defaults(func=_run)

    report = subparsers.add_parser(
        "report",
        help="write the HTML report of a segmentation run",
        description="What changed, one card per segment, the RFM grid, trends, migrations and "
        "customer value of one run, as one self-contained interactive HTML file.",
    )
    add_database_option(report)
    which = report.add_mutually_exclusive_group()
    which.add_argument("--run-id", type=int, help="run to report (default: latest published)")
    which.add_argument(
        "--as-of", type=date_arg, metavar="YYYY-MM-DD", help="published run of a date"
    )
    report.add_argument(
        "--out",
        metavar="PATH",
        help="HTML file to write (default: segwise-report-run<ID>.html here)",
    )
    report.add_argument(
        "--method",
        choices=METHODS,
        default="rfm",
        help="segmentation method whose segments get the cards and charts (default: rfm)",
    )
    report.set_defaults(func=_report)


def _run(args: argparse.Namespace) -> int:
    from etl.segment import pipeline

    url = resolve_database_url(args)
    if args.config and not Path(args.config).is_file():
        raise SegwiseError(f"config file {args.config} not found")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    run_id = pipeline.run_all(
        url,
        args.as_of,
        methods=args.methods,
        config=args.config,
        trigger=args.trigger,
        publish_result=not args.no_publish,
        progress=say,
        replace=args.replace,
        params={"quality": "full"} if args.full_quality_checks else None,
    )
    with connect(url) as conn:
        row = conn.execute(
            "SELECT status, row_counts->>'customers', metrics->'carried_forward' "
            "FROM segmentation.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    status, counts, carried = row
    print(f"run {run_id} {status}: {counts} customers segmented as of {args.as_of}")
    if carried:
        kept = ", ".join(f"{m} (from run {r})" for m, r in carried.items())
        print(f"kept the published results of {kept}; --replace drops them")
    return 0


def _report(args: argparse.Namespace) -> int:
    from etl.segment import report

    url = resolve_database_url(args)
    run_id = report.resolve_run(url, args.run_id, args.as_of)
    out = Path(args.out or f"segwise-report-run{run_id}.html")
    path = report.write_report(url, run_id, out, method=args.method)
    print(f"report for run {run_id} written to {path}")
    return 0
