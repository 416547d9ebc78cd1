"""Which format each date/time column of a file is written in, found while staging it.

A layout may accept several formats for a column (online_retail: ``12/1/2010 8:26``, the same
with seconds, ISO). A file is written in one of them, so the build reads each column with one
format: the first of the layout's formats that reads every non-empty value of the column, in
every file of the batch. Staging finds it while the server COPYs: each record batch of a file
narrows the column's candidates to the formats that read all of its values (vectorised, Arrow
regular expressions: the same patterns the careful parse uses in SQL, so a value passes here
exactly when that parse would read it with that format). Memory stays bounded: only the
surviving candidates are kept. The ledger records them per file (``files[].date_formats``) and
the build (``Batch.date_formats``) takes the first one every file of the source kept.

A column where no format reads every value (a mix of formats, or a value no format reads) keeps
the careful parse: each distinct value by the first format that reads it, an unreadable one
rejected with its file, line, column and value, as before.

This is about values in data files only; dates given as text to the CLI, the DAG or in XCom
are parsed by ``etl.dates.parse_date``, the one parser for those.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.ingest.arrow_values import to_numpy
from etl.ingest.coerce import DateFormat
from etl.ingest.mapping import SourceSpec

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


class DateFormatCheck:
    """The formats of each date/time column of one file that read every value seen so far."""

    def __init__(self, source: SourceSpec) -> None:
        self.candidates: dict[str, list[DateFormat]] = {
            c.name: list(c.formats)
            for c in source.columns.values()
            if c.type in ("date", "timestamp") and c.formats
        }

    def __call__(self, batch: pa.RecordBatch) -> None:
        for name, formats in self.candidates.items():
            if not formats:
                continue
            values = pc.unique(batch.column(name)).drop_null()
            if len(values):
                self.candidates[name] = [f for f in formats if reads_all(f, values)]

    def result(self) -> dict[str, list[str]]:
        """Column -> its candidates' texts in the layout's order (the ledger's
        ``files[].date_formats``); an empty list: no format reads every value."""
        return {name: [f.text for f in formats] for name, formats in self.candidates.items()}


def reads_all(fmt: DateFormat, values: pa.Array) -> bool:
    """Whether ``fmt`` reads every one of ``values`` (text, no nulls) the way the build's
    plain conversion for it does, with the same result as the careful parse."""
    try:
        if not pc.all(pc.match_substring_regex(values, fmt.check_full)).as_py():
            return False
        if fmt.check_safe == fmt.check_full:
            return True
        # day 29, 30 or 31: a real day of its month?
        late = pc.filter(values, pc.invert(pc.match_substring_regex(values, fmt.check_safe)))
        return len(late) == 0 or real_days(late, fmt.parts_regex)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False  # no prediction: the column keeps the value-by-value parse


def real_days(values: pa.Array, parts_regex: str) -> bool:
    """Whether every value's day exists in its month and year (29 February only in a leap
    year), by the year (Y; y: 00-69 is 20xx, 70-99 19xx, as to_timestamp reads it), month
    (m, or the name b/B; January without one) and day (d) that ``parts_regex`` captures."""
    parts = pc.extract_regex(values, parts_regex)
    if parts.null_count:
        return False
    names = {parts.type.field(i).name for i in range(parts.type.num_fields)}

    def number(name: str) -> np.ndarray:
        return to_numpy(pc.cast(parts.field(name), pa.int64()))

    if "Y" in names:
        year = number("Y")
    else:
        short = number("y")
        year = np.where(short < 70, 2000 + short, 1900 + short)
    if "m" in names:
        month = number("m")
    elif names & {"b", "B"}:
        name = parts.field("b" if "b" in names else "B")
        text = pc.utf8_slice_codeunits(pc.utf8_lower(name), 0, 3)
        month = pc.index_in(text, pa.array(_MONTHS)).to_numpy(zero_copy_only=False) + 1
    else:
        month = np.ones(len(values), dtype=np.int64)
    day = number("d")
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _DAYS_IN_MONTH[month - 1] + ((month == 2) & leap)
    return bool(np.all(day <= last))


def chosen(files: list[dict[str, list[str]] | None], formats: list[str], column: str) -> str | None:
    """The format a column is read with across a source's files: the first of the layout's
    ``formats`` that every file kept (None: the careful parse, value by value)."""
    kept = None
    for f in files:
        mine = (f or {}).get(column)
        if mine is None:  # staged without the check (an older version): no choice
            return None
        kept = set(mine) if kept is None else kept & set(mine)
    if not kept:
        return None
    return next((text for text in formats if text in kept), None)
