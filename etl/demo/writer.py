"""CSV output in the canonical ``segwise`` layout, streamed one chunk at a time.

Arrow's CSV writer formats and writes each chunk in C++ (fast, and memory stays at one chunk).
All columns are pre-formatted strings so the bytes depend on nothing but our own formatting.
Files appear atomically: written under a hidden ``.name.part`` name, then renamed, so an inbox
watcher never sees a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from gzip import GzipFile
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from etl.demo.calendar import from_day
from etl.demo.catalog import L1_NAMES, Catalog
from etl.demo.geography import CITIES
from etl.demo.orders import (
    BAD_DATES,
    BAD_QUANTITIES,
    MALFORMED_KINDS,
    PLATFORMS,
    Day,
)
from etl.demo.universe import CHANNELS, FAMILY, GENDERS, STORE_IDS, Universe
from etl.ingest.columns import FILE_COLUMNS

CUSTOMER_COLUMNS = (
    "customer_id",
    "gender",
    "birth_year",
    "income",
    "family_status",
    "n_dependants",
    "country",
    "state",
    "region",
    "city",
    "signup_date",
)
PRODUCT_COLUMNS = (
    "product_id",
    "product_name",
    "category_l1",
    "category_l2",
    "category_l3",
    "list_price",
    "unit_cost",
)
ORDER_LINE_COLUMNS = FILE_COLUMNS  # the canonical order line (etl/ingest/columns.py)

_DATE_IDX, _PRICE_IDX, _QTY_IDX = (
    MALFORMED_KINDS.index(k) for k in ("unparseable date", "negative price", "non-numeric quantity")
)
_TIMES = pa.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)])
_CHANNELS = pa.array(CHANNELS)
_PLATFORMS = pa.array(PLATFORMS)
_STORES = pa.array([*STORE_IDS, ""])  # index -1 -> ""
_BOOL = pa.array(["false", "true"])
_CITY = {
    attr: pa.array([getattr(c, attr) for c in CITIES])
    for attr in ("market", "country", "region", "state", "city")
}


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _money(cents: np.ndarray) -> pa.Array:
    """Non-negative cents as ``units.cc``."""
    cents = np.asarray(cents, dtype=np.int64)
    return pc.binary_join_element_wise(
        _text(cents // 100), pc.utf8_lpad(_text(cents % 100), width=2, padding="0"), "."
    )


def _optional_int(values: np.ndarray) -> pa.Array:
    """Integers with -1 meaning unknown (written as an empty field)."""
    return pc.cast(pa.array(values, mask=values < 0), pa.string())


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.datetime_as_string(days.astype("datetime64[D]"), unit="D"))


def _ymd(days: np.ndarray) -> pa.Array:
    return pc.replace_substring(_dates(days), "-", "")


def _table(columns: tuple[str, ...], arrays: list[pa.Array]) -> pa.Table:
    return pa.table(dict(zip(columns, arrays, strict=True)))


def customers_table(u: Universe, rows: np.ndarray) -> pa.Table:
    c = {k: v[rows] for k, v in u.cols.items()}
    city = pa.array(c["city"])
    # Unknown gender (-1) is left blank: take() of a null index gives null.
    gender = pa.array(GENDERS).take(pa.array(c["gender"], mask=c["gender"] < 0))
    return _table(
        CUSTOMER_COLUMNS,
        [
            u.ids.take(pa.array(rows)),
            gender,
            _optional_int(c["birth_year"]),
            _optional_int(c["income"]),
            pa.array(FAMILY).take(pa.array(c["family"])),
            _text(c["n_dependants"]),
            _CITY["country"].take(city),
            _CITY["state"].take(city),
            _CITY["region"].take(city),
            _CITY["city"].take(city),
            _dates(c["signup"]),
        ],
    )


def products_table(cat: Catalog) -> pa.Table:
    return _table(
        PRODUCT_COLUMNS,
        [
            pa.array(cat.product_id),
            pa.array(cat.product_name),
            pa.array(L1_NAMES).take(pa.array(cat.l1)),
            pa.array(cat.l2),
            pa.array(cat.l3),
            _money(cat.price_cents),
            _money(cat.cost_cents),
        ],
    )


def order_lines_table(day: Day, u: Universe, product_ids: pa.Array) -> pa.Table:
    c = day.lines.cols
    if len(day.lines) == 0:
        return _table(ORDER_LINE_COLUMNS, [pa.array([], pa.string())] * len(ORDER_LINE_COLUMNS))
    cust = pa.array(c["customer"])
    city = pa.array(u.city[c["customer"]])
    letters = pa.array(np.where(c["kind"] == 0, "S", "R"))
    order_id = pc.binary_join_element_wise(
        letters,
        _ymd(c["order_day"]),
        "-",
        pc.utf8_lpad(_text(c["seq"]), width=6, padding="0"),
        "",
    )
    order_ts = pc.binary_join_element_wise(
        from_day(day.day).isoformat(), _TIMES.take(pa.array(c["sec"])), " "
    )
    quantity = _text(c["quantity"])
    unit_price = _money(c["price"])
    bad, variant = day.malformed, day.variant
    if (bad >= 0).any():
        m = bad == _DATE_IDX
        order_ts = _corrupt(order_ts, m, pa.array(np.array(BAD_DATES)[variant[m]]))
        m = bad == _QTY_IDX
        quantity = _corrupt(quantity, m, pa.array(np.array(BAD_QUANTITIES)[variant[m]]))
        m = bad == _PRICE_IDX
        negative = pc.binary_join_element_wise("-", pc.filter(unit_price, pa.array(m)), "")
        unit_price = _corrupt(unit_price, m, negative)
    store = np.where(c["store"] < 0, len(_STORES) - 1, c["store"])
    by_name = {
        "order_id": order_id,
        "line_no": _text(c["line_no"]),
        "customer_id": u.ids.take(cust),
        "order_ts": order_ts,
        "product_id": product_ids.take(pa.array(c["product"])),
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_amount": _money(c["discount"]),
        "is_return": _BOOL.take(pa.array(c["kind"])),
        "channel": _CHANNELS.take(pa.array(c["channel"])),
        "platform": _PLATFORMS.take(pa.array(c["platform"])),
        "market": _CITY["market"].take(city),
        "country": _CITY["country"].take(city),
        "region": _CITY["region"].take(city),
        "store_id": _STORES.take(pa.array(store)),
    }
    return _table(ORDER_LINE_COLUMNS, [by_name[n] for n in ORDER_LINE_COLUMNS])


def _corrupt(values: pa.Array, mask: np.ndarray, replacement: pa.Array) -> pa.Array:
    """``values`` with the masked rows replaced, in order, by ``replacement``."""
    if not mask.any():
        return values
    return pc.replace_with_mask(values, pa.array(mask), replacement)


class CsvSink:
    """One CSV file being written chunk by chunk."""

    def __init__(self, stream: BinaryIO, columns: tuple[str, ...]) -> None:
        stream.write((",".join(columns) + "\n").encode())
        schema = pa.schema([(name, pa.string()) for name in columns])
        self._writer = pacsv.CSVWriter(
            stream,
            schema,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def output_path(path: Path, gzip: bool) -> Path:
    return path.with_name(path.name + ".gz") if gzip else path


@contextmanager
def csv_file(path: Path, columns: tuple[str, ...], *, gzip: bool = False) -> Iterator[CsvSink]:
    """Write ``path`` (``.gz`` appended when gzip) atomically; yields a chunk sink.

    gzip level 6 with no name or time in the header, so the bytes are reproducible (Arrow's own
    gzip stream defaults to level 9: three times slower for a few percent).
    """
    final = output_path(path, gzip)
    part = final.with_name(f".{final.name}.part")
    try:
        with open(part, "wb") as raw:
            if gzip:
                with GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as z:
                    sink = CsvSink(z, columns)
                    yield sink
                    sink.close()
            else:
                sink = CsvSink(raw, columns)
                yield sink
                sink.close()
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
