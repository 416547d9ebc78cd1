"""The clv method on a real warehouse: edge-case customers, and too little history."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.segment import clv_run, pipeline
from tests.conftest import create_database, drop_database
from tests.segment.clv_data import order_lines, simulate_bgnbd
from tests.segment.warehouse_data import insert_orders

AS_OF = dt.date(2024, 12, 31)
EDGE_LINES = [
    # one-time buyer: two orders on one day are one purchase
    ("E1a", "E_ONCE", "2024-06-01 10:00", "P1", 1, 30.0, False),
    ("E1b", "E_ONCE", "2024-06-01 15:00", "P1", 2, 5.0, False),
    # three orders on one day and one later: one repeat purchase
    ("E2a", "E_SAMEDAY", "2024-03-01 09:00", "P1", 1, 10.0, False),
    ("E2b", "E_SAMEDAY", "2024-03-01 11:00", "P1", 1, 10.0, False),
    ("E2c", "E_SAMEDAY", "2024-03-01 18:00", "P1", 1, 10.0, False),
    ("E2d", "E_SAMEDAY", "2024-04-01 18:00", "P1", 1, 40.0, False),
    # only returns, never a purchase
    ("E3a", "E_RETONLY", "2024-07-01 10:00", "P1", -1, 25.0, True),
    # first seen on the as-of date
    ("E4a", "E_NEW", f"{AS_OF} 10:00", "P1", 1, 12.0, False),
    # refunds larger than purchases
    ("E5a", "E_REFUND", "2024-05-01 10:00", "P1", 1, 10.0, False),
    ("E5b", "E_REFUND", "2024-06-01 10:00", "P1", 1, 10.0, False),
    ("E5c", "E_REFUND", "2024-06-05 10:00", "P1", -1, 50.0, True),
]


@pytest.fixture(scope="module")
def edge_url() -> Iterator[str]:
    url = create_database("segwise_clv")
    try:
        migrate.upgrade(url)
        sim = simulate_bgnbd(1500, r=0.6, alpha=30.0, a=0.9, b=3.0, span=700, seed=11)
        lines = order_lines(sim, AS_OF) + [(*e, "web", "north") for e in EDGE_LINES]
        insert_orders(url, lines)
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def edge_run(edge_url: str) -> int:
    return pipeline.run_all(edge_url, AS_OF, methods="rfm,clv", trigger="test")


def test_summary_counts_purchase_days_and_nets_refunds(edge_url):
    with psycopg.connect(edge_url) as conn:
        summary = clv_run.read_summary(conn, AS_OF, "day").set_index("customer_id")
    assert "E_RETONLY" not in summary.index
    once, same, new, refund = (summary.loc[c] for c in ("E_ONCE", "E_SAMEDAY", "E_NEW", "E_REFUND"))
    assert (once["x"], once["t_x"], once["monetary"]) == (0, 0.0, 0.0)
    assert once["T"] == (AS_OF - dt.date(2024, 6, 1)).days
    assert (same["x"], same["t_x"], same["monetary"]) == (1, 31.0, 40.0)
    assert (new["x"], new["t_x"], new["T"]) == (0, 0.0, 0.0)
    assert (refund["x"], refund["net_ratio"], refund["monetary"]) == (1, 0.0, 0.0)
    with psycopg.connect(edge_url) as conn:
        weeks = clv_run.read_summary(conn, AS_OF, "week").set_index("customer_id")
    assert weeks.loc["E_SAMEDAY", "t_x"] == pytest.approx(31 / 7)


def test_edge_customers_get_sensible_numbers(edge_url, edge_run):
    with psycopg.connect(edge_url) as conn:
        status, message = conn.execute(
            "SELECT status, message FROM segmentation.clv_models WHERE run_id = %s", (edge_run,)
        ).fetchone()
        assert (status, message) == ("fitted", None)
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT customer_id, clv_segment, p_alive, expected_purchases_90d, "
                "predicted_clv_12m FROM mart.customer_segments"
            )
        }
    assert "E_RETONLY" not in rows  # no purchase, no customer row (as in every method)
    for seg, alive, purchases, value in rows.values():
        assert seg in {"High value", "Medium value", "Low value", "Likely churned"}
        assert all(math.isfinite(v) for v in (alive, purchases, value))
        assert 0 <= alive <= 1 and purchases >= 0 and value >= 0
    assert rows["E_NEW"][1] == 1.0  # first seen today: nothing says they have left
    assert rows["E_NEW"][2] > rows["E_ONCE"][2]  # and more likely to buy than a lapsed one
    assert rows["E_ONCE"][1] == 1.0  # no repeat yet: p_alive is 1 by the model's definition
    assert rows["E_ONCE"][3] > 0
    assert rows["E_REFUND"][3] == 0.0  # returned more than bought: no value expected


def test_too_little_history_gives_a_message_and_no_numbers(fresh_warehouse_url, caplog):
    lines = [
        (f"O{i}", f"C{i % 5}", f"2024-0{1 + i % 6}-1{i % 9} 10:00", "P1", 1, 10.0 + i, False)
        for i in range(12)
    ]
    insert_orders(fresh_warehouse_url, [(*x, "web", "north") for x in lines])
    run_id = pipeline.run_all(fresh_warehouse_url, "2024-07-01", methods="rfm,clv")
    with psycopg.connect(fresh_warehouse_url) as conn:
        status, message, r = conn.execute(
            "SELECT status, message, r FROM segmentation.clv_models WHERE run_id = %s", (run_id,)
        ).fetchone()
        assert status == "not_modelled" and r is None
        assert message == "too little history: 5 customers, at least 100 needed"
        rows = conn.execute(
            "SELECT clv_segment, p_alive, expected_purchases_90d, predicted_clv_12m "
            "FROM mart.customer_segments"
        ).fetchall()
        assert len(rows) == 5
        assert all(r == ("Not modelled", None, None, None) for r in rows)
        profile = conn.execute(
            "SELECT avg_predicted_clv_12m, avg_p_alive FROM mart.segment_profiles "
            "WHERE method = 'clv'"
        ).fetchall()
        assert profile == [(None, None)]
        run_status = conn.execute(
            "SELECT status FROM segmentation.runs WHERE run_id = %s", (run_id,)
        ).fetchone()[0]
    assert run_status == "published"  # the other methods are not held back
    assert "customer value not modelled: too little history" in caplog.text
