"""RFM: quintile scores on recency, frequency and net monetary, and the R x F segment map.

Pure functions on the customer-level features frame (``customer_id, recency_days, frequency,
monetary``); no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from etl.segment.scoring import quantile_scores

COLUMNS = ["customer_id", "segment", "segment_id", "r", "f", "m", "rfm"]


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """r (fewer days better), f, m: 1-5, 5 best; ties always share a score."""
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "r": quantile_scores(features["recency_days"], higher_is_better=False).to_numpy(),
            "f": quantile_scores(features["frequency"]).to_numpy(),
            "m": quantile_scores(features["monetary"].astype("float64")).to_numpy(),
        }
    )


def assign_segments(
    scores: pd.DataFrame, cells: Mapping[tuple[int, int], str], order: list[str]
) -> pd.DataFrame:
    """Name each customer's (R, F) cell; segment_id is the name's position in the map."""
    lookup = np.empty((6, 6), dtype=object)
    for (r, f), name in cells.items():
        lookup[r, f] = name
    out = scores.copy()
    out["segment"] = lookup[out["r"].to_numpy(), out["f"].to_numpy()]
    ids = {name: i + 1 for i, name in enumerate(order)}
    out["segment_id"] = out["segment"].map(ids).astype("int32")
    out["rfm"] = out["r"].astype(str) + out["f"].astype(str) + out["m"].astype(str)
    return out[COLUMNS]


def rfm_segments(
    features: pd.DataFrame, cells: Mapping[tuple[int, int], str], order: list[str]
) -> pd.DataFrame:
    return assign_segments(rfm_scores(features), cells, order)
