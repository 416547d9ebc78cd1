"""Data-quality checks between the layers, run on a segmentation run before it is published.

Each check is one SQL file in ``sql/quality/`` that returns ``(subject, expected, actual,
passed)`` rows, so a check reads like a reconciliation: what the lower layer says against what the
upper layer holds. All checks run in one read-only snapshot, and every failure is reported at
once (a failed publish should say everything that is wrong, not the first thing).

``ledger_vs_facts``, ``lines_vs_orders`` and ``facts_vs_features`` scan every order line. The
warehouse build runs them per batch (etl.ingest.batch_checks), so a run reads that record
instead while nothing is unverified, and scans only when something is (etl.quality_record) or
when asked to (run setting ``quality: full``). Each result says which it was (``source``).
"""

from __future__ import annotations

from dataclasses import dataclass

from etl import quality_record
from etl.db import connect
from etl.errors import SegwiseError
from etl.paths import read_sql
from etl.segment import runs

# Lowest layer first: ledger -> order lines -> orders -> features -> segments -> profiles.
CHECKS = (
    "run_read_one_warehouse",
    "ledger_vs_facts",
    "lines_vs_orders",
    "facts_vs_features",
    "segments_cover_customers",
    "segment_tables_not_empty",
)


@dataclass(frozen=True)
class CheckResult:
    check: str
    subject: str
    expected: str
    actual: str
    passed: bool
    # where the figures come from (etl.quality_record): computed, a full scan of the order
    # lines, the build-time checks' record, the kept customer totals
    source: str = quality_record.COMPUTED

    def __str__(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        cheap = (quality_record.BUILD_RECORD, quality_record.KEPT_TOTALS)
        via = f" (from the {self.source})" if self.source in cheap else ""
        return (
            f"{self.check}: {self.subject}: expected {self.expected}, got {self.actual} "
            f"{verdict}{via}"
        )


class QualityError(SegwiseError):
    """One or more checks failed; ``results`` holds all of them."""

    def __init__(self, message: str, results: list[CheckResult]):
        super().__init__(message)
        self.results = results


def run_checks(url: str, run_id: int, *, full: bool | None = None) -> list[CheckResult]:
    """Every check for one run (read-only, one consistent snapshot). ``full``: scan every order
    line whatever the record says (None: as the run's ``quality`` setting says). A passing full
    scan is then recorded, in a transaction of its own (etl.quality_record)."""
    results: list[CheckResult] = []
    with connect(url) as conn:
        conn.read_only = True
        conn.isolation_level = 3  # REPEATABLE READ: one snapshot for all checks
        row = conn.execute(
            "SELECT as_of_date, params ->> 'quality', metrics -> 'features' ->> 'source', "
            "batches_digest FROM segmentation.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        if row is None:
            raise SegwiseError(f"segmentation run {run_id} does not exist")
        as_of, mode, features_source, run_digest = row
        full = mode == "full" if full is None else full
        state = quality_record.read_state(conn)
        cutoff, digest = runs.built_batches(conn)  # what the run must still be reading
        params = {"run_id": run_id, "as_of": as_of, "cutoff": cutoff, "digest": digest}
        # the run read the warehouse as it is now, and the kept totals reflect it
        current = run_digest == digest == state.totals_digest
        for check in CHECKS:
            model, source = quality_record.plan(
                check, state, full=full, features_source=features_source, current=current
            )
            sql_text = read_sql(f"quality/{model}.sql")
            for subject, expected, actual, passed in conn.execute(sql_text, params):
                results.append(CheckResult(check, subject, expected, actual, bool(passed), source))
        conn.rollback()
    quality_record.record_full_pass(
        url,
        run_id,
        state,
        results,
        features_are_totals=current and features_source in quality_record.FROM_TOTALS,
    )
    return results


def assert_quality(url: str, run_id: int) -> list[CheckResult]:
    """The results when every check passed; else QualityError listing every failed one."""
    results = run_checks(url, run_id)
    failed = [r for r in results if not r.passed]
    if failed:
        raise QualityError(
            f"{len(failed)} of {len(results)} data-quality checks failed for segmentation run "
            f"{run_id} (it was not published; the previous results stay visible):\n"
            + "\n".join(f"- {r}" for r in failed),
            results,
        )
    return results
