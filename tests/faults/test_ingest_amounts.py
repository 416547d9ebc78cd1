"""Item 7 of the reliability work: a layout that gives the line amount needs no unit price,
and a zero-quantity line is kept (kept:zero_quantity), not rejected for its price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from etl import ingest
from tests.ingest.conftest import query

MAPPING = """
name: amounts_{variant}
sources:
  lines:
    columns:
      order: {{required: true}}
      customer: {{type: id}}
      day: {{type: date, required: true}}
      qty: {{type: number, required: true}}
      total: {{type: number, required: true}}
order_lines:
  source: lines
  columns:
    order_id: order
    customer_id: customer
    order_ts: day
    quantity: qty
    amount: total
{extra}
"""
CSV = (
    "order,customer,day,qty,total\n"
    "{p}1,7,2011-03-01,2,10.00\n"
    "{p}2,7,2011-03-02,0,5.00\n"
    "{p}3,8,2011-03-03,-1,-4.00\n"
)


@pytest.mark.parametrize(
    "variant, extra",
    [("given", ""), ("computed", "    unit_price: total / qty")],
)
def test_an_amount_needs_no_unit_price_and_zero_quantity_is_kept(
    warehouse_url, tmp_path, variant, extra
):
    m = tmp_path / "m.yml"
    m.write_text(MAPPING.format(variant=variant, extra=extra))
    f = tmp_path / "lines.csv"
    prefix = f"AM{variant}-"
    f.write_text(CSV.format(p=prefix))
    r = ingest.load_paths(warehouse_url, [f], mapping=m)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 3, 0), r.rule_counts
    assert r.rule_counts.get("kept:zero_quantity") == 1
    rows = query(
        warehouse_url,
        "SELECT order_id, quantity, unit_price, amount, is_return, is_sale "
        "FROM warehouse.fact_order_line WHERE batch_id = %s ORDER BY order_id",
        (r.batch_id,),
    )
    assert rows[1][2] is None  # a zero-quantity line has no unit price
    assert [(o, q, a, ret, sale) for o, q, _, a, ret, sale in rows] == [
        (f"{prefix}1", Decimal(2), Decimal("10.00"), False, True),
        (f"{prefix}2", Decimal(0), Decimal("5.00"), False, False),
        (f"{prefix}3", Decimal(-1), Decimal("-4.00"), True, False),
    ]
    assert rows[0][2] == Decimal(5)
    assert abs(rows[2][2]) == Decimal(4)
