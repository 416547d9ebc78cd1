"""`segwise export`: one segment's customers, or who entered / left it, as CSV or Parquet."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from etl.commands.common import add_database_option, resolve_database_url


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    from etl.export import CHANGES, FORMATS

    p = subparsers.add_parser(
        "export",
        help="write one segment's customers (or who entered/left it) to a CSV or Parquet file",
        description="Stream the customers of one segment of a published run to a file, for a "
        "CRM import or a reverse-ETL tool. With --change, only the customers who entered or "
        "left the segment since the previous published run (docs/exports.md).",
    )
    add_database_option(p)
    p.add_argument("--method", required=True, help="segmentation method, e.g. rfm")
    p.add_argument("--segment", required=True, help='segment label, e.g. "At Risk"')
    p.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="published run of this date (default: the latest, what the marts show)",
    )
    p.add_argument("--change", choices=CHANGES, help="only who entered / left the segment")
    p.add_argument("--format", choices=FORMATS, default="csv", help="file format (default csv)")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write (replaced whole)")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from etl.export import export_segment

    run, exported = export_segment(
        resolve_database_url(args),
        args.out,
        method=args.method,
        segment=args.segment,
        as_of=args.as_of,
        change=args.change,
        fmt=args.format,
    )
    what = f"{args.change} {args.segment!r}" if args.change else f"in {args.segment!r}"
    print(
        f"{exported.rows} customers {what} ({args.method}, run {run.run_id}, as of {run.as_of}) "
        f"written to {args.out} (sha256 {exported.sha256})",
        file=sys.stdout,
    )
    return 0
