"""The staging's Arrow helpers (etl.ingest.arrow_values): the arrays they build over numpy
memory are the arrays pyarrow's conversions would build, sliced arrays included; and a load
through them imports no pandas (pyarrow imports it on its first conversion of a Python value,
0.16 s of a 1M-line load while the server waits for rows)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from etl.ingest.arrow_values import blank_as_null, filled, from_numpy, to_numpy, validity
from etl.ingest.readers import clean_text
from tests.ingest.conftest import query

ROOT = Path(__file__).resolve().parents[2]


def test_from_numpy_is_pa_array_with_its_nulls() -> None:
    values = np.array([3, -1, 7, 0, 9], dtype=np.int64)
    valid = np.array([True, False, True, True, False])
    assert from_numpy(values).equals(pa.array(values))
    assert from_numpy(values, valid).equals(pa.array(values, mask=~valid))
    assert from_numpy(values[::2]).to_pylist() == [3, 7, 9]  # a strided view is copied first
    assert filled(3, 5, np.int32).equals(pa.array([5, 5, 5], pa.int32()))


def test_to_numpy_and_validity_read_a_sliced_array() -> None:
    arr = pa.array([1, 2, None, 4, 5, 6, None, 8, 9, 10], pa.int64())
    part = arr.slice(3, 4)  # 4, 5, 6, None
    assert validity(part).tolist() == [True, True, True, False]
    assert validity(arr.slice(0, 2)).tolist() == [True, True]
    assert to_numpy(arr.slice(3, 3)).tolist() == [4, 5, 6]
    with pytest.raises(ValueError, match="nulls"):
        to_numpy(part)
    assert to_numpy(part, null_as=-1).tolist() == [4, 5, 6, -1]


def test_blank_values_become_null_and_others_stay() -> None:
    values = pa.array([" a ", "", "  ", None, "b"])
    assert blank_as_null(pa.array(["a", "", None, "b"])).to_pylist() == ["a", None, None, "b"]
    chunked = pa.chunked_array([pa.array(["", "a"]), pa.array([None, ""])])
    assert blank_as_null(chunked).to_pylist() == [None, "a", None, None]
    assert clean_text(values).to_pylist() == ["a", None, None, None, "b"]
    assert clean_text(pa.array(["x ", " y"])).to_pylist() == ["x", "y"]
    assert clean_text(pa.array([None, None], pa.string())).to_pylist() == [None, None]


def test_a_load_imports_no_pandas(tmp_path: Path, warehouse_url: str) -> None:
    """Online Retail lines with ISO dates (a 31st, so the day check runs), a blank value and
    an order of several lines (line positions), through `segwise load` in its own process."""
    data = tmp_path / "online_retail.csv"
    data.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART,6,2010-12-31 08:26:00,2.55,17850.0,United Kingdom\n"
        "536365,71053,WHITE METAL LANTERN,6,2010-12-31 08:26:00,3.39,17850.0,United Kingdom\n"
        "536366,22633,HAND WARMER, ,2010-12-01 08:28:00,1.85,,United Kingdom\n"
        "C536367,22633,HAND WARMER,-1,2010-12-01 08:34:00,1.85,13047,United Kingdom\n",
        encoding="latin-1",
    )
    script = textwrap.dedent(
        f"""
        import runpy, sys
        sys.argv = ["segwise", "load", {str(data)!r}, "--layout", "online_retail", "-q",
                    "--database-url", {warehouse_url!r}]
        try:
            runpy.run_module("etl.cli", run_name="__main__")
        except SystemExit as exc:
            print("exit", exc.code, "pandas" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "exit 0 False", out.stdout + out.stderr
    assert query(
        warehouse_url,
        "SELECT order_id, line_no, order_ts::text FROM warehouse.fact_order_line "
        "WHERE order_id = '536365' ORDER BY line_no",
    ) == [("536365", 1, "2010-12-31 08:26:00"), ("536365", 2, "2010-12-31 08:26:00")]
