"""A batch's order lines, from its staged rows to the warehouse: typed and checked into a staged
lines table, counted, rejected ones kept, good ones written to the facts, the order fact
recomputed for the orders they touch, and the dimensions read from them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import psycopg
from psycopg import sql

from etl.db import local_settings
from etl.ingest import batch_checks, indexes, lines_sql, sqlgen, tuning, validate, warehouse_models
from etl.ingest.batch import Batch
from etl.ingest.mapping import LINES
from etl.ingest.stage import position_column
from etl.segment import customer_state

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Log how long a build step took (`segwise -v load` shows them)."""
    started = time.monotonic()
    yield
    log.debug("build step %s: %.2f s", step, time.monotonic() - started)


def build_lines(conn: psycopg.Connection, batch: Batch, progress: Progress | None) -> None:
    """Inside the batch's transaction: every step from the staged rows to facts and dimensions."""
    # A plain UNLOGGED table, not a temporary one: parallel workers can read it (counts, the
    # dimensions' aggregates). Created and dropped inside the build's transaction, so it is
    # never visible to anyone else and a failed build leaves nothing behind.
    table = sql.Identifier("staging", f"lines_{batch.batch_id}")
    source = batch.mapping.targets[LINES].source
    if progress:
        progress("typing and validating order lines", 0)
    with timed("type and validate order lines"):
        plan = _stage_lines(conn, batch, table)
    initial = _facts_empty(conn)
    tuning.analyze_lines(conn, table)
    good, read = _count_lines(conn, batch, table, plan.return_rules)
    if read > good:
        validate.keep_rejected(conn, batch, table, sqlgen.raw_table(batch.batch_id, source))
    malformed = batch.malformed(source)
    validate.check_rejected_fraction(conn, batch, read - good + malformed, read + malformed)
    if progress:
        progress("writing warehouse facts", good)
    # the customers whose kept totals the batch changes: those of its orders before the write
    # (an order may move to another customer) and after it
    customer_state.note_touched(conn, table, before=True)
    with timed("facts and indexes"), indexes.bulk_rebuild(conn, good, initial, batch):
        inserted, updated = _write_facts(conn, batch, table, initial, good)
    customer_state.note_touched(conn, table)
    batch.rows_loaded = int(inserted)
    batch.rows_duplicate = int(good - inserted)
    batch.rows_rewritten = int(updated)
    batch.count("duplicate:in_warehouse", good - inserted)
    batch.count("duplicate:updated", updated)
    with timed("dimensions"):
        dimensions_from_lines(conn, batch, plan.dims_from_lines, table)
    with timed("build-time checks of the lines and orders"):
        batch_checks.check_lines(conn, batch, table, first_load=initial)
    conn.execute(sql.SQL("DROP TABLE {}").format(table))


def _stage_lines(
    conn: psycopg.Connection, batch: Batch, table: sql.Identifier
) -> lines_sql.LinesPlan:
    """CREATE the staged lines table (fast typing path first), duplicates in the batch marked."""
    m = batch.mapping
    source = m.targets[LINES].source
    positions = position_column(m) is not None
    plans = {}

    with validate.date_lookups(conn, batch, source) as date_tables:

        def statement(fast: bool) -> sql.Composed:
            plans[fast] = lines_sql.order_lines(
                m,
                batch.batch_id,
                batch.codes,
                table,
                fast=fast,
                positions=positions,
                date_tables=date_tables,
                **batch.typing(source),
            )
            return plans[fast].statement

        plan = plans[validate.typed(conn, batch, statement, "order lines")]
    if plan.line_numbers == "column":
        dup = batch.codes.add(
            "duplicate_line_in_batch",
            "line_no",
            "order_id, line_no: the same order line appears earlier in this batch",
        )
        conn.execute(
            sqlgen.model("staging/duplicate_lines.sql", lines=table, code=sql.Literal(dup))
        )
    return plan


def _count_lines(
    conn: psycopg.Connection, batch: Batch, table: sql.Identifier, return_rules: list[str]
) -> tuple[int, int]:
    """One pass over the staged lines: counts per rejection code (NULL: the good lines, with
    theirs) into the batch's rule counts; returns (good lines, lines read)."""
    flags = [
        sql.SQL(", count(*) FILTER (WHERE {})").format(sql.Identifier(f"r:{r}"))
        for r in return_rules
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
    batch.count("kept:no_customer_id", no_customer)
    batch.count("return:total", returns)
    batch.count("kept:zero_quantity", zero)
    for rule, n in zip(return_rules, stats[4:], strict=True):
        batch.count(f"return:{rule}", n)
    return good, read


def _write_facts(
    conn: psycopg.Connection, batch: Batch, table: sql.Identifier, initial: bool, good: int
) -> tuple[int, int]:
    """The good lines into fact_order_line, then the order fact of the orders they touch;
    returns (inserted, updated) lines."""
    batch_id = sql.Literal(batch.batch_id)
    if initial:
        inserted = conn.execute(warehouse_models.fact_lines_first(table, batch_id)).rowcount
        updated = 0
        scope = sql.SQL("true")  # every line in the warehouse is this batch's
    else:
        few = good < PROBE_SHARE * _sampled_lines(conn)
        with local_settings(conn, customer_state.BY_LINE_KEY) if few else nullcontext():
            inserted, updated = conn.execute(
                warehouse_models.fact_lines_upsert(table, batch_id)
            ).fetchone()
        if _statistics_stale(conn, inserted + updated):
            conn.execute("ANALYZE warehouse.fact_order_line")
        scope = sql.SQL("l.order_id IN (SELECT order_id FROM {} WHERE _reject IS NULL)").format(
            table
        )
    with timed("order fact"):
        totals = sql.Identifier("segwise_order_totals")
        conn.execute(warehouse_models.order_totals(totals, scope, batch_id))
        conn.execute(warehouse_models.fact_order(totals))
    return inserted, updated


def dimensions_from_lines(
    conn: psycopg.Connection, batch: Batch, kinds: list[str], table: sql.Identifier
) -> None:
    """Upsert the dimensions the mapping reads from the order lines, and add any customer or
    product the lines name that no dimension row covers."""
    m = batch.mapping
    batch_id = sql.Literal(batch.batch_id)
    # The lines are shrunk to a few rows per key first (see tuning.PARALLEL_AGGREGATE).
    for kind in kinds:
        rows = sql.Identifier(f"segwise_{kind}_rows")
        with tuning.parallel_aggregate(conn):
            conn.execute(
                sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
                    rows, sqlgen.dim_rows_from_lines(m, kind, table)
                )
            )
        inserted, updated = conn.execute(
            warehouse_models.dim_upsert(kind, sql.SQL("SELECT * FROM {}").format(rows), batch_id)
        ).fetchone()
        batch.count(f"{kind}_inserted", inserted)
        batch.count(f"{kind}_updated", updated)
    if not sqlgen.dims_cover_line_keys(m):
        c_new, p_new = conn.execute(
            sqlgen.model("warehouse/dim_keys.sql", lines=table, batch_id=batch_id)
        ).fetchone()
        batch.count("customers_inserted", c_new)
        batch.count("products_inserted", p_new)


def _facts_empty(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM warehouse.fact_order_line)").fetchone()[0]


# Share of the lines a batch must write before its build re-samples their statistics:
# autovacuum's own default (autovacuum_analyze_scale_factor). Below it the statistics stay
# representative, and sampling a 10M-line table cost 1.5-3.6 s of a day's 20k-line load.
ANALYZE_SHARE = 0.1
# A batch bringing fewer lines than this share of the warehouse's finds the lines it rewrites
# by the line key, one probe each: the planner, costing probes as disk reads (and without
# statistics when none were taken yet, see _statistics_stale), would hash every order line
# for a day's few thousand (2M lines, 4k lines: 3.5 s against 0.13 s).
PROBE_SHARE = 0.05


def _sampled_lines(conn: psycopg.Connection) -> float:
    """fact_order_line's row count as the server last estimated it (0 when never)."""
    return max(
        conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'warehouse.fact_order_line'::regclass"
        ).fetchone()[0],
        0,
    )


def _statistics_stale(conn: psycopg.Connection, written: int) -> bool:
    """Whether the batch wrote enough lines, or the lines have no statistics yet, to ANALYZE.
    A first load takes none (it would cost as much as a tenth of the load; the table's
    row count comes with its rebuilt primary key), so the first later batch takes them, unless
    autovacuum did meanwhile."""
    sampled = _sampled_lines(conn)
    has_statistics = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_stats "
        "WHERE schemaname = 'warehouse' AND tablename = 'fact_order_line')"
    ).fetchone()[0]
    return not has_statistics or sampled <= 0 or written > ANALYZE_SHARE * sampled
