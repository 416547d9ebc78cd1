"""The customer-value section: the fitted model, the CLV distribution and a backtest.

The backtest refits on the history up to ``as_of - holdout`` and compares with the last
``holdout`` days (a third of the history, at most 26 weeks), so the report shows how far the
run's kind of prediction can be trusted on this very data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import psycopg

from etl.errors import SegwiseError
from etl.report import figures
from etl.report.data import first_order_date
from etl.report.html import Charts, esc, table

MAX_HOLDOUT_DAYS = 182


def backtest(conn: psycopg.Connection, model: dict[str, Any], as_of: dt.date) -> dict | str | None:
    """The backtest result, or why there is none (data access: it refits on the warehouse)."""
    from etl.segment.clv_run import backtest_on  # noqa: PLC0415

    first = first_order_date(conn, as_of)
    if first is None:
        return None
    holdout = min(MAX_HOLDOUT_DAYS, (as_of - first).days // 3)
    settings = model["settings"]
    minimum = {
        "customers": int(settings["min_customers"]),
        "repeat_customers": int(settings["min_repeat_customers"]),
    }
    try:
        return backtest_on(
            conn, as_of - dt.timedelta(days=holdout), as_of, model["time_unit"], minimum
        )
    except SegwiseError as exc:
        return str(exc)


def render(data, charts: Charts, colors: dict[str, str], result: dict | str | None) -> str:
    model = data.clv_model
    if model is None:
        return ""
    parts = ["<h2>Customer value (CLV)</h2>"]
    if model["status"] != "fitted":
        parts.append(
            "<p class=err>Customer value was not modelled for this run: "
            f"{esc(model['message'] or '')}</p>"
        )
        return "".join(parts)
    bins = data.clv_bins
    clv_bins = bins[bins["measure"] == "clv"]
    alive = bins[bins["measure"] == "p_alive"]
    if not clv_bins.empty:
        parts.append(
            charts.add(
                figures.histogram(
                    clv_bins,
                    colors,
                    f"Predicted 12-month CLV per customer, by {data.method} segment "
                    "(capped at the 99th percentile)",
                    "predicted 12-month CLV (net revenue)",
                )
            )
        )
    if not alive.empty:
        parts.append(
            charts.add(
                figures.histogram(
                    alive,
                    colors,
                    f"p_alive (probability of buying again), by {data.method} segment",
                    "p_alive (0-1)",
                    (0, 1),
                )
            )
        )
    if data.clv_quantiles:
        q = pd.DataFrame(
            {
                "quantile": ["p10", "p25", "p50", "p75", "p90", "p99"],
                "clv": data.clv_quantiles,
            }
        )
        parts += ["<h3>Predicted 12-month value</h3>", table(q, "{:,.2f}")]
    if isinstance(result, dict):
        h = result["holdout"]
        parts.append(
            f"<h3>Backtest: fitted to {result['calibration_end']}, predicted to "
            f"{result['holdout_end']}</h3><p>Holdout purchases actual {h['actual_total']:,.0f}, "
            f"predicted {h['predicted_total']:,.1f}; mean absolute error "
            f"{h['mean_absolute_error']:.3f} per customer.</p>"
        )
        parts.append(charts.add(figures.backtest(result)))
    elif isinstance(result, str):
        parts.append(f"<p>No backtest: {esc(result)}</p>")
    params = pd.DataFrame(
        [
            ["BG/NBD", "r", model["r"]],
            ["BG/NBD", "alpha", model["alpha"]],
            ["BG/NBD", "a", model["a"]],
            ["BG/NBD", "b", model["b"]],
            ["BG/NBD", "log-likelihood", model["bgnbd_log_likelihood"]],
            ["Gamma-Gamma", "p", model["p"]],
            ["Gamma-Gamma", "q", model["q"]],
            ["Gamma-Gamma", "v", model["v"]],
            ["", "customers", model["customers"]],
            ["", "repeat customers", model["repeat_customers"]],
        ],
        columns=["model", "parameter", "value"],
    )
    params["value"] = pd.to_numeric(params["value"], errors="coerce").astype("float64")
    parts += [
        f"<h3>Model</h3><p>Fitted in {esc(model['time_unit'])}s.</p>",
        table(params, "{:,.4f}"),
    ]
    return "".join(parts)
