"""Demographic and channel profile SQL on a small hand-built warehouse in real Postgres.

The expected figures are computed here with plain pandas from the same hand-written rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from etl import migrate
from etl.errors import SegwiseError
from etl.ingest import sqlgen
from etl.segment import profiles_channel, profiles_demographic, runs
from tests.conftest import create_database, drop_database

AS_OF = dt.date(2024, 6, 30)

# customer_id, frequency, monetary, gross_revenue, gross_margin, cost_amount
FEATURES = [
    ("A", 2, 88.0, 98.0, 40.0, 28.0),
    ("B", 1, 40.0, 40.0, 30.0, 10.0),
    ("C", 2, 120.0, 120.0, 40.0, 60.0),
    ("D", 1, 5.0, 5.0, 4.0, 1.0),
    ("E", 1, 12.0, 12.0, None, None),
    ("F", 3, 10.0, 50.0, 25.0, 5.0),
]
# RFM-like labels for every customer
SEGMENTS = {"A": "Champions", "B": "Champions", "C": "At Risk", "D": "At Risk", "E": "At Risk",
            "F": "Hibernating"}  # fmt: skip
# demographic labels as the demographic method stores them (F has no label at all)
DEMOGRAPHIC = {
    "A": {"age_band": "25-34", "income_band": "50k-75k", "gender": "female",
          "family_status": "married", "dependants": "2", "region": "North"},
    "B": {"age_band": "65+", "income_band": "under 25k", "gender": "male",
          "family_status": "single", "dependants": "0", "region": "South"},
    "C": {"age_band": "35-44", "income_band": "100k-150k", "gender": "female",
          "family_status": "married", "dependants": "3+", "region": "North"},
    "D": {"age_band": "unknown", "income_band": "unknown", "gender": "unknown",
          "family_status": "unknown", "dependants": "unknown", "region": "unknown"},
    "E": {"age_band": "25-34", "income_band": "", "gender": "female",
          "family_status": None, "dependants": "0", "region": "South"},
}  # fmt: skip
DIMS = ["age_band", "income_band", "gender", "family_status", "dependants", "region"]

# order_id, customer, date, qty, price, discount, cost (per line, None = unknown), is_return,
# channel, platform, market, region, country
LINES = [
    ("o1", "A", "2024-06-01", 2, 10.0, 2.0, 8.0, False, "online", "web", "UK", "North", "GB"),
    ("o1", "A", "2024-06-01", 1, 30.0, 0.0, None, False, "online", "web", "UK", "North", "GB"),
    ("o2", "A", "2024-06-03", 1, 50.0, 0.0, 20.0, False, "retail", None, "UK", "North", "GB"),
    ("r1", "A", "2024-06-05", -1, 10.0, 0.0, None, True, "online", "web", "UK", "North", "GB"),
    ("o3", "B", "2024-05-01", 4, 10.0, 0.0, 10.0, False, "online", "app", "UK", "South", "GB"),
    ("o4", "B", "2024-07-05", 1, 999.0, 0.0, 1.0, False, "online", "app", "UK", "South", "GB"),
    ("o5", "C", "2024-01-10", 10, 10.0, 0.0, 60.0, False, "retail", "", "IE", "North", "IE"),
    ("o6", "C", "2024-02-10", 2, 10.0, 0.0, None, False, "retail", None, "IE", "North", "IE"),
    ("o7", "D", "2024-06-30", 1, 5.0, 0.0, 1.0, False, None, None, None, None, None),
    ("o8", "E", "2024-06-20", 1, 0.0, 0.0, None, False, "online", "web", "UK", "South", "GB"),
    ("o9", "E", "2024-06-21", 3, 4.0, 0.0, None, False, "online", "web", "UK", "South", "GB"),
    ("o10", "X", "2024-06-02", 5, 100.0, 0.0, 50.0, False, "online", "web", "UK", "North", "GB"),
    ("o11", None, "2024-06-02", 7, 11.0, 0.0, None, False, "online", "web", "UK", None, "GB"),
    ("o12", "F", "2024-03-01", 3, 10.0, 0.0, 5.0, False, "online", "web", "UK", "West", "GB"),
    ("o13", "F", "2024-03-02", 1, 10.0, 0.0, None, False, "online", "web", "UK", "West", "GB"),
    ("r2", "F", "2024-04-01", -4, 10.0, 0.0, -5.0, True, "retail", None, "UK", "West", "GB"),
    ("o14", "F", "2024-05-01", 1, 10.0, 0.0, None, False, "retail", None, "UK", "West", "GB"),
]
LINE_COLUMNS = ["order_id", "customer_id", "day", "quantity", "unit_price", "discount", "cost",
                "is_return", "channel", "platform", "market", "region", "country"]  # fmt: skip


@pytest.fixture(scope="module")
def warehouse() -> Iterator[tuple[str, int]]:
    """A migrated database with the hand-made lines and one run with features and labels."""
    url = create_database("segwise_prof")
    try:
        migrate.upgrade(url)
        with psycopg.connect(url) as conn:
            run_id = _seed(conn)
        yield url, run_id
    finally:
        drop_database(url)


def _build_fact_order(conn: psycopg.Connection) -> None:
    """One fact_order row per order of LINES. Hand-built on purpose, like the lines: this module
    checks the profile SQL on edge cases the loader would refuse (a zero price, lines without a
    product); the loader's own order fact is tested in tests/ingest."""
    conn.execute(
        """
        INSERT INTO warehouse.fact_order (order_id, customer_id, order_ts, order_date, n_lines,
            n_sale_lines, quantity, gross_amount, discount_amount, sales_amount, return_amount,
            net_amount, cost_amount, is_return, channel, platform, market, country, region,
            store_id, batch_id)
        SELECT order_id, max(customer_id), min(order_ts), min(order_date), count(*),
            count(*) FILTER (WHERE sale), sum(quantity), sum(gross_amount),
            sum(discount_amount),
            coalesce(sum(amount) FILTER (WHERE sale), 0),
            coalesce(-sum(amount) FILTER (WHERE is_return), 0),
            coalesce(sum(amount) FILTER (WHERE sale), 0)
                + coalesce(sum(amount) FILTER (WHERE is_return), 0),
            sum(cost_amount), bool_and(is_return), max(channel), max(platform), max(market),
            max(country), max(region), max(store_id), max(batch_id)
        FROM (
            SELECT *, customer_id IS NOT NULL AND is_sale AS sale FROM warehouse.fact_order_line
        ) l
        GROUP BY order_id
        """
    )


def _seed(conn: psycopg.Connection) -> int:
    batch = conn.execute(
        "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status) "
        "VALUES ('file', 'segwise', 'test', 'succeeded') RETURNING batch_id"
    ).fetchone()[0]
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY warehouse.fact_order_line (order_id, line_no, customer_id, order_ts, order_date, "
            "quantity, unit_price, gross_amount, discount_amount, amount, cost_amount, is_return, "
            "channel, platform, market, region, country, batch_id) FROM STDIN"
        ) as copy,
    ):
        for n, (order, cust, day, qty, price, disc, cost, ret, *where) in enumerate(LINES):
            when = dt.datetime.fromisoformat(day)
            gross = qty * price
            copy.write_row(
                (order, n, cust, when, when.date(), qty, price, gross, disc, gross - disc,
                 cost, ret, *where, batch)
            )  # fmt: skip
    # is_sale from the loader's one definition of a sale (the lines above bypass the loader)
    conn.execute(
        sql.SQL("UPDATE warehouse.fact_order_line AS l SET is_sale = {}").format(
            sqlgen.is_sale(None, "l")
        )
    )
    _build_fact_order(conn)
    run_id = conn.execute(
        "INSERT INTO segmentation.runs (as_of_date, methods) "
        "VALUES (%s, ARRAY['rfm', 'demographic', 'channel']) RETURNING run_id",
        (AS_OF,),
    ).fetchone()[0]
    # a second run whose rows must never leak into the first one's profiles
    other = conn.execute(
        "INSERT INTO segmentation.runs (as_of_date, methods) VALUES (%s, ARRAY['rfm']) "
        "RETURNING run_id",
        (AS_OF - dt.timedelta(days=1),),
    ).fetchone()[0]
    for run in (run_id, other):
        runs.register_method(conn, run, "rfm")
        for cust, freq, monetary, gross, margin, cost in FEATURES:
            conn.execute(
                "INSERT INTO segmentation.customer_features (run_id, customer_id, recency_days, "
                "frequency, monetary, gross_revenue, returns_value, return_orders, "
                "first_order_date, last_order_date, tenure_days, distinct_products, "
                "distinct_shops, distinct_categories, window_orders, window_revenue, "
                "gross_margin, cost_amount) VALUES (%s, %s, 1, %s, %s, %s, %s, 0, %s, %s, 10, 1, "
                "0, 0, %s, %s, %s, %s)",
                (run, cust, freq, monetary, gross, gross - monetary, AS_OF, AS_OF, freq,
                 monetary, margin, cost),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO segmentation.memberships (run_id, method, customer_id, "
                "segment) VALUES (%s, 'rfm', %s, %s)",
                (run, cust, SEGMENTS[cust] if run == run_id else "Other run"),
            )
    runs.register_method(conn, run_id, "demographic")
    for cust, bands in DEMOGRAPHIC.items():
        conn.execute(
            "INSERT INTO segmentation.memberships (run_id, method, customer_id, segment, "
            "scores) VALUES (%s, 'demographic', %s, %s, %s)",
            (run_id, cust, f"{bands['age_band']} / {bands['gender']}", json.dumps(bands)),
        )
    return run_id


def _read(url: str, table: str, run_id: int) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            f"SELECT * FROM segmentation.{table} WHERE run_id = %s",  # noqa: S608 - fixed name
            (run_id,),
        )
        names = [d.name for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=names)
    for column in ("revenue", "gross_margin", "orders", "customers"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame.set_index(["method", "segment", "dimension", "value"]).sort_index()


def _members(labels: dict[str, str], customers: list[str]) -> pd.DataFrame:
    """(method, segment, customer_id) including the whole population as ('all', 'all')."""
    rows = [("rfm", seg, cust) for cust, seg in labels.items()]
    rows += [("demographic", f"{b['age_band']} / {b['gender']}", c) for c, b in DEMOGRAPHIC.items()]
    rows += [("all", "all", c) for c in customers]
    return pd.DataFrame(rows, columns=["method", "segment", "customer_id"])


# ------------------------------------------------------------------------------- demographic


def _expected_demographic() -> pd.DataFrame:
    feats = pd.DataFrame(
        FEATURES,
        columns=["customer_id", "frequency", "monetary", "gross", "margin", "cost"],
    )
    bands = pd.DataFrame(
        [
            (cust, dim, (DEMOGRAPHIC.get(cust, {}).get(dim) or "unknown"))
            for cust in feats["customer_id"]
            for dim in DIMS
        ],
        columns=["customer_id", "dimension", "value"],
    )
    members = _members(SEGMENTS, list(feats["customer_id"])).merge(feats, on="customer_id")
    cells = members.merge(bands, on="customer_id")
    keys = ["method", "segment", "dimension", "value"]
    out = cells.groupby(keys).agg(
        customers=("customer_id", "size"),
        orders=("frequency", "sum"),
        revenue=("monetary", "sum"),
        gross_margin=("margin", lambda s: s.sum(min_count=1)),
    )
    costed = cells.assign(costed=cells["margin"] + cells["cost"]).groupby(keys)["costed"]
    out["costed"] = costed.sum(min_count=1)
    seg = members.groupby(["method", "segment"]).agg(
        seg_customers=("customer_id", "size"), seg_revenue=("monetary", "sum")
    )
    out = out.join(seg, on=["method", "segment"])
    out["share"] = out["customers"] / out["seg_customers"]
    out["revenue_share"] = out["revenue"] / out["seg_revenue"]
    out["margin_pct"] = out["gross_margin"] / out["costed"]
    population = out.loc["all"].droplevel("segment")["share"].rename("population_share")
    out = out.join(population, on=["dimension", "value"])
    out["index_vs_all"] = 100 * out["share"] / out["population_share"]
    return out.sort_index()


def test_demographic_profiles_match_an_independent_pandas_computation(warehouse) -> None:  # noqa: ANN001
    url, run_id = warehouse
    written = profiles_demographic.build(url, run_id)
    got = _read(url, "demographic_profiles", run_id)
    expected = _expected_demographic()
    assert written == len(got) == len(expected)
    assert list(got.index) == list(expected.index)
    for column in ("customers", "orders", "revenue", "share", "revenue_share", "index_vs_all",
                   "gross_margin", "margin_pct"):  # fmt: skip
        np.testing.assert_allclose(
            got[column].astype(float), expected[column].astype(float), err_msg=column
        )
    # spot checks done by hand: F has no demographic label, E an empty income and no family
    assert got.loc[("all", "all", "income_band", "unknown"), "customers"] == 3  # D, E, F
    assert got.loc[("all", "all", "family_status", "unknown"), "customers"] == 3
    north = got.loc[("rfm", "Champions", "region", "North")]
    assert north["share"] == pytest.approx(0.5)  # A of A, B
    assert north["index_vs_all"] == pytest.approx(100 * 0.5 / (2 / 6))
    assert north["revenue_share"] == pytest.approx(88 / 128)
    assert north["margin_pct"] == pytest.approx(40 / 68)
    south = got.loc[("rfm", "At Risk", "region", "South")]  # E only: no cost data
    assert south["customers"] == 1 and np.isnan(south["gross_margin"])
    # every segment's bands cover it exactly once per dimension
    sums = got.groupby(["method", "segment", "dimension"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0)


def test_demographic_rebuild_replaces_rows_and_leaves_other_runs(warehouse) -> None:  # noqa: ANN001
    url, run_id = warehouse
    first = profiles_demographic.build(url, run_id)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('work_mem', '300MB', true)")
        again = profiles_demographic.build(conn, run_id)  # inside the caller's transaction
        assert profiles_channel.build(conn, run_id) > 0
        # planner settings are the statement's own: the caller's are back, never lowered
        settings = conn.execute(
            "SELECT current_setting('work_mem'), current_setting('enable_sort')"
        ).fetchone()
        conn.rollback()
    assert settings == ("300MB", "on")
    assert again == first
    assert profiles_demographic.build(url, run_id) == first
    with psycopg.connect(url) as conn:
        counts = dict(
            conn.execute(
                "SELECT run_id, count(*) FROM segmentation.demographic_profiles GROUP BY run_id"
            ).fetchall()
        )
    assert counts == {run_id: first}


def test_demographic_profiles_need_the_demographic_labels(warehouse) -> None:  # noqa: ANN001
    url, run_id = warehouse
    with psycopg.connect(url) as conn:
        other = conn.execute(
            "SELECT max(run_id) FROM segmentation.runs WHERE run_id <> %s", (run_id,)
        ).fetchone()[0]
    with pytest.raises(SegwiseError, match="run the 'demographic' method"):
        profiles_demographic.build(url, other)
    with pytest.raises(SegwiseError, match="does not exist"):
        profiles_demographic.build(url, 987654)


# ----------------------------------------------------------------------------------- channel


def _expected_channel() -> pd.DataFrame:
    lines = pd.DataFrame(LINES, columns=LINE_COLUMNS)
    lines["day"] = pd.to_datetime(lines["day"]).dt.date
    run_customers = [f[0] for f in FEATURES]
    lines = lines[lines["customer_id"].isin(run_customers) & (lines["day"] <= AS_OF)]
    sale = (lines["quantity"] > 0) & (lines["unit_price"] > 0) & ~lines["is_return"]
    lines = lines[sale | lines["is_return"]].assign(is_sale=sale)
    lines["amount"] = lines["quantity"] * lines["unit_price"] - lines["discount"]
    lines["list"] = lines["quantity"] * lines["unit_price"]
    costed = lines["is_sale"] & lines["cost"].notna()
    lines["costed_sales"] = lines["amount"].where(costed)
    lines["margin"] = (lines["amount"] - lines["cost"]).where(costed)
    members = _members(SEGMENTS, run_customers)
    frames = []
    for dim in ["channel", "platform", "market", "region", "country"]:
        values = lines[dim].fillna("").str.strip().replace("", "unknown")
        frames.append(lines.assign(dimension=dim, value=values))
    long = pd.concat(frames).merge(members, on="customer_id")
    keys = ["method", "segment", "dimension", "value"]
    sales_lines = long[long["is_sale"]]
    out = long.groupby(keys).agg(
        revenue=("amount", "sum"),
        gross_margin=("margin", lambda s: s.sum(min_count=1)),
        costed_sales=("costed_sales", lambda s: s.sum(min_count=1)),
    )
    out["customers"] = sales_lines.groupby(keys)["customer_id"].nunique()
    out["orders"] = sales_lines.groupby(keys)["order_id"].nunique()
    out["sales"] = sales_lines.groupby(keys)["amount"].sum()
    out["discounts"] = sales_lines.groupby(keys)["discount"].sum()
    out["list_sales"] = sales_lines.groupby(keys)["list"].sum()
    out = out.fillna({"customers": 0, "orders": 0, "sales": 0, "discounts": 0, "list_sales": 0})
    sizes = members.groupby(["method", "segment"]).size().rename("seg_customers")
    out = out.join(sizes, on=["method", "segment"])
    out["share"] = out["customers"] / out["seg_customers"]
    seg_dim_revenue = out.groupby(["method", "segment", "dimension"])["revenue"].transform("sum")
    out["revenue_share"] = out["revenue"] / seg_dim_revenue.replace(0, np.nan)
    out["margin_pct"] = out["gross_margin"] / out["costed_sales"]
    population = out.loc["all"].droplevel("segment")["share"].rename("population_share")
    out = out.join(population, on=["dimension", "value"])
    out["index_vs_all"] = 100 * out["share"] / out["population_share"].replace(0, np.nan)
    return out.sort_index()


def test_channel_profiles_match_an_independent_pandas_computation(warehouse) -> None:  # noqa: ANN001
    url, run_id = warehouse
    written = profiles_channel.build(url, run_id)
    got = _read(url, "channel_profiles", run_id)
    expected = _expected_channel()
    assert written == len(got) == len(expected)
    assert list(got.index) == list(expected.index)
    for column in ("customers", "orders", "revenue", "share", "revenue_share", "index_vs_all",
                   "gross_margin", "margin_pct"):  # fmt: skip
        np.testing.assert_allclose(
            got[column].astype(float), expected[column].astype(float), err_msg=column
        )
    extra = pd.DataFrame(list(got["extra"]), index=got.index)
    for column in ("sales", "discounts", "list_sales"):
        np.testing.assert_allclose(extra[column].astype(float), expected[column], err_msg=column)

    # by hand: whole population, channel 'online' = A (o1 48 - r1 10), B (o3 40; o4 is after the
    # as-of date), E (o9 12; o8 is free), F (o12 30 + o13 10); X is not in the run, o11 has no
    # customer. Margin over lines with cost: o1 line 1 (18 - 8), o3 (40 - 10), o12 (30 - 5).
    online = got.loc[("all", "all", "channel", "online")]
    assert online["revenue"] == pytest.approx(38 + 40 + 12 + 40)
    assert online["customers"] == 4 and online["orders"] == 5
    assert online["gross_margin"] == pytest.approx(10 + 30 + 25)
    assert online["margin_pct"] == pytest.approx(65 / (18 + 40 + 30))
    assert json.loads(json.dumps(online["extra"]))["discounts"] == pytest.approx(2.0)
    # F returned goods through retail: net retail revenue for F's segment is 10 - 40
    assert got.loc[("rfm", "Hibernating", "channel", "retail"), "revenue"] == pytest.approx(-30)
    # D's line has no channel at all
    assert got.loc[("all", "all", "channel", "unknown"), "customers"] == 1
    # within a segment and dimension the revenue adds up to the net revenue (monetary)
    for dim in profiles_channel.DIMENSIONS:
        total = got.loc[("all", "all", dim)]["revenue"].sum()
        assert total == pytest.approx(sum(f[2] for f in FEATURES)), dim
    shares = got.loc[("all", "all")].groupby("dimension")["revenue_share"].sum()
    np.testing.assert_allclose(shares, 1.0)


def test_channel_profiles_without_cost_data_have_no_margin(warehouse) -> None:  # noqa: ANN001
    url, run_id = warehouse
    profiles_channel.build(url, run_id)
    got = _read(url, "channel_profiles", run_id)
    # E bought online with no cost on any line: its segment cell has revenue but NULL margin
    cell = got.loc[("demographic", "25-34 / female", "platform", "web")]
    assert cell["revenue"] == pytest.approx(38 + 12)
    assert cell["gross_margin"] == pytest.approx(10)  # A's costed line only
    e_only = got.loc[("rfm", "At Risk", "country", "GB")]  # E alone among C, D, E is in GB
    assert e_only["customers"] == 1 and np.isnan(e_only["gross_margin"])
    assert e_only["margin_pct"] != e_only["margin_pct"]


# ------------------------------------------------------------------ through the run pipeline


def test_pipeline_profiles_reconcile_with_segment_profiles(fresh_warehouse_url: str) -> None:
    """A full run on a toy warehouse: the profiles add up to the core's segment profiles."""
    from etl.segment import pipeline
    from tests.segment.warehouse_data import small_warehouse

    url = fresh_warehouse_url
    small_warehouse(url, customers=80)
    methods = ["rfm", "kmeans", "hierarchical", "demographic", "channel"]
    run_id = pipeline.run_all(
        url, dt.date(2024, 3, 31), methods=methods, params={"clustering": {"k": 3}}
    )
    with psycopg.connect(url) as conn:
        segments = conn.execute(
            "SELECT method, segment, customers, revenue FROM segmentation.segment_profiles "
            "WHERE run_id = %s",
            (run_id,),
        ).fetchall()
        customers = conn.execute(
            "SELECT count(*), sum(monetary) FROM segmentation.customer_features WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        sums = {}
        for table in ("demographic_profiles", "channel_profiles"):
            sums[table] = conn.execute(
                f"SELECT method, segment, dimension, sum(customers), sum(revenue), "  # noqa: S608
                f"sum(revenue_share) FROM segmentation.{table} WHERE run_id = %s "
                "GROUP BY method, segment, dimension",
                (run_id,),
            ).fetchall()
        mart = conn.execute(
            "SELECT (SELECT count(*) FROM mart.demographic_profiles WHERE run_id = %(r)s), "
            "(SELECT count(*) FROM segmentation.demographic_profiles WHERE run_id = %(r)s), "
            "(SELECT count(*) FROM mart.channel_profiles WHERE index_vs_all IS NOT NULL "
            "                                             AND orders IS NOT NULL), "
            "(SELECT count(*) FROM segmentation.channel_profiles WHERE run_id = %(r)s)",
            {"r": run_id},
        ).fetchone()
    expected = {(m, s): (c, r) for m, s, c, r in segments}
    expected[("all", "all")] = customers
    assert {m for m, _ in expected} == {*methods, "all"}
    demographic = {(m, s, d): (c, r, sh) for m, s, d, c, r, sh in sums["demographic_profiles"]}
    channel = {(m, s, d): (c, r, sh) for m, s, d, c, r, sh in sums["channel_profiles"]}
    assert {k[:2] for k in demographic} == set(expected) == {k[:2] for k in channel}
    assert {k[2] for k in demographic} == set(profiles_demographic.DIMENSIONS)
    assert {k[2] for k in channel} == set(profiles_channel.DIMENSIONS)
    for (method, segment, dim), (n, revenue, share) in demographic.items():
        want_n, want_revenue = expected[(method, segment)]
        assert n == want_n, (method, segment, dim)  # bands partition the segment
        assert float(revenue) == pytest.approx(float(want_revenue))
        assert share == pytest.approx(1.0)
    for (method, segment, dim), (n, revenue, share) in channel.items():
        want_n, want_revenue = expected[(method, segment)]
        assert n >= want_n, (method, segment, dim)  # customers may buy in several values
        # order-line net revenue equals the features' monetary (fact_order based)
        assert float(revenue) == pytest.approx(float(want_revenue)), (method, segment, dim)
        assert share == pytest.approx(1.0)
    # the published run is what the mart shows, new columns included
    assert mart[0] == mart[1] > 0 and mart[2] == mart[3] > 0
