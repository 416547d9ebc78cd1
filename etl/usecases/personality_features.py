"""Customer-level features for clustering: demographics encoded as numbers, spend and purchases.

Pure: a DataFrame of customer-level rows in (the canonical customer fields plus the numeric
attributes of the customer-level convention, see etl.usecases.personality), a DataFrame out.

Encodings (docs/use-cases.md):
- ``age`` = reference year - birth year; ``tenure_days`` = reference date - signup date. The
  reference year is the configured one, else the year of the latest signup (the data's own
  "now": customer-level extracts are snapshots, and today's date would age everyone alike).
- ``children`` = kids + teens at home (else the recorded dependants); ``partner`` = 1 when the
  family status is one of ``partner_statuses`` (married, together), else 0;
  ``family_size`` = 1 + partner + children.
- ``education_level``: an ordinal from ``education_levels`` (Basic 0 ... PhD 4); unknown
  educations stay missing (the clustering imputes the median).
- ``spend_total`` / ``purchases_total``: sums over ``spend_*`` / ``purchases_*``;
  ``campaigns_accepted``: sum over ``campaign_*``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

FIXED: tuple[str, ...] = (
    "age",
    "income",
    "children",
    "kids_at_home",
    "teens_at_home",
    "partner",
    "family_size",
    "education_level",
    "tenure_days",
    "recency_days",
    "deals_purchases",
    "web_visits_month",
    "spend_total",
    "purchases_total",
    "campaigns_accepted",
)
PREFIXES: tuple[str, ...] = ("spend_", "purchases_", "campaign_")


def is_available(name: str) -> bool:
    """A feature name the encoder can produce (prefixed ones when the data have them)."""
    return name in FIXED or (name.startswith(PREFIXES[:2]) and len(name) > 6)


def reference_date(raw: pd.DataFrame, reference_year: int | None) -> dt.date:
    if reference_year is not None:
        return dt.date(int(reference_year), 12, 31)
    signups = pd.to_datetime(raw["signup_date"]).dropna()
    if signups.empty:
        return dt.date.today()
    return signups.max().date()


def encode(raw: pd.DataFrame, settings: Mapping[str, Any]) -> tuple[pd.DataFrame, dt.date]:
    """All features for every customer (customer_id first) and the reference date used."""
    ref = reference_date(raw, settings.get("reference_year"))
    out = pd.DataFrame({"customer_id": raw["customer_id"].astype(str).to_numpy()})

    def num(column: str) -> pd.Series:
        if column not in raw.columns:
            return pd.Series(np.nan, index=raw.index, dtype="float64")
        return pd.to_numeric(raw[column], errors="coerce").astype("float64")

    out["age"] = (ref.year - num("birth_year")).to_numpy()
    out["income"] = num("income").to_numpy()
    kids, teens = num("kids_at_home"), num("teens_at_home")
    children = kids.fillna(0) + teens.fillna(0)
    children = children.where(kids.notna() | teens.notna(), num("n_dependants"))
    out["kids_at_home"] = kids.to_numpy()
    out["teens_at_home"] = teens.to_numpy()
    out["children"] = children.to_numpy()
    status = raw["family_status"] if "family_status" in raw.columns else pd.Series(index=raw.index)
    partners = {str(s).strip().lower() for s in settings.get("partner_statuses", [])}
    partner = status.map(lambda s: float(str(s).strip().lower() in partners), na_action="ignore")
    out["partner"] = partner.astype("float64").to_numpy()
    out["family_size"] = 1 + out["partner"] + out["children"]
    levels = {str(k).strip().lower(): float(v) for k, v in settings["education_levels"].items()}
    education = raw["education"] if "education" in raw.columns else pd.Series(index=raw.index)
    out["education_level"] = (
        education.map(lambda e: levels.get(str(e).strip().lower(), np.nan), na_action="ignore")
        .astype("float64")
        .to_numpy()
    )
    signup = pd.to_datetime(raw["signup_date"]) if "signup_date" in raw.columns else None
    out["tenure_days"] = (
        (pd.Timestamp(ref) - signup).dt.days.astype("float64").to_numpy()
        if signup is not None
        else np.nan
    )
    for column in ("recency_days", "deals_purchases", "web_visits_month"):
        out[column] = num(column).to_numpy()
    for prefix, total in (("spend_", "spend_total"), ("purchases_", "purchases_total")):
        columns = sorted(c for c in raw.columns if c.startswith(prefix))
        for c in columns:
            out[c] = num(c).to_numpy()
        out[total] = out[columns].sum(axis=1, min_count=1) if columns else np.nan
    campaigns = sorted(c for c in raw.columns if c.startswith("campaign_"))
    for c in campaigns:
        out[c] = num(c).to_numpy()
    out["campaigns_accepted"] = out[campaigns].sum(axis=1, min_count=1) if campaigns else np.nan
    return out, ref
