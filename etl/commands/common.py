"""Options shared by every command."""

from __future__ import annotations

import argparse

from etl.settings import DATABASE_URL_ENV, database_url


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help=f"warehouse PostgreSQL URL (default: ${DATABASE_URL_ENV})",
    )


def resolve_database_url(args: argparse.Namespace) -> str:
    return database_url(getattr(args, "database_url", None))
