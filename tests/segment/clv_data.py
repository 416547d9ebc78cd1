"""Synthetic purchase histories drawn from the BG/NBD process itself (known parameters)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, span: float, seed: int = 1
) -> pd.DataFrame:
    """Purchase times (time units since each customer's first purchase) for n customers.

    Each customer buys at Poisson rate lambda ~ Gamma(r, alpha) and drops out with probability
    p ~ Beta(a, b) after each repeat purchase; observed for T ~ Uniform(0.2, 1) * span.
    Returns customer, t (purchase time) rows and T per customer in ``attrs``.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = np.round(rng.uniform(0.2, 1.0, n) * span)
    rows = []
    for i in range(n):
        t = 0.0
        rows.append((i, 0.0))
        while True:  # drop-out happens only after a repeat purchase, as the model says
            t += rng.exponential(1.0 / lam[i])
            if t > T[i]:
                break
            rows.append((i, float(np.floor(t))))
            if rng.random() < p[i]:
                break
    frame = pd.DataFrame(rows, columns=["customer", "t"])
    frame.attrs["T"] = T
    return frame


def summary_of(frame: pd.DataFrame) -> pd.DataFrame:
    """x, t_x, T per customer from simulated purchase days (same day counted once)."""
    days = frame.drop_duplicates()
    g = days.groupby("customer")["t"]
    T = frame.attrs["T"]
    out = pd.DataFrame({"x": g.size() - 1, "t_x": g.max()})
    out["T"] = T[out.index.to_numpy()]
    out["customer_id"] = out.index.astype(str)
    spend = np.random.default_rng(5).gamma(6.0, 4.0, len(out))  # mean spend varies by customer
    out["monetary"] = np.where(out["x"] > 0, spend, 0.0)
    return out.reset_index(drop=True)


def order_lines(frame: pd.DataFrame, as_of: dt.date, seed: int = 2) -> list[tuple]:
    """The simulated days as warehouse lines (insert_orders format), ending at ``as_of``."""
    rng = np.random.default_rng(seed)
    T = frame.attrs["T"]
    lines = []
    for k, (customer, t) in enumerate(frame.itertuples(index=False)):
        first = as_of - dt.timedelta(days=int(T[customer]))
        day = first + dt.timedelta(days=int(t))
        price = float(np.round(rng.gamma(4.0, 6.0), 2)) + 1.0
        lines.append(
            (f"S{k}", f"C{customer:05d}", f"{day} 10:00", "P1", 1, price, False, "web", "north")
        )
    return lines
