"""Build the warehouse from staged batches: type, validate, reject, upsert. One transaction per
batch, together with its ledger update: a batch is in the warehouse completely or not at all."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from etl import db, settings
from etl.errors import SegwiseError
from etl.ingest import ledger, sqlgen
from etl.ingest.ledger import LoadError, LoadResult
from etl.ingest.mapping import CUSTOMERS, LINES, PRODUCTS, Mapping, from_document
from etl.ingest.stage import drop_raw_tables, position_column
from etl.segment import time_marts

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
BUILD_LOCK = 0x5E6_1001  # pg advisory lock: one warehouse build at a time
SESSION_SETTINGS = (
    "SET LOCAL TimeZone = 'UTC'",
    # JIT-compiled expressions and tuple deforming pay off on the big statements (~10% of the
    # typing at 1M lines); optimisation and inlining cost more than they save here.
    "SET LOCAL jit = on",
    "SET LOCAL jit_optimize_above_cost = 1e12",
    "SET LOCAL jit_inline_above_cost = 1e12",
)


class RejectedTooMany(LoadError):
    pass


@dataclass
class _Batch:
    batch_id: int
    mapping: Mapping
    files: list[dict[str, Any]]
    layout: str
    codes: sqlgen.Codes = field(default_factory=sqlgen.Codes)
    rule_counts: dict[str, int] = field(default_factory=dict)
    rows_rejected: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0

    def sources_with_files(self) -> set[str]:
        return {f["source"] for f in self.files if f.get("rows", 0) or f.get("malformed", 0)}

    def file_paths(self) -> sql.Literal:
        return sql.Literal([f["path"] for f in self.files] or [""])

    def careful(self, source: str) -> frozenset[str]:
        """Columns that staging saw a value in that a plain cast may refuse (stage.CastCheck)."""
        return frozenset(
            c for f in self.files if f["source"] == source for c in f.get("careful", ())
        )

    def plain_dates(self, source: str) -> frozenset[str]:
        """Date/time columns whose every value, in every file of the source, had the plain
        ISO format (stage.CastCheck): typed by a cast on the fast path."""
        sets = [set(f.get("plain_dates", ())) for f in self.files if f["source"] == source]
        return frozenset(set.intersection(*sets)) if sets else frozenset()

    def count(self, key: str, n: int) -> None:
        if n:
            self.rule_counts[key] = self.rule_counts.get(key, 0) + int(n)


def build_warehouse(
    url: str, batch_ids: list[int] | None = None, *, progress: Progress | None = None
) -> list[LoadResult]:
    """Build the given staged batches (all staged-not-built ones when None), oldest first.
    A failed batch is marked failed and the others still run; see each result's status."""
    ledger.ensure_warehouse(url)
    with db.connect(url, autocommit=True) as conn:
        if batch_ids is None:
            rows = conn.execute(
                "SELECT batch_id FROM staging.load_batches "
                "WHERE status = 'staged' ORDER BY batch_id"
            ).fetchall()
            batch_ids = [r[0] for r in rows]
    results = []
    for bid in sorted(batch_ids):
        try:
            results.append(build_batch(url, bid, progress=progress))
        except LoadError as exc:
            results.append(exc.result or ledger.fetch(url, bid))
    return results


def build_batch(url: str, batch_id: int, *, progress: Progress | None = None) -> LoadResult:
    """Build one staged batch; raises LoadError (batch marked failed) when it cannot."""
    memory = memory_settings()
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, mapping, files, layout FROM staging.load_batches WHERE batch_id = %s",
            (batch_id,),
        ).fetchone()
    if row is None:
        raise SegwiseError(f"no batch {batch_id} in the load ledger")
    status, doc, files, layout = row
    if status != "staged":
        if status in ("succeeded", "skipped"):
            return ledger.fetch(url, batch_id)
        raise SegwiseError(f"batch {batch_id} is {status}, not staged: nothing to build")
    batch = _Batch(
        batch_id, from_document(doc, origin=f"batch {batch_id}'s mapping"), files, layout
    )
    started = time.monotonic()
    try:
        with db.connect(url) as conn:
            conn.execute("SET temp_buffers = '512MB'")
            with conn.transaction():
                for stmt in SESSION_SETTINGS:
                    conn.execute(stmt)
                for name, value in memory.items():
                    conn.execute("SELECT set_config(%s, %s, true)", (name, value))
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (BUILD_LOCK,))
                locked = conn.execute(
                    "SELECT status FROM staging.load_batches WHERE batch_id = %s FOR UPDATE",
                    (batch_id,),
                ).fetchone()
                if locked[0] != "staged":  # built meanwhile by another process
                    return ledger.fetch(url, batch_id)
                _check_staged_rows(conn, batch)
                _build(conn, batch, progress)
                time_marts.refresh(conn, [batch_id])  # the time marts' aggregates (0008_time)
                rows_read = sum(f.get("rows", 0) + f.get("malformed", 0) for f in files)
                batch.rule_counts["build_seconds"] = round(time.monotonic() - started)
                ledger.set_status(
                    conn,
                    batch_id,
                    "succeeded",
                    message=_summary(batch, rows_read),
                    rows_read=rows_read,
                    rows_loaded=batch.rows_loaded,
                    rows_rejected=batch.rows_rejected,
                    rows_duplicate=batch.rows_duplicate,
                    rule_counts=batch.rule_counts,
                )
    except Exception as exc:
        message = str(exc) if isinstance(exc, SegwiseError) else _db_message(exc)
        ledger.fail(url, batch_id, message)
        drop_raw_tables(url, batch_id)
        raise LoadError(
            f"batch {batch_id} failed; the warehouse is unchanged: {message}",
            ledger.fetch(url, batch_id),
        ) from exc
    drop_raw_tables(url, batch_id)
    return ledger.fetch(url, batch_id)


def memory_settings() -> dict[str, str]:
    """The build's work_mem and maintenance_work_mem, from the environment or the defaults;
    checked before the batch is touched, so a typo fails nothing."""
    return {
        "work_mem": settings.memory_setting(settings.BUILD_WORK_MEM_ENV, "256MB"),
        "maintenance_work_mem": settings.memory_setting(
            settings.BUILD_MAINTENANCE_WORK_MEM_ENV, "512MB"
        ),
    }


def _check_staged_rows(conn, batch: _Batch) -> None:
    """Raw tables are UNLOGGED (fast COPY): a server crash empties them. Refuse to build a
    batch whose staged rows are not all there, rather than load a part of it."""
    expected: dict[str, int] = {}
    for f in batch.files:
        expected[f["source"]] = expected.get(f["source"], 0) + int(f.get("rows", 0))
    for source, n in expected.items():
        (found,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sqlgen.raw_table(batch.batch_id, source))
        ).fetchone()
        if found != n:
            raise SegwiseError(
                f"batch {batch.batch_id}'s staged {source} rows are incomplete ({found} of {n}; "
                "was the server restarted?): load its files again"
            )


def _db_message(exc: Exception) -> str:
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        parts = [diag.message_primary or str(exc)]
        if diag.message_detail:
            parts.append(diag.message_detail)
        return "database error: " + "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def _summary(batch: _Batch, rows_read: int) -> str:
    return (
        f"{rows_read} rows read, {batch.rows_loaded} order lines loaded, "
        f"{batch.rows_duplicate} already in the warehouse, {batch.rows_rejected} rejected"
    )


def _build(conn: psycopg.Connection, batch: _Batch, progress: Progress | None) -> None:
    m = batch.mapping
    present = batch.sources_with_files()
    lines_target = m.targets.get(LINES)
    lines_source = lines_target.source if lines_target else None

    # 1. Every other source with data: typed once, its rejects kept, then used by joins/dims.
    for src in m.file_sources():
        if src.name == lines_source:
            continue
        prefix = f"{src.name}."

        def typed_source(fast: bool, src=src, prefix=prefix) -> sql.Composed:
            typed = sqlgen.typed_select(
                src,
                sqlgen.raw_table(batch.batch_id, src.name),
                batch.codes,
                prefix,
                fast=fast,
                careful=batch.careful(src.name),
                plain_dates=batch.plain_dates(src.name),
            )
            return sqlgen.model(
                "staging/source_table.sql", table=sqlgen.typed_table(src.name), typed=typed
            )

        _typed(conn, batch, typed_source, src.name)
        conn.execute(sql.SQL("ANALYZE {}").format(sqlgen.typed_table(src.name)))
        _reject_rows(conn, batch, sqlgen.typed_table(src.name), src.name)
    # 2. Derived sources (a per-layout SQL model over a typed source).
    for src in m.sources.values():
        if src.derived:
            params = {k: sql.Literal(v) for k, v in m.params.items()}
            conn.execute(
                sqlgen.model(
                    f"staging/{src.model}.sql",
                    output=sqlgen.typed_table(src.name),
                    input=sqlgen.typed_table(src.input),
                    **params,
                )
            )
    _malformed(conn, batch)
    # 3. Dimensions from their own files, before the lines (lines may look them up).
    for kind in (CUSTOMERS, PRODUCTS):
        dim = m.targets.get(kind)
        if dim is None or dim.source == lines_source or dim.source not in present:
            continue
        ins, upd = conn.execute(
            sqlgen.model(
                f"warehouse/dim_{'customer' if kind == CUSTOMERS else 'product'}.sql",
                rows=sqlgen.dim_rows_from_source(m, kind),
                batch_id=sql.Literal(batch.batch_id),
            )
        ).fetchone()
        batch.count(f"{kind}_inserted", ins)
        batch.count(f"{kind}_updated", upd)
    # 4. Order lines.
    if lines_target is not None and lines_source in present:
        _build_lines(conn, batch, progress)
    rejected_total = conn.execute(
        "SELECT count(*) FROM staging.rejected_rows WHERE batch_id = %s", (batch.batch_id,)
    ).fetchone()[0]
    batch.rows_rejected = int(rejected_total)


def _malformed(conn: psycopg.Connection, batch: _Batch) -> None:
    n = conn.execute(
        sqlgen.model(
            "staging/malformed_rows.sql",
            batch_id=sql.Literal(batch.batch_id),
            files=batch.file_paths(),
            malformed=sqlgen.malformed_table(batch.batch_id),
        )
    ).rowcount
    if n:
        by_source: dict[str, int] = {}
        for f in batch.files:
            if f.get("malformed"):
                by_source[f["source"]] = by_source.get(f["source"], 0) + f["malformed"]
        lines_target = batch.mapping.targets.get(LINES)
        for source, k in by_source.items():
            prefix = "" if lines_target and lines_target.source == source else f"{source}."
            batch.count(f"rejected:{prefix}malformed_row", k)


def _reject_rows(
    conn: psycopg.Connection, batch: _Batch, codes_table: sql.Identifier, source: str
) -> int:
    rejected = _keep_rejected(conn, batch, codes_table, sqlgen.raw_table(batch.batch_id, source))
    rows = conn.execute(
        sql.SQL("SELECT _reject, count(*) FROM {} GROUP BY 1").format(rejected)
    ).fetchall()
    total = 0
    for code, n in rows:
        batch.count(f"rejected:{batch.codes.rule(code)}", n)
        total += n
    return total


def _build_lines(conn: psycopg.Connection, batch: _Batch, progress: Progress | None) -> None:
    m = batch.mapping
    # A plain UNLOGGED table, not a temporary one: parallel workers can read it (counts, the
    # dimensions' aggregates). Created and dropped inside the build's transaction, so it is
    # never visible to anyone else and a failed build leaves nothing behind.
    table = sql.Identifier("staging", f"lines_{batch.batch_id}")
    lines_source = m.targets[LINES].source
    raw = sqlgen.raw_table(batch.batch_id, lines_source)
    positions = position_column(m) is not None
    plans = {}

    def lines_statement(fast: bool) -> sql.Composed:
        plans[fast] = sqlgen.order_lines(
            m,
            batch.batch_id,
            batch.codes,
            table,
            fast=fast,
            careful=batch.careful(lines_source),
            plain_dates=batch.plain_dates(lines_source),
            positions=positions,
        )
        return plans[fast].statement

    if progress:
        progress("typing and validating order lines", 0)
    with _timed("type and validate order lines"):
        plan = plans[_typed(conn, batch, lines_statement, "order lines")]
    if plan.line_numbers == "column":
        dup = batch.codes.add(
            "duplicate_line_in_batch",
            "line_no",
            "order_id, line_no: the same order line appears earlier in this batch",
        )
        conn.execute(
            sqlgen.model("staging/duplicate_lines.sql", lines=table, code=sql.Literal(dup))
        )
    initial = _facts_empty(conn)
    # Row estimates for what follows (hash, not sort, aggregates): the keys are enough, and a
    # 9,000-row sample (statistics target 30) is as good for that as the default 30,000.
    with db.local_settings(conn, {"default_statistics_target": "30"}):
        conn.execute(
            sql.SQL("ANALYZE {} (_reject, order_id, line_no, customer_id, product_id)").format(
                table
            )
        )
    # One pass over the lines: counts per rejection code (NULL: the good lines, with theirs).
    flags = [
        sql.SQL(", count(*) FILTER (WHERE {})").format(sql.Identifier(f"r:{r}"))
        for r in plan.return_rules
    ]
    per_code = conn.execute(
        sql.SQL(
            "SELECT _reject, count(*), count(*) FILTER (WHERE customer_id IS NULL), "
            "count(*) FILTER (WHERE is_return), count(*) FILTER (WHERE quantity = 0){} "
            "FROM {} GROUP BY 1 ORDER BY 1"
        ).format(sql.SQL("").join(flags), table)
    ).fetchall()
    stats = (0, 0, 0, 0) + (0,) * len(flags)
    read = 0
    for code, n, *good_stats in per_code:
        read += n
        if code is None:
            stats = (n, *good_stats)
        else:
            batch.count(f"rejected:{batch.codes.rule(code)}", n)
    good, no_customer, returns, zero = stats[:4]
    rejected = read - good
    if rejected:
        _keep_rejected(conn, batch, table, raw)
    malformed = sum(f.get("malformed", 0) for f in batch.files if f["source"] == lines_source)
    batch.count("kept:no_customer_id", no_customer)
    batch.count("return:total", returns)
    batch.count("kept:zero_quantity", zero)
    for rule, n in zip(plan.return_rules, stats[4:], strict=True):
        batch.count(f"return:{rule}", n)
    total_read = read + malformed
    bad = rejected + malformed
    if total_read and bad / total_read > m.max_rejected_fraction:
        raise RejectedTooMany(_too_many(conn, batch, table, bad, total_read))
    if progress:
        progress("writing warehouse facts", good)
    batch_id = sql.Literal(batch.batch_id)
    with _timed("facts and indexes"), _index_maintenance(conn, good, initial, batch):
        if initial:
            ins = conn.execute(
                sqlgen.model("warehouse/fact_order_line_first.sql", lines=table, batch_id=batch_id)
            ).rowcount
            upd = 0
            scope = sql.SQL("true")  # every line in the warehouse is this batch's
        else:
            ins, upd = conn.execute(
                sqlgen.model("warehouse/fact_order_line.sql", lines=table, batch_id=batch_id)
            ).fetchone()
            conn.execute("ANALYZE warehouse.fact_order_line")
            scope = sql.SQL("l.order_id IN (SELECT order_id FROM {} WHERE _reject IS NULL)").format(
                table
            )
        with _timed("order fact"):
            totals = sql.Identifier("segwise_order_totals")
            conn.execute(
                sqlgen.model(
                    "warehouse/order_totals.sql", totals=totals, scope=scope, batch_id=batch_id
                )
            )
            conn.execute(sqlgen.model("warehouse/fact_order.sql", totals=totals))
    batch.rows_loaded = int(ins)
    batch.rows_duplicate = int(good - ins)
    batch.count("duplicate:in_warehouse", good - ins)
    batch.count("duplicate:updated", upd)
    with _timed("dimensions"):
        _dimensions_from_lines(conn, batch, plan.dims_from_lines, table)
    conn.execute(sql.SQL("DROP TABLE {}").format(table))


def _keep_rejected(
    conn: psycopg.Connection, batch: _Batch, typed: sql.Identifier, raw: sql.Identifier
) -> sql.Identifier:
    """Store a source's rejected rows with their raw rows. The rejected ones are picked out
    first by CREATE TABLE AS (parallel workers may scan a large typed table); returns that
    temp table (_file, _line, _ctid, _reject), valid until the next call."""
    rejected = sql.Identifier("segwise_rejected")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(rejected))
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} ON COMMIT DROP AS "
            "SELECT _file, _line, _ctid, _reject FROM {} WHERE _reject IS NOT NULL"
        ).format(rejected, typed)
    )
    conn.execute(
        sqlgen.model(
            "staging/rejected_rows.sql",
            batch_id=sql.Literal(batch.batch_id),
            files=batch.file_paths(),
            columns=batch.codes.literal_columns(),
            reasons=batch.codes.literal_reasons(),
            rejected=rejected,
            raw=raw,
        )
    )
    return rejected


def _dimensions_from_lines(conn, batch: _Batch, kinds: list[str], table: sql.Identifier) -> None:
    m = batch.mapping
    batch_id = sql.Literal(batch.batch_id)
    # The lines are shrunk to a few rows per key first: CREATE TABLE AS may aggregate them in
    # parallel workers, where the upsert (an INSERT) would read them all in one process. The
    # planner overestimates the keys from its sample (an id repeats over many lines, most
    # sampled ids are seen once) and so the cost of gathering the partial groups; the
    # parallel plan is the faster one (0.2 s against 0.3 s per dimension at 1M lines).
    for kind in kinds:
        rows = sql.Identifier(f"segwise_{kind}_rows")
        with db.local_settings(conn, {"parallel_tuple_cost": "0.001"}):
            conn.execute(
                sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
                    rows, sqlgen.dim_rows_from_lines(m, kind, table)
                )
            )
        ins_d, upd_d = conn.execute(
            sqlgen.model(
                f"warehouse/dim_{'customer' if kind == CUSTOMERS else 'product'}.sql",
                rows=sql.SQL("SELECT * FROM {}").format(rows),
                batch_id=batch_id,
            )
        ).fetchone()
        batch.count(f"{kind}_inserted", ins_d)
        batch.count(f"{kind}_updated", upd_d)
    if not sqlgen.dims_cover_line_keys(m):
        c_new, p_new = conn.execute(
            sqlgen.model("warehouse/dim_keys.sql", lines=table, batch_id=batch_id)
        ).fetchone()
        batch.count("customers_inserted", c_new)
        batch.count("products_inserted", p_new)


def _facts_empty(conn) -> bool:
    return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM warehouse.fact_order_line)").fetchone()[0]


def _too_many(conn, batch: _Batch, table: sql.Identifier, bad: int, read: int) -> str:
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT ON (_reject) _reject, _file, _line, "
            "count(*) OVER (PARTITION BY _reject) "
            "FROM {} WHERE _reject IS NOT NULL ORDER BY _reject, _file, _line"
        ).format(table)
    ).fetchall()
    rows.sort(key=lambda r: -r[3])
    examples = "; ".join(
        f"{n}x {batch.codes.reason(code)} (first: {batch.files[f - 1]['path']} line {line})"
        for code, f, line, n in rows[:3]
    )
    return (
        f"{bad} of {read} order lines rejected, more than max_rejected_fraction "
        f"{batch.mapping.max_rejected_fraction:g} allows: {examples or 'malformed rows'}; "
        "is the layout right for these files?"
    )


@contextmanager
def _timed(step: str) -> Iterator[None]:
    """Log how long a build step took (`segwise -v load` shows them)."""
    started = time.monotonic()
    yield
    log.debug("build step %s: %.2f s", step, time.monotonic() - started)


def _typed(conn, batch: _Batch, statement: Callable[[bool], sql.Composed], label: str) -> bool:
    """Run a typing statement on the fast path (plain casts); if any value needs judging, roll
    back to a savepoint and run the careful path. Returns True when the fast path did it."""
    try:
        with conn.transaction():
            conn.execute(statement(True))
        return True
    except psycopg.DataError as exc:
        log.info("%s: %s: using the careful typing path", label, exc.diag.message_primary)
        batch.count(f"typing:careful_path:{label}", 1)
        conn.execute(statement(False))
        return False


@contextmanager
def _index_maintenance(conn, incoming: int, initial: bool, batch: _Batch) -> Iterator[None]:
    """Big writes skip row-by-row index maintenance: the indexes are dropped and rebuilt (one
    sort each) inside the batch's transaction; readers wait for the commit.
    - first load (the facts are empty): also the order lines' primary key (lines are plainly
      inserted; the order fact keeps its key, it is ~20x smaller and is upserted);
    - a batch at least as big as the facts already there: the secondary indexes."""
    existing = 0
    if not initial:
        existing = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM warehouse.fact_order_line LIMIT %s) AS s",
            (incoming + 1,),
        ).fetchone()[0]
    if incoming < 50_000 or (not initial and existing > incoming):
        yield
        return
    tables = ("'warehouse.fact_order_line'::regclass", "'warehouse.fact_order'::regclass")
    indexes = conn.execute(
        f"""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index AS i
        WHERE i.indrelid IN ({", ".join(tables)}) AND NOT i.indisprimary AND NOT i.indisunique
        """  # noqa: S608 - fixed names
    ).fetchall()
    keys = []
    if initial:
        keys = conn.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint AS c
            WHERE c.conrelid = 'warehouse.fact_order_line'::regclass AND c.contype = 'p'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint AS f WHERE f.confrelid = c.conrelid)
            """  # noqa: S608 - fixed names
        ).fetchall()
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
    for table, name, _ in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)
            )
        )
    batch.count("bulk_mode_indexes_rebuilt", len(indexes) + len(keys))
    yield
    started = time.monotonic()
    for table, name, definition in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)
            )
        )
    for _, definition in indexes:
        conn.execute(definition)
    log.debug("build step rebuild indexes: %.2f s", time.monotonic() - started)
