"""The use_cases settings: merged per use case over the defaults, every error names the key."""

from __future__ import annotations

import pytest

from etl.errors import ConfigurationError
from etl.segment import run_config as seg_config


def test_defaults_and_merge_per_use_case():
    cfg = seg_config.resolve({"use_cases": {"grocery": {"min_orders": 5}}})["use_cases"]
    assert cfg["grocery"]["min_orders"] == 5
    assert cfg["grocery"]["loyalty_orders"] == [10, 40]  # the rest of the case keeps defaults
    assert cfg["b2b"] == {}  # the fiscal year is the top-level fiscal_year_start_month
    assert seg_config.resolve({})["use_cases"] == seg_config.DEFAULT_USE_CASES


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"shop": {}}, r"use_cases.shop: unknown"),
        ({"grocery": {"min_order": 3}}, r"unknown setting\(s\) \['min_order'\]"),
        ({"grocery": {"loyalty_orders": [40, 10]}}, r"use_cases.grocery.loyalty_orders"),
        ({"grocery": {"min_orders": 0}}, r"use_cases.grocery.min_orders = 0"),
        ({"b2b": {"fiscal_year_start_month": 9}}, r"set the top-level fiscal_year_start_month"),
        ({"invoice": {"trim_fraction": 0.5}}, r"use_cases.invoice.trim_fraction = 0.5"),
        ({"invoice": {"top_n": True}}, r"use_cases.invoice.top_n = True"),
        ({"food": {"wide_max_categories": 5000}}, r"wide_max_categories = 5000"),
        ({"personality": {"k": 1}}, r"use_cases.personality.k = 1"),
        ({"personality": {"k_range": [6, 3]}}, r"use_cases.personality.k_range"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        seg_config.resolve({"use_cases": overrides})
