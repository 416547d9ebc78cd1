"""Data-quality checks between the layers, run on a segmentation run before it is published.

Each check is one SQL file in ``sql/quality/`` that returns ``(subject, expected, actual,
passed)`` rows, so a check reads like a reconciliation: what the lower layer says against what the
upper layer holds. All checks run in one read-only snapshot, and every failure is reported at
once (a failed publish should say everything that is wrong, not the first thing).
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.db import connect
from etl.errors import SegwiseError
from etl.paths import read_sql

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

    def __str__(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        return (
            f"{self.check}: {self.subject}: expected {self.expected}, got {self.actual} {verdict}"
        )


class QualityError(SegwiseError):
    """One or more checks failed; ``results`` holds all of them."""

    def __init__(self, message: str, results: list[CheckResult]):
        super().__init__(message)
        self.results = results


def run_checks(url: str, run_id: int) -> list[CheckResult]:
    """Every check for one run (read-only, one consistent snapshot)."""
    results: list[CheckResult] = []
    with connect(url) as conn:
        conn.read_only = True
        conn.isolation_level = 3  # REPEATABLE READ: one snapshot for all checks
        row = conn.execute(
            "SELECT as_of_date FROM segmentation.runs WHERE run_id = %s", (run_id,)
        ).fetchone()
        if row is None:
            raise SegwiseError(f"segmentation run {run_id} does not exist")
        params = {"run_id": run_id, "as_of": row[0]}
        for check in CHECKS:
            for subject, expected, actual, passed in conn.execute(_check_sql(check), params):
                results.append(CheckResult(check, subject, expected, actual, bool(passed)))
        conn.rollback()
    return results


def _check_sql(check: str) -> str:
    text = read_sql(f"quality/{check}.sql")
    if "{built_batches}" in text:  # the one definition of what a run reads (etl.segment.runs)
        text = text.replace("{built_batches}", read_sql("segmentation/built_batches.sql"))
    return text


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
