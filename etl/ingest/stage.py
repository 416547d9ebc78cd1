"""Stage a batch: stream its files into UNLOGGED raw tables of text with COPY.

Nothing is typed or judged here (that is set-based SQL in the build); this step only has to be
fast and bounded in memory: each Arrow record batch is written as CSV straight into
``COPY ... FROM STDIN``. The batch's ledger row moves running -> staged in the same transaction
that creates the raw tables, so a crash leaves either both or neither.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from etl import db
from etl.errors import SegwiseError
from etl.ingest import files as filesmod
from etl.ingest import ledger, sqlgen
from etl.ingest.arrow_values import filled, from_numpy, to_numpy, validity
from etl.ingest.date_formats import DateFormatCheck
from etl.ingest.expr import columns_in
from etl.ingest.files import InputError, InputFile
from etl.ingest.ledger import LoadError, LoadResult
from etl.ingest.mapping import LINES, Mapping, SourceSpec
from etl.ingest.readers import FileReader

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
_WRITE_OPTS = pacsv.WriteOptions(include_header=False, batch_size=8192)


@dataclass
class StagedSource:
    """A stream of Arrow batches for one source, already shaped (_line + source columns)."""

    source: str
    label: str  # file path or query, for messages
    batches: Iterator[pa.RecordBatch]


def layout_key(mapping: Mapping, preset: bool) -> str:
    """The ledger's layout column: a built-in name, or the mapping's name and content hash."""
    return mapping.name if preset else f"mapping:{mapping.name}@{mapping.fingerprint()[:12]}"


def position_column(mapping: Mapping) -> str | None:
    """The order-id column whose running count gives line numbers, when the layout has no
    line number and its order id is a plain column (online_retail): counted while staging,
    in file order, instead of sorting every line in SQL afterwards."""
    lines = mapping.targets.get(LINES)
    if lines is None or "line_no" in lines.columns:
        return None
    refs = columns_in(lines.columns["order_id"])
    text = lines.columns["order_id"].strip().strip('"')
    source = mapping.sources[lines.source]
    if len(refs) == 1 and refs[0][0] is None and refs[0][1] == text and text in source.columns:
        return text
    return None


def create_raw_tables(conn, batch_id: int, mapping: Mapping) -> None:
    positions = position_column(mapping)
    lines_source = mapping.targets[LINES].source if LINES in mapping.targets else None
    for src in mapping.file_sources():
        cols = [sql.SQL("{} text").format(sql.Identifier(c)) for c in src.columns]
        if positions and src.name == lines_source:
            cols.append(sql.SQL("_pos integer"))
        conn.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE {} (_file integer NOT NULL, _line bigint NOT NULL, {})"
            ).format(sqlgen.raw_table(batch_id, src.name), sql.SQL(", ").join(cols))
        )
    conn.execute(
        sql.SQL(
            "CREATE UNLOGGED TABLE {} (_file integer NOT NULL, _line bigint NOT NULL, "
            "text text, reason text NOT NULL)"
        ).format(sqlgen.malformed_table(batch_id))
    )


class CastCheck:
    """Which number/integer columns of a stream hold a value a plain cast may refuse. The build
    types those with the careful (regex-guarded) parse from the start and the rest with plain
    casts, instead of redoing the whole typing the careful way when one value in ten million
    is bad. Arrow's parsers only predict Postgres's: a plain cast that still fails sends the
    statement down the careful path as before. Runs here, vectorised, while the server COPYs;
    so does the choice of each date/time column's format (``dates``, see date_formats)."""

    def __init__(self, source: SourceSpec) -> None:
        self.targets = {
            c.name: pa.int32() if c.type == "integer" else pa.float64()
            for c in source.columns.values()
            if c.type in ("integer", "number") and c.decimal == "."
        }
        self.flagged: set[str] = set()
        self.dates = DateFormatCheck(source)

    def __call__(self, batch: pa.RecordBatch) -> None:
        for name, target in self.targets.items():
            if name in self.flagged:
                continue
            try:
                pc.cast(batch.column(name), target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                self.flagged.add(name)
        self.dates(batch)


class Positions:
    """Running line count per order id across the batch's files (1-based, file order)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, orders: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(orders))
        valid = validity(encoded.indices)
        idx = to_numpy(encoded.indices, null_as=-1).astype(np.int64)
        keys = encoded.dictionary.to_pylist()
        n = len(idx)
        order = np.argsort(idx, kind="stable")
        ranked = idx[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        within = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        before = np.array([self.seen.get(k, 0) for k in keys] + [0], dtype=np.int64)
        pos = np.empty(n, dtype=np.int64)
        pos[order] = within + 1 + before[ranked]
        counts = np.bincount(idx[valid], minlength=len(keys))
        for k, c in zip(keys, counts.tolist(), strict=True):
            if c:
                self.seen[k] = self.seen.get(k, 0) + c
        return from_numpy(pos.astype(np.int32), valid)


def drop_raw_tables(url: str, batch_id: int) -> None:
    with db.connect(url, autocommit=True) as conn:
        names = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'staging' AND tablename LIKE %s",
            (f"raw\\_{batch_id}\\_%",),
        ).fetchall()
        for (name,) in names:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("staging", name)))


def copy_stream(
    conn,
    batch_id: int,
    file_no: int,
    stream: StagedSource,
    columns: list[str],
    progress: Progress | None,
    counter: list[int],
    positions: tuple[str, Positions] | None = None,
    check: CastCheck | None = None,
) -> int:
    """COPY one source stream into its raw table; returns the rows written. FREEZE: the table
    was created in this transaction, so its rows need no hint-bit writes on the first read."""
    names = ["_file", "_line", *columns] + (["_pos"] if positions else [])
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FREEZE true)").format(
        sqlgen.raw_table(batch_id, stream.source),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
    )
    rows = 0
    last = time.monotonic()
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for batch in stream.batches:
            n = batch.num_rows
            if check is not None:
                check(batch)
            arrays = [filled(n, file_no, np.int32), *batch.columns]
            if positions:
                arrays.append(positions[1](batch.column(positions[0])))
            out = pa.RecordBatch.from_arrays(arrays, names=names)
            sink = pa.BufferOutputStream()
            pacsv.write_csv(out, sink, write_options=_WRITE_OPTS)
            copy.write(sink.getvalue())
            rows += n
            counter[0] += n
            now = time.monotonic()
            if progress is not None and now - last >= 1.0:
                progress(f"staging {stream.label}", counter[0])
                last = now
    return rows


def stage_streams(
    url: str,
    mapping: Mapping,
    *,
    layout: str,
    source_kind: str,
    source_uri: str,
    content_sha256: str | None,
    bytes_: int | None,
    files_meta: list[dict[str, Any]],
    streams: Callable[[], Iterable[tuple[int, StagedSource, Any]]],
    progress: Progress | None,
    watermark_from: str | None = None,
    watermark_to: Callable[[], str | None] | None = None,
) -> LoadResult:
    """Open a ledger row, COPY every stream, and mark the batch staged (or failed)."""
    batch_id, holder = ledger.open_batch(
        url,
        source_kind=source_kind,
        layout=layout,
        source_uri=source_uri,
        content_sha256=content_sha256,
        bytes_=bytes_,
        files=files_meta,
        mapping_doc=mapping.document,
        watermark_from=watermark_from,
    )
    counter = [0]
    try:
        return _stage(url, mapping, batch_id, files_meta, streams, progress, counter, watermark_to)
    finally:
        holder.close()  # the row has left 'running' (or the loader is going away)


def _stage(
    url: str,
    mapping: Mapping,
    batch_id: int,
    files_meta: list[dict[str, Any]],
    streams: Callable[[], Iterable[tuple[int, StagedSource, Any]]],
    progress: Progress | None,
    counter: list[int],
    watermark_to: Callable[[], str | None] | None,
) -> LoadResult:
    try:
        with db.connect(url) as conn:
            with conn.transaction():
                create_raw_tables(conn, batch_id, mapping)
                malformed_rows = []
                pos_column = position_column(mapping)
                positions = Positions()
                lines_source = mapping.targets[LINES].source if LINES in mapping.targets else None
                for file_no, stream, reader in streams():
                    columns = list(mapping.sources[stream.source].columns)
                    counting = (
                        (pos_column, positions)
                        if pos_column and stream.source == lines_source
                        else None
                    )
                    check = CastCheck(mapping.sources[stream.source])
                    rows = copy_stream(
                        conn, batch_id, file_no, stream, columns, progress, counter, counting, check
                    )
                    meta = files_meta[file_no - 1]
                    meta["rows"] = rows
                    meta["careful"] = sorted(check.flagged)
                    meta["date_formats"] = check.dates.result()
                    if reader is not None:
                        meta["typed_dates"] = reader.typed_dates
                        if reader.encoding_note:
                            meta["encoding"] = reader.fmt.encoding
                            log.warning("%s", reader.encoding_note)
                            if progress is not None:
                                progress(f"note: {reader.encoding_note}", 0)
                        meta["malformed"] = len(reader.malformed)
                        meta["columns"] = reader.header_map
                        malformed_rows += [
                            (file_no, m.line, m.text, m.reason) for m in reader.malformed
                        ]
                if malformed_rows:
                    with (
                        conn.cursor() as cur,
                        cur.copy(
                            sql.SQL("COPY {} (_file, _line, text, reason) FROM STDIN").format(
                                sqlgen.malformed_table(batch_id)
                            )
                        ) as cp,
                    ):
                        for row in malformed_rows:
                            cp.write_row(row)
                rows_read = sum(m.get("rows", 0) + m.get("malformed", 0) for m in files_meta)
                extra = {}
                if watermark_to is not None:
                    extra["watermark_to"] = watermark_to()
                ledger.set_status(
                    conn,
                    batch_id,
                    "staged",
                    finished=False,
                    rows_read=rows_read,
                    files=files_meta,
                    **extra,
                )
    except psycopg.errors.UniqueViolation:
        # another load staged the same content meanwhile (the ledger's unique index)
        drop_raw_tables(url, batch_id)
        with db.connect(url, autocommit=True) as conn:
            ledger.set_status(
                conn,
                batch_id,
                "skipped",
                message="identical content was staged concurrently by another load: nothing to do",
            )
        return ledger.fetch(url, batch_id)
    except Exception as exc:
        message = str(exc) if isinstance(exc, SegwiseError) else f"{type(exc).__name__}: {exc}"
        ledger.fail(url, batch_id, message)
        drop_raw_tables(url, batch_id)
        result = ledger.fetch(url, batch_id)
        raise LoadError(f"batch {batch_id} failed, nothing was loaded: {message}", result) from exc
    except BaseException:  # Ctrl-C, SIGTERM: the COPY was rolled back; say so in the ledger
        ledger.fail(url, batch_id, "interrupted: the load was cancelled; nothing was loaded")
        drop_raw_tables(url, batch_id)
        raise
    if progress is not None:
        progress("staged", counter[0])
    return ledger.fetch(url, batch_id)


def stage_files(
    url: str,
    paths: list[str | Path] | str | Path,
    mapping: Mapping,
    *,
    preset: bool,
    progress: Progress | None = None,
    source_kind: str = "file",
) -> LoadResult:
    """Stage a set of files as one batch (or record a skip when its content is known)."""
    ledger.ensure_warehouse(url)
    expanded = filesmod.expand(paths if isinstance(paths, list) else [paths])
    inputs = filesmod.describe(expanded, mapping)
    present = {f.source for f in inputs}
    missing = [s for s in mapping.file_sources() if s.required and s.name not in present]
    if missing:
        wanted = "; ".join(f"{s.name} ({', '.join(s.files)})" for s in missing)
        raise InputError(
            f"layout {mapping.name} needs files for: {wanted}; got "
            + ", ".join(str(p) for p in expanded)
        )
    # Header problems are reported before anything is hashed into the ledger or copied.
    readers = [FileReader(f, mapping.sources[f.source]).open() for f in inputs]
    key = layout_key(mapping, preset)
    sha = filesmod.batch_sha256(inputs)
    uri = ", ".join(str(f.path) for f in inputs)
    meta = [_file_meta(i + 1, f) for i, f in enumerate(inputs)]
    prior = ledger.already_loaded(url, key, sha)
    if prior is not None and prior[1] == "staged":
        # the same content was staged and never built (a --stage-only load, or a load killed
        # during its build): that batch is the one to finish, not a reason to skip
        if progress is not None:
            progress(f"batch {prior[0]} has this content staged but not built: finishing it", 0)
        return ledger.fetch(url, prior[0])
    if prior is not None:
        message = (
            f"identical content already loaded (batch {prior[0]}, {prior[1]} "
            f"{prior[2]:%Y-%m-%d %H:%M:%S}): nothing to do"
        )
        batch_id = ledger.record_skip(
            url,
            source_kind=source_kind,
            layout=key,
            source_uri=uri,
            content_sha256=sha,
            files=meta,
            message=message,
        )
        return ledger.fetch(url, batch_id)

    def streams():
        for i, reader in enumerate(readers):
            yield (
                i + 1,
                StagedSource(reader.source.name, str(reader.file.path), reader.batches()),
                reader,
            )

    return stage_streams(
        url,
        mapping,
        layout=key,
        source_kind=source_kind,
        source_uri=uri,
        content_sha256=sha,
        bytes_=sum(f.bytes for f in inputs),
        files_meta=meta,
        streams=streams,
        progress=progress,
    )


def _file_meta(index: int, f: InputFile) -> dict[str, Any]:
    return {
        "file": index,
        "path": str(f.path),
        "source": f.source,
        "sha256": f.sha256,
        "bytes": f.bytes,
        "mtime_ns": f.path.stat().st_mtime_ns,
    }
