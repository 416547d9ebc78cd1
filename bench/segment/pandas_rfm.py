"""Baseline: the same RFM computed by pulling the order lines into pandas (what the seed
projects do). Prints one JSON line with timings, peak memory and segment counts."""

from __future__ import annotations

import json
import resource
import sys
import time

import pandas as pd
import psycopg
from psycopg import sql

from etl.segment import run_config as config
from etl.segment.frames import read_frame
from etl.segment.rfm import rfm_segments


def main(url: str, as_of: str) -> None:
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        lines = read_frame(
            conn,
            sql.SQL(
                "SELECT customer_id, order_id, order_date, quantity, unit_price, amount, "
                "is_return::int AS is_return FROM warehouse.fact_order_line "
                "WHERE customer_id IS NOT NULL AND order_date <= {}"
            ).format(sql.Literal(as_of)),
            dtypes={"customer_id": str, "order_id": str, "is_return": "int8"},
            dates=["order_date"],
        )
    t1 = time.perf_counter()
    lines["is_return"] = lines["is_return"].astype(bool)
    sale = (lines["quantity"] > 0) & (lines["unit_price"] > 0) & ~lines["is_return"]
    sales = lines[sale]
    grouped = sales.groupby("customer_id")
    feats = grouped.agg(
        last=("order_date", "max"), frequency=("order_id", "nunique"), gross=("amount", "sum")
    )
    returns = lines[lines["is_return"]].groupby("customer_id")["amount"].sum()
    feats["monetary"] = feats["gross"] + returns.reindex(feats.index).fillna(0)
    feats["recency_days"] = (pd.Timestamp(as_of) - feats["last"]).dt.days
    feats = feats.reset_index()
    cfg = config.resolve({})
    out = rfm_segments(feats, cfg["rfm"]["cells"], list(cfg["rfm"]["segments"]))
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "lines": len(lines),
                "customers": len(out),
                "pull_seconds": round(t1 - t0, 2),
                "compute_seconds": round(t2 - t1, 2),
                "total_seconds": round(t2 - t0, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "segments": out["segment"].value_counts().sort_index().to_dict(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
