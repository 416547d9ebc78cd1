"""The daily feed (`generate_day`): repeatable per (seed, day) and consistent with the history."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from etl import demo
from tests.demo.conftest import SMALL_CUSTOMERS, header, read_csv, sha256


def test_feed_is_repeatable_and_names_its_files(tmp_path):
    day = date(2026, 11, 3)
    first = demo.generate_day(tmp_path / "a", day, customers=SMALL_CUSTOMERS)
    again = demo.generate_day(tmp_path / "b", day, customers=SMALL_CUSTOMERS)
    assert [p.name for p in first] == ["customers_2026-11-03.csv", "order_lines_2026-11-03.csv"]
    for a, b in zip(first, again, strict=True):
        assert sha256(a) == sha256(b)
    other = demo.generate_day(tmp_path / "c", day, seed=7, customers=SMALL_CUSTOMERS)
    assert sha256(other[-1]) != sha256(first[-1])
    assert header(first[0]) == list(demo.CUSTOMER_COLUMNS)
    assert header(first[-1]) == list(demo.ORDER_LINE_COLUMNS)


def test_feed_day_inside_the_history_equals_the_history(tmp_path, small_history):
    history = read_csv(small_history / "order_lines.csv")
    history_text = (small_history / "order_lines.csv").read_text().splitlines()
    customers = read_csv(small_history / "customers.csv")
    returns = history[history["is_return"] == "true"]
    most_returns = date.fromisoformat(returns["order_ts"].str[:10].value_counts().index[0])
    # Black Friday 2025 (busy, discounts), the day with most returns and the first day.
    for day in (date(2025, 11, 28), most_returns, demo.DEFAULT_START):
        paths = demo.generate_day(tmp_path, day, customers=SMALL_CUSTOMERS)
        feed = paths[-1].read_text().splitlines()[1:]
        assert len(feed) > 20
        # The history is written day by day: the feed must be one contiguous block of it,
        # byte for byte (malformed rows included), holding all of that day's lines.
        start = history_text.index(feed[0])
        assert history_text[start : start + len(feed)] == feed
        assert len(feed) >= int(history["order_ts"].str.startswith(day.isoformat()).sum())
        assert any(",true," in line for line in feed) or day == demo.DEFAULT_START
        signups = customers[customers["signup_date"] == day.isoformat()]
        if len(signups):
            pd.testing.assert_frame_equal(read_csv(paths[0]), signups.reset_index(drop=True))
        else:
            assert len(paths) == 1


def test_feed_after_the_history_brings_new_customers_in_the_same_universe(tmp_path, small_history):
    known = set(read_csv(small_history / "customers.csv")["customer_id"])
    products = set(read_csv(small_history / "products.csv")["product_id"])
    new_customers: list[str] = []
    seen_new_buyer = False
    for offset in range(1, 8):
        day = demo.DEFAULT_END + timedelta(days=offset)
        paths = demo.generate_day(tmp_path, day, customers=SMALL_CUSTOMERS)
        assert paths[-1].name == f"order_lines_{day}.csv"
        if paths[0].name.startswith("customers_"):
            signups = read_csv(paths[0])
            assert (signups["signup_date"] == day.isoformat()).all()
            assert not set(signups["customer_id"]) & known
            new_customers += list(signups["customer_id"])
        lines = read_csv(paths[-1])
        assert len(lines) > 0
        assert set(lines["customer_id"]) <= known | set(new_customers)
        seen_new_buyer |= bool(set(lines["customer_id"]) & set(new_customers))
        assert set(lines["product_id"]) <= products
        ts = pd.to_datetime(lines["order_ts"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        assert (ts.dropna().dt.date == day).all()
    assert len(new_customers) >= 7 and len(set(new_customers)) == len(new_customers)
    assert seen_new_buyer


def test_feed_can_be_gzipped_and_accepts_iso_strings(tmp_path):
    paths = demo.generate_day(tmp_path, "2026-12-24", gzip=True)
    assert paths[-1].name == "order_lines_2026-12-24.csv.gz"
    assert all(p.exists() and p.suffix == ".gz" for p in paths)
