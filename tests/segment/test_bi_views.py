"""The mart views against the BI rules (docs/bi.md), on the real Online Retail file.

Two published runs (an earlier as-of date, then the latest) so the migration views have rows.
Rules for every view in the mart schema: every view and column commented; ratios within 0..1;
money at cents; no NULL in a band column where the profiles say 'unknown'. Plus the contracts the
BI views promise (joins, totals, Sankey labels, old columns kept).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl import migrate
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import load_online_retail

EARLIER = dt.date(2011, 9, 30)
LATEST = dt.date(2011, 12, 9)

# What a column name says it is; the rules follow from that.
RATIO = re.compile(r"(^|_)(share|rate|p_alive|ratio)$|^avg_p_alive$")
MONEY = re.compile(r"(^|_)(revenue|monetary|sales|returns_value|gross_margin|order_value|clv_12m)$")
# Band and dimension-value columns: the profiles call missing data 'unknown', so must these.
BAND = re.compile(r"^(value|main_channel|main_region|income_band|gender|family_status)$")

# Columns of the mart views before the BI rework: queries on them keep working.
OLD_COLUMNS = {
    "segment_profiles": "as_of_date run_id method segment segment_id customers customer_share "
    "revenue revenue_share avg_recency_days avg_frequency avg_monetary avg_order_value "
    "median_monetary top_categories recommended_action avg_predicted_clv_12m "
    "total_predicted_clv_12m avg_p_alive",
    "channel_profiles": "as_of_date run_id method segment dimension value customers share "
    "revenue revenue_share gross_margin margin_pct index_vs_all orders",
    "demographic_profiles": "as_of_date run_id method segment dimension value customers share "
    "revenue revenue_share gross_margin margin_pct index_vs_all orders",
    "segment_migrations": "as_of_date run_id previous_run_id previous_as_of_date method "
    "from_segment to_segment customers",
    "runs": "run_id as_of_date trigger methods status row_counts timings metrics message "
    "created_at finished_at published_at is_latest",
    "customer_segments": "customer_id as_of_date run_id recency_days frequency monetary "
    "gross_revenue avg_order_value return_rate main_channel main_region r_score f_score m_score "
    "rfm_segment cluster_id cluster_name predicted_clv_12m",
}


@pytest.fixture(scope="module")
def url(online_retail_path: Path) -> Iterator[str]:
    url = create_database("segwise_biviews")
    try:
        migrate.upgrade(url)
        load_online_retail(url, online_retail_path)
        config = {"clustering": {"k": 4}}
        pipeline.run_all(url, EARLIER, trigger="test", config=config)
        pipeline.run_all(url, LATEST, trigger="test", config=config)
        migrate.upgrade(url)  # re-applying the views over a filled warehouse works too
        yield url
    finally:
        drop_database(url)


def _rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _views(url: str) -> list[str]:
    return [
        r[0]
        for r in _rows(
            url,
            "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'mart' AND c.relkind = 'v' ORDER BY 1",
        )
    ]


def _columns(url: str, view: str) -> list[tuple[str, str, str | None]]:
    """(name, type, comment) of a mart view's columns."""
    return _rows(
        url,
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, "
        "a.attnum) FROM pg_attribute AS a "
        "WHERE a.attrelid = format('mart.%%I', %s::text)::regclass "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (view,),
    )


def test_the_bi_views_exist_and_have_rows(url):
    views = set(_views(url))
    expected = {
        "segment_members", "rfm_grid", "monthly_sales_by_segment", "channel_overall",
        "channel_by_segment", "demographic_overall", "demographic_by_segment",
        *(f"segments_{m}" for m in ("rfm", "tiers", "kmeans", "hierarchical", "demographic",
                                    "channel", "clv")),
    }  # fmt: skip
    assert expected <= views, expected - views
    for view in sorted(expected | set(OLD_COLUMNS)):
        assert _rows(url, f"SELECT count(*) FROM mart.{view}")[0][0] > 0, view  # noqa: S608 - catalog names


def test_every_view_and_column_is_commented(url):
    missing = []
    for view in _views(url):
        query = "SELECT obj_description(%s::text::regclass, 'pg_class')"
        if not _rows(url, query, (f"mart.{view}",))[0][0]:
            missing.append(view)
        missing += [f"{view}.{name}" for name, _, comment in _columns(url, view) if not comment]
    assert not missing, missing


def test_ratios_are_between_0_and_1(url):
    checked, bad = 0, []
    for view in _views(url):
        for name, typ, _ in _columns(url, view):
            if not RATIO.search(name):
                continue
            assert typ in ("double precision", "numeric"), f"{view}.{name} is {typ}"
            low, high = _rows(url, f'SELECT min("{name}"), max("{name}") FROM mart.{view}')[0]  # noqa: S608 - catalog names
            checked += 1
            if low is not None and (low < 0 or high > 1):
                bad.append(f"{view}.{name}: {low}..{high}")
    assert checked >= 20
    assert not bad, bad


def test_money_is_numeric_at_cents(url):
    checked, bad = 0, []
    for view in _views(url):
        for name, typ, _ in _columns(url, view):
            if not MONEY.search(name):
                continue
            checked += 1
            if typ != "numeric":
                bad.append(f"{view}.{name} is {typ}")
                continue
            scale = _rows(url, f'SELECT max(scale("{name}")) FROM mart.{view}')[0][0]  # noqa: S608 - catalog names
            if scale is not None and scale > 2:
                bad.append(f"{view}.{name} has {scale} decimals")
    assert checked >= 30
    assert not bad, bad


def test_no_null_where_the_profiles_say_unknown(url):
    # The Online Retail file has no channel or demographics: 'unknown' must show up, never NULL.
    assert _rows(
        url, "SELECT count(*) FROM mart.channel_overall WHERE dimension = 'channel' "
        "AND value = 'unknown'"
    )[0][0] == 1  # fmt: skip
    checked, bad = 0, []
    for view in _views(url):
        for name, _, _ in _columns(url, view):
            if not BAND.match(name):
                continue
            checked += 1
            nulls = _rows(url, f'SELECT count(*) FROM mart.{view} WHERE "{name}" IS NULL')[0][0]  # noqa: S608 - catalog names
            if nulls:
                bad.append(f"{view}.{name}: {nulls} NULL")
    assert checked >= 10
    assert not bad, bad
    assert _rows(url, "SELECT count(DISTINCT main_channel) FROM mart.customer_segments") == [(1,)]


def test_old_columns_keep_working(url):
    for view, names in OLD_COLUMNS.items():
        have = {name for name, _, _ in _columns(url, view)}
        assert set(names.split()) <= have, (view, set(names.split()) - have)


def test_return_rate_is_a_share_and_returns_value_keeps_the_full_amount(url):
    over, rate_max = _rows(
        url,
        "SELECT count(*) FILTER (WHERE returns_value > gross_revenue), max(return_rate) "
        "FROM mart.customer_segments",
    )[0]
    assert over > 0  # the real file has customers returning more than they bought in it
    assert rate_max == 1


def test_segment_members_join_segment_profiles_and_count_its_customers(url):
    rows = _rows(
        url,
        "SELECT p.method, p.segment, p.customers, count(m.customer_id), "
        "bool_and(m.segment_rank = p.segment_rank AND m.segment_id IS NOT DISTINCT FROM "
        "p.segment_id) FROM mart.segment_profiles AS p LEFT JOIN mart.segment_members AS m "
        "USING (method, segment) GROUP BY 1, 2, 3",
    )
    assert len(rows) > 20
    for method, segment, customers, members, same in rows:
        assert customers == members and same, (method, segment)
    per_method = _rows(url, "SELECT method, count(*) FROM mart.segment_members GROUP BY 1")
    assert {n for _, n in per_method} == {4338}


def test_segment_rank_is_one_order_per_method(url):
    for method, ranks, n in _rows(
        url,
        "SELECT method, array_agg(segment_rank ORDER BY avg_monetary DESC, segment), count(*) "
        "FROM mart.segment_profiles GROUP BY 1",
    ):
        assert ranks == list(range(1, n + 1)), method
    rfm = _rows(url, "SELECT segment, segment_rank FROM mart.segments_rfm ORDER BY segment_rank")
    assert rfm[0] == ("Champions", 1)


def test_per_method_views_sum_to_every_customer(url):
    for method in ("rfm", "tiers", "kmeans", "hierarchical", "demographic", "channel", "clv"):
        customers, share = _rows(
            url,
            f"SELECT sum(customers), sum(customer_share) FROM mart.segments_{method}",  # noqa: S608 - catalog names
        )[0]
        assert customers == 4338 and share == pytest.approx(1), method


def test_rfm_grid_cells_add_up_to_the_rfm_segments(url):
    grid = dict(_rows(url, "SELECT segment, sum(customers) FROM mart.rfm_grid GROUP BY 1"))
    segments = dict(_rows(url, "SELECT segment, customers FROM mart.segments_rfm"))
    assert grid == segments
    labels = _rows(url, "SELECT DISTINCT r_score, f_score FROM mart.rfm_grid")
    assert all(re.fullmatch(r"R[1-5]", r) and re.fullmatch(r"F[1-5]", f) for r, f in labels)


def test_monthly_sales_add_up_to_each_segments_revenue(url):
    rows = _rows(
        url,
        "SELECT p.method, p.segment, p.revenue, s.revenue, s.months FROM mart.segment_profiles "
        "AS p JOIN (SELECT method, segment, sum(revenue) AS revenue, count(DISTINCT month) AS "
        "months FROM mart.monthly_sales_by_segment GROUP BY 1, 2) AS s USING (method, segment)",
    )
    assert len(rows) > 20
    for method, segment, profile_revenue, monthly_revenue, months in rows:
        assert abs(profile_revenue - monthly_revenue) <= 0.01 * months, (method, segment)
    first, last = _rows(url, "SELECT min(month), max(month) FROM mart.monthly_sales_by_segment")[0]
    assert (first, last) == (dt.date(2010, 12, 1), dt.date(2011, 12, 1))


def test_overall_and_by_segment_split_the_long_profiles(url):
    for kind in ("channel", "demographic"):
        long_rows, alls, segs = _rows(
            url,
            f"SELECT (SELECT count(*) FROM mart.{kind}_profiles), "  # noqa: S608 - catalog names
            f"(SELECT count(*) FROM mart.{kind}_overall), "
            f"(SELECT count(*) FROM mart.{kind}_by_segment)",
        )[0]
        assert alls > 0 and segs > 0 and alls + segs == long_rows, kind
        methods = _rows(url, f"SELECT DISTINCT method FROM mart.{kind}_by_segment")  # noqa: S608 - catalog names
        assert ("all",) not in methods


def test_migration_labels_make_an_acyclic_sankey(url):
    rows = _rows(url, "SELECT from_label, to_label, customers FROM mart.segment_migrations "
                 "WHERE method = 'rfm'")  # fmt: skip
    assert rows
    sources = {r[0] for r in rows}
    targets = {r[1] for r in rows}
    assert not sources & targets
    assert all(s.startswith(EARLIER.isoformat()) for s in sources)
    assert all(t.startswith(LATEST.isoformat()) for t in targets)
    assert sum(r[2] for r in rows if not r[1].endswith("(gone)")) == 4338


def test_runs_has_flat_columns(url):
    rows = _rows(
        url,
        "SELECT run_label, method_list, customers, kmeans_k, duration_seconds, is_latest "
        "FROM mart.runs ORDER BY run_id",
    )
    assert [r[2] for r in rows] == [r[0] for r in _rows(
        url, "SELECT count(*) FROM segmentation.customer_features GROUP BY run_id ORDER BY run_id"
    )]  # fmt: skip
    assert all(r[0].startswith("run ") and "rfm" in r[1] and r[3] == 4 for r in rows)
    assert [r[5] for r in rows] == [False, True]
    types = {name: typ for name, typ, _ in _columns(url, "runs")}
    flat = ["run_label", "method_list", "customers", "duration_seconds", "kmeans_k"]
    assert not any(types[c].endswith("[]") or types[c] == "jsonb" for c in flat)
