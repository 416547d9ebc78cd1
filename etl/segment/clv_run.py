"""The clv method's I/O: the customer summary from SQL, the model row, labels; and the backtest.

The maths is in ``etl.segment.clv``; this module reads the summary (computed in Postgres by
``sql/segmentation/clv_summary.sql``, customer level only), stores the fitted model in
``segmentation.clv_models`` and returns the labels the pipeline writes. A history too short to
fit, or a fit that does not converge, is logged with its reason and stored as ``not_modelled``:
every customer is then labelled "Not modelled" with no numbers, never a made-up prediction.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from etl.db import connect
from etl.errors import SegwiseError
from etl.paths import read_sql
from etl.segment import clv
from etl.segment.frames import read_frame
from etl.segment.run_config import DEFAULTS

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["p_alive", "expected_purchases_90d", "predicted_clv_12m"]
SUMMARY_DTYPES = {
    "customer_id": "string",
    "x": "int64",
    "t_x": "float64",
    "T": "float64",
    "net_ratio": "float64",
    "monetary": "float64",
}


def settings_of(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return dict(cfg.get("clv") or DEFAULTS["clv"])


def minimum_of(settings: Mapping[str, Any]) -> dict[str, int]:
    return {
        "customers": int(settings["min_customers"]),
        "repeat_customers": int(settings["min_repeat_customers"]),
    }


def read_summary(conn: psycopg.Connection, as_of: dt.date, time_unit: str) -> pd.DataFrame:
    """One row per customer with a purchase on or before ``as_of`` (clv_summary.sql).

    Planned with sorts, not hash aggregates: the planner underestimates the customer-days
    (millions) and picks hash tables that spill; sorting was 2-3x faster at 1M customers.
    The setting is local to the transaction and restored after the read.
    """
    query = psycopg.sql.SQL(read_sql("segmentation/clv_summary.sql"))
    params = {"as_of": as_of, "unit_days": clv.DAYS_PER_UNIT[time_unit]}
    hashagg = conn.execute("SELECT current_setting('enable_hashagg')").fetchone()[0]
    conn.execute("SELECT set_config('enable_hashagg', 'off', true)")
    frame = read_frame(conn, query, params, dtypes=SUMMARY_DTYPES)
    conn.execute("SELECT set_config('enable_hashagg', %s, true)", (hashagg,))
    frame["customer_id"] = frame["customer_id"].astype(object)
    return frame


def label_run(
    conn: psycopg.Connection, run_id: int, as_of: dt.date, cfg: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Labels (customer_id, segment, segment_id, scores) for the run's customers, and metrics.

    The models are fitted on every customer with a purchase by the as-of date; the run's
    customers (those with features) get the predictions.
    """
    settings = settings_of(cfg)
    conn.execute("DELETE FROM segmentation.clv_models WHERE run_id = %s", (run_id,))
    t_read = time.perf_counter()
    customers = read_frame(
        conn,
        psycopg.sql.SQL(
            "SELECT customer_id FROM segmentation.customer_features WHERE run_id = {}"
        ).format(psycopg.sql.Literal(run_id)),
        dtypes={"customer_id": "string"},
    )
    customers["customer_id"] = customers["customer_id"].astype(object)
    summary = read_summary(conn, as_of, settings["time_unit"])
    t0 = time.perf_counter()
    log.info("run %s: clv summary: %d customers, %.1f s", run_id, len(summary), t0 - t_read)
    try:
        model = clv.fit(summary, settings["time_unit"], minimum_of(settings))
    except clv.ClvFitError as exc:
        log.warning("run %s: customer value not modelled: %s", run_id, exc)
        _store_model(conn, run_id, settings, summary, None, str(exc), time.perf_counter() - t0)
        out = customers.assign(
            segment=clv.NOT_MODELLED, segment_id=clv.LABEL_IDS[clv.NOT_MODELLED], scores="{}"
        )
        return out, {"status": "not_modelled", "message": str(exc)}
    seconds = time.perf_counter() - t0
    _store_model(conn, run_id, settings, summary, model, None, seconds)
    scored = summary.merge(customers, on="customer_id", how="inner")
    if len(scored) != len(customers):
        raise SegwiseError(
            f"run {run_id}: {len(customers) - len(scored)} customers with features have no "
            "purchase in the CLV summary"
        )
    t_predict = time.perf_counter()
    predictions = clv.predict(model, scored, settings)
    labelled = clv.value_tiers(predictions, settings)
    labelled["scores"] = _scores(labelled)
    t_done = time.perf_counter()
    metrics = {
        "status": "fitted",
        "r": model.bgnbd.r,
        "alpha": model.bgnbd.alpha,
        "a": model.bgnbd.a,
        "b": model.bgnbd.b,
        "log_likelihood": model.bgnbd.log_likelihood,
        "p": model.gamma_gamma.p,
        "q": model.gamma_gamma.q,
        "v": model.gamma_gamma.v,
        "summary_seconds": round(t0 - t_read, 3),
        "fit_seconds": round(seconds, 3),
        "predict_seconds": round(t_done - t_predict, 3),
    }
    return labelled[["customer_id", "segment", "segment_id", "scores"]], metrics


def _scores(frame: pd.DataFrame) -> np.ndarray:
    """The scores jsonb text, rounded (one %-format per customer over plain floats, about twice
    as fast as concatenating string columns; the numbers are finite by construction)."""
    columns = []
    for column, digits in zip(SCORE_COLUMNS, (6, 4, 2), strict=True):
        values = frame[column].to_numpy("float64")
        if not np.isfinite(values).all():
            raise SegwiseError(f"clv produced a non-finite {column}: the fit is not usable")
        columns.append(np.round(values, digits).tolist())
    template = "{" + ", ".join(f'"{c}": %r' for c in SCORE_COLUMNS) + "}"
    return np.array([template % row for row in zip(*columns, strict=True)], dtype=object)


def _store_model(
    conn: psycopg.Connection,
    run_id: int,
    settings: Mapping[str, Any],
    summary: pd.DataFrame,
    model: clv.ClvModel | None,
    message: str | None,
    seconds: float,
) -> None:
    row: dict[str, Any] = {
        "run_id": run_id,
        "status": "fitted" if model else "not_modelled",
        "message": message,
        "time_unit": settings["time_unit"],
        "customers": len(summary),
        "repeat_customers": int((summary["x"] > 0).sum()),
        "fit_seconds": seconds,
        "settings": Jsonb(dict(settings)),
        "diagnostics": Jsonb({}),
    }
    for key in ("r", "alpha", "a", "b", "p", "q", "v"):
        row[key] = None
    row.update(
        bgnbd_log_likelihood=None, gamma_gamma_log_likelihood=None, gamma_gamma_customers=None
    )
    if model is not None:
        bg, gg = model.bgnbd, model.gamma_gamma
        row.update(r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b, bgnbd_log_likelihood=bg.log_likelihood)
        row.update(p=gg.p, q=gg.q, v=gg.v, gamma_gamma_log_likelihood=gg.log_likelihood)
        row["gamma_gamma_customers"] = gg.customers
        row["diagnostics"] = Jsonb(
            {
                **model.diagnostics,
                "bgnbd_iterations": bg.iterations,
                "gamma_gamma_iterations": gg.iterations,
                "optimiser": "L-BFGS-B on log parameters, analytic gradients",
            }
        )
    columns = list(row)
    conn.execute(
        psycopg.sql.SQL("INSERT INTO segmentation.clv_models ({}) VALUES ({})").format(
            psycopg.sql.SQL(", ").join(psycopg.sql.Identifier(c) for c in columns),
            psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder(c) for c in columns),
        ),
        row,
    )


# ----------------------------------------------------------------------------------- backtest


def run_backtest(
    url: str,
    calibration_end: dt.date,
    holdout_end: dt.date,
    time_unit: str = "week",
    minimum: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Fit on purchases up to ``calibration_end``; compare with the holdout's actual purchases."""
    if holdout_end <= calibration_end:
        raise SegwiseError(
            f"--holdout-end {holdout_end} must be after --calibration-end {calibration_end}"
        )
    if time_unit not in clv.DAYS_PER_UNIT:
        raise SegwiseError(f"time unit {time_unit!r}: use day or week")
    with connect(url) as conn:
        return backtest_on(conn, calibration_end, holdout_end, time_unit, minimum)


def backtest_on(
    conn: psycopg.Connection,
    calibration_end: dt.date,
    holdout_end: dt.date,
    time_unit: str,
    minimum: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """``run_backtest`` on an open connection (the report runs one in its own transaction)."""
    minimum = dict(minimum or minimum_of(DEFAULTS["clv"]))
    summary = read_summary(conn, calibration_end, time_unit)
    holdout = read_frame(
        conn,
        psycopg.sql.SQL(read_sql("segmentation/clv_holdout.sql")),
        {"calibration_end": calibration_end, "holdout_end": holdout_end},
        dtypes={"customer_id": "string", "actual": "int64"},
    )
    holdout["customer_id"] = holdout["customer_id"].astype(object)
    try:
        model = clv.fit(summary, time_unit, minimum)
    except clv.ClvFitError as exc:
        raise SegwiseError(f"no CLV model for calibration ending {calibration_end}: {exc}") from exc
    horizon = (holdout_end - calibration_end).days / clv.DAYS_PER_UNIT[time_unit]
    metrics = clv.backtest(model, summary, holdout, horizon)
    bg, gg = model.bgnbd, model.gamma_gamma
    return {
        "calibration_end": calibration_end.isoformat(),
        "holdout_end": holdout_end.isoformat(),
        "time_unit": time_unit,
        "bgnbd": {
            "r": bg.r,
            "alpha": bg.alpha,
            "a": bg.a,
            "b": bg.b,
            "log_likelihood": bg.log_likelihood,
        },
        "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v},
        "customers": model.customers,
        "repeat_customers": model.repeat_customers,
        "gamma_gamma_customers": gg.customers,
        "holdout": {k: v for k, v in metrics.items() if k != "per_customer"},
        "per_customer": metrics["per_customer"],
    }
