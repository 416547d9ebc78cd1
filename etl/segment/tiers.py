"""Size tiers S/M/L on orders and on revenue, and their 3x3 combination (food-delivery seed).

Pure: takes ``customer_id, window_orders, window_revenue`` (the tier window's measures, all
history when no window is set) and the resolved ``tiers`` config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from etl.segment.run_config import TIER_LABELS
from etl.segment.scoring import cut_by_shares, cut_by_thresholds

COLUMNS = ["customer_id", "segment", "segment_id", "orders_tier", "revenue_tier"]
INACTIVE = "inactive"
COMBOS = [f"{o}-{r}" for o in TIER_LABELS for r in TIER_LABELS]


def _tier(values: pd.Series, spec: Mapping[str, Any]) -> pd.Series:
    if spec["method"] == "quantile":
        return cut_by_shares(values, list(spec["cuts"]), TIER_LABELS)
    return cut_by_thresholds(values, list(spec["thresholds"]), TIER_LABELS)


def size_tiers(features: pd.DataFrame, tiers: Mapping[str, Any]) -> pd.DataFrame:
    """Customers without a sale in the window are ``inactive`` (no tier), not forced into S."""
    active = features["window_orders"].to_numpy() > 0
    out = pd.DataFrame({"customer_id": features["customer_id"].to_numpy()})
    out["orders_tier"] = None
    out["revenue_tier"] = None
    sub = features.loc[active]
    out.loc[active, "orders_tier"] = _tier(sub["window_orders"], tiers["orders"]).to_numpy()
    out.loc[active, "revenue_tier"] = _tier(
        sub["window_revenue"].astype("float64"), tiers["revenue"]
    ).to_numpy()
    out["segment"] = np.where(
        active, out["orders_tier"].astype(str) + "-" + out["revenue_tier"].astype(str), INACTIVE
    )
    ids = {name: i + 1 for i, name in enumerate(COMBOS)} | {INACTIVE: 0}
    out["segment_id"] = out["segment"].map(ids).astype("int32")
    return out[COLUMNS]
