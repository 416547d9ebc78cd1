"""Stream one input file as Arrow record batches of text, with each row's line number.

CSV (plain or gzip) goes through ``pyarrow.csv.open_csv`` block by block, so memory stays
bounded whatever the file size; Parquet through ``ParquetFile.iter_batches``. Every value is read
as a string: typing happens later, in SQL, where a bad value becomes a rejected row instead of an
exception. Rows with the wrong number of fields (a truncated last line, a stray delimiter) are
collected as malformed rows with their line number.

Line numbers: the header is line 1 and each record adds one. pyarrow skips blank lines without
counting them, so after a blank line (or a quoted value holding a newline, when
``newlines_in_values`` is on) the number is the record's, not the physical line's.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from etl.ingest.arrow_values import blank_as_null, from_numpy
from etl.ingest.files import InputError, InputFile
from etl.ingest.mapping import ReadFormat, SourceSpec

BLOCK_SIZE = 1 << 20  # pyarrow's default; larger blocks cost memory and gain nothing
BLOCK_SIZE_ENV = "SEGWISE_CSV_BLOCK_SIZE"  # raise it for a file with one huge field (bytes)
PARQUET_BATCH = 100_000
MAX_MALFORMED = 10_000


@dataclass
class Malformed:
    line: int
    text: str
    reason: str


@dataclass
class FileReader:
    """Reads one file for one source; ``header_map`` says which header feeds each column."""

    file: InputFile
    source: SourceSpec
    header: list[str] = field(default_factory=list)
    header_map: dict[str, str | None] = field(default_factory=dict)
    malformed: list[Malformed] = field(default_factory=list)
    rows: int = 0
    typed_dates: list[str] = field(default_factory=list)  # columns a Parquet type dates
    fmt: ReadFormat = field(default_factory=ReadFormat)  # the source's, encoding per file
    encoding_note: str = ""  # why this file is read in another encoding than the layout's

    def open(self) -> FileReader:
        self.fmt = self.source.format
        if not self.file.parquet:
            self.fmt, self.encoding_note = file_encoding(self.file, self.source.format)
        self.header = read_header(self.file, self.fmt)
        self.header_map = match_columns(str(self.file.path), self.source, self.header)
        if self.file.parquet:
            schema = pq.ParquetFile(str(self.file.path)).schema_arrow
            self.typed_dates = sorted(
                col
                for col, header in self.header_map.items()
                if header is not None and _is_date_type(schema.field(header).type)
            )
        return self

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Record batches with columns ``_line`` and one text column per source column."""
        if self.file.parquet:
            yield from self._parquet()
        else:
            yield from self._csv()
        if self.rows == 0:
            raise InputError(
                f"{self.file.path}: the file has a header but no data rows"
                if not self.malformed
                else f"{self.file.path}: no readable data rows "
                f"(first problem at line {self.malformed[0].line}: {self.malformed[0].reason})"
            )

    # -- CSV

    def _csv(self) -> Iterator[pa.RecordBatch]:
        fmt = self.fmt
        wanted = [h for h in self.header_map.values() if h is not None]
        pending: list[int] = []
        # pyarrow ignores an exception raised in the handler: it is kept, raised after the batch
        problem: list[InputError] = []

        def on_invalid(row) -> str:  # pyarrow.csv.InvalidRow
            if row.number is None:
                raise InputError(f"{self.file.path}: malformed row with no position: {row.text}")
            if row.actual_columns < row.expected_columns:
                reason = f"truncated row: {row.actual_columns} of {row.expected_columns} fields"
            else:
                reason = f"too many fields: {row.actual_columns} instead of {row.expected_columns}"
            if unclosed_quote(row.text, fmt):
                problem.append(self._quote_error(row.number))
                return "skip"
            self.malformed.append(Malformed(row.number, row.text, reason))
            pending.append(row.number)
            if len(self.malformed) > MAX_MALFORMED and not problem:
                problem.append(
                    InputError(
                        f"{self.file.path}: more than {MAX_MALFORMED} malformed rows (the first at "
                        f"line {self.malformed[0].line}: {self.malformed[0].reason}); is the "
                        f"delimiter {fmt.delimiter!r} right?"
                    )
                )
            return "skip"

        read_opts = pacsv.ReadOptions(
            use_threads=False,  # invalid-row numbers are only known single-threaded
            block_size=block_size(),
            encoding=fmt.encoding,
            column_names=None if fmt.header else self._positional_names(),
            skip_rows=0,
        )
        parse_opts = pacsv.ParseOptions(
            delimiter=fmt.delimiter,
            quote_char=fmt.quote,
            newlines_in_values=fmt.newlines_in_values,
            invalid_row_handler=on_invalid,
        )
        names = self.header
        convert_opts = pacsv.ConvertOptions(
            column_types={h: pa.string() for h in names},
            include_columns=wanted,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
            check_utf8=True,
        )
        next_line = 2 if fmt.header else 1
        try:
            stream = pa.input_stream(
                str(self.file.path), compression="gzip" if self.file.compressed else None
            )
            reader = pacsv.open_csv(
                stream,
                read_options=read_opts,
                parse_options=parse_opts,
                convert_options=convert_opts,
            )
            for batch in reader:
                if problem:
                    raise problem[0]
                n = batch.num_rows
                if n == 0:
                    continue
                lines = np.arange(next_line, next_line + n, dtype=np.int64)
                pending.sort()
                while pending and pending[0] <= lines[-1]:
                    v = pending.pop(0)
                    idx = int(np.searchsorted(lines, v))
                    lines[idx:] += 1
                next_line = int(lines[-1]) + 1
                self._check_values(batch, lines)
                self.rows += n
                yield self._shape(batch, lines)
            if problem:
                raise problem[0]
        except InputError:
            raise
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError, EOFError) as exc:
            raise self._explain(exc) from None

    def _check_values(self, batch: pa.RecordBatch, lines: np.ndarray) -> None:
        """Refuse what would be lost or garbled silently: a value holding a line break when
        values may not span lines (a quote opened and never closed swallowed the lines after
        it), and a NUL byte (PostgreSQL text cannot hold one)."""
        fmt = self.fmt
        for name, values in zip(batch.schema.names, batch.columns, strict=True):
            if values.null_count == len(values) or not _bytes_hold(values, b"\n", b"\x00"):
                continue
            if not fmt.newlines_in_values and pc.any(pc.match_substring(values, "\n")).as_py():
                first = int(pc.index(pc.match_substring(values, "\n"), True).as_py())
                raise self._quote_error(int(lines[first]))
            nul = pc.match_substring(values, "\x00")
            if pc.any(nul).as_py():
                first = int(pc.index(nul, True).as_py())
                raise InputError(
                    f"{self.file.path}: line {int(lines[first])}, column {name}: the value "
                    f"{values[first].as_py()[:60]!r} holds a NUL byte (\\x00), which a text "
                    "column cannot store; remove it from the file"
                )

    def _quote_error(self, near_line: int | None) -> InputError:
        """The one message for a broken quote, whichever way the CSV reader tripped on it."""
        found = locate_open_quote(self.file, self.fmt)
        line, text = found if found else (near_line, "")
        shown = f": {text[:80]!r}" if text else ""
        return InputError(
            f"{self.file.path}: line {line}: a quoted field opens with "
            f"{self.fmt.quote} and is not closed on that line{shown}; fix the "
            "quoting (a quote inside a quoted value is written twice), or set the layout's "
            "format.newlines_in_values: true if values really span lines. Nothing was loaded"
        )

    def _positional_names(self) -> list[str]:
        return self.header

    # -- Parquet

    def _parquet(self) -> Iterator[pa.RecordBatch]:
        try:
            pf = pq.ParquetFile(str(self.file.path))
            cols = [h for h in self.header_map.values() if h is not None]
            next_line = 1
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH, columns=cols):
                n = batch.num_rows
                if n == 0:
                    continue
                batch = pa.RecordBatch.from_arrays(
                    [parquet_text(a) for a in batch.columns], names=batch.schema.names
                )
                lines = np.arange(next_line, next_line + n, dtype=np.int64)
                next_line += n
                self.rows += n
                yield self._shape(batch, lines)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{self.file.path}: cannot read as Parquet: {exc}") from None

    # -- shared

    def _shape(self, batch: pa.RecordBatch, lines: np.ndarray) -> pa.RecordBatch:
        """Order and name the columns like the raw staging table: _line, then source columns."""
        arrays = [from_numpy(lines)]
        names = ["_line"]
        for col, header in self.header_map.items():
            if header is None:
                arrays.append(pa.nulls(batch.num_rows, pa.string()))
            else:
                arrays.append(clean_text(batch.column(batch.schema.get_field_index(header))))
            names.append(col)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def _explain(self, exc: Exception) -> InputError:
        msg = str(exc)
        path = self.file.path
        if "invalid UTF8" in msg or isinstance(exc, UnicodeDecodeError):
            where = locate_bad_bytes(self.file, self.fmt)
            return InputError(
                f"{path}: not valid {self.fmt.encoding} text{where}; set the layout's "
                "format.encoding (e.g. latin-1 or cp1252) to the file's real encoding"
                + (f" ({self.encoding_note}, in its first 4 MB)" if self.encoding_note else "")
            )
        if "out of sync" in msg or "straddl" in msg:
            if locate_open_quote(self.file, self.fmt):
                return self._quote_error(None)
            if "straddl" in msg:
                long_line = locate_long_line(self.file, block_size())
                return InputError(
                    f"{path}: a field{long_line} is larger than the CSV reader's block of "
                    f"{block_size():,} bytes; set {BLOCK_SIZE_ENV} to a larger number of bytes "
                    "(e.g. 67108864) and load again"
                )
        if "Truncated" in msg or "truncated" in msg or isinstance(exc, EOFError):
            return InputError(f"{path}: the compressed file is truncated or corrupt ({msg})")
        if "gzip" in msg.lower() or "compress" in msg.lower():
            return InputError(f"{path}: cannot decompress: {msg}")
        return InputError(f"{path}: cannot parse as CSV: {msg}")


SNIFF_BYTES = 4 << 20
_UTF = ("utf-8", "utf-16", "utf-32", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le")


def file_encoding(file: InputFile, fmt: ReadFormat) -> tuple[ReadFormat, str]:
    """The format to read one CSV file with, and a note when its encoding is not the layout's.
    A UTF-8 byte-order mark means UTF-8 whatever the layout says. Under a layout with a
    single-byte encoding (latin-1, cp1252), a file whose first 4 MB hold non-ASCII text that
    is valid UTF-8 is UTF-8 (latin-1 text is practically never valid UTF-8): it is read as
    UTF-8 instead of as mojibake, and the note says so."""
    layout = codecs.lookup(fmt.encoding).name
    if layout in _UTF:
        return fmt, ""
    try:
        with _open_text_bytes(file) as raw:
            head = raw.read(SNIFF_BYTES)
    except (OSError, EOFError):
        return fmt, ""
    if head.startswith(codecs.BOM_UTF8):
        why = "it starts with a UTF-8 byte-order mark"
    elif not head.isascii() and _valid_utf8(head):
        why = "its text is valid UTF-8 with non-ASCII characters"
    else:
        return fmt, ""
    note = f"{file.path}: read as UTF-8, not the layout's {fmt.encoding}: {why}"
    return replace(fmt, encoding="utf-8"), note


def _valid_utf8(data: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _is_date_type(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_timestamp(t) or pa.types.is_date(t)


def parquet_text(values: pa.Array) -> pa.Array:
    """A typed Parquet column as the text PostgreSQL casts back to the same value: timestamps
    (any unit, with a time zone converted to UTC) as ISO with at most microseconds (what a
    timestamp holds), dates as ISO, decimals, integers and floats exactly, dictionary strings
    decoded. The build casts date/time columns that came typed directly, whatever the
    layout's ``formats`` say (stage records them per file as ``typed_dates``)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    t = values.type
    if pa.types.is_timestamp(t):
        unit = "us" if t.unit == "ns" else t.unit
        values = values.cast(pa.timestamp(t.unit)).cast(pa.timestamp(unit), safe=False)
    return values if t == pa.string() else values.cast(pa.string())


def block_size() -> int:
    """The CSV reader's block size: the default, or SEGWISE_CSV_BLOCK_SIZE (bytes)."""
    raw = os.environ.get(BLOCK_SIZE_ENV, "").strip()
    if not raw:
        return BLOCK_SIZE
    if not raw.isdigit() or not (1 << 16) <= int(raw) <= (1 << 31) - 1:
        raise InputError(f"{BLOCK_SIZE_ENV}={raw!r}: a number of bytes from 65536 to 2147483647")
    return int(raw)


def unclosed_quote(text: str, fmt: ReadFormat) -> bool:
    """A malformed record that ran past its line: a quote opened in it was never closed."""
    if not fmt.newlines_in_values:
        return "\n" in text or "\r" in text
    return text.count(fmt.quote) % 2 == 1


def locate_open_quote(file: InputFile, fmt: ReadFormat) -> tuple[int, str] | None:
    """(line, text) of the record whose quoted field is never closed, by Python's csv module
    (strict), or None. Lines are physical lines, so this names where the quote opened."""
    try:
        with _open_text_bytes(file) as raw:
            text = io.TextIOWrapper(raw, encoding=fmt.encoding, errors="replace", newline="")
            if not fmt.newlines_in_values:
                for number, line in enumerate(text, start=1):
                    if fmt.quote not in line:
                        continue
                    try:
                        next(
                            csv.reader(
                                [line], delimiter=fmt.delimiter, quotechar=fmt.quote, strict=True
                            )
                        )
                    except csv.Error as exc:
                        if "end of data" in str(exc) or "new-line" in str(exc):
                            return number, line.rstrip("\r\n")
                return None
            reader = csv.reader(text, delimiter=fmt.delimiter, quotechar=fmt.quote, strict=True)
            start = 1
            while True:
                start = reader.line_num + 1
                try:
                    next(reader)
                except StopIteration:
                    return None
                except csv.Error as exc:
                    if "end of data" in str(exc):
                        return start, ""
                    return None
    except (OSError, EOFError):
        return None


def locate_long_line(file: InputFile, limit: int) -> str:
    """' on line N' for the first physical line longer than ``limit`` bytes, or ''."""
    try:
        with _open_text_bytes(file) as raw:
            for number, line in enumerate(raw, start=1):
                if len(line) > limit:
                    return f" on line {number}"
    except (OSError, EOFError):
        return ""
    return ""


def clean_text(values: pa.Array) -> pa.Array:
    """Values as staged: surrounding whitespace trimmed, blank as null (vectorised here, so
    the SQL typing needs no trim of its own). The shortest value's length tells whether any
    is blank: most columns have none, and the select that nulls them copies every value."""
    trimmed = pc.utf8_trim_whitespace(values)
    if pc.min(pc.binary_length(trimmed)).as_py() != 0:
        return trimmed
    return blank_as_null(trimmed)


def _bytes_hold(values: pa.Array, *needles: bytes) -> bool:
    """Whether a string array's character data may hold any of ``needles``: a search of its
    data buffer, a hundred times faster than a per-value search. It may see bytes of values
    outside a sliced array's window or behind a null; the caller's per-value check decides."""
    data = values.buffers()[2]
    if data is None:
        return False
    raw = data.to_pybytes()
    return any(n in raw for n in needles)


def _open_text_bytes(file: InputFile) -> io.BufferedIOBase:
    if file.compressed:
        import gzip

        return gzip.open(file.path, "rb")  # type: ignore[return-value]
    return file.path.open("rb")


def read_header(file: InputFile, fmt: ReadFormat) -> list[str]:
    """Column names of a file: the Parquet schema, or the CSV's first record."""
    if file.parquet:
        try:
            return pq.ParquetFile(str(file.path)).schema_arrow.names
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{file.path}: cannot read as Parquet: {exc}") from None
    try:
        with _open_text_bytes(file) as raw:
            head = raw.read(1 << 16)
    except (OSError, EOFError) as exc:
        raise InputError(f"{file.path}: cannot read: {exc}") from None
    if not head.strip():
        raise InputError(f"{file.path}: the file is empty (no header, no rows)")
    text = codecs.getincrementaldecoder(fmt.encoding)(errors="replace").decode(head)
    first = next(csv.reader(io.StringIO(text), delimiter=fmt.delimiter, quotechar=fmt.quote))
    if not fmt.header:
        return [f"column_{i + 1}" for i in range(len(first))]
    if first:
        first[0] = first[0].lstrip("\ufeff")
    return first


def match_columns(label: str, source: SourceSpec, header: list[str]) -> dict[str, str | None]:
    """Which header feeds each column (exact name first, then case/space-insensitive)."""

    def norm(s: str) -> str:
        return "".join(s.lower().split()).replace("_", "")

    exact = {h: h for h in header}
    loose: dict[str, str] = {}
    for h in header:
        loose.setdefault(norm(h), h)
    out: dict[str, str | None] = {}
    missing = []
    for col in source.columns.values():
        found = next((exact[n] for n in col.names if n in exact), None)
        if found is None:
            found = next((loose[norm(n)] for n in col.names if norm(n) in loose), None)
        if found is None and not col.optional:
            missing.append(col)
        out[col.name] = found
    if missing:
        wanted = ", ".join(
            c.name if len(c.names) == 1 else f"{c.name} (or {' / '.join(c.names)})" for c in missing
        )
        raise InputError(
            f"{label}: wrong header for source {source.name!r}: missing {wanted}; "
            f"found {', '.join(header) or 'no columns'}"
        )
    return out


def locate_bad_bytes(file: InputFile, fmt: ReadFormat) -> str:
    """' at line L, byte B (column C)' for the first undecodable byte, or ''."""
    decoder = codecs.getincrementaldecoder(fmt.encoding)(errors="strict")
    line, line_start, offset = 1, 0, 0
    try:
        with _open_text_bytes(file) as raw:
            while chunk := raw.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset + exc.start
                    before = chunk[: exc.start]
                    nl = before.count(b"\n")
                    if nl:
                        line += nl
                        line_start = offset + before.rfind(b"\n") + 1
                    col = bad - line_start + 1
                    value = chunk[exc.start : exc.start + 4]
                    field_no = (
                        chunk[max(0, line_start - offset) : exc.start].count(fmt.delimiter.encode())
                        + 1
                    )
                    return (
                        f" at line {line}, byte offset {bad} (character {col} of the line, "
                        f"field {field_no}): bytes {value!r}"
                    )
                nl = chunk.count(b"\n")
                if nl:
                    line += nl
                    line_start = offset + chunk.rfind(b"\n") + 1
                offset += len(chunk)
    except (OSError, EOFError):
        return ""
    return ""
