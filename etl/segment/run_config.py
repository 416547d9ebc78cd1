"""Run configuration: built-in defaults, overridable by a YAML file, validated up front.

Validation happens before a run writes anything, and every error names the setting to fix.
The resolved configuration is stored with the run (``segmentation.runs.params``) so a run can be
reproduced from its row alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from etl.environment import memory_size
from etl.errors import ConfigurationError
from etl.segment.lifecycle import check_rules as check_lifecycle_rules

METHODS = (
    "rfm",
    "tiers",
    "kmeans",
    "hierarchical",
    "demographic",
    "channel",
    "lifecycle",
    "clv",
)
DEFAULT_METHODS = METHODS
CLUSTER_METHODS = ("kmeans", "hierarchical")
K_LIMITS = (2, 30)
TIER_LABELS = ("S", "M", "L")

# The default R x F map (docs/segmentation.md): R x F cells, 5 best.
DEFAULT_RFM_SEGMENTS: dict[str, dict[str, str]] = {
    "Champions": {"r": "5", "f": "4-5"},
    "Loyal Customers": {"r": "3-4", "f": "4-5"},
    "Potential Loyalists": {"r": "4-5", "f": "2-3"},
    "New Customers": {"r": "5", "f": "1"},
    "Promising": {"r": "4", "f": "1"},
    "Need Attention": {"r": "3", "f": "3"},
    "About to Sleep": {"r": "3", "f": "1-2"},
    "At Risk": {"r": "1-2", "f": "3-4"},
    "Can't Lose Them": {"r": "1-2", "f": "5"},
    "Hibernating": {"r": "1-2", "f": "1-2"},
}

DEFAULT_RFM_ACTIONS: dict[str, str] = {
    "Champions": "Reward them: early access, loyalty perks, ask for reviews and referrals.",
    "Loyal Customers": "Upsell higher-value products; invite to the loyalty programme.",
    "Potential Loyalists": "Offer membership or a loyalty programme; recommend related products.",
    "New Customers": "Onboard well: welcome series, first-repeat incentive.",
    "Promising": "Build the relationship: brand content, a time-limited second-order offer.",
    "Need Attention": "Reactivate with personalised, limited-time offers based on past buys.",
    "About to Sleep": "Win back before they lapse: popular products, a discount reminder.",
    "At Risk": "Send personalised win-back emails; offer a meaningful incentive.",
    "Can't Lose Them": "Win them back with top offers or a personal call; learn why they left.",
    "Hibernating": "Low-cost reactivation only; suppress from expensive campaigns.",
}

DEFAULT_TIER_ACTIONS: dict[str, str] = {
    "L-L": "Top customers: protect with VIP service and loyalty rewards.",
    "L-M": "Frequent buyers with mid baskets: bundle offers to lift basket size.",
    "L-S": "Frequent small baskets: free-delivery thresholds and add-on suggestions.",
    "M-L": "Big baskets, medium frequency: subscriptions or reminders to order more often.",
    "M-M": "Core customers: regular personalised offers.",
    "M-S": "Grow basket and frequency: cross-sell with small incentives.",
    "S-L": "Few but large orders: nurture towards repeat purchase.",
    "S-M": "Occasional buyers: second-order incentive.",
    "S-S": "Low value: automated, low-cost campaigns only.",
    "inactive": "No order in the tier window: reactivation campaign.",
}

FOOD_DELIVERY_TIERS: dict[str, Any] = {
    "window_days": 30,
    "orders": {"method": "fixed", "thresholds": [2, 5]},
    "revenue": {"method": "fixed", "thresholds": [15, 30]},
}

# Thresholds of the use-case views (docs/use-cases.md). Stored with each run, so the mart views
# read the ones of the run they show; checked by etl.usecases.validation.check.
DEFAULT_USE_CASES: dict[str, Any] = {
    "invoice": {"top_n": 10, "trim_fraction": 0.1, "lift_min_segment_share": 0.01},
    "food": {"wide_max_categories": 60},
    # b2b: no settings of its own; its fiscal year is the top-level fiscal_year_start_month
    "b2b": {},
    "grocery": {
        "min_orders": 1,
        "loyalty_orders": [10, 40],
        "spender_mean_price": 10,
        "frequency_median_days": [10, 20],
        "price_ranges": [5, 15],
    },
    # customer-level data (`segwise personality`): features from
    # etl.usecases.personality_features.AVAILABLE
    "personality": {
        "features": ["age", "income", "children", "partner", "education_level", "spend_total"],
        "k": None,
        "k_range": [2, 8],
        "seed": 42,
        "reference_year": None,
        "education_levels": {"Basic": 0, "2n Cycle": 1, "Graduation": 2, "Master": 3, "PhD": 4},
        "partner_statuses": ["Married", "Together"],
    },
}

DEFAULTS: dict[str, Any] = {
    "methods": list(DEFAULT_METHODS),
    "rfm": {"segments": DEFAULT_RFM_SEGMENTS, "actions": DEFAULT_RFM_ACTIONS},
    "tiers": {
        # auto: the food_delivery layout's seed thresholds when every loaded batch has that
        # layout, else quantile cuts.
        "preset": "auto",
        "window_days": None,
        "orders": {"method": "quantile", "cuts": [0.5, 0.8]},
        "revenue": {"method": "quantile", "cuts": [0.5, 0.8]},
        "actions": DEFAULT_TIER_ACTIONS,
    },
    "clustering": {
        "k": None,
        "k_range": [2, 8],
        "feature_columns": None,
        "seed": 42,
        "sample_size": 20000,
        # clusters further apart than this (standard deviations) from every cluster of the
        # previous run are new; the others keep the previous run's cluster id
        "match_max_distance": 1.0,
        # a run reuses the latest published model of its method (assigns customers to its stored
        # centroids) while it was fitted fewer than this many days before the run's date and
        # with the same settings; 0 = fit on every run
        "refit_days": 7,
    },
    # Predicted customer value (docs/clv.md): BG/NBD + Gamma-Gamma on purchase days.
    "clv": {
        "time_unit": "week",  # day or week: the unit the models are fitted in
        "annual_discount_rate": 0.10,  # future value discounted monthly at this yearly rate
        "margin": 1.0,  # share of revenue that is profit; 1 = predicted CLV in revenue
        "churn_p_alive": 0.3,  # p_alive below this: "Likely churned"
        "high_share": 0.2,  # top share of the others by predicted CLV: "High value"
        "low_share": 0.5,  # bottom share: "Low value"; the rest "Medium value"
        "min_customers": 100,  # fewer customers (or repeat buyers) than this: not modelled
        "min_repeat_customers": 20,
        "actions": {
            "High value": "Protect: VIP service, early access; never discount them by default.",
            "Medium value": "Grow: cross-sell and a loyalty programme to lift order frequency.",
            "Low value": "Automated, low-cost campaigns only.",
            "Likely churned": "Win back once with a strong offer; then suppress from paid media.",
        },
    },
    # Lifecycle stages (etl/segment/lifecycle.py, docs/segmentation.md), in days: new = first
    # sale less than new_days ago; at risk / lapsed = last sale at_risk_days / lapsed_days or
    # more ago; reactivated = last sale came after a gap of lapsed_days or more.
    "lifecycle": {"new_days": 30, "at_risk_days": 90, "lapsed_days": 180},
    # First month of the fiscal year (1 = calendar year; 9 = September); a fiscal year is named
    # after the calendar year it ends in (mart.calendar, mart.monthly_kpis, mart.b2b_*).
    "fiscal_year_start_month": 1,
    "use_cases": DEFAULT_USE_CASES,
    "lock_timeout_minutes": 120,
    # Customer-level rows are kept for this many most recent published dates (null = all);
    # per-segment profiles, cluster models and migration matrices are always kept.
    "keep_customer_rows_for_dates": 30,
    # Postgres work_mem for the set-based stages (SET LOCAL): big aggregates stay in memory.
    "work_mem": "256MB",
    # A run for the latest date reads the per-customer totals the warehouse build keeps
    # (etl/segment/customer_state.py); false = always aggregate the order lines (same results,
    # slower: for checking the totals).
    "customer_state": True,
    # The data-quality checks that reconcile every order line (ledger, orders, features):
    # incremental = read the checks each batch passed when it was built (and the kept totals),
    # scanning only what is unverified; full = scan every order line (etl/quality_record.py).
    "quality": "incremental",
}
QUALITY_MODES = ("incremental", "full")

_TOP_KEYS = set(DEFAULTS)
_RANGE = re.compile(r"^\s*([1-5])\s*(?:-\s*([1-5]))?\s*$")


def load_config(config: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """The user's overrides: a YAML file path, an already-parsed mapping, or nothing."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    if not path.is_file():
        raise ConfigurationError(f"config file {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigurationError(f"config file {path}{where}: not valid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"config file {path}: top level must be a mapping of settings")
    return data


def resolve(
    overrides: Mapping[str, Any], methods: list[str] | tuple[str, ...] | str | None = None
) -> dict[str, Any]:
    """Defaults merged with the overrides, then validated; raises ConfigurationError."""
    unknown = set(overrides) - _TOP_KEYS
    if unknown:
        raise ConfigurationError(
            f"unknown config setting(s) {sorted(unknown)}: allowed are {sorted(_TOP_KEYS)}"
        )
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in overrides.items():
        if isinstance(cfg.get(key), dict) and isinstance(value, Mapping):
            if key == "rfm" and "segments" in value and "actions" not in value:
                cfg[key]["actions"] = {}  # a custom map brings its own actions (or none)
            if key == "tiers" and "preset" not in value:
                cfg[key]["preset"] = "custom"
            cfg[key].update(value)
        else:
            cfg[key] = value
    if methods is not None:
        cfg["methods"] = methods
    cfg["methods"] = _methods(cfg["methods"])
    cfg["rfm"]["cells"] = segment_cells(cfg["rfm"]["segments"])
    _check_actions(cfg["rfm"].get("actions") or {}, cfg["rfm"]["segments"], "rfm.actions")
    _check_tiers(cfg["tiers"])
    _check_clustering(cfg["clustering"])
    _check_clv(cfg["clv"])
    cfg["use_cases"] = _use_cases(overrides.get("use_cases"))
    check_lifecycle_rules(cfg["lifecycle"])
    fy = cfg["fiscal_year_start_month"]
    if not isinstance(fy, int) or isinstance(fy, bool) or not 1 <= fy <= 12:
        raise ConfigurationError(f"fiscal_year_start_month = {fy!r}: a month number 1-12")
    memory_size(cfg["work_mem"], "work_mem = ")
    keep = cfg["keep_customer_rows_for_dates"]
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
        raise ConfigurationError(
            f"keep_customer_rows_for_dates = {keep!r}: a whole number >= 1, or null to keep all"
        )
    if not isinstance(cfg["customer_state"], bool):
        raise ConfigurationError(
            f"customer_state = {cfg['customer_state']!r}: true (read the kept per-customer "
            "totals when the run is for the latest date) or false (always read the order lines)"
        )
    if cfg["quality"] not in QUALITY_MODES:
        raise ConfigurationError(
            f"quality = {cfg['quality']!r}: incremental (read the checks each load passed when "
            "it was built; scan what is unverified) or full (scan every order line)"
        )
    timeout = cfg["lock_timeout_minutes"]
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigurationError("lock_timeout_minutes must be a positive number of minutes")
    return cfg


def _methods(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [m for m in re.split(r"[,\s]+", value) if m]
    if not isinstance(value, list | tuple) or not value:
        raise ConfigurationError(f"methods must be a non-empty list drawn from {list(METHODS)}")
    bad = [m for m in value if m not in METHODS]
    if bad:
        raise ConfigurationError(
            f"unknown method(s) {bad}: choose from {', '.join(METHODS)} "
            "(e.g. --methods rfm,tiers,kmeans)"
        )
    return [m for m in METHODS if m in value]  # canonical order, no duplicates


def _score_range(segment: str, axis: str, spec: Any) -> list[int]:
    if isinstance(spec, int) and not isinstance(spec, bool):
        spec = str(spec)
    if isinstance(spec, list) and spec and all(isinstance(x, int) for x in spec):
        values = sorted(set(spec))
        if all(1 <= v <= 5 for v in values):
            return values
    elif isinstance(spec, str):
        m = _RANGE.match(spec)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if lo <= hi:
                return list(range(lo, hi + 1))
    raise ConfigurationError(
        f"rfm.segments['{segment}'].{axis} = {spec!r}: use a score 1-5, a range like '3-4' "
        "or a list like [1, 2]"
    )


def segment_cells(segments: Any) -> dict[tuple[int, int], str]:
    """(r, f) -> segment name; the map must cover all 25 cells exactly once."""
    if not isinstance(segments, Mapping) or not segments:
        raise ConfigurationError("rfm.segments must map segment names to {r: ..., f: ...}")
    owners: dict[tuple[int, int], list[str]] = {}
    for name, spec in segments.items():
        if not isinstance(spec, Mapping) or set(spec) != {"r", "f"}:
            raise ConfigurationError(
                f"rfm.segments['{name}'] must have exactly the keys r and f, e.g. "
                "{r: '3-4', f: '4-5'}"
            )
        for r in _score_range(str(name), "r", spec["r"]):
            for f in _score_range(str(name), "f", spec["f"]):
                owners.setdefault((r, f), []).append(str(name))
    missing = [(r, f) for r in range(1, 6) for f in range(1, 6) if (r, f) not in owners]
    double = {cell: names for cell, names in sorted(owners.items()) if len(names) > 1}
    problems = []
    if missing:
        problems.append(
            "cells not covered by any segment: " + ", ".join(f"R{r}/F{f}" for r, f in missing)
        )
    if double:
        problems.append(
            "cells covered more than once: "
            + "; ".join(f"R{r}/F{f} by {' and '.join(n)}" for (r, f), n in double.items())
        )
    if problems:
        raise ConfigurationError(
            "rfm.segments must cover each of the 25 R x F cells exactly once: "
            + " | ".join(problems)
        )
    return {cell: names[0] for cell, names in owners.items()}


def _check_actions(actions: Any, segments: Mapping[str, Any], where: str) -> None:
    if not isinstance(actions, Mapping):
        raise ConfigurationError(f"{where} must map segment names to action texts")
    unknown = [name for name in actions if name not in segments]
    if unknown:
        raise ConfigurationError(
            f"{where} names unknown segment(s) {unknown}; segments are {list(segments)}"
        )


def _check_tiers(tiers: dict[str, Any]) -> None:
    preset = tiers.get("preset")
    if preset not in ("auto", "quantile", "food_delivery", "custom"):
        raise ConfigurationError(
            f"tiers.preset = {preset!r}: use auto, quantile, food_delivery or custom"
        )
    if preset == "food_delivery":
        tiers.update(copy.deepcopy(FOOD_DELIVERY_TIERS))
    window = tiers.get("window_days")
    if window is not None and (
        not isinstance(window, int) or isinstance(window, bool) or window < 1
    ):
        raise ConfigurationError(
            f"tiers.window_days = {window!r}: a whole number of days >= 1, or null for all history"
        )
    for measure in ("orders", "revenue"):
        spec = tiers.get(measure)
        where = f"tiers.{measure}"
        if not isinstance(spec, Mapping) or spec.get("method") not in ("quantile", "fixed"):
            raise ConfigurationError(
                f"{where} needs method: quantile (with cuts) or fixed (with thresholds)"
            )
        key = "cuts" if spec["method"] == "quantile" else "thresholds"
        values = spec.get(key)
        if (
            not isinstance(values, list)
            or len(values) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            or not values[0] < values[1]
        ):
            raise ConfigurationError(
                f"{where}.{key} must be two increasing numbers (lower bounds of M and L), "
                f"got {values!r}"
            )
        if key == "cuts" and not (0 < values[0] < values[1] < 1):
            raise ConfigurationError(
                f"{where}.cuts are customer shares strictly between 0 and 1, got {values!r}"
            )
    actions = tiers.get("actions") or {}
    combos = {f"{o}-{r}" for o in TIER_LABELS for r in TIER_LABELS} | {"inactive"}
    _check_actions(actions, dict.fromkeys(sorted(combos)), "tiers.actions")


def _check_clustering(cl: dict[str, Any]) -> None:
    lo_limit, hi_limit = K_LIMITS
    k = cl.get("k")
    if k is not None and (
        not isinstance(k, int) or isinstance(k, bool) or not lo_limit <= k <= hi_limit
    ):
        raise ConfigurationError(
            f"clustering.k = {k!r} is out of range: use a whole number from {lo_limit} to "
            f"{hi_limit}, or null to choose k by silhouette over clustering.k_range"
        )
    kr = cl.get("k_range")
    if (
        not isinstance(kr, list | tuple)
        or len(kr) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in kr)
        or not lo_limit <= kr[0] <= kr[1] <= hi_limit
    ):
        raise ConfigurationError(
            f"clustering.k_range = {kr!r}: two whole numbers lo <= hi within {lo_limit}..{hi_limit}"
        )
    cl["k_range"] = list(kr)
    seed = cl.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigurationError(f"clustering.seed = {seed!r}: a whole number")
    sample = cl.get("sample_size")
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 100:
        raise ConfigurationError(f"clustering.sample_size = {sample!r}: a whole number >= 100")
    cols = cl.get("feature_columns")
    if cols is not None and (
        not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols)
    ):
        raise ConfigurationError("clustering.feature_columns must be a list of column names")
    refit = cl.get("refit_days")
    if not isinstance(refit, int) or isinstance(refit, bool) or refit < 0:
        raise ConfigurationError(
            f"clustering.refit_days = {refit!r}: a whole number of days >= 0 (0 = fit a new "
            "model on every run)"
        )
    distance = cl.get("match_max_distance")
    if not isinstance(distance, int | float) or isinstance(distance, bool) or distance < 0:
        raise ConfigurationError(
            f"clustering.match_max_distance = {distance!r}: a number of standard deviations >= 0"
        )


def _check_clv(c: dict[str, Any]) -> None:
    allowed = set(DEFAULTS["clv"])
    unknown = set(c) - allowed
    if unknown:
        raise ConfigurationError(
            f"unknown clv setting(s) {sorted(unknown)}: allowed {sorted(allowed)}"
        )
    if c["time_unit"] not in ("day", "week"):
        raise ConfigurationError(f"clv.time_unit = {c['time_unit']!r}: use day or week")

    def number(key: str, lo: float, hi: float, closed_lo: bool = True) -> float:
        v = c[key]
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        if ok and not ((lo <= v if closed_lo else lo < v) and v <= hi):
            ok = False
        if not ok:
            side = "[" if closed_lo else "("
            raise ConfigurationError(f"clv.{key} = {v!r}: a number in {side}{lo}, {hi}]")
        return float(v)

    if not isinstance(c["actions"], Mapping):
        raise ConfigurationError("clv.actions must map value tiers to action texts")
    number("annual_discount_rate", 0, 10)
    number("margin", 0, 1, closed_lo=False)
    number("churn_p_alive", 0, 1)
    high = number("high_share", 0, 1, closed_lo=False)
    low = number("low_share", 0, 1)
    if high + low > 1:
        raise ConfigurationError(
            f"clv.high_share + clv.low_share = {high + low:g}: the two shares must not exceed 1"
        )
    for key in ("min_customers", "min_repeat_customers"):
        v = c[key]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ConfigurationError(f"clv.{key} = {v!r}: a whole number >= 1")


def _use_cases(overrides: Any) -> dict[str, Any]:
    from etl.usecases.validation import check  # the use cases' own validation

    return check(DEFAULT_USE_CASES, overrides)


def to_params(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe copy for segmentation.runs.params (tuple keys dropped; they are derived)."""
    out = copy.deepcopy(dict(cfg))
    out["rfm"] = {k: v for k, v in out["rfm"].items() if k != "cells"}
    return out


def from_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A run's stored configuration, with the derived parts rebuilt."""
    cfg = copy.deepcopy(dict(params))
    cfg["rfm"]["cells"] = segment_cells(cfg["rfm"]["segments"])
    return cfg
