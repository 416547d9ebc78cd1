"""The report's customer-value section: the fitted model, the CLV distribution and a backtest.

The backtest refits on the history up to ``as_of - holdout`` and compares with the last
``holdout`` days (a third of the history, at most 26 weeks), so the report shows how far the
run's kind of prediction can be trusted on this very data.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from etl.errors import SegwiseError  # noqa: E402
from etl.segment.clv_chart import backtest_png  # noqa: E402
from etl.segment.clv_run import backtest_on  # noqa: E402
from etl.segment.frames import read_frame  # noqa: E402

MAX_HOLDOUT_DAYS = 182

Table = Callable[[pd.DataFrame, str], str]
Png = Callable[[plt.Figure], str]


def section(
    conn: psycopg.Connection, run_id: int, as_of: dt.date, table: Table, png: Png, sample: int
) -> list[str]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        model = cur.execute(
            "SELECT * FROM segmentation.clv_models WHERE run_id = %s", (run_id,)
        ).fetchone()
    if model is None:
        return []
    parts = ["<h2>Customer value (CLV)</h2>"]
    if model["status"] != "fitted":
        parts.append(
            "<p class=err>Customer value was not modelled for this run: {}</p>".format(
                html.escape(model["message"] or "")
            )
        )
        return parts
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
    parts.append(f"<p>Fitted in {html.escape(model['time_unit'])}s.</p>")
    parts.append(table(params, "{:,.4f}"))
    values = read_frame(
        conn,
        sql.SQL(
            "SELECT segment, (scores ->> 'p_alive')::float8 AS p_alive, "
            "(scores ->> 'predicted_clv_12m')::float8 AS clv "
            "FROM segmentation.customer_segments WHERE run_id = {} AND method = 'clv' "
            "ORDER BY md5(customer_id) LIMIT {}"
        ).format(sql.Literal(run_id), sql.Literal(sample)),
        dtypes={"segment": str},
    )
    if not values.empty:
        quantiles = values["clv"].quantile([0.1, 0.25, 0.5, 0.75, 0.9, 0.99]).to_frame("clv")
        quantiles.index = [f"p{int(q * 100)}" for q in quantiles.index]
        parts.append("<h3>Predicted 12-month value</h3>")
        parts.append(table(quantiles.reset_index(names="quantile"), "{:,.2f}"))
        fig, axes = plt.subplots(1, 2, figsize=(10, 3))
        cap = values["clv"].quantile(0.99)
        axes[0].hist(values["clv"].clip(upper=cap), bins=50)
        axes[0].set_title("predicted 12-month CLV (capped at p99)", fontsize=9)
        axes[1].hist(values["p_alive"], bins=50)
        axes[1].set_title("p_alive", fontsize=9)
        parts.append(png(fig))
    first = conn.execute(
        "SELECT min(order_date) FROM warehouse.fact_order_line WHERE order_date <= %s",
        (as_of,),
    ).fetchone()[0]
    if first is not None:
        holdout = min(MAX_HOLDOUT_DAYS, (as_of - first).days // 3)
        settings = model["settings"]
        minimum = {
            "customers": int(settings["min_customers"]),
            "repeat_customers": int(settings["min_repeat_customers"]),
        }
        try:
            result = backtest_on(
                conn, as_of - dt.timedelta(days=holdout), as_of, model["time_unit"], minimum
            )
        except SegwiseError as exc:
            parts.append(f"<p>No backtest: {html.escape(str(exc))}</p>")
        else:
            parts.append(_backtest_html(result))
    return parts


def _backtest_html(result: dict[str, Any]) -> str:
    encoded = base64.b64encode(backtest_png(result)).decode("ascii")
    h = result["holdout"]
    return (
        f"<h3>Backtest: fitted to {result['calibration_end']}, predicted to "
        f"{result['holdout_end']}</h3><p>Holdout purchases actual {h['actual_total']:,.0f}, "
        f"predicted {h['predicted_total']:,.1f}; mean absolute error "
        f"{h['mean_absolute_error']:.3f} per customer.</p>"
        f'<img alt="backtest" src="data:image/png;base64,{encoded}">'
    )
