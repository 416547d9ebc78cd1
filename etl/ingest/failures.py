"""What a failed build's ledger message says: the database's error in one line, and where in
the batch's files a value the database refused first occurs."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql

from etl import db


def db_message(exc: Exception) -> str:
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        parts = [diag.message_primary or str(exc)]
        if diag.message_detail:
            parts.append(diag.message_detail)
        return "database error: " + "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def locate_value(url: str, batch_id: int, files: list[dict[str, Any]], exc: Exception) -> str:
    """Where the value a database error quotes (a mapping expression that could not convert
    it) first occurs in the batch's staged rows: ' (first in a.csv line 7, column X: 'v'; ...)'
    or ''."""
    found = re.search(r'"(.*)"', getattr(exc.diag, "message_primary", None) or "")
    if not found:
        return ""
    value = found.group(1)
    with db.connect(url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'staging' AND table_name LIKE %s AND data_type = 'text' "
            r"AND column_name NOT LIKE '\_%%' ORDER BY table_name, ordinal_position",
            (rf"raw\_{batch_id}\_%",),
        ).fetchall()
        for table, column in columns:
            if table.endswith("__malformed"):
                continue
            hit = conn.execute(
                sql.SQL(
                    "SELECT _file, _line FROM {} WHERE {} = %s ORDER BY _file, _line LIMIT 1"
                ).format(sql.Identifier("staging", table), sql.Identifier(column)),
                (value,),
            ).fetchone()
            if hit:
                path = files[hit[0] - 1]["path"] if hit[0] <= len(files) else "?"
                return (
                    f" (first in {path} line {hit[1]}, column {column}: {value!r}; a mapping "
                    "expression could not convert it)"
                )
    return ""
