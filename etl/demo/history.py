"""Write the demo data set (two years of history) or one day's feed into a folder."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from etl.demo.calendar import DEFAULT_END, demand, from_day, to_day, two_years_before
from etl.demo.catalog import build_catalog
from etl.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_SEED
from etl.demo.orders import (
    FIRST_ORDER_SHARE,
    MALFORMED_KINDS,
    MAX_RETURN_LAG,
    CatalogIndex,
    Day,
    DaySales,
    Lines,
    assemble_day,
    simulate_sales,
)
from etl.demo.universe import Universe, build_universe
from etl.demo.writer import (
    CUSTOMER_COLUMNS,
    ORDER_LINE_COLUMNS,
    PRODUCT_COLUMNS,
    csv_file,
    customers_table,
    order_lines_table,
    output_path,
    products_table,
)
from etl.errors import SegwiseError

log = logging.getLogger(__name__)

RETURN_SHARE = 0.02  # of all lines, used only to size --lines runs
PILOT_CUSTOMERS = 20_000

Progress = Callable[[str], None]


@dataclass
class DemoResult:
    """What was written; ``universe_customers`` is the value to pass to later daily feeds."""

    paths: list[Path]
    seed: int
    universe_customers: int
    start: date
    end: date
    customers: int = 0  # rows in the customers file written
    products: int = 0
    order_lines: int = 0
    orders: int = 0
    return_lines: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MALFORMED_KINDS, 0))
    seconds: float = 0.0

    def add_day(self, day: Day) -> None:
        c = day.lines.cols
        self.order_lines += len(day.lines)
        self.orders += int((c["line_no"] == 1).sum())
        self.return_lines += int((c["kind"] == 1).sum())
        for i, kind in enumerate(MALFORMED_KINDS):
            self.malformed[kind] += int((day.malformed == i).sum())


class _Reporter:
    """Throttled progress: rows written and rows/s, at most every ``every`` seconds."""

    def __init__(self, emit: Progress | None, every: float = 2.0) -> None:
        self.emit = emit or log.info
        self.every = every
        self.t0 = self.last = time.monotonic()

    def update(self, rows: int, day: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            rate = rows / max(now - self.t0, 1e-9)
            self.emit(f"demo: {rows:,} order lines up to {from_day(day)} ({rate:,.0f} rows/s)")


def _as_date(value: date | str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SegwiseError(f"demo: {name} must be a date YYYY-MM-DD, got {value!r}") from None


def _check(seed: int, customers: int) -> None:
    if not isinstance(seed, int) or seed < 0:
        raise SegwiseError(f"demo: seed must be a non-negative integer, got {seed!r}")
    if not isinstance(customers, int) or customers < 1:
        raise SegwiseError(f"demo: customers must be a positive integer, got {customers!r}")


def _out_dir(out_dir: str | Path) -> Path:
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise SegwiseError(f"demo: output path {path} exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def expected_lines(u: Universe, start: int, end: int) -> float:
    """Expected order lines of universe ``u`` between day numbers start and end (inclusive)."""
    cum = np.concatenate([[0.0], np.cumsum(demand(np.arange(start, end + 1)))])
    n = end - start + 1
    a = np.clip(np.maximum(u.signup + 1, start) - start, 0, n)
    b = np.clip(np.minimum(u.death - 1, end) - start + 1, 0, n)
    orders = u.rate / 365.0 * np.where(b > a, cum[b] - cum[np.minimum(a, b)], 0.0)
    orders = orders + FIRST_ORDER_SHARE * ((u.signup >= start) & (u.signup <= end))
    return float((orders * u.basket).sum()) / (1.0 - RETURN_SHARE)


def customers_for_lines(seed: int, lines: int, start: date, end: date) -> int:
    """Base universe size whose history between start and end has about ``lines`` lines."""
    s, e = to_day(start), to_day(end)
    pilot = build_universe(seed, PILOT_CUSTOMERS, end)
    n = max(1, round(lines * PILOT_CUSTOMERS / max(expected_lines(pilot, s, e), 1e-9)))
    u = build_universe(seed, n, end)  # refine on the real universe: its tail differs from the pilot
    return max(1, round(n * lines / max(expected_lines(u, s, e), 1e-9)))


def _pending_returns(pending: deque[DaySales], day: int) -> list[Lines]:
    return [ds.returns.select(ds.return_day == day) for ds in pending]


def _returns_only(sales: DaySales) -> DaySales:
    """What the next 30 days need from a day's sales: its future returns, not its lines."""
    return DaySales(Lines.empty(), sales.returns, sales.return_day)


def write_history(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    start: date | str | None = None,
    end: date | str | None = None,
    scale_lines: int | None = None,
    gzip: bool = False,
    progress: Progress | None = None,
) -> DemoResult:
    """customers.csv, products.csv and order_lines.csv for [start, end] (see ``generate``)."""
    t0 = time.monotonic()
    end_d = _as_date(end, "end") if end is not None else DEFAULT_END
    start_d = _as_date(start, "start") if start is not None else two_years_before(end_d)
    if start_d > end_d:
        raise SegwiseError(f"demo: start {start_d} is after end {end_d}")
    if scale_lines is not None:
        if not isinstance(scale_lines, int) or scale_lines < 1:
            raise SegwiseError(f"demo: lines must be a positive integer, got {scale_lines!r}")
        customers = customers_for_lines(seed, scale_lines, start_d, end_d)
    _check(seed, customers)
    out = _out_dir(out_dir)
    s, e = to_day(start_d), to_day(end_d)

    cat = build_catalog(seed)
    idx = CatalogIndex(cat)
    u = build_universe(seed, customers, end_d)
    result = DemoResult([], seed, customers, start_d, end_d)

    with csv_file(out / "products.csv", PRODUCT_COLUMNS, gzip=gzip) as sink:
        sink.write(products_table(cat))
    result.paths.append(output_path(out / "products.csv", gzip))
    result.products = len(cat)
    rows = np.flatnonzero(u.signup <= e)
    with csv_file(out / "customers.csv", CUSTOMER_COLUMNS, gzip=gzip) as sink:
        for chunk in np.array_split(rows, max(1, len(rows) // 100_000)):
            sink.write(customers_table(u, chunk))
    result.paths.append(output_path(out / "customers.csv", gzip))
    result.customers = len(rows)

    product_ids = pa.array(cat.product_id)
    reporter = _Reporter(progress)
    pending: deque[DaySales] = deque(
        _returns_only(simulate_sales(u, idx, seed, d)) for d in range(s - MAX_RETURN_LAG, s)
    )
    with csv_file(out / "order_lines.csv", ORDER_LINE_COLUMNS, gzip=gzip) as sink:
        for d in range(s, e + 1):
            sales = simulate_sales(u, idx, seed, d)
            day = assemble_day(seed, d, sales.lines, _pending_returns(pending, d))
            sink.write(order_lines_table(day, u, product_ids))
            result.add_day(day)
            pending.append(_returns_only(sales))
            pending.popleft()
            reporter.update(result.order_lines, d)
    result.paths.append(output_path(out / "order_lines.csv", gzip))
    result.seconds = time.monotonic() - t0
    if result.seconds >= reporter.every:
        reporter.update(result.order_lines, e, force=True)
    return result


def write_day(
    out_dir: str | Path,
    day: date | str,
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    gzip: bool = False,
) -> DemoResult:
    """order_lines_DAY.csv (and customers_DAY.csv if anyone signed up that day)."""
    t0 = time.monotonic()
    the_day = _as_date(day, "day")
    _check(seed, customers)
    out = _out_dir(out_dir)
    d = to_day(the_day)
    cat = build_catalog(seed)
    idx = CatalogIndex(cat)
    u = build_universe(seed, customers, the_day)
    result = DemoResult([], seed, customers, the_day, the_day)

    signups = np.flatnonzero(u.signup == d)
    if len(signups):
        name = f"customers_{the_day.isoformat()}.csv"
        with csv_file(out / name, CUSTOMER_COLUMNS, gzip=gzip) as sink:
            sink.write(customers_table(u, signups))
        result.paths.append(output_path(out / name, gzip))
        result.customers = len(signups)

    pending = deque(simulate_sales(u, idx, seed, p) for p in range(d - MAX_RETURN_LAG, d))
    sales = simulate_sales(u, idx, seed, d)
    assembled = assemble_day(seed, d, sales.lines, _pending_returns(pending, d))
    name = f"order_lines_{the_day.isoformat()}.csv"
    with csv_file(out / name, ORDER_LINE_COLUMNS, gzip=gzip) as sink:
        sink.write(order_lines_table(assembled, u, pa.array(cat.product_id)))
    result.paths.append(output_path(out / name, gzip))
    result.add_day(assembled)
    result.seconds = time.monotonic() - t0
    return result
