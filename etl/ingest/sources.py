"""Sources other than files named on the command line: an inbox folder and a source database."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from psycopg.types.json import Jsonb

from etl import db
from etl.errors import SegwiseError
from etl.ingest import files as filesmod
from etl.ingest import ledger
from etl.ingest.files import InputError
from etl.ingest.ledger import LoadError, LoadResult
from etl.ingest.mapping import LINES, Mapping, resolve
from etl.ingest.readers import clean_text, match_columns
from etl.ingest.stage import StagedSource, layout_key, stage_files, stage_streams

log = logging.getLogger(__name__)
QUERY_CHUNK = 50_000


# --------------------------------------------------------------------------- inbox


def load_inbox(
    url: str,
    inbox_dir: str | Path,
    *,
    layout: str | None = None,
    mapping: str | Path | Mapping | None = None,
    build: bool = True,
) -> list[LoadResult]:
    """Load each new file (top-level file) or file set (sub-folder) of the inbox once.

    Files already in a staged or succeeded batch with the same path, size and modification time
    are passed over without being read; anything else is hashed, and content the ledger knows
    is recorded as skipped. A failing unit does not stop the others: its result is 'failed'.
    """
    from etl.ingest.build import build_batch

    ledger.ensure_warehouse(url)
    inbox = Path(inbox_dir).resolve()  # absolute paths: the ledger recognises them next time
    if not inbox.is_dir():
        raise InputError(f"inbox {inbox}: no such folder")
    m = resolve(layout, mapping)
    preset = layout is not None
    key = layout_key(m, preset)
    units: list[list[Path]] = []
    for child in sorted(inbox.iterdir()):
        if child.name.startswith((".", "_", "~")):
            continue
        if child.is_dir():
            found = filesmod.expand([child]) if any(child.iterdir()) else []
            if found:
                units.append(found)
        elif filesmod._is_data_file(child):
            units.append([child])
    lines_source = m.targets[LINES].source if LINES in m.targets else None

    def dims_first(unit: list[Path]) -> tuple[int, str]:
        try:
            sources = set(filesmod.assign(unit, m))
        except InputError:
            sources = set()
        return (1 if lines_source in sources else 0, str(unit[0]))

    results: list[LoadResult] = []
    for unit in sorted(units, key=dims_first):
        if _known(url, key, unit, ("succeeded",) if build else ("staged", "succeeded")):
            log.debug("inbox: %s already loaded", ", ".join(map(str, unit)))
            continue
        try:
            staged = stage_files(url, unit, m, preset=preset)
            if build and staged.status == "staged":
                staged = build_batch(url, staged.batch_id)
            results.append(staged)
        except LoadError as exc:
            results.append(exc.result or LoadResult(None, "failed", message=str(exc)))
        except SegwiseError as exc:
            results.append(
                LoadResult(
                    None,
                    "failed",
                    message=str(exc),
                    layout=key,
                    source_uri=", ".join(map(str, unit)),
                )
            )
    return results


def _known(url: str, layout: str, unit: list[Path], statuses: tuple[str, ...]) -> bool:
    """Every file of the unit is in a batch of one of ``statuses`` with the same path, size and
    mtime (a staged batch is not done when this load also builds: stage_files finishes it)."""
    probes = [
        {"path": str(p), "bytes": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns} for p in unit
    ]
    with db.connect(url, autocommit=True) as conn:
        for probe in probes:
            hit = conn.execute(
                "SELECT 1 FROM staging.load_batches WHERE layout = %s "
                "AND status = ANY(%s) AND files @> %s LIMIT 1",
                (layout, list(statuses), Jsonb([probe])),
            ).fetchone()
            if hit is None:
                return False
    return True


# --------------------------------------------------------------------------- source database


def _encode_watermark(value: Any) -> str:
    if isinstance(value, datetime):
        return f"datetime:{value.isoformat()}"
    if isinstance(value, date):
        return f"date:{value.isoformat()}"
    if isinstance(value, bool):
        raise SegwiseError("a boolean column cannot be a watermark")
    if isinstance(value, int):
        return f"int:{value}"
    if isinstance(value, Decimal | float):
        return f"decimal:{value}"
    return f"text:{value}"


def _decode_watermark(stored: str | None) -> Any:
    if not stored:
        return None
    kind, _, raw = stored.partition(":")
    return {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "int": int,
        "decimal": Decimal,
        "text": str,
    }.get(kind, str)(raw)


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def load_query(
    url: str,
    source_url: str,
    query: str,
    *,
    watermark_column: str,
    layout: str | None = None,
    mapping: str | Path | Mapping | None = None,
    build: bool = True,
) -> LoadResult:
    """Load the rows of ``query`` on a source database (any SQLAlchemy URL) that are newer than
    the last batch's watermark, as one batch of order lines.

    The query's columns are matched to the layout's order-line source like a file header. Rows
    are read with a server-side cursor in chunks of QUERY_CHUNK. The watermark column must grow
    strictly (an id, or an updated_at that never repeats across loads): rows equal to the stored
    watermark are not read again.
    """
    from etl.ingest.build import build_batch

    m = resolve(layout, mapping)
    if LINES not in m.targets:
        raise SegwiseError(f"layout {m.name} maps no order lines: nothing to load from a query")
    lines_source = m.sources[m.targets[LINES].source]
    others = [s.name for s in m.file_sources() if s.required and s.name != lines_source.name]
    if others:
        raise SegwiseError(
            f"layout {m.name} also needs files for {', '.join(others)}: a source database "
            "query feeds only the order lines; use a mapping whose other sources are optional"
        )
    ledger.ensure_warehouse(url)
    key = layout_key(m, layout is not None)
    qhash = hashlib.sha256(query.strip().encode()).hexdigest()[:12]
    uri = f"{db.redact(source_url)}#query={qhash}"
    previous = _last_watermark(url, key, uri)
    # SQLAlchemy (any source database it has a dialect for) is imported only on this path.
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(source_url)
    except (SQLAlchemyError, ValueError) as exc:
        raise SegwiseError(f"source database URL {db.redact(source_url)}: {exc}") from None
    quoted = engine.dialect.identifier_preparer.quote(watermark_column)
    inner = query.strip().rstrip(";")
    stmt = f"SELECT * FROM ({inner}) AS segwise_source"  # noqa: S608 - the configured query
    params: dict[str, Any] = {}
    if previous is not None:
        stmt += f" WHERE {quoted} > :watermark"
        params["watermark"] = _decode_watermark(previous)
    stmt += f" ORDER BY {quoted}"
    state: dict[str, Any] = {"max": None}
    try:
        with engine.connect() as conn:
            probe = conn.execute(text(f"SELECT * FROM ({inner}) AS segwise_source WHERE 1 = 0"))  # noqa: S608
            header = list(probe.keys())
            probe.close()
            if watermark_column not in header:
                raise SegwiseError(
                    f"watermark column {watermark_column!r} is not among the query's columns "
                    f"({', '.join(header)})"
                )
            header_map = match_columns(f"query {uri}", lines_source, header)
            result = conn.execution_options(stream_results=True, yield_per=QUERY_CHUNK).execute(
                text(stmt), params
            )
            chunks = result.partitions(QUERY_CHUNK)
            first = next(chunks, None)
            if not first:
                batch_id = ledger.record_skip(
                    url,
                    source_kind="database",
                    layout=key,
                    source_uri=uri,
                    content_sha256=None,
                    files=[],
                    message=f"no rows newer than watermark {previous or '(none)'}: nothing to do",
                )
                return ledger.fetch(url, batch_id)
            wm_index = header.index(watermark_column)

            def batches() -> Iterator[pa.RecordBatch]:
                line = 1
                for chunk in _chain(first, chunks):
                    n = len(chunk)
                    arrays = [pa.array(np.arange(line, line + n, dtype=np.int64))]
                    for src_col in header_map.values():
                        if src_col is None:
                            arrays.append(pa.nulls(n, pa.string()))
                        else:
                            i = header.index(src_col)
                            values = pa.array([_to_text(r[i]) for r in chunk], pa.string())
                            arrays.append(clean_text(values))
                    values = [r[wm_index] for r in chunk if r[wm_index] is not None]
                    if values:
                        top = max(values)
                        state["max"] = top if state["max"] is None else max(state["max"], top)
                    line += n
                    yield pa.RecordBatch.from_arrays(arrays, names=["_line", *header_map])

            def streams():
                yield 1, StagedSource(lines_source.name, uri, batches()), None

            staged = stage_streams(
                url,
                m,
                layout=key,
                source_kind="database",
                source_uri=uri,
                content_sha256=None,
                bytes_=None,
                files_meta=[
                    {"file": 1, "path": uri, "source": lines_source.name, "columns": header_map}
                ],
                streams=streams,
                progress=None,
                watermark_from=previous,
                watermark_to=lambda: (
                    _encode_watermark(state["max"]) if state["max"] is not None else previous
                ),
            )
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().split("\n")[0]
        raise SegwiseError(f"source database {db.redact(source_url)}: {detail}") from None
    finally:
        engine.dispose()
    if build and staged.status == "staged":
        return build_batch(url, staged.batch_id)
    return staged


def _chain(first, rest):
    yield first
    yield from rest


def _last_watermark(url: str, layout: str, uri: str) -> str | None:
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT watermark_to FROM staging.load_batches WHERE source_kind = 'database' "
            "AND layout = %s AND source_uri = %s AND status IN ('staged', 'succeeded') "
            "AND watermark_to IS NOT NULL ORDER BY batch_id DESC LIMIT 1",
            (layout, uri),
        ).fetchone()
    return row[0] if row else None
