"""Validation of the ``use_cases`` run settings (defaults in etl.segment.run_config).

Each use case's thresholds are merged key by key over the defaults and checked before a run
writes anything; every error names the setting to fix.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from etl.errors import ConfigurationError


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: Any, lo: int, hi: int | None = None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= lo
        and (hi is None or value <= hi)
    )


def _increasing_pair(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_number(v) for v in value)
        and value[0] < value[1]
    )


def check(defaults: Mapping[str, Any], overrides: Any) -> dict[str, Any]:
    """Defaults with the overrides merged per use case; raises ConfigurationError."""
    cfg = copy.deepcopy(dict(defaults))
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping):
        raise ConfigurationError(f"use_cases must map use cases {sorted(cfg)} to settings")
    for case, values in overrides.items():
        if case not in cfg:
            raise ConfigurationError(f"use_cases.{case}: unknown; choose from {sorted(cfg)}")
        if not isinstance(values, Mapping):
            raise ConfigurationError(f"use_cases.{case} must be a mapping of settings")
        unknown = set(values) - set(cfg[case])
        if case == "b2b" and "fiscal_year_start_month" in unknown:
            raise ConfigurationError(
                "use_cases.b2b.fiscal_year_start_month: unknown setting; set the top-level "
                "fiscal_year_start_month (one fiscal year for every view)"
            )
        if unknown:
            raise ConfigurationError(
                f"use_cases.{case}: unknown setting(s) {sorted(unknown)}; allowed are "
                f"{sorted(cfg[case])}"
            )
        cfg[case].update(copy.deepcopy(dict(values)))
    inv, food, gro = cfg["invoice"], cfg["food"], cfg["grocery"]
    problems = []
    if not _whole(inv["top_n"], 1, 1000):
        problems.append(f"use_cases.invoice.top_n = {inv['top_n']!r}: a whole number 1-1000")
    if not (_number(inv["trim_fraction"]) and 0 <= inv["trim_fraction"] < 0.5):
        problems.append(
            f"use_cases.invoice.trim_fraction = {inv['trim_fraction']!r}: cut from each end, "
            "0 <= x < 0.5"
        )
    share = inv["lift_min_segment_share"]
    if not (_number(share) and 0 <= share < 1):
        problems.append(f"use_cases.invoice.lift_min_segment_share = {share!r}: 0 <= x < 1")
    if not _whole(food["wide_max_categories"], 1, 1000):
        problems.append(
            f"use_cases.food.wide_max_categories = {food['wide_max_categories']!r}: "
            "a whole number 1-1000"
        )
    if not _whole(gro["min_orders"], 1):
        problems.append(
            f"use_cases.grocery.min_orders = {gro['min_orders']!r}: a whole number >= 1"
        )
    for key in ("loyalty_orders", "frequency_median_days", "price_ranges"):
        if not _increasing_pair(gro[key]):
            problems.append(
                f"use_cases.grocery.{key} = {gro[key]!r}: two increasing numbers (upper bounds "
                "of the first two groups)"
            )
    if not (_number(gro["spender_mean_price"]) and gro["spender_mean_price"] > 0):
        problems.append(
            f"use_cases.grocery.spender_mean_price = {gro['spender_mean_price']!r}: a price > 0"
        )
    if problems:
        raise ConfigurationError("; ".join(problems))
    check_personality(cfg["personality"])
    return cfg


def check_personality(p: dict[str, Any]) -> None:
    """The customer-level clustering settings (use_cases.personality)."""
    from etl.segment.run_config import K_LIMITS
    from etl.usecases.personality_features import is_available

    lo, hi = K_LIMITS
    problems = []
    feats = p["features"]
    if not isinstance(feats, list) or not feats or not all(isinstance(f, str) for f in feats):
        problems.append("use_cases.personality.features: a non-empty list of feature names")
    else:
        bad = [f for f in feats if not is_available(f)]
        if bad:
            problems.append(
                f"use_cases.personality.features: unknown {bad}; choose from age, income, "
                "children, kids_at_home, teens_at_home, partner, family_size, education_level, "
                "tenure_days, recency_days, spend_total, spend_<category>, purchases_total, "
                "purchases_<channel>, deals_purchases, web_visits_month, campaigns_accepted"
            )
    if p["k"] is not None and not _whole(p["k"], lo, hi):
        problems.append(f"use_cases.personality.k = {p['k']!r}: {lo}-{hi}, or null")
    kr = p["k_range"]
    if not (
        isinstance(kr, list) and len(kr) == 2 and all(_whole(v, lo, hi) for v in kr)
        and kr[0] <= kr[1]
    ):  # fmt: skip
        problems.append(f"use_cases.personality.k_range = {kr!r}: lo <= hi within {lo}..{hi}")
    if not _whole(p["seed"], 0):
        problems.append(f"use_cases.personality.seed = {p['seed']!r}: a whole number")
    year = p["reference_year"]
    if year is not None and not _whole(year, 1900, 2200):
        problems.append(f"use_cases.personality.reference_year = {year!r}: a year, or null")
    levels = p["education_levels"]
    if not isinstance(levels, Mapping) or not all(_number(v) for v in levels.values()):
        problems.append("use_cases.personality.education_levels: education -> number")
    statuses = p["partner_statuses"]
    if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
        problems.append("use_cases.personality.partner_statuses: a list of family statuses")
    if problems:
        raise ConfigurationError("; ".join(problems))
