"""Options shared by every command."""

from __future__ import annotations

import argparse
import datetime as dt

from etl.db import register_connection_secrets
from etl.environment import DATABASE_URL_ENV, database_url


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help=f"warehouse PostgreSQL URL (default: ${DATABASE_URL_ENV})",
    )


def resolve_database_url(args: argparse.Namespace) -> str:
    url = database_url(getattr(args, "database_url", None))
    register_connection_secrets(url)  # masked in every message and log line from here on
    return url


def date_arg(text: str) -> dt.date:
    """argparse type for a YYYY-MM-DD option, parsed by the one date parser (etl.dates)."""
    from etl.dates import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
