"""Customer-level frames in and out of Postgres with COPY (never ``to_sql``, never row inserts).

Reads stream COPY blocks into a buffer that pandas parses once; writes send CSV in chunks so a
million-row frame never exists twice as text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

from etl.ingest.arrow_values import blank_as_null

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
        for chunk in csv_chunks(frame[list(columns)]):
            copy.write(chunk)
    return len(frame)


def csv_chunks(frame: pd.DataFrame) -> Iterator[bytes | str]:
    """``frame`` as CSV text for COPY, CHUNK_ROWS rows at a time: NaN, None and empty strings
    are written as an unquoted empty field (NULL). Arrow's CSV writer does it where every
    column is a number, a boolean or a string (a method's 382k memberships: 0.12 s against
    1.0 s for ``DataFrame.to_csv``); any other column (dates, objects of mixed types) goes
    through pandas, as before."""
    table = _plain_table(frame)
    if table is None:
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            yield chunk.to_csv(index=False, header=False, na_rep="")
        return
    options = pa_csv.WriteOptions(include_header=False)
    for batch in table.to_batches(max_chunksize=CHUNK_ROWS):
        buf = io.BytesIO()
        pa_csv.write_csv(batch, buf, options)
        yield buf.getvalue()


def _plain_table(frame: pd.DataFrame) -> pa.Table | None:
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    plain = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_null)
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = blank_as_null(column)  # as pandas writes an empty string
        elif not any(test(column.type) for test in plain):
            return None
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)
