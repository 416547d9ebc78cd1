"""A batch's data-quality checks, inside its build transaction (revision 0012_quality_per_batch).

A run's ``ledger_vs_facts`` and ``lines_vs_orders`` depend only on what builds write, and
``facts_vs_features`` of a run that reads the kept customer totals only on those totals being
right. Checked here on what the batch wrote (its lines, its orders, the customers it touched),
they cost what the batch brought; a run then reads the record (``etl.quality_record``) instead
of scanning every order line. A failed check fails the batch: it is rolled back and the ledger
says which check failed, so a load never reports success while rows are missing.

Order of calls in a build: ``begin`` (first thing in the transaction), ``check_lines`` (after
the facts are written, while the staged lines table exists), ``finish`` (after the kept totals
are refreshed, before the batch is marked succeeded): the record for ``load_batches.quality``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from etl.db import CHECKED_WRITE
from etl.errors import SegwiseError
from etl.ingest.batch import Batch
from etl.paths import model, read_sql
from etl.segment import customer_state

COUNTERS = sql.Identifier("segwise_line_counters")
TOUCHED = customer_state.TOUCHED
LEDGER, ORDERS, TOTALS = "ledger_vs_facts", "lines_vs_orders", "customer_totals_vs_lines"
# A batch writing more than this share of the order lines, and at least this many, is checked
# over the whole tables (below that, the probes take well under a second).
WHOLE_TABLE_SHARE = 0.25
WHOLE_TABLE_MIN_LINES = 200_000


class BatchCheckFailed(SegwiseError):
    """A build-time check failed: the batch is not loaded."""


def mark_checked_writer(conn: psycopg.Connection, who: str) -> None:
    """This transaction's writes to the checked tables are checked (or verified later)."""
    conn.execute("SELECT set_config(%s, %s, true)", (CHECKED_WRITE, who))


def begin(conn: psycopg.Connection, batch: Batch) -> None:
    """Start of the batch's transaction: say it is a checked writer, and keep this
    transaction's order-line counts so far (the server's counts include earlier, unflushed
    transactions of the session: only the difference is the batch's)."""
    mark_checked_writer(conn, f"build of batch {batch.batch_id}")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(COUNTERS))
    conn.execute(
        sql.SQL(
            "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT n_tup_ins, n_tup_upd, n_tup_del "
            "FROM pg_stat_xact_user_tables WHERE relid = 'warehouse.fact_order_line'::regclass"
        ).format(COUNTERS)
    )
    batch.checks = {}


def check_lines(
    conn: psycopg.Connection, batch: Batch, lines: sql.Identifier, *, first_load: bool = False
) -> None:
    """After the facts are written: the batch's good lines are all in the warehouse, carry its
    id as far as it wrote them, and the orders it wrote agree with their lines. ``first_load``:
    the order lines were empty when the transaction began (batch_lines_found_first.sql); a
    failed comparison is counted again by the join, so the record says how many were found."""
    rows = _ledger_lines(conn, batch, lines, first_load=first_load)
    if first_load and not all(r[3] for r in rows):
        rows = _ledger_lines(conn, batch, lines, first_load=False)
    _add(batch, LEDGER, rows)
    _add(batch, ORDERS, conn.execute(_orders_check(conn, batch, lines)).fetchall())


def _ledger_lines(
    conn: psycopg.Connection, batch: Batch, lines: sql.Identifier, *, first_load: bool
) -> list[tuple[str, str, str, bool]]:
    found = model(
        "warehouse/batch_lines_found_first.sql"
        if first_load
        else "warehouse/batch_lines_found.sql",
        lines=lines,
        batch_id=sql.Literal(batch.batch_id),
    )
    return conn.execute(
        model(
            "warehouse/check_batch_lines.sql",
            found=found,
            loaded=sql.Literal(batch.rows_loaded),
            rewritten=sql.Literal(batch.rows_rewritten),
        )
    ).fetchall()


def _orders_check(conn: psycopg.Connection, batch: Batch, lines: sql.Identifier) -> sql.Composable:
    """The batch's orders against their lines (check_orders.sql: one primary-key probe per
    order), or, for a batch that wrote a large share of all order lines (a first load), the
    whole-table reconciliation: one scan of each table costs less than millions of probes (a
    10M-line first load took 415 s with the probes against 351 s without checks)."""
    known = conn.execute(
        "SELECT reltuples FROM pg_class WHERE oid = 'warehouse.fact_order_line'::regclass"
    ).fetchone()[0]
    written = batch.rows_loaded + batch.rows_rewritten
    if written >= WHOLE_TABLE_MIN_LINES and (
        known is None or known <= 0 or written > WHOLE_TABLE_SHARE * known
    ):
        return sql.SQL(read_sql("quality/lines_vs_orders.sql"))
    return model("warehouse/check_orders.sql", lines=lines)


def finish(conn: psycopg.Connection, batch: Batch, *, totals_kept: bool) -> dict[str, Any] | None:
    """Last step before the batch is marked succeeded: the order-line counts of the whole
    transaction, and the kept totals of the customers it touched (when it kept them). Raises
    BatchCheckFailed naming every failed check; returns the record of the passed ones (None
    when the server keeps no counts, track_counts off: a run then scans instead)."""
    counting = conn.execute("SELECT current_setting('track_counts')::boolean").fetchone()[0]
    if counting:
        _add(
            batch,
            LEDGER,
            conn.execute(
                model(
                    "warehouse/check_line_counts.sql",
                    counters=COUNTERS,
                    loaded=sql.Literal(batch.rows_loaded),
                    rewritten=sql.Literal(batch.rows_rewritten),
                )
            ).fetchall(),
        )
    if totals_kept:
        # the touched customers' orders, as refresh_for_batch kept them (fact_order is not
        # written after it), each then read one by one
        orders = sql.Identifier(customer_state.TOUCHED_ORDERS)
        _add(
            batch,
            TOTALS,
            conn.execute(
                model("warehouse/check_customer_totals.sql", orders=orders, touched=TOUCHED)
            ).fetchall(),
        )
    failed = [
        f"{check}: {r['subject']}: expected {r['expected']}, got {r['actual']}"
        for check, rows in batch.checks.items()
        for r in rows
        if not r["passed"]
    ]
    if failed:
        raise BatchCheckFailed(
            f"data-quality check failed at build ({'; '.join(failed)}): the warehouse and its "
            "ledger would disagree, so nothing of the batch was loaded; look for a trigger, rule "
            "or concurrent writer on the warehouse tables, then load the files again"
        )
    if not counting:
        return None
    return {
        "checked_by": "build",
        "lines": batch.rows_loaded,
        "checks": {
            check: [{k: r[k] for k in ("subject", "expected", "actual")} for r in rows]
            for check, rows in batch.checks.items()
        },
    }


def _add(batch: Batch, check: str, rows: list[tuple[str, str, str, bool]]) -> None:
    batch.checks.setdefault(check, []).extend(
        {"subject": s, "expected": e, "actual": a, "passed": bool(p)} for s, e, a, p in rows
    )
