"""The ``mart`` views: one per ``sql/mart/<view>.sql`` file, applied in dependency order."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from etl.paths import sql_dir

# Comments and string literals (COMMENTs name other views) do not make a dependency.
_SQL_NOISE = re.compile(r"--[^\n]*|'(?:[^']|'')*'")

_MART_VIEWS = "SELECT viewname FROM pg_views WHERE schemaname = 'mart' ORDER BY viewname"


def mart_view_files() -> list[Path]:
    """``sql/mart/<view>.sql``, one view per file, named after the file; a view after the mart
    views it reads (``mart.<name>`` in its text), else by name."""
    files = sorted((sql_dir() / "mart").glob("*.sql"))
    by_name = {p.stem: p for p in files}
    ordered: list[Path] = []
    seen: set[str] = set()

    def visit(path: Path, stack: tuple[str, ...]) -> None:
        if path.stem in seen or path.stem in stack:
            return
        for name in sorted(_mart_names(path) - {path.stem}):
            if name in by_name:
                visit(by_name[name], (*stack, path.stem))
        seen.add(path.stem)
        ordered.append(path)

    for path in files:
        visit(path, ())
    return ordered


def _mart_names(path: Path) -> set[str]:
    """The ``mart.<name>`` relations a view file reads."""
    code = _SQL_NOISE.sub(" ", path.read_text(encoding="utf-8"))
    return set(re.findall(r"\bmart\.(\w+)", code))


def apply_views(pg: psycopg.Connection) -> None:
    """(Re)create every mart view from today's files, in the caller's transaction."""
    for path in mart_view_files():
        apply_view(pg, path)


def apply_view(pg: psycopg.Connection, path: Path) -> None:
    """CREATE OR REPLACE keeps grants and dependants; a changed column list needs drop+create.

    The drop cascades to mart views reading this one; they come later in ``mart_view_files``
    order and are created again in the same transaction (a generated view, see
    ``etl.mart.layer``, afterwards).
    """
    text = path.read_text(encoding="utf-8")
    pg.execute("SAVEPOINT segwise_view")
    try:
        pg.execute(text)
    except psycopg.errors.InvalidTableDefinition:
        pg.execute("ROLLBACK TO SAVEPOINT segwise_view")
        pg.execute(
            sql.SQL("DROP VIEW IF EXISTS {} CASCADE").format(sql.Identifier("mart", path.stem))
        )
        pg.execute(text)
    pg.execute("RELEASE SAVEPOINT segwise_view")


def drop_views(pg: psycopg.Connection) -> None:
    """Drop every view in schema mart, the files' and the generated ones (if the schema exists)."""
    for (name,) in pg.execute(_MART_VIEWS).fetchall():
        pg.execute(sql.SQL("DROP VIEW IF EXISTS {} CASCADE").format(sql.Identifier("mart", name)))
