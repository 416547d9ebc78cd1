"""Writes marketing_campaign.csv: SYNTHETIC customer-level data in the exact layout of the public
"Customer Personality Analysis" file (tab-separated, 29 columns, 2,240 customers).

Nothing here comes from real people: every value is drawn from a seeded random generator with
marginal distributions and dependencies chosen to look like that file (income drives spend,
children lower it, wine and meat dominate, web/catalog/store purchases follow spend, about 15%
accept the last campaign, 24 incomes missing, a few implausible birth years and one extreme
income, as analysts meet them in the original). Re-run to regenerate byte-identical output:

    python tests/data/customer_personality/generate.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 2240
SEED = 20240614
COLUMNS = [
    "ID", "Year_Birth", "Education", "Marital_Status", "Income", "Kidhome", "Teenhome",
    "Dt_Customer", "Recency", "MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts",
    "MntSweetProducts", "MntGoldProds", "NumDealsPurchases", "NumWebPurchases",
    "NumCatalogPurchases", "NumStorePurchases", "NumWebVisitsMonth", "AcceptedCmp3",
    "AcceptedCmp4", "AcceptedCmp5", "AcceptedCmp1", "AcceptedCmp2", "Complain",
    "Z_CostContact", "Z_Revenue", "Response",
]  # fmt: skip


def generate(rows: int = ROWS, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(0, 11200), rows, replace=False)
    education = rng.choice(
        ["Graduation", "PhD", "Master", "2n Cycle", "Basic"], rows,
        p=[0.503, 0.217, 0.165, 0.091, 0.024],
    )  # fmt: skip
    marital = rng.choice(
        ["Married", "Together", "Single", "Divorced", "Widow", "Alone", "Absurd", "YOLO"], rows,
        p=[0.386, 0.259, 0.214, 0.104, 0.0343, 0.0013, 0.0007, 0.0007],
    )  # fmt: skip
    year_birth = np.clip(np.round(rng.normal(1969, 11.9, rows)), 1940, 1996).astype(int)
    year_birth[rng.choice(rows, 3, replace=False)] = [1893, 1899, 1900]
    edu_boost = pd.Series(education).map(
        {"Basic": -25000, "2n Cycle": -4000, "Graduation": 0, "Master": 2000, "PhD": 5000}
    )
    income = rng.normal(51000, 19000, rows) + edu_boost.to_numpy() + (1969 - year_birth) * 150
    income = np.clip(income, 1730, 162000).round()
    kidhome = rng.choice([0, 1, 2], rows, p=[0.577, 0.401, 0.022])
    teenhome = rng.choice([0, 1, 2], rows, p=[0.517, 0.46, 0.023])
    income = income - 9000 * kidhome
    income = np.clip(income, 1730, None)
    start = dt.date(2012, 7, 30)
    joined = [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 700, rows)]
    recency = rng.integers(0, 100, rows)
    wealth = np.clip((income - 20000) / 60000, 0.02, 2.2) ** 1.6
    family = 1 / (1 + 1.3 * kidhome + 0.4 * teenhome)
    scale = 2.4 * wealth * family * rng.lognormal(0, 0.35, rows)

    def spend(mean: float, spread: float) -> np.ndarray:
        return np.round(np.clip(scale * mean * rng.lognormal(0, spread, rows), 0, None)).astype(int)

    wines = np.minimum(spend(390, 0.5), 1493)
    fruits = np.minimum(spend(30, 0.9), 199)
    meat = np.minimum(spend(215, 0.6), 1725)
    fish = np.minimum(spend(43, 0.9), 259)
    sweets = np.minimum(spend(31, 0.9), 263)
    gold = np.minimum(spend(50, 0.8), 362)
    total = wines + fruits + meat + fish + sweets + gold
    deals = np.clip(rng.poisson(1 + 1.2 * (kidhome + teenhome)), 0, 15)
    web = np.clip(rng.poisson(1.5 + 3.5 * np.sqrt(total / 600)), 0, 27)
    catalog = np.clip(rng.poisson(0.2 + 3.4 * (total / 600)), 0, 28)
    store = np.clip(rng.poisson(2.5 + 4.5 * np.sqrt(total / 600)), 0, 13)
    visits = np.clip(rng.poisson(7.5 - 3.5 * np.minimum(wealth, 1.2) + kidhome), 0, 20)
    appetite = np.clip(wealth, 0, 1.5)

    def accepted(rate: float, tilt: float) -> np.ndarray:
        p = np.clip(rate * (1 - tilt + tilt * appetite / appetite.mean()), 0, 0.95)
        return (rng.random(rows) < p).astype(int)

    frame = pd.DataFrame(
        {
            "ID": ids,
            "Year_Birth": year_birth,
            "Education": education,
            "Marital_Status": marital,
            "Income": income.astype(int).astype(object),
            "Kidhome": kidhome,
            "Teenhome": teenhome,
            "Dt_Customer": [d.strftime("%d-%m-%Y") for d in joined],
            "Recency": recency,
            "MntWines": wines,
            "MntFruits": fruits,
            "MntMeatProducts": meat,
            "MntFishProducts": fish,
            "MntSweetProducts": sweets,
            "MntGoldProds": gold,
            "NumDealsPurchases": deals,
            "NumWebPurchases": web,
            "NumCatalogPurchases": catalog,
            "NumStorePurchases": store,
            "NumWebVisitsMonth": visits,
            "AcceptedCmp3": accepted(0.073, 0.3),
            "AcceptedCmp4": accepted(0.075, 0.6),
            "AcceptedCmp5": accepted(0.073, 1.0),
            "AcceptedCmp1": accepted(0.064, 1.0),
            "AcceptedCmp2": accepted(0.013, 0.8),
            "Complain": (rng.random(rows) < 0.009).astype(int),
            "Z_CostContact": 3,
            "Z_Revenue": 11,
            "Response": accepted(0.149, 0.6),
        }
    )
    frame.loc[rng.choice(rows, 24, replace=False), "Income"] = ""
    frame.loc[int(rng.integers(0, rows)), "Income"] = 666666
    return frame[COLUMNS]


def main() -> None:
    out = Path(__file__).resolve().parent / "marketing_campaign.csv"
    generate().to_csv(out, sep="\t", index=False, lineterminator="\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
