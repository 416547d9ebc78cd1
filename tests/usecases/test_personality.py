"""Customer-level ("customer personality") data: the layout, the clustering, its views and report,
checked against pandas on the synthetic fixture file itself."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import ingest
from etl.cli import main
from etl.errors import ConfigurationError, SegwiseError
from etl.segment import pipeline
from etl.segment import run_config as seg_config
from etl.usecases.personality_features import encode
from tests.usecases.conftest import view

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "customer_personality"
FILE = FIXTURE / "marketing_campaign.csv"
SPEND = {
    "wines": "MntWines",
    "fruits": "MntFruits",
    "meat": "MntMeatProducts",
    "fish": "MntFishProducts",
    "sweets": "MntSweetProducts",
    "gold": "MntGoldProds",
}
CHANNELS = {
    "web": "NumWebPurchases",
    "catalog": "NumCatalogPurchases",
    "store": "NumStorePurchases",
}
CAMPAIGNS = {f"{i}": f"AcceptedCmp{i}" for i in range(1, 6)} | {"response": "Response"}


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    frame = pd.read_csv(FILE, sep="\t", dtype={"ID": str})
    frame["customer_id"] = frame["ID"]
    return frame


@pytest.fixture(scope="module")
def personality(warehouse_url: str, tmp_path_factory) -> tuple[str, Path]:
    r = ingest.load_paths(warehouse_url, [FILE], layout="customer_personality")
    assert (r.status, r.rows_read, r.rows_rejected) == ("succeeded", 2240, 0), r
    out = tmp_path_factory.mktemp("report") / "personality.html"
    config = tmp_path_factory.mktemp("config") / "uc.yml"
    config.write_text(
        "use_cases:\n  personality:\n    k_range: [2, 6]\n"
        "    features: [age, income, children, partner, education_level, spend_total,"
        " spend_wines, spend_meat, purchases_web, purchases_store]\n",
        encoding="utf-8",
    )
    code = main(
        ["personality", "--database-url", warehouse_url, "--config", str(config), "--out", str(out)]
    )
    assert code == 0
    return warehouse_url, out


def test_fixture_is_the_documented_layout(source):
    header = FILE.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    assert len(source) == 2240 and len(header) == 29
    assert header[:4] == ["ID", "Year_Birth", "Education", "Marital_Status"]
    assert header[-3:] == ["Z_CostContact", "Z_Revenue", "Response"]
    assert source["ID"].is_unique and source["Income"].isna().sum() == 24
    text = (FIXTURE / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in text.lower()


def test_order_line_methods_say_they_are_unavailable(personality):
    url, _ = personality
    with pytest.raises(SegwiseError, match="customer-level data only.*unavailable"):
        pipeline.start_run(url, date.fromisoformat("2014-12-31"), methods=["rfm"])
    rows = view(url, "SELECT count(*) AS n FROM warehouse.fact_order_line")
    assert rows["n"].iloc[0] == 0  # no order lines were invented


def test_encoding(source):
    raw = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "birth_year": [1980, 1950, None],
            "income": [50000.0, None, 20000.0],
            "family_status": ["Married", "Single", "Together"],
            "n_dependants": [2, 0, 1],
            "signup_date": pd.to_datetime(["2013-01-01", "2014-06-29", "2012-08-01"]),
            "education": ["PhD", "Basic", "Other"],
            "kids_at_home": [1, 0, 1],
            "teens_at_home": [1, 0, 0],
            "spend_wines": [10, 0, 5],
            "spend_meat": [5, 1, 0],
            "purchases_web": [1, 2, 3],
            "campaign_1": [1, 0, 0],
            "campaign_response": [1, 1, 0],
        }
    )
    settings = seg_config.DEFAULT_USE_CASES["personality"]
    out, ref = encode(raw, settings)
    assert ref.isoformat() == "2014-06-29"
    assert out["age"].tolist()[:2] == [34, 64] and np.isnan(out["age"].iloc[2])
    assert out["children"].tolist() == [2, 0, 1]
    assert out["partner"].tolist() == [1, 0, 1]
    assert out["family_size"].tolist() == [4, 1, 3]
    assert out["education_level"].tolist()[:2] == [4, 0] and np.isnan(out["education_level"][2])
    assert out["spend_total"].tolist() == [15, 1, 5]
    assert out["campaigns_accepted"].tolist() == [2, 1, 0]
    assert out["tenure_days"].tolist() == [544, 0, 697]


def test_bad_feature_is_refused():
    with pytest.raises(ConfigurationError, match="features: unknown"):
        seg_config.resolve({"use_cases": {"personality": {"features": ["shoe_size"]}}})


def test_clusters_and_mixes_match_pandas(personality, source):
    url, _ = personality
    members = view(url, "SELECT * FROM mart.personality_customers")
    assert len(members) == 2240
    data = source.merge(members[["customer_id", "kmeans_cluster_id"]], on="customer_id")
    got = view(url, "SELECT * FROM mart.personality_cluster_profiles WHERE method = 'kmeans'")
    sizes = data.groupby("kmeans_cluster_id").size()
    assert 2 <= len(sizes) <= 6
    cluster_rows = got.drop_duplicates("cluster_id").set_index("cluster_id")
    assert cluster_rows.loc[sizes.index, "cluster_customers"].tolist() == sizes.tolist()

    def check(dimension: str, column: str, expected: pd.Series) -> None:
        mine = got[got["dimension"] == dimension].set_index(["cluster_id", "value"])[column]
        assert mine.loc[expected.index].to_numpy() == pytest.approx(expected.to_numpy())

    education = data.groupby(["kmeans_cluster_id", "Education"]).size() / sizes
    check("education", "share", education)
    family = data.groupby(["kmeans_cluster_id", "Marital_Status"]).size() / sizes
    check("family_status", "share", family)
    spend = data.groupby("kmeans_cluster_id")[list(SPEND.values())].sum()
    spend.columns = list(SPEND)
    spend_mix = (spend.T / spend.sum(axis=1)).T.stack()
    check("spend", "amount_share", spend_mix)
    channels = data.groupby("kmeans_cluster_id")[list(CHANNELS.values())].sum()
    channels.columns = list(CHANNELS)
    check("channel", "amount_share", (channels.T / channels.sum(axis=1)).T.stack())
    rates = data.groupby("kmeans_cluster_id")[list(CAMPAIGNS.values())].mean()
    rates.columns = list(CAMPAIGNS)
    check("campaign", "share", rates.stack())
    # clusters are numbered by mean total spend, highest first
    total = data[list(SPEND.values())].sum(axis=1).groupby(data["kmeans_cluster_id"]).mean()
    assert total.is_monotonic_decreasing
    clusters = view(url, "SELECT * FROM mart.personality_clusters WHERE method = 'kmeans'")
    assert clusters.set_index("cluster_id")["avg_spend"].loc[total.index].to_numpy() == (
        pytest.approx(total.to_numpy())
    )


def test_report_has_curves_dendrogram_and_mixes(personality):
    url, out = personality
    text = out.read_text(encoding="utf-8")
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 2
    for heading in ("elbow and silhouette", "Dendrogram", "Spend mix", "Channel mix",
                    "Campaign response rates", "Education mix", "unavailable"):  # fmt: skip
        assert heading in text
    run = view(url, "SELECT metrics FROM segmentation.personality_runs")["metrics"].iloc[0]
    inertia = [run["elbow_inertia"][str(k)] for k in range(2, 7)]
    assert inertia == sorted(inertia, reverse=True)  # the elbow curve falls with k
    assert set(run["silhouette_by_k"]) == {"2", "3", "4", "5", "6"}
    assert run["k"] == int(max(run["silhouette_by_k"], key=run["silhouette_by_k"].get))
    assert len(run["dendrogram"]["leaves"]) == 30
