"""Tie-safe quantile scores shared by RFM and the size tiers.

Rule (documented in docs/segmentation.md): customers are ordered worst to best; a block of
customers sharing one value sits at the *midpoint* of the positions it occupies
(``(rank(method="average") - 0.5) / n``, i.e. (strictly worse + half the tie block) / n), and
its score is the quantile bin that midpoint falls in. One value, one position, one score: ties
are never split; a better value has a later midpoint, so scores are monotone. A big tie block
goes wholly to the bin holding its middle (so 60% of customers with one order all score 1 or
S, and a top block of 25% all score 5), which can leave a neighbouring bin empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def positions(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Midpoint share of each value's tie block in the worst-to-best order, in (0, 1)."""
    n = len(values)
    if n == 0:
        return pd.Series([], dtype="float64", index=values.index)
    rank = values.rank(method="average", ascending=higher_is_better)
    return (rank - 0.5) / n


def quantile_scores(
    values: pd.Series, *, bins: int = 5, higher_is_better: bool = True
) -> pd.Series:
    """1..bins, ``bins`` best, equal values equal scores."""
    if values.isna().any():
        raise ValueError(f"{values.name}: cannot score missing values")
    pos = positions(values, higher_is_better=higher_is_better)
    scores = np.floor(pos.to_numpy() * bins).astype("int64") + 1
    return pd.Series(np.clip(scores, 1, bins), index=values.index, name=values.name, dtype="int16")


def cut_by_shares(values: pd.Series, cuts: list[float], labels: tuple[str, ...]) -> pd.Series:
    """Label by midpoint share: cuts [0.5, 0.8] -> bottom 50% / next 30% / top 20%."""
    pos = positions(values, higher_is_better=True).to_numpy()
    idx = np.searchsorted(np.asarray(cuts, dtype="float64"), pos, side="right")
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=values.index, name=values.name)


def cut_by_thresholds(
    values: pd.Series, thresholds: list[float], labels: tuple[str, ...]
) -> pd.Series:
    """Fixed lower bounds: thresholds [2, 5] -> < 2, 2 to < 5, >= 5."""
    idx = np.searchsorted(np.asarray(thresholds, dtype="float64"), values.to_numpy(), side="right")
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=values.index, name=values.name)
