"""`segwise db ...`: the warehouse schema, managed by Alembic."""

from __future__ import annotations

import argparse

from etl.commands.common import add_database_option, resolve_database_url
from etl.db import redact


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="create, upgrade or inspect the warehouse schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")

    up = db_sub.add_parser("upgrade", help="migrate to the latest schema (idempotent)")
    add_database_option(up)
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=_upgrade)

    down = db_sub.add_parser("downgrade", help="migrate down (default: base, drops all)")
    add_database_option(down)
    down.add_argument("--revision", default="base", help="target revision (default: base)")
    down.set_defaults(func=_downgrade)

    cur = db_sub.add_parser("current", help="print the applied and the latest revision")
    add_database_option(cur)
    cur.set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    from etl import migrate  # Alembic and SQLAlchemy: only for these commands

    url = resolve_database_url(args)
    before = migrate.current_revision(url)
    migrate.upgrade(url, args.revision)
    after = migrate.current_revision(url)
    if before == after:
        print(f"warehouse {redact(url)} already at {after}: nothing to do")
    else:
        print(f"warehouse {redact(url)} upgraded {before or 'base'} -> {after}")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    from etl import migrate  # Alembic and SQLAlchemy: only for these commands

    url = resolve_database_url(args)
    migrate.downgrade(url, args.revision)
    print(f"warehouse {redact(url)} now at {migrate.current_revision(url) or 'base'}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from etl import migrate  # Alembic and SQLAlchemy: only for these commands

    url = resolve_database_url(args)
    print(f"applied: {migrate.current_revision(url) or 'base'}")
    print(f"latest:  {migrate.head_revision()}")
    return 0
