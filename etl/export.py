"""Segment lists people act on: one segment's customers, or who entered / left it, as a file.

Streamed, so memory stays flat whatever the segment's size: CSV goes straight from Postgres
(``COPY ... TO STDOUT``) to the file; Parquet is read through a server-side cursor and written in
row groups by pyarrow. A file is written under a temporary name beside the target and renamed
when complete, so a reader never sees half a file. The queries are ``sql/export/*.sql``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

from etl.db import connect
from etl.errors import SegwiseError
from etl.paths import read_sql

FORMATS = ("csv", "parquet")
CHANGES = ("entered", "left")
CHUNK_ROWS = 50_000
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RunRef:
    """A published run and the one its entered/left lists compare against."""

    run_id: int
    as_of: dt.date
    methods: tuple[str, ...]
    previous_run_id: int | None
    previous_as_of: dt.date | None


@dataclass(frozen=True)
class ExportedFile:
    file: str
    method: str
    segment: str
    change: str | None
    rows: int
    sha256: str
    bytes: int


def resolve_run(
    conn: psycopg.Connection, as_of: dt.date | None = None, run_id: int | None = None
) -> RunRef:
    """The published run ``run_id``, or that of ``as_of``, or the latest published one (what
    ``mart`` shows)."""
    query = (
        "SELECT run_id, as_of_date, methods, "
        "coalesce((metrics ->> 'customer_rows_pruned')::boolean, false) "
        "FROM segmentation.runs WHERE status = 'published' "
    )
    if run_id is not None:
        row = conn.execute(query + "AND run_id = %s", (run_id,)).fetchone()
        if row is None:
            raise SegwiseError(f"segmentation run {run_id} is not published: nothing to export")
    elif as_of is None:
        row = conn.execute(query + "ORDER BY as_of_date DESC, run_id DESC LIMIT 1").fetchone()
        if row is None:
            raise SegwiseError("no published segmentation run to export: run `segwise run` first")
    else:
        row = conn.execute(query + "AND as_of_date = %s", (as_of,)).fetchone()
        if row is None:
            raise SegwiseError(
                f"no published segmentation run for as-of date {as_of}: run `segwise run "
                f"--as-of {as_of}` or leave out --as-of for the latest"
            )
    found_id, run_as_of, methods, pruned = row
    if pruned:
        raise SegwiseError(
            f"run {found_id} ({run_as_of}) kept only per-segment results (retention "
            "keep_customer_rows_for_dates): its customer lists are gone"
        )
    prev = conn.execute(
        "SELECT m.previous_run_id, p.as_of_date FROM segmentation.segment_migrations m "
        "JOIN segmentation.runs p ON p.run_id = m.previous_run_id "
        "WHERE m.run_id = %s LIMIT 1",
        (found_id,),
    ).fetchone()
    return RunRef(
        run_id=found_id,
        as_of=run_as_of,
        methods=tuple(methods),
        previous_run_id=prev[0] if prev else None,
        previous_as_of=prev[1] if prev else None,
    )


def segments(conn: psycopg.Connection, run: RunRef, method: str) -> list[str]:
    """The method's segments in the run (and, for change lists, in the previous run)."""
    if method not in run.methods:
        raise SegwiseError(
            f"method {method!r} did not run in run {run.run_id} ({run.as_of}): it has "
            f"{', '.join(run.methods)}"
        )
    rows = conn.execute(
        "SELECT DISTINCT segment FROM segmentation.segment_profiles "
        "WHERE run_id = ANY(%s) AND method = %s ORDER BY segment",
        ([r for r in (run.run_id, run.previous_run_id) if r is not None], method),
    )
    return [r[0] for r in rows]


def check_request(
    conn: psycopg.Connection, run: RunRef, method: str, segment: str, change: str | None
) -> None:
    """One-line errors for a segment that does not exist or a change list without a baseline."""
    if change is not None and change not in CHANGES:
        raise SegwiseError(f"change {change!r}: use one of {', '.join(CHANGES)}")
    known = segments(conn, run, method)
    if segment not in known:
        raise SegwiseError(
            f"segment {segment!r} is not a {method} segment of run {run.run_id} ({run.as_of}): "
            f"choose from {', '.join(map(repr, known))}"
        )
    if change is not None and run.previous_run_id is None:
        raise SegwiseError(
            f"run {run.run_id} ({run.as_of}) has no earlier published run to compare with, so "
            f"there is no {change!r} list: export the segment itself instead"
        )


def _query(method: str, segment: str, change: str | None, run_id: int) -> tuple[str, dict]:
    params: dict[str, Any] = {"run_id": run_id, "method": method, "segment": segment}
    if change is None:
        return read_sql("export/segment_members.sql"), params
    return read_sql("export/segment_changes.sql"), {**params, "change": change}


@contextmanager
def _atomic(out: Path) -> Iterator[Path]:
    """A temporary path beside ``out``, renamed onto it only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_csv(conn: psycopg.Connection, query: str, params: dict, path: Path) -> int:
    """``COPY (query) TO STDOUT`` streamed into ``path``; returns the rows the server sent."""
    statement = f"COPY (\n{query.strip().rstrip(';')}\n) TO STDOUT WITH (FORMAT csv, HEADER true)"
    with path.open("wb") as fh, conn.cursor() as cur:
        with cur.copy(statement, params) as copy:
            for chunk in copy:
                fh.write(chunk)
        return int(cur.rowcount)


def _arrow_type(desc: Any) -> Any:
    import pyarrow as pa  # noqa: PLC0415
    from psycopg.postgres import types  # noqa: PLC0415

    name = types.get(desc.type_code).name if types.get(desc.type_code) else ""
    if name == "numeric" and desc.precision is not None and desc.scale is not None:
        return pa.decimal128(desc.precision, desc.scale)
    return {
        "int2": pa.int16(),
        "int4": pa.int32(),
        "int8": pa.int64(),
        "float4": pa.float32(),
        "float8": pa.float64(),
        "numeric": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
    }.get(name, pa.string())


def _write_parquet(conn: psycopg.Connection, query: str, params: dict, path: Path) -> int:
    """Server-side cursor -> pyarrow row groups of CHUNK_ROWS; returns the rows written."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    rows = 0
    with conn.cursor(name="segwise_export") as cur:
        cur.itersize = CHUNK_ROWS
        cur.execute(query, params)
        assert cur.description is not None
        schema = pa.schema([(d.name, _arrow_type(d)) for d in cur.description])
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            while batch := cur.fetchmany(CHUNK_ROWS):
                writer.write_table(_table(batch, schema))
                rows += len(batch)
            if rows == 0:
                writer.write_table(schema.empty_table())
    return rows


def _table(batch: list[tuple], schema: Any) -> Any:
    import pyarrow as pa  # noqa: PLC0415

    columns = zip(*batch, strict=True)
    arrays = [pa.array(list(col), type=f.type) for col, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_segment(
    url: str,
    out: str | Path,
    *,
    method: str,
    segment: str,
    as_of: dt.date | None = None,
    change: str | None = None,
    fmt: str = "csv",
) -> tuple[RunRef, ExportedFile]:
    """One segment's customers (or who ``change``d into/out of it) into ``out``."""
    if fmt not in FORMATS:
        raise SegwiseError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(out)
    with connect(url) as conn:
        conn.read_only = True
        run = resolve_run(conn, as_of)
        check_request(conn, run, method, segment, change)
        exported = _export(conn, run, out, method, segment, change, fmt)
    return run, exported


def _export(
    conn: psycopg.Connection,
    run: RunRef,
    out: Path,
    method: str,
    segment: str,
    change: str | None,
    fmt: str,
) -> ExportedFile:
    query, params = _query(method, segment, change, run.run_id)
    writer = _copy_csv if fmt == "csv" else _write_parquet
    try:
        with _atomic(out) as tmp:
            rows = writer(conn, query, params, tmp)
    except OSError as exc:
        raise SegwiseError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return ExportedFile(
        file=out.name,
        method=method,
        segment=segment,
        change=change,
        rows=rows,
        sha256=sha256_of(out),
        bytes=out.stat().st_size,
    )


def file_stem(method: str, segment: str, change: str | None = None) -> str:
    """A portable file name for a segment: ``rfm__at_risk`` / ``rfm__at_risk__entered``."""
    slug = re.sub(r"[^a-z0-9]+", "_", segment.lower()).strip("_") or "segment"
    return "__".join(p for p in (method, slug, change) if p)


def export_run(
    url: str,
    folder: str | Path,
    *,
    as_of: dt.date | None = None,
    run_id: int | None = None,
    methods: Sequence[str] | None = None,
    fmt: str = "csv",
) -> dict[str, Any]:
    """Every segment of the run's methods, plus its entered and left lists when the run has a
    previous run, into ``folder`` with a ``manifest.json`` (counts and sha256 per file).

    The manifest is written last, so a tool that waits for it sees a complete folder."""
    if fmt not in FORMATS:
        raise SegwiseError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    folder = Path(folder)
    files: list[ExportedFile] = []
    with connect(url) as conn:
        conn.read_only = True
        run = resolve_run(conn, as_of, run_id)
        chosen = [m for m in run.methods if methods is None or m in methods]
        used: set[str] = set()
        for method in chosen:
            current = {
                r[0]
                for r in conn.execute(
                    "SELECT segment FROM segmentation.segment_profiles "
                    "WHERE run_id = %s AND method = %s",
                    (run.run_id, method),
                )
            }
            for segment in segments(conn, run, method):
                changes = [None] if segment in current else []
                if run.previous_run_id is not None:
                    changes += list(CHANGES)
                for change in changes:
                    stem = file_stem(method, segment, change)
                    while stem in used:  # two labels with one slug
                        stem += "_"
                    used.add(stem)
                    out = folder / f"{stem}.{fmt}"
                    files.append(_export(conn, run, out, method, segment, change, fmt))
    manifest = {
        "run_id": run.run_id,
        "as_of": run.as_of.isoformat(),
        "previous_run_id": run.previous_run_id,
        "previous_as_of": run.previous_as_of.isoformat() if run.previous_as_of else None,
        "format": fmt,
        "methods": chosen,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": [asdict(f) for f in files],
    }
    with _atomic(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
