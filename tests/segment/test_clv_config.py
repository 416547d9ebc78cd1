"""clv settings are validated up front, and the zero_price_sales mapping option."""

from __future__ import annotations

import re

import psycopg
import pytest

from etl.cli import main
from etl.errors import ConfigurationError
from etl.segment.run_config import METHODS, resolve


def test_clv_is_a_default_method_with_its_settings():
    cfg = resolve({})
    assert "clv" in METHODS and "clv" in cfg["methods"]
    assert cfg["clv"]["time_unit"] == "week"
    assert resolve({"clv": {"time_unit": "day"}})["clv"]["time_unit"] == "day"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"time_unit": "month"}, "clv.time_unit = 'month': use day or week"),
        ({"margin": 0}, "clv.margin = 0: a number in (0, 1]"),
        ({"churn_p_alive": 1.5}, "clv.churn_p_alive = 1.5"),
        ({"high_share": 0.6, "low_share": 0.5}, "must not exceed 1"),
        ({"min_customers": 0}, "clv.min_customers = 0: a whole number >= 1"),
        ({"horizon": 3}, "unknown clv setting(s) ['horizon']"),
    ],
)
def test_bad_clv_settings_are_refused_naming_the_setting(override, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        resolve({"clv": override})


MAPPING = """
version: 1
name: free_lines
max_rejected_fraction: 1
sources:
  lines:
    files: ["*.csv"]
    columns:
      order: {required: true}
      customer: {}
      day: {type: date}
      qty: {type: number}
      price: {type: number}
order_lines:
  source: lines
  OPTION
  columns:
    order_id: order
    customer_id: customer
    order_ts: day
    quantity: qty
    unit_price: price
"""
CSV = (
    "order,customer,day,qty,price\nA,c1,2024-01-02,1,5\nB,c1,2024-01-03,1,0\nC,c2,2024-01-04,1,-1\n"
)


@pytest.mark.parametrize(
    ("option", "loaded"), [("", ["A"]), ("zero_price_sales: true", ["A", "B"])]
)
def test_zero_price_lines_are_kept_only_when_the_mapping_says_so(
    fresh_warehouse_url, tmp_path, option, loaded
):
    (tmp_path / "lines.csv").write_text(CSV)
    mapping = tmp_path / "m.yml"
    mapping.write_text(MAPPING.replace("OPTION", option))
    main(
        [
            "load",
            str(tmp_path / "lines.csv"),
            "--mapping",
            str(mapping),
            "--database-url",
            fresh_warehouse_url,
            "--quiet",
        ]
    )
    with psycopg.connect(fresh_warehouse_url) as conn:
        orders = [
            r[0] for r in conn.execute("SELECT order_id FROM warehouse.fact_order_line ORDER BY 1")
        ]
        reasons = [r[0] for r in conn.execute("SELECT reason FROM staging.rejected_rows")]
    assert orders == loaded
    assert any("negative price" in r for r in reasons)  # never kept, with or without the option


def test_zero_price_sales_belongs_to_order_lines(tmp_path, capsys):
    mapping = tmp_path / "m.yml"
    mapping.write_text(MAPPING.replace("OPTION", "zero_price_sales: yes please"))
    (tmp_path / "lines.csv").write_text(CSV)
    rc = main(
        [
            "load",
            str(tmp_path / "lines.csv"),
            "--mapping",
            str(mapping),
            "--database-url",
            "postgresql://postgres@127.0.0.1:5432/nonexistent_db_for_mapping_check",
        ]
    )
    assert rc == 2
    assert "order_lines.zero_price_sales: true or false" in capsys.readouterr().err
