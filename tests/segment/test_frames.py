"""COPY of customer-level frames: Arrow's CSV and pandas' write the same rows, NULLs included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest

from etl.segment import frames

COLUMNS = ["n", "x", "label", "flag", "scores"]


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    labels = np.array(["Champions", "", "a, b", 'say "hi"', "Ünïcode"], dtype=object)
    frame = pd.DataFrame(
        {
            "n": np.arange(rows, dtype="int64"),
            "x": rng.normal(size=rows) * 1e6,
            "label": labels[np.arange(rows) % len(labels)],
            "flag": np.arange(rows) % 3 == 0,
            "scores": ['{"r": 3, "note": "a,b"}'] * rows,
        }
    )
    frame.loc[frame.index % 7 == 0, "x"] = np.nan
    frame.loc[frame.index % 11 == 0, "label"] = None
    return frame


def _table(conn: psycopg.Connection, name: str) -> str:
    conn.execute(
        f"CREATE TEMPORARY TABLE {name} (n bigint, x double precision, label text, "  # noqa: S608
        "flag boolean, scores jsonb)"
    )
    return name


def _rows(conn: psycopg.Connection, name: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {name} ORDER BY n").fetchall()  # noqa: S608


def test_arrow_and_pandas_write_the_same_rows(empty_database_url: str, monkeypatch) -> None:
    frame = _frame(frames.CHUNK_ROWS + 1234)  # more than one chunk
    with psycopg.connect(empty_database_url) as conn:
        arrow = _table(conn, "by_arrow")
        assert frames.copy_frame(conn, ("pg_temp", arrow), frame, COLUMNS) == len(frame)
        monkeypatch.setattr(frames, "_plain_table", lambda _frame: None)
        pandas = _table(conn, "by_pandas")
        frames.copy_frame(conn, ("pg_temp", pandas), frame, COLUMNS)
        by_arrow, by_pandas = _rows(conn, arrow), _rows(conn, pandas)
    assert by_arrow == by_pandas
    assert len(by_arrow) == len(frame)
    nulls = {i for i, row in enumerate(by_arrow) if row[2] is None}
    # None and the empty string are NULL, as pandas writes them
    assert nulls == {i for i in range(len(frame)) if i % 11 == 0 or i % 5 == 1}
    assert by_arrow[7][1] is None and by_arrow[1][1] == pytest.approx(frame["x"][1])


def test_columns_arrow_does_not_write_go_through_pandas() -> None:
    frame = pd.DataFrame({"n": [1, 2], "when": [dt.date(2024, 1, 1), None], "any": [1, "a"]})
    assert frames._plain_table(frame) is None
    text = "".join(c.decode() if isinstance(c, bytes) else c for c in frames.csv_chunks(frame))
    assert text == "1,2024-01-01,1\n2,,a\n"
