"""Customer-level frames in and out of Postgres with COPY (never ``to_sql``, never row inserts).

Reads stream COPY blocks into a buffer that pandas parses once; writes send CSV in chunks so a
million-row frame never exists twice as text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

CHUNK_ROWS = 200_000


def read_frame(
    conn: psycopg.Connection,
    query: sql.Composable,
    params: Mapping[str, Any] | None = None,
    *,
    dtypes: Mapping[str, Any] | None = None,
    dates: Sequence[str] = (),
) -> pd.DataFrame:
    """Result of ``query`` as a DataFrame via ``COPY (query) TO STDOUT (FORMAT csv, HEADER)``."""
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER true)").format(query)
    buf = io.BytesIO()
    with conn.cursor() as cur:
        with cur.copy(statement, params) as copy:
            for block in copy:
                buf.write(block)
    buf.seek(0)
    frame = pd.read_csv(
        buf,
        dtype=dict(dtypes or {}),
        parse_dates=list(dates),
        keep_default_na=False,
        na_values=[""],
    )
    return frame


def copy_frame(
    conn: psycopg.Connection,
    table: tuple[str, str],
    frame: pd.DataFrame,
    columns: Sequence[str],
) -> int:
    """Append ``frame[columns]`` to ``schema.table`` with COPY FROM STDIN (CSV, chunked)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(*table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS][list(columns)]
            copy.write(chunk.to_csv(index=False, header=False, na_rep=""))
    return len(frame)
