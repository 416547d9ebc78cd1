"""Time the pure clustering functions at scale: a full fit and a reuse of its model.

    .venv/bin/python bench/segment/bench_clustering.py                  # synthetic, 381,595
    .venv/bin/python bench/segment/bench_clustering.py --frame F.parquet --methods kmeans

The frame is a customer-level features table (``customer_id`` and the clustering columns, e.g.
``segmentation.customer_features`` of a run saved as Parquet); without one, a synthetic frame
with heavy-tailed features is generated. For each method: ``fit_clusters`` (k chosen over 2..8,
the pipeline's defaults), then ``assign_to_model`` with the fitted model on the same customers
with features moved by a day's orders (what a daily run reusing the model does). Wall and CPU
seconds, with the load average, are printed as JSON. No database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]

from etl.segment.clustering import assign_to_model, fit_clusters  # noqa: E402


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """Customer features shaped like a shop's: geometric orders, log-normal baskets."""
    rng = np.random.default_rng(seed)
    frequency = 1 + rng.negative_binomial(1, 0.12, n)
    basket = np.exp(rng.normal(3.5, 0.6, n))
    tenure = rng.integers(0, 730, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in range(n)],
            "recency_days": (tenure * rng.beta(0.7, 1.5, n)).astype("int64"),
            "frequency": frequency,
            "monetary": frequency * basket * rng.uniform(0.9, 1.05, n),
            "avg_order_value": basket,
            "tenure_days": tenure,
        }
    )


def next_day(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """A day later: everyone one day less recent, ~1% bought again."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    out["recency_days"] = out["recency_days"] + 1
    out["tenure_days"] = out["tenure_days"] + 1
    bought = rng.random(len(out)) < 0.01
    out.loc[bought, "recency_days"] = 0
    out.loc[bought, "frequency"] = out.loc[bought, "frequency"] + 1
    out.loc[bought, "monetary"] = out.loc[bought, "monetary"] + out.loc[bought, "avg_order_value"]
    return out


def timed(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201 - a timing wrapper
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame", type=Path, help="Parquet file of customer features")
    parser.add_argument("--customers", type=int, default=381_595, help="synthetic frame size")
    parser.add_argument("--methods", default="kmeans,hierarchical")
    args = parser.parse_args()
    frame = pd.read_parquet(args.frame) if args.frame else synthetic(args.customers)
    later = next_day(frame)
    out: dict = {"customers": len(frame), "load_before": os.getloadavg(), "methods": {}}
    for method in args.methods.split(","):
        fit, fit_wall, fit_cpu = timed(fit_clusters, frame, method=method)
        reused, wall, cpu = timed(assign_to_model, later, fit.params["model"])
        out["methods"][method] = {
            "fit": {"wall_s": fit_wall, "cpu_s": fit_cpu, "k": fit.k},
            "fit_silhouette": fit.silhouette,
            "fit_stability_ari": fit.stability_ari,
            "reuse": {"wall_s": wall, "cpu_s": cpu},
            "reuse_silhouette": reused.silhouette,
            "reuse_changed_cluster": float(
                (reused.labels["cluster_id"] != fit.labels["cluster_id"]).mean()
            ),
        }
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
