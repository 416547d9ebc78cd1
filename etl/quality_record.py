"""Whether a run's data-quality checks may read the build-time record instead of scanning every
order line, and what a passing full scan records (revision 0012_quality_per_batch).

Every build checks its batch (``etl.ingest.batch_checks``) and records the passed checks in
``staging.load_batches.quality``. A run's ``ledger_vs_facts`` and ``lines_vs_orders`` then read
that record, and ``facts_vs_features`` of a run that read the kept customer totals compares
its features with the totals, only while nothing is unverified:

- every succeeded batch carries a record (batches built before the revision do not);
- nothing wrote to the order lines, the order fact, the kept totals or a succeeded ledger row
  outside a checked build (``staging.unchecked_writes``, noted by triggers);
- for the totals: they were verified against the lines since a run last stored them whole
  (``customer_state_status.lines_checked``).

Otherwise, or when the run asks for it (``quality: full``), the check scans as before. A
passing scan records what it verified, so the next run is cheap again: the unchecked batches it
saw get a record, the writes it saw are forgotten, and the kept totals count as verified when
the run's features came from them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from etl.db import connect
from etl.errors import SegwiseError
from etl.paths import read_sql

log = logging.getLogger(__name__)
# where a result's figures come from: the other checks always compute from the run's own rows
# (COMPUTED); the three that reconcile every order line scan (FULL_SCAN) or read the record
COMPUTED, FULL_SCAN = "computed", "full scan"
BUILD_RECORD, KEPT_TOTALS = "build checks", "kept totals"
# check -> (model read instead of the full scan, where its figures come from)
CHEAP = {
    "ledger_vs_facts": ("ledger_vs_facts_from_builds", BUILD_RECORD),
    "lines_vs_orders": ("lines_vs_orders_from_builds", BUILD_RECORD),
    "facts_vs_features": ("facts_vs_features_from_totals", KEPT_TOTALS),
}
WAREHOUSE_CHECKS = ("ledger_vs_facts", "lines_vs_orders")
# runs.metrics->'features'->>'source' of a run whose features are the kept totals' rows
FROM_TOTALS = ("state", "lines, stored as the customer totals")


class Result(Protocol):
    check: str
    passed: bool
    source: str


@dataclass(frozen=True)
class State:
    """What is unverified, as the checks' snapshot saw it (sql/quality/record_state.sql)."""

    unchecked_batches: list[int]
    unchecked_writes: list[int]
    totals_checked: bool
    totals_digest: str | None
    totals_refreshed: Any

    @property
    def warehouse_verified(self) -> bool:
        return not self.unchecked_batches and not self.unchecked_writes


def read_state(conn: psycopg.Connection) -> State:
    row = conn.execute(read_sql("quality/record_state.sql")).fetchone()
    return State(list(row[0]), list(row[1]), bool(row[2]), row[3], row[4])


def plan(
    check: str, state: State, *, full: bool, features_source: str | None, current: bool
) -> tuple[str, str]:
    """(model file name, source) for one check of a run. ``current``: the run read the
    warehouse as it is now (no batch built since it started; the kept totals reflect it)."""
    if check not in CHEAP:
        return check, COMPUTED
    if full or not state.warehouse_verified:
        return check, FULL_SCAN
    if check == "facts_vs_features" and not (
        features_source in FROM_TOTALS and state.totals_checked and current
    ):
        # features from the lines (a backfill), unverified totals, or totals that have moved on
        # since the run (a report re-checking an older run): compare with the lines
        return check, FULL_SCAN
    return CHEAP[check]


def record_full_pass(
    url: str,
    run_id: int,
    state: State,
    results: Sequence[Result],
    *,
    features_are_totals: bool,
) -> None:
    """After the checks' snapshot, in a transaction of its own: record what a passing full scan
    verified. The warehouse checks both scanned and passed: the unchecked batches seen get a
    record and the writes seen are forgotten. facts_vs_features scanned and passed on features
    that are the kept totals' current rows (``features_are_totals``), with nothing written
    outside checked builds: the totals are verified against the lines."""
    by_check: dict[str, list[Result]] = {}
    for r in results:
        by_check.setdefault(r.check, []).append(r)

    def scanned_and_passed(check: str) -> bool:
        rows = by_check.get(check, [])
        return bool(rows) and all(r.passed and r.source == FULL_SCAN for r in rows)

    warehouse_passed = all(
        by_check.get(c) and all(r.passed for r in by_check[c]) for c in WAREHOUSE_CHECKS
    )
    warehouse_scanned = warehouse_passed and all(scanned_and_passed(c) for c in WAREHOUSE_CHECKS)
    totals_verified = (
        warehouse_passed
        and scanned_and_passed("facts_vs_features")
        and features_are_totals
        and not state.unchecked_writes  # a write seen may have changed the totals after the run
    )
    if not warehouse_scanned and not (totals_verified and not state.totals_checked):
        return
    try:
        _record(url, run_id, state, warehouse_scanned, totals_verified)
    except (psycopg.Error, SegwiseError) as exc:  # an optimisation only: the next run scans
        log.warning("full data-quality scan of run %s not recorded: %s", run_id, exc)


def _record(
    url: str, run_id: int, state: State, warehouse_scanned: bool, totals_verified: bool
) -> None:
    with connect(url) as conn, conn.transaction():
        if warehouse_scanned:
            conn.execute(
                "UPDATE staging.load_batches SET quality = jsonb_build_object("
                "'checked_by', %s::text, 'lines', rows_loaded) "
                "WHERE batch_id = ANY(%s) AND status = 'succeeded' AND quality IS NULL",
                (f"full scan (run {run_id})", state.unchecked_batches),
            )
            conn.execute(
                "DELETE FROM staging.unchecked_writes WHERE write_id = ANY(%s)",
                (state.unchecked_writes,),
            )
        if totals_verified and not state.totals_checked:
            # only the totals the run saw: a build or another run's store since changes these
            conn.execute(
                "UPDATE warehouse.customer_state_status SET lines_checked = true "
                "WHERE built_digest IS NOT DISTINCT FROM %s "
                "AND refreshed_at IS NOT DISTINCT FROM %s",
                (state.totals_digest, state.totals_refreshed),
            )
        elif warehouse_scanned and state.unchecked_writes and not totals_verified:
            # the writes forgotten here may have changed the totals: verify them again
            conn.execute("UPDATE warehouse.customer_state_status SET lines_checked = false")
