"""`segwise demo generate`: deterministic demo data in the canonical `segwise` layout."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from etl.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_END, DEFAULT_SEED, DEFAULT_START
from etl.errors import SegwiseError

if TYPE_CHECKING:
    from etl.demo import DemoResult


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="generate demo data (history or a daily feed)")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, metavar="COMMAND")
    gen = demo_sub.add_parser(
        "generate",
        help="write customers.csv, products.csv, order_lines.csv (or one day's feed)",
        description=(
            "Write demo data in the `segwise` layout, the same bytes for the same arguments. "
            "Without --day: customers.csv, products.csv and order_lines.csv covering "
            f"--start..--end (default {DEFAULT_START}..{DEFAULT_END}). With --day: the daily "
            "feed order_lines_DAY.csv (+ customers_DAY.csv with that day's signups); pass the "
            "same --seed and --customers as the history. Load with: "
            "segwise load DIR --layout segwise"
        ),
    )
    gen.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    gen.add_argument(
        "--customers",
        type=int,
        metavar="N",
        help=f"base customer universe size (default {DEFAULT_CUSTOMERS})",
    )
    gen.add_argument("--start", metavar="YYYY-MM-DD", help="first order date (default end - 2y)")
    gen.add_argument("--end", metavar="YYYY-MM-DD", help=f"last order date (default {DEFAULT_END})")
    gen.add_argument(
        "--lines",
        type=int,
        metavar="N",
        help="size the universe for about N order lines (instead of --customers)",
    )
    gen.add_argument("--day", metavar="YYYY-MM-DD", help="write only this day's feed")
    gen.add_argument("--gzip", action="store_true", help="write .csv.gz files")
    gen.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    from etl.demo import write_day, write_history

    if args.lines is not None and args.customers is not None:
        raise SegwiseError("demo: give either --lines or --customers, not both")
    customers = args.customers if args.customers is not None else DEFAULT_CUSTOMERS
    if args.day:
        if args.start or args.end or args.lines is not None:
            raise SegwiseError("demo: --day writes one day's feed; drop --start/--end/--lines")
        result = write_day(args.out, args.day, seed=args.seed, customers=customers, gzip=args.gzip)
    else:
        result = write_history(
            args.out,
            seed=args.seed,
            customers=customers,
            start=args.start,
            end=args.end,
            scale_lines=args.lines,
            gzip=args.gzip,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    _summary(result)
    return 0


def _summary(r: DemoResult) -> None:
    span = str(r.start) if r.start == r.end else f"{r.start}..{r.end}"
    rate = r.order_lines / r.seconds if r.seconds > 0 else 0.0
    bad = sum(r.malformed.values())
    print(f"demo data (seed {r.seed}, universe of {r.universe_customers:,} customers), {span}:")
    for path in r.paths:
        print(f"  {path}")
    print(
        f"  {r.customers:,} customers, {r.products:,} products, {r.order_lines:,} order lines "
        f"in {r.orders:,} orders"
    )
    share = r.return_lines / r.order_lines if r.order_lines else 0.0
    detail = ", ".join(f"{n} {kind}" for kind, n in r.malformed.items() if n)
    print(
        f"  {r.return_lines:,} return lines ({share:.1%}); {bad} malformed rows ({detail or '-'})"
    )
    print(f"  {r.seconds:.1f} s ({rate:,.0f} lines/s)")
