"""The `segwise` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import psycopg

from etl import __version__
from etl.db import redact, register_connection_secrets
from etl.errors import SegwiseError

# Environment variables that may hold a password, masked in every output of the process.
SECRET_ENV = ("SEGWISE_DATABASE_URL", "SEGWISE_SOURCE_URL", "AIRFLOW_CONN_WAREHOUSE")
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

# Each command group lives in its own module under etl.commands.
COMMAND_MODULES = [
    "etl.commands.db",
    "etl.commands.load",
    "etl.commands.layouts",
    "etl.commands.run",
    "etl.commands.demo",
    "etl.commands.export",
    "etl.commands.clv",
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


class RedactingFilter(logging.Filter):
    """Masks passwords in every log record (message, arguments and traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def _register_secrets(args: argparse.Namespace) -> None:
    for name in SECRET_ENV:
        register_connection_secrets(os.environ.get(name))
    for name, value in vars(args).items():
        if name.endswith("url") and isinstance(value, str):
            register_connection_secrets(value)


def _one_line(text: str) -> str:
    """A message on one line: the details of a multi-line message joined with '; '."""
    parts = [p.strip().lstrip("- ").strip() for p in redact(text).splitlines()]
    first, *rest = [p for p in parts if p] or [""]
    return first + ("" if not rest else " " + "; ".join(rest))


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C: psycopg cancels the running statement on the server and
    the run in progress is marked failed before the process exits."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from a test thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _error(message: str) -> int:
    print(f"segwise: error: {_one_line(message)}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every failure is one line on stderr (``segwise: error: ...``, exit 2;
    ``segwise: interrupted ...``, exit 130), passwords masked; ``-v`` adds the traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _register_secrets(args)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    try:
        with _sigterm_as_interrupt():
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(
            "segwise: interrupted: the statement running on the server was cancelled and "
            "nothing half-done was kept",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except SegwiseError as exc:
        _trace(args)
        return _error(str(exc))
    except psycopg.OperationalError as exc:
        _trace(args)
        return _error(f"lost the connection to the database (run the command again): {exc}")
    except psycopg.Error as exc:
        _trace(args)
        return _error(f"the database refused a statement: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug still gets one line, -v shows where
        _trace(args)
        orig = getattr(exc, "orig", None)  # SQLAlchemy's wrapper (Alembic) around psycopg's
        if isinstance(orig, psycopg.OperationalError):
            return _error(f"lost the connection to the database (run the command again): {orig}")
        if isinstance(orig, psycopg.Error):
            return _error(f"the database refused a statement: {orig}")
        return _error(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)")


def _trace(args: argparse.Namespace) -> None:
    if getattr(args, "verbose", False):
        print(redact(traceback.format_exc()), file=sys.stderr, end="")


if __name__ == "__main__":
    sys.exit(main())
