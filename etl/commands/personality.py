"""`segwise personality`: cluster customer-level data and write its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.commands.common import add_database_option, resolve_database_url
from etl.errors import SegwiseError


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "personality",
        help="cluster customer-level data (one row per customer) and write its report",
        description="k-means and Ward clustering of customer-level customers (e.g. the "
        "customer_personality layout) on demographics and spend (use_cases.personality in "
        "--config); results in the mart.personality_* views, elbow/silhouette/dendrogram and "
        "per-cluster mixes in the HTML report.",
    )
    add_database_option(cmd)
    cmd.add_argument("--config", metavar="FILE", help="YAML overrides (docs/use-cases.md)")
    cmd.add_argument(
        "--out",
        metavar="PATH",
        help="HTML report to write (default: segwise-personality-run<ID>.html here)",
    )
    cmd.set_defaults(func=_personality)


def _personality(args: argparse.Namespace) -> int:
    from etl.usecases.personality import run_personality
    from etl.usecases.personality_report import write_report

    url = resolve_database_url(args)
    if args.config and not Path(args.config).is_file():
        raise SegwiseError(f"config file {args.config} not found")
    run_id = run_personality(
        url, args.config, progress=lambda m: print(m, file=sys.stderr, flush=True)
    )
    out = write_report(url, run_id, args.out or f"segwise-personality-run{run_id}.html")
    print(f"personality run {run_id}; report {out}")
    return 0
