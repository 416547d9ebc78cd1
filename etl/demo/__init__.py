"""Deterministic demo data in the canonical ``segwise`` layout: a customer universe with
demographics, a product catalogue, two years of order lines, and a daily feed.

Same arguments, same seed -> the same bytes (with the pinned numpy/pyarrow). See docs/demo.md.
"""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_END, DEFAULT_SEED, DEFAULT_START

if TYPE_CHECKING:
    from etl.demo.history import DemoResult, customers_for_lines, write_day, write_history
    from etl.demo.orders import MALFORMED_KINDS
    from etl.demo.writer import CUSTOMER_COLUMNS, ORDER_LINE_COLUMNS, PRODUCT_COLUMNS

# Resolved on first use (PEP 562): the CLI reads the defaults without importing numpy/pyarrow.
_LAZY = {
    "DemoResult": "etl.demo.history",
    "customers_for_lines": "etl.demo.history",
    "write_day": "etl.demo.history",
    "write_history": "etl.demo.history",
    "MALFORMED_KINDS": "etl.demo.orders",
    "CUSTOMER_COLUMNS": "etl.demo.writer",
    "ORDER_LINE_COLUMNS": "etl.demo.writer",
    "PRODUCT_COLUMNS": "etl.demo.writer",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CUSTOMER_COLUMNS",
    "DEFAULT_CUSTOMERS",
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "MALFORMED_KINDS",
    "ORDER_LINE_COLUMNS",
    "PRODUCT_COLUMNS",
    "DemoResult",
    "customers_for_lines",
    "generate",
    "generate_day",
    "write_day",
    "write_history",
]


def generate(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    start: date | str | None = None,
    end: date | str | None = None,
    scale_lines: int | None = None,
    gzip: bool = False,
) -> list[Path]:
    """Write customers.csv, products.csv and order_lines.csv (``.gz`` with gzip) into out_dir.

    Orders cover start..end inclusive (default 2024-11-01..2026-10-31; start defaults to two years
    before end). ``scale_lines`` sizes the customer universe so the history has about that many
    order lines (``customers`` is then ignored). Streams day by day: memory does not grow with
    the number of lines.
    """
    from etl.demo.history import write_history

    return write_history(
        out_dir,
        seed=seed,
        customers=customers,
        start=start,
        end=end,
        scale_lines=scale_lines,
        gzip=gzip,
    ).paths


def generate_day(
    out_dir: str | Path,
    day: date | str,
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    gzip: bool = False,
) -> list[Path]:
    """The daily feed for ``day``: order_lines_DAY.csv, plus customers_DAY.csv with that day's
    signups when there are any. Identical to ``generate``'s lines for that day when the day is
    inside its range; ``customers`` must match the universe the history was generated with."""
    from etl.demo.history import write_day

    return write_day(out_dir, day, seed=seed, customers=customers, gzip=gzip).paths
