"""B2B star schema on generated files in the atliq layout, against pandas."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import ingest
from etl.segment import pipeline
from tests.usecases.conftest import view

PLATFORMS = {"Retailer": "Brick & Mortar", "Direct": "E-Commerce", "Distributor": "Brick & Mortar"}
MARKETS = {"India": ("India", "APAC"), "USA": ("NA", "NA"), "France": ("SE", "EU")}
COMPANIES = ["Atliq Exclusive", "Amazon", "Croma", "Ebay", "Neptune", "Vijay Sales"]
PRODUCTS = [
    ("P & A", "Peripherals", "Internal HDD"),
    ("P & A", "Accessories", "Mouse"),
    ("PC", "Notebook", "Business Laptop"),
    ("PC", "Desktop", "Personal Desktop"),
]


def make_star(folder: Path, seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = []
    code = 70000000
    for company in COMPANIES:
        for channel, market in itertools.product(PLATFORMS, MARKETS):
            if rng.random() < 0.45:
                continue
            code += 1
            sub_zone, region = MARKETS[market]
            customers.append(
                (str(code), company, PLATFORMS[channel], channel, market, sub_zone, region)
            )
    dim_customer = pd.DataFrame(
        customers,
        columns=[
            "customer_code",
            "customer",
            "platform",
            "channel",
            "market",
            "sub_zone",
            "region",
        ],
    )
    products = []
    for i, (division, segment, category) in enumerate(PRODUCTS * 3):
        products.append((f"A{i:04d}", division, segment, category, f"AQ {category} {i}", "Std"))
    dim_product = pd.DataFrame(
        products, columns=["product_code", "division", "segment", "category", "product", "variant"]
    )
    months = pd.date_range("2019-09-01", "2021-08-01", freq="MS")
    fy = months.year + (months.month >= 9)
    sales = []
    for c in dim_customer["customer_code"]:
        for p in dim_product["product_code"]:
            if rng.random() < 0.5:
                continue
            for m, y in zip(months, fy, strict=True):
                if rng.random() < 0.4:
                    sales.append((m.date().isoformat(), p, c, int(rng.integers(1, 40)), int(y)))
    fact = pd.DataFrame(
        sales, columns=["date", "product_code", "customer_code", "sold_quantity", "fiscal_year"]
    )
    years = [2020, 2021]
    price = pd.DataFrame(
        [
            (p, y, round(float(rng.uniform(10, 900)), 4))
            for p in dim_product.product_code
            for y in years
        ],
        columns=["product_code", "fiscal_year", "gross_price"],
    )
    cost = price.rename(columns={"fiscal_year": "cost_year"}).assign(
        manufacturing_cost=lambda f: (f.pop("gross_price") * rng.uniform(0.3, 0.7, len(f))).round(4)
    )
    deductions = pd.DataFrame(
        [
            (c, y, round(float(rng.uniform(0.05, 0.3)), 4))
            for c in dim_customer.customer_code
            for y in years
        ],
        columns=["customer_code", "fiscal_year", "pre_invoice_discount_pct"],
    )
    files = {
        "dim_customer": dim_customer,
        "dim_product": dim_product,
        "fact_sales_monthly": fact,
        "fact_gross_price": price,
        "fact_manufacturing_cost": cost,
        "fact_pre_invoice_deductions": deductions,
    }
    for name, frame in files.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return files


@pytest.fixture(scope="module")
def b2b(warehouse_url: str, tmp_path_factory) -> tuple[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("atliq")
    f = make_star(folder)
    r = ingest.load_paths(warehouse_url, [folder], layout="atliq")
    assert r.status == "succeeded" and r.rows_rejected == 0, r
    pipeline.run_all(
        warehouse_url,
        date.fromisoformat("2021-08-31"),
        methods=["rfm"],
        trigger="test",
        config={"fiscal_year_start_month": 9},
    )
    lines = (
        f["fact_sales_monthly"]
        .merge(f["fact_gross_price"], on=["product_code", "fiscal_year"])
        .merge(f["fact_pre_invoice_deductions"], on=["customer_code", "fiscal_year"])
        .merge(
            f["fact_manufacturing_cost"],
            left_on=["product_code", "fiscal_year"],
            right_on=["product_code", "cost_year"],
        )
        .merge(f["dim_customer"], on="customer_code")
        .merge(f["dim_product"], on="product_code")
    )

    # exact line amounts, at cents per line as mart.b2b_base_sales shows them (Postgres rounds
    # half away from zero, as ROUND_HALF_UP does)
    def exact(column: str) -> pd.Series:
        return lines[column].map(lambda v: Decimal(str(v)))

    def cents(values: pd.Series) -> pd.Series:
        return values.map(lambda v: float(v.quantize(Decimal("0.01"), ROUND_HALF_UP)))

    gross = exact("sold_quantity") * exact("gross_price")
    lines["gross"] = cents(gross)
    lines["net"] = cents(gross - gross * exact("pre_invoice_discount_pct"))
    lines["cost"] = cents(exact("sold_quantity") * exact("manufacturing_cost"))
    lines["margin"] = lines["net"] - lines["cost"]
    return warehouse_url, lines


def test_fiscal_year_matches_the_files(b2b):
    url, lines = b2b
    got = view(url, "SELECT fiscal_year, count(*) AS n FROM mart.b2b_base_sales GROUP BY 1")
    expected = lines.groupby("fiscal_year").size()
    assert dict(zip(got["fiscal_year"], got["n"], strict=True)) == expected.to_dict()


@pytest.mark.parametrize(
    "dimension,column",
    [
        ("platform", "platform"),
        ("channel", "channel"),
        ("market", "market"),
        ("sub_zone", "sub_zone"),
        ("region", "region"),
        ("division", "division"),
        ("segment", "segment"),
        ("category", "category"),
        ("customer", "customer"),
    ],
)
def test_margin_by_fiscal_year_and_dimension(b2b, dimension, column):
    url, lines = b2b
    got = view(url, "SELECT * FROM mart.b2b_margin WHERE dimension = %s", (dimension,))
    exp = lines.groupby(["fiscal_year", column])[["gross", "net", "cost", "margin"]].sum()
    got = got.set_index(["fiscal_year", "value"]).loc[exp.index]
    assert got["gross_sales"].to_numpy() == pytest.approx(exp["gross"].to_numpy())
    assert got["net_sales"].to_numpy() == pytest.approx(exp["net"].to_numpy())
    assert got["manufacturing_cost"].to_numpy() == pytest.approx(exp["cost"].to_numpy())
    assert got["gross_margin"].to_numpy() == pytest.approx(exp["margin"].to_numpy())
    assert got["gross_margin_pct"].to_numpy() == pytest.approx(
        (exp["margin"] / exp["net"]).to_numpy()
    )
    share = exp["net"] / exp["net"].groupby(level=0).transform("sum")
    assert got["net_sales_share"].to_numpy() == pytest.approx(share.to_numpy())
    fy21 = exp.xs(2021)
    fy20 = exp.xs(2020)
    growth = (fy21["net"] / fy20["net"].reindex(fy21.index) - 1).dropna()
    got21 = got.xs(2021).loc[growth.index]
    assert got21["yoy_growth"].to_numpy() == pytest.approx(growth.to_numpy())
    best = fy21["margin"].idxmax()
    assert got.xs(2021).loc[best, "margin_rank"] == 1


def test_bestsellers_overall_per_market_and_year(b2b):
    url, lines = b2b
    got = view(url, "SELECT * FROM mart.b2b_bestsellers")
    overall = lines.groupby("product_code")["sold_quantity"].sum().sort_values(ascending=False)
    top = got[got["fiscal_year"].isna() & (got["market"] == "all")]
    assert top.set_index("product_id").loc[overall.index[0], "quantity_rank"] == 1
    assert top.set_index("product_id")["quantity"].loc[overall.index].tolist() == overall.tolist()
    for (year, market), frame in lines.groupby(["fiscal_year", "market"]):
        q = frame.groupby("product_code")["sold_quantity"].sum()
        mine = got[(got["fiscal_year"] == year) & (got["market"] == market)].set_index("product_id")
        assert mine["quantity"].loc[q.index].tolist() == q.tolist()
        assert mine.loc[q.idxmax(), "quantity_rank"] == 1
    per_market = got[got["fiscal_year"].isna() & (got["market"] == "India")]
    assert per_market["quantity"].sum() == lines.loc[lines.market == "India", "sold_quantity"].sum()


def test_customer_codes_roll_up_to_companies(b2b):
    url, lines = b2b
    got = view(url, "SELECT * FROM mart.b2b_customer_rollup").set_index("customer")
    exp = lines.groupby("customer").agg(
        codes=("customer_code", "nunique"), net=("net", "sum"), markets=("market", "unique")
    )
    assert sorted(got.index) == sorted(exp.index)
    assert got.loc[exp.index, "customer_codes"].tolist() == exp["codes"].tolist()
    assert got.loc[exp.index, "net_sales"].to_numpy() == pytest.approx(exp["net"].to_numpy())
    for company, markets in exp["markets"].items():
        assert list(got.loc[company, "markets"]) == sorted(markets)
    assert (got["customer_codes"] > 1).any()


def test_growth_and_cell_gaps(b2b):
    url, lines = b2b
    growth = view(url, "SELECT * FROM mart.b2b_growth WHERE fiscal_year = 2021")
    exp = lines.groupby(["fiscal_year", "segment", "market"])["net"].sum()
    g = (exp.xs(2021) / exp.xs(2020) - 1).dropna()
    mine = growth.set_index(["segment", "market"]).loc[g.index]
    assert mine["yoy_growth"].to_numpy() == pytest.approx(g.to_numpy())
    assert mine.loc[g.idxmax(), "growth_rank"] == 1

    gaps = view(url, "SELECT * FROM mart.b2b_cell_gaps WHERE fiscal_year = 2021")
    fy = lines[lines["fiscal_year"] == 2021]
    cells = fy.groupby(["platform", "channel", "market"])["net"].sum()
    mixes = fy[["platform", "channel"]].drop_duplicates()
    grid = mixes.merge(pd.DataFrame({"market": fy["market"].unique()}), how="cross")
    grid = grid.set_index(["platform", "channel", "market"])
    grid["net"] = cells.reindex(grid.index).fillna(0)
    total = grid["net"].sum()
    market = grid["net"].groupby(level="market").transform("sum")
    mix = grid["net"].groupby(level=["platform", "channel"]).transform("sum")
    grid["expected"] = market * mix / total
    mine = gaps.set_index(["platform", "channel", "market"]).loc[grid.index]
    assert len(gaps) == len(grid)
    assert mine["expected_net_sales"].to_numpy() == pytest.approx(grid["expected"].to_numpy())
    worst = (grid["expected"] - grid["net"]).idxmax()
    assert mine.loc[worst, "gap_rank"] == 1


def test_report_section(b2b, tmp_path):
    from etl.segment.report import resolve_run, write_report

    url = b2b if isinstance(b2b, str) else b2b[0]
    text = write_report(url, resolve_run(url), tmp_path / "r.html").read_text(encoding="utf-8")
    for heading in ("B2B: net sales, margin and profit", "Bestsellers", "sells least relative"):
        assert heading in text, heading
