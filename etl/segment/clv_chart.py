"""The backtest's predicted-vs-actual chart (PNG bytes), shared by the report and the CLI."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display in containers or CI
import matplotlib.pyplot as plt  # noqa: E402


def backtest_png(result: Mapping[str, Any]) -> bytes:
    """Mean actual vs predicted holdout purchases by calibration repeat purchases (0 .. 7+)."""
    groups = result["holdout"]["by_calibration_purchases"]
    labels = [g["purchases"] for g in groups]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(labels, [g["actual_mean"] for g in groups], "o-", label="actual")
    ax.plot(labels, [g["predicted_mean"] for g in groups], "s--", label="predicted (BG/NBD)")
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title(
        f"Holdout {result['calibration_end']} .. {result['holdout_end']}: "
        f"MAE {result['holdout']['mean_absolute_error']:.3f} per customer",
        fontsize=9,
    )
    ax.legend()
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
