"""The `segwise` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from etl import __version__
from etl.errors import SegwiseError

# Each command group lives in its own module under etl.commands.
COMMAND_MODULES = [
    "etl.commands.db",
    "etl.commands.load",
    "etl.commands.run",
    "etl.commands.demo",
    "etl.commands.personality",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segwise",
        description="Load order data into a Postgres warehouse and segment the customers.",
    )
    parser.add_argument("--version", action="version", version=f"segwise {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except SegwiseError as exc:
        print(f"segwise: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
