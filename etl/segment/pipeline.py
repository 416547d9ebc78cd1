"""The segmentation stages, one function per stage (what `segwise run` and the DAG's tasks call).

Each stage is one transaction that first deletes whatever an earlier attempt of the same stage
left for the run, so an Airflow retry is safe. Results are written under the run's id and stay
invisible until ``publish`` flips the run to ``published`` and, in the same transaction, deletes
the rows of the run it replaces. A run that fails keeps the previous published run visible.

Run statuses: ``running`` (stages in progress) -> ``succeeded`` (all stages done, not yet
visible) -> ``published`` (what ``mart`` shows for its date); ``superseded`` (a later run of the
same date was published); ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from etl.db import connect, local_settings, transaction
from etl.errors import SegwiseError
from etl.paths import model, read_sql
from etl.quality_record import CHEAP, FULL_SCAN
from etl.segment import features, lanes, lifecycle, runs, time_marts
from etl.segment import run_config as seg_config
from etl.segment.features import RUN_STATISTICS
from etl.segment.frames import copy_frame, read_frame
from etl.segment.profile_sql import NO_JIT
from etl.segment.rfm import rfm_segments
from etl.segment.side_connection import side_connection
from etl.segment.tiers import size_tiers

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

FEATURE_DTYPES: dict[str, Any] = {
    "customer_id": str,
    "recency_days": "int64",
    "frequency": "int64",
    "monetary": "float64",
    "gross_revenue": "float64",
    "returns_value": "float64",
    "return_orders": "int64",
    "return_rate": "float64",
    "tenure_days": "int64",
    "avg_order_value": "float64",
    "mean_days_between_orders": "float64",
    "total_quantity": "float64",
    "distinct_products": "int64",
    "distinct_shops": "int64",
    "distinct_categories": "int64",
    "window_orders": "int64",
    "window_revenue": "float64",
}
NUMERIC_FEATURES = [c for c in FEATURE_DTYPES if c != "customer_id"]
SEGMENT_COLUMNS = ["run_id", "method", "customer_id", "segment_id", "segment", "scores"]


@contextmanager
def _stage(url: str, run_id: int, stage: str) -> Iterator[tuple[psycopg.Connection, dict]]:
    """One stage's transaction; yields (conn, run) with the run checked and heartbeat sent.

    The run row is not locked during the stage, so method stages of one run can run in
    parallel (Airflow tasks); ``stage_done`` re-checks the status when it records the stage.
    """
    with connect(url, autocommit=True) as beat:
        runs.require_running(runs.get_run(beat, run_id), stage)
        runs.stage_begin(beat, run_id, stage)
    with transaction(url) as conn:
        run = runs.get_run(conn, run_id)
        _set_work_mem(conn, run)
        yield conn, run


def _set_work_mem(conn: psycopg.Connection, run: Mapping[str, Any]) -> None:
    """The run's work_mem (its ``work_mem`` parameter), for the rest of the transaction."""
    work_mem = run["params"].get("work_mem", seg_config.DEFAULTS["work_mem"])
    conn.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))


# --------------------------------------------------------------------------------- start_run


def start_run(
    url: str,
    as_of: dt.date,
    *,
    methods: list[str] | tuple[str, ...] | str | None = None,
    config: str | Path | Mapping[str, Any] | None = None,
    trigger: str = "cli",
    params: Mapping[str, Any] | None = None,
    owner_pid: int | None = None,
    replace: bool = False,
) -> int:
    """Validate everything, then record a ``running`` run holding its date's lock; its id.

    ``config`` is a YAML path or a mapping; ``params`` (e.g. the Airflow trigger form) override
    it key by key. Nothing is written when validation fails. ``owner_pid``: the session holding
    ``runs.hold_owner_lock`` for this run. ``replace``: publishing drops the date's published
    results of methods this run does not compute (default: they are carried forward).
    """
    overrides = seg_config.load_config(config)
    for key, value in (params or {}).items():
        if isinstance(overrides.get(key), dict) and isinstance(value, Mapping):
            overrides[key] = {**overrides[key], **value}
        else:
            overrides[key] = value
    cfg = seg_config.resolve(overrides, methods)
    with transaction(url) as conn:
        _check_warehouse(conn, as_of, cfg)
        _resolve_tier_preset(conn, cfg)
        run_id = runs.acquire(
            conn,
            as_of,
            trigger=trigger,
            methods=cfg["methods"],
            params={**seg_config.to_params(cfg), "replace": bool(replace)},
            lock_timeout_minutes=cfg["lock_timeout_minutes"],
            owner_pid=owner_pid,
        )
    log.info("run %s started for %s: %s", run_id, as_of, ", ".join(cfg["methods"]))
    return run_id


def _check_warehouse(conn: psycopg.Connection, as_of: dt.date, cfg: Mapping[str, Any]) -> None:
    if conn.execute("SELECT to_regclass('segmentation.runs')").fetchone()[0] is None:
        raise SegwiseError("the warehouse has no segmentation tables: run `segwise db upgrade`")
    first = conn.execute(
        "SELECT min(order_date) FROM warehouse.fact_order WHERE customer_id IS NOT NULL "
        "AND n_sale_lines > 0"
    ).fetchone()[0]
    if first is None:
        from etl.usecases.personality import line_methods_unavailable

        if message := line_methods_unavailable(conn):
            raise SegwiseError(message)
        raise SegwiseError(
            "the warehouse has no sales with a customer id: load data first "
            "(`segwise load PATH --layout NAME`)"
        )
    if as_of < first:
        raise SegwiseError(
            f"as-of date {as_of} is before all data (first sale {first}): choose --as-of "
            f"{first} or later"
        )
    cl = cfg["clustering"]
    if any(m in cfg["methods"] for m in seg_config.CLUSTER_METHODS):
        need = cl["k"] if cl["k"] is not None else cl["k_range"][1]
        # Counted only up to need + 1 (a walk of the customer/date index that stops there): a
        # full count(DISTINCT) took 3.6 s at 4M orders, on every run.
        customers = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT customer_id FROM warehouse.fact_order "
            "WHERE customer_id IS NOT NULL AND n_sale_lines > 0 AND order_date <= %s "
            "LIMIT %s) AS c",
            (as_of, need + 1),
        ).fetchone()[0]
        if customers <= need:
            raise SegwiseError(
                f"clustering needs more customers than clusters: {customers} customers as of "
                f"{as_of} but k up to {need}; lower clustering.k / clustering.k_range or drop "
                "kmeans/hierarchical from --methods"
            )
        cols = cl["feature_columns"]
        if cols:
            bad = [c for c in cols if c not in NUMERIC_FEATURES]
            if bad:
                raise SegwiseError(
                    f"clustering.feature_columns: unknown column(s) {bad}; choose from "
                    f"{NUMERIC_FEATURES}"
                )


def _resolve_tier_preset(conn: psycopg.Connection, cfg: dict[str, Any]) -> None:
    """``auto``: the food-delivery seed's thresholds when that is the only layout loaded."""
    tiers = cfg["tiers"]
    if tiers["preset"] != "auto":
        return
    layouts = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT layout FROM staging.load_batches WHERE status = 'succeeded'"
        )
    }
    if layouts == {"food_delivery"}:
        tiers.update(seg_config.FOOD_DELIVERY_TIERS)
        tiers["preset"] = "food_delivery"
    else:
        tiers["preset"] = "quantile"


# ------------------------------------------------------------------------------ build_features


def build_features(url: str, run_id: int) -> int:
    """Customer features and category revenue as of the run's date, all in SQL; customers."""
    t0 = time.perf_counter()
    with (
        _stage(url, run_id, "features") as (conn, run),
        side_connection(url, lambda side: _set_work_mem(side, run)) as alongside,
    ):
        as_of = run["as_of_date"]
        window = run["params"]["tiers"].get("window_days")
        window_start = as_of - dt.timedelta(days=window - 1) if window else None
        conn.execute("DELETE FROM segmentation.customer_features WHERE run_id = %s", (run_id,))
        # the time marts' aggregates: batches loaded without the build's refresh, and this
        # run's fiscal year setting
        time_marts.refresh(
            conn, fiscal_year_start_month=run["params"].get("fiscal_year_start_month")
        )
        done = features.insert_features(
            conn,
            run_id,
            as_of,
            window_start,
            use_state=run["params"].get("customer_state", True),
            alongside=alongside,
        )
        customers = int(done["customers"])
        if customers == 0:
            raise SegwiseError(f"no customer has a sale on or before {as_of}")
        # Fresh statistics, or the planner nested-loops over a million new rows.
        with local_settings(conn, RUN_STATISTICS):
            conn.execute("ANALYZE segmentation.customer_features")
        runs.stage_done(
            conn,
            run_id,
            "features",
            seconds=time.perf_counter() - t0,
            rows={
                "customers": customers,
                "customer_category_revenue": int(done["customer_category_revenue"]),
            },
            metrics={"features": {"source": done["source"]}},
        )
    return customers


def read_features(
    conn: psycopg.Connection, run_id: int, columns: list[str] | None = None
) -> pd.DataFrame:
    """This run's customer features (customer level only), via COPY."""
    cols = ["customer_id", *(columns or NUMERIC_FEATURES)]
    query = sql.SQL(
        "SELECT {} FROM segmentation.customer_features WHERE run_id = {} ORDER BY customer_id"
    ).format(sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Literal(run_id))
    return read_frame(conn, query, dtypes={c: FEATURE_DTYPES[c] for c in cols})


# ---------------------------------------------------------------------------------- run_method


def run_method(url: str, run_id: int, method: str) -> int:
    """Label every customer of the run with one method; returns the customers labelled."""
    if method not in seg_config.METHODS:
        raise SegwiseError(
            f"unknown method {method!r}: choose from {', '.join(seg_config.METHODS)}"
        )
    t0 = time.perf_counter()
    stage = f"method:{method}"
    with _stage(url, run_id, stage) as (conn, run):
        if method not in run["methods"]:
            raise SegwiseError(f"run {run_id} was started without method {method}")
        if "features" not in run["stages_done"]:
            raise SegwiseError(f"run {run_id}: build_features must finish before {method}")
        cfg = seg_config.from_params(run["params"])
        conn.execute(
            "DELETE FROM segmentation.memberships WHERE run_id = %s AND method = %s",
            (run_id, method),
        )
        runs.register_method(conn, run_id, method)
        conn.execute(
            "DELETE FROM segmentation.cluster_models WHERE run_id = %s AND method = %s",
            (run_id, method),
        )
        metrics: dict[str, Any] = {}
        written: int | None = None
        if method in ("demographic", "channel"):
            written = conn.execute(
                read_sql(f"segmentation/segments_{method}.sql"),
                {"run_id": run_id, "as_of": run["as_of_date"]},
            ).rowcount
        elif method == "lifecycle":
            rules = cfg.get("lifecycle", seg_config.DEFAULTS["lifecycle"])
            metrics = {"monthly": lifecycle.label(conn, run_id, run["as_of_date"], rules)}
        else:
            labels, metrics = _compute(conn, run_id, method, cfg, run["as_of_date"])
            written = copy_frame(conn, ("segmentation", "memberships"), labels, SEGMENT_COLUMNS)
        labelled, customers = _labelled(conn, run, method, written)
        if labelled != customers:
            raise SegwiseError(
                f"run {run_id}: method {method} labelled {labelled} of {customers} customers"
            )
        runs.stage_done(
            conn,
            run_id,
            stage,
            seconds=time.perf_counter() - t0,
            rows={f"segments_{method}": labelled},
            metrics={method: metrics} if metrics else None,
        )
    return labelled


def _labelled(
    conn: psycopg.Connection, run: Mapping[str, Any], method: str, written: int | None
) -> tuple[int, int]:
    """(customers the method labelled, customers of the run). The rows this stage wrote are
    the method's rows of the run (it deleted any earlier ones, and the primary key allows one
    per customer), and the features stage recorded the run's customers: counting both again
    read 2 x 382k rows per method (0.4 s each at 10M demo lines)."""
    customers = (run.get("row_counts") or {}).get("customers")
    if written is not None and customers is not None:
        return written, int(customers)
    return conn.execute(
        "SELECT (SELECT count(*) FROM segmentation.memberships "
        "        WHERE run_id = %(r)s AND method = %(m)s), "
        "       (SELECT count(*) FROM segmentation.customer_features WHERE run_id = %(r)s)",
        {"r": run["run_id"], "m": method},
    ).fetchone()


def _scores_json(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A jsonb text column from a few small columns (vectorised; no per-row json.dumps)."""
    parts = []
    for c in columns:
        values = frame[c]
        if values.dtype == object:
            text = ('"' + values.astype(str) + '"').where(values.notna(), "null")
        else:
            text = values.astype(str)
        parts.append(f'"{c}": ' + text)
    out = parts[0]
    for part in parts[1:]:
        out = out + ", " + part
    return "{" + out + "}"


def _compute(
    conn: psycopg.Connection, run_id: int, method: str, cfg: Mapping[str, Any], as_of: dt.date
) -> tuple[pd.DataFrame, dict[str, Any]]:
    metrics: dict[str, Any] = {}
    if method == "rfm":
        feats = read_features(conn, run_id, ["recency_days", "frequency", "monetary"])
        order = list(cfg["rfm"]["segments"])
        out = rfm_segments(feats, cfg["rfm"]["cells"], order)
        out["scores"] = _scores_json(out, ["r", "f", "m", "rfm"])
    elif method == "tiers":
        feats = read_features(conn, run_id, ["window_orders", "window_revenue"])
        out = size_tiers(feats, cfg["tiers"])
        out["scores"] = _scores_json(out, ["orders_tier", "revenue_tier"])
    elif method == "clv":
        from etl.segment.clv_run import label_run

        out, metrics = label_run(conn, run_id, as_of, cfg)
    else:
        out, metrics = _cluster(conn, run_id, method, cfg)
    out["run_id"] = run_id
    out["method"] = method
    return out, metrics


def _cluster(
    conn: psycopg.Connection, run_id: int, method: str, cfg: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit (or reuse, ``clustering.refit_days``) the run's clusters; store the model."""
    from etl.segment.clustering import (
        MATCH_MAX_DISTANCE,
        assign_to_model,
        continue_previous,
        fit_clusters,
        match_to_previous,
        settings_for,
    )

    cl = cfg["clustering"]
    feats = read_features(conn, run_id, _cluster_columns(cl["feature_columns"]))
    args: dict[str, Any] = {
        "method": method,
        "k": cl["k"],
        "k_range": tuple(cl["k_range"]),
        "feature_columns": cl["feature_columns"],
        "seed": cl["seed"],
        "sample_size": cl["sample_size"],
    }
    previous = _previous_clusters(conn, run_id, method)
    # runs started before the setting existed refit, as they did then
    refit_days = int(cl.get("refit_days", 0))
    reason = _reuse_problem(previous, settings_for(feats, **args), refit_days)
    result = None
    if reason is None and previous is not None:
        result = assign_to_model(feats, previous["model"], seed=cl["seed"])
        if result.params["empty_clusters"]:
            reason = (
                f"cluster(s) {result.params['empty_clusters']} of the stored model would have "
                "no customer"
            )
            result = None
    reuse: dict[str, Any] = {"refit_days": refit_days}
    if result is None:
        result = fit_clusters(feats, **args)
        result = match_to_previous(
            result,
            previous["profile"] if previous else None,
            cl.get("match_max_distance", MATCH_MAX_DISTANCE),
        )
        model = result.params["model"]
        model["fitted_by_run"] = int(run_id)
        model["fitted_on"] = _run_as_of(conn, run_id).isoformat()
        model["fit_silhouette"] = _finite(result.silhouette)
        model["fit_stability_ari"] = _finite(result.stability_ari)
        reuse.update(reused=False, refit_reason=reason)
    else:
        result = continue_previous(result, previous["profile"] if previous else None)
        model = result.params["model"]
        # nothing was fitted: the stability is the model's, measured when it was fitted
        result.stability_ari = _nan(model.get("fit_stability_ari"))
        result.params["stability_ari"] = model.get("fit_stability_ari")
        reuse.update(
            reused=True,
            model_fitted_by_run=model["fitted_by_run"],
            model_fitted_on=model["fitted_on"],
            read_from_run=previous["run_id"],
            model_age_days=previous["age_days"],
            stability_ari="the model's, measured when it was fitted (not re-measured)",
            silhouette=(
                f"on a random sample of {result.params['silhouette_sample_rows']} customers "
                "labelled by the stored model"
            ),
        )
    result.params["reuse"] = reuse
    labels = result.labels
    out = pd.DataFrame(
        {
            "customer_id": labels["customer_id"].astype(str).to_numpy(),
            "segment_id": labels["cluster_id"].astype("int64").to_numpy(),
            "segment": labels["cluster_name"].astype(str).to_numpy(),
        }
    )
    out["scores"] = "{}"
    profile = result.profile.to_json(orient="records", date_format="iso")
    metrics = {
        "k": int(result.k),
        "silhouette": _finite(result.silhouette),
        "stability_ari": _finite(result.stability_ari),
        "model": "reused" if reuse["reused"] else "fitted",
        "reused_model_of_run": reuse.get("model_fitted_by_run"),
        "refit_reason": reuse.get("refit_reason"),
    }
    conn.execute(
        "INSERT INTO segmentation.cluster_models "
        "(run_id, method, k, silhouette, stability_ari, params, profile) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
        (
            run_id,
            method,
            metrics["k"],
            metrics["silhouette"],
            metrics["stability_ari"],
            Jsonb(_jsonable(result.params)),
            profile,
        ),
    )
    return out, metrics


def _cluster_columns(feature_columns: list[str] | None) -> list[str] | None:
    """The feature columns clustering reads (plus monetary, the renumbering key); None = all,
    when a configured column is not a known feature (``fit_clusters`` then names it)."""
    from etl.segment.clustering import DEFAULT_FEATURES

    columns = list(feature_columns or [c for c in DEFAULT_FEATURES if c in FEATURE_DTYPES])
    if not all(c in FEATURE_DTYPES and c != "customer_id" for c in columns):
        return None
    return list(dict.fromkeys([*columns, "monetary"]))


def _run_as_of(conn: psycopg.Connection, run_id: int) -> dt.date:
    return conn.execute(
        "SELECT as_of_date FROM segmentation.runs WHERE run_id = %s", (run_id,)
    ).fetchone()[0]


def _previous_clusters(conn: psycopg.Connection, run_id: int, method: str) -> dict[str, Any] | None:
    """The clustering of the latest published run up to this run's date: its ``profile`` (ids to
    keep), its stored ``model`` (``params.model``), ``run_id`` and the model's ``age_days``."""
    row = conn.execute(
        "SELECT m.run_id, m.profile, m.params -> 'model', r.as_of_date "
        "FROM segmentation.cluster_models m "
        "JOIN segmentation.runs p ON p.run_id = m.run_id "
        "JOIN segmentation.runs r ON r.run_id = %s "
        "WHERE m.method = %s AND p.status = 'published' AND p.as_of_date <= r.as_of_date "
        "ORDER BY p.as_of_date DESC, p.run_id DESC LIMIT 1",
        (run_id, method),
    ).fetchone()
    if row is None:
        return None
    source, profile, model, as_of = row
    age = None
    if model and model.get("fitted_on"):
        age = (as_of - dt.date.fromisoformat(model["fitted_on"])).days
    return {
        "run_id": int(source),
        "profile": pd.DataFrame(profile) if profile else None,
        "model": model,
        "age_days": age,
    }


def _reuse_problem(
    previous: Mapping[str, Any] | None, settings: Mapping[str, Any], refit_days: int
) -> str | None:
    """Why this run fits a new model instead of reusing the previous run's; None = reuse."""
    from etl.segment.clustering import reuse_problem

    if refit_days <= 0:
        return "clustering.refit_days is 0: every run fits"
    if previous is None:
        return "no published clustering of this method on or before the run's date"
    problem = reuse_problem(previous["model"], settings)
    if problem:
        return problem
    age = previous["age_days"]
    if age is None:
        return "the stored model has no fitting date"
    if age == 0:
        # A fit is deterministic: refitting reproduces the date's published labels exactly,
        # while a Ward model's nearest-centroid assignment can differ from its own fit's labels.
        return "the stored model was fitted for this date: a refit reproduces it exactly"
    if not 0 < age < refit_days:
        return (
            f"the stored model was fitted {age} day(s) before the run's date; "
            f"clustering.refit_days = {refit_days}"
        )
    return None


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _finite(value: Any) -> float | None:
    """NaN (undefined silhouette/ARI) becomes NULL: jsonb and SQL have no NaN-safe JSON."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=lambda o: getattr(o, "tolist", lambda: str(o))()))


# ------------------------------------------------------------------------------ build_profiles


def build_profiles(url: str, run_id: int) -> int:
    """Per-segment profiles (and demographic/channel cross profiles); marks the run succeeded.

    The channel profiles, the longest statement, run on a second connection alongside the
    segment and demographic profiles (each backend uses one core): about half the stage's
    time on two cores. They commit just before the stage does, and only when the rest of the
    stage succeeded (a crash between the two commits leaves a run that never succeeded; failing
    it deletes its rows, ``runs.fail``)."""
    t0 = time.perf_counter()
    with connect(url, autocommit=True) as conn, conn.transaction():
        # committed first, so that both connections plan with the run's segments counted
        with local_settings(conn, RUN_STATISTICS):
            conn.execute("ANALYZE segmentation.memberships, segmentation.run_methods")
    with _stage(url, run_id, "profiles") as (conn, run):
        missing = [m for m in run["methods"] if f"method:{m}" not in run["stages_done"]]
        if missing:
            raise SegwiseError(f"run {run_id}: methods {missing} have not finished")
        cfg = seg_config.from_params(run["params"])
        aside = "channel" in run["methods"]
        for table in ("segment_profiles", "demographic_profiles", "channel_profiles"):
            if aside and table == "channel_profiles":
                continue  # replaced by the side connection
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE run_id = %s").format(
                    sql.Identifier("segmentation", table)
                ),
                (run_id,),
            )
        actions = {
            "rfm": cfg["rfm"].get("actions") or {},
            "tiers": cfg["tiers"].get("actions") or {},
            "clv": (cfg.get("clv") or {}).get("actions") or {},
        }
        with side_connection(url, lambda side: _set_work_mem(side, run)) as alongside:
            if aside:
                from etl.segment import profiles_channel

                channel_rows = alongside(lambda side: profiles_channel.build(side, run_id))
            with local_settings(conn, NO_JIT):
                profiles = conn.execute(_segment_profiles(conn, run_id, actions)).rowcount
            rows = {"segment_profiles": profiles}
            if "demographic" in run["methods"]:
                from etl.segment import profiles_demographic

                rows["demographic_profiles"] = profiles_demographic.build(conn, run_id)
            if aside:
                rows["channel_profiles"] = channel_rows()
            runs.stage_done(
                conn,
                run_id,
                "profiles",
                seconds=time.perf_counter() - t0,
                rows=rows,
            )
            conn.execute(
                "UPDATE segmentation.runs SET status = 'succeeded', finished_at = now() "
                "WHERE run_id = %s",
                (run_id,),
            )
        # the side connection has committed; the stage's own commit follows
    return profiles


def _segment_profiles(
    conn: psycopg.Connection, run_id: int, actions: Mapping[str, Any]
) -> sql.Composed:
    """``sql/segmentation/segment_profiles.sql`` over the run's members table."""
    from etl.segment import profile_members

    members, methods = profile_members.ensure(conn, run_id)
    others = [m for m in methods if m != "rfm"]
    if "rfm" in methods and others:
        dominant = profile_members.grouping(others, [profile_members.column("rfm")], whole=False)
        rfm_segment: sql.Composable = profile_members.column("rfm")
    else:  # no RFM segment to name: one empty group, filtered out
        dominant = {
            "sets": sql.SQL("()"),
            "method": sql.SQL("NULL::text"),
            "segment": sql.SQL("NULL::text"),
        }
        rfm_segment = sql.SQL("NULL::text")
    return model(
        "segmentation/segment_profiles.sql",
        actions=sql.Literal(Jsonb(dict(actions))),
        members=members,
        run_id=sql.Literal(int(run_id)),
        rfm_segment=rfm_segment,
        dominant_sets=dominant["sets"],
        dominant_method=dominant["method"],
        dominant_segment=dominant["segment"],
        cat_keys=profile_members.cell_keys(methods, ["c.category"]),
        top_sets=profile_members.grouping(methods, ["m.category"], whole=False)["sets"],
        **profile_members.segment_ids(methods),
        **profile_members.grouping(methods, whole=False),
    )


# ------------------------------------------------------------------------------------ publish


def publish(url: str, run_id: int) -> None:
    """Make the run the visible one for its date, in one transaction.

    Supersedes (and deletes the rows of) the date's previous runs, records segment migration
    against the previously published earlier date, releases the date's lock.
    """
    t0 = time.perf_counter()
    with transaction(url) as conn:
        run = runs.get_run(conn, run_id, for_update=True)
        as_of = run["as_of_date"]
        runs.lock_date(conn, as_of)
        _set_work_mem(conn, run)
        if run["status"] != "succeeded":
            raise SegwiseError(
                f"run {run_id} is {run['status']}: only a succeeded run (all stages done) can "
                "be published"
            )
        if not runs.holds_lock(conn, run_id, as_of):
            raise SegwiseError(
                f"run {run_id} no longer holds the lock for {as_of} (taken over after its "
                "lock timeout): start a new run"
            )
        older = [
            r[0]
            for r in conn.execute(
                "SELECT run_id FROM segmentation.runs WHERE as_of_date = %s AND run_id <> %s "
                "AND status IN ('published', 'succeeded', 'failed', 'superseded')",
                (as_of, run_id),
            )
        ]
        carried = {} if run["params"].get("replace") else _carry_forward(conn, run)
        previous = conn.execute(
            "SELECT run_id FROM segmentation.runs WHERE status = 'published' "
            "AND as_of_date < %s "
            "AND NOT coalesce((metrics ->> 'customer_rows_pruned')::boolean, false) "
            "ORDER BY as_of_date DESC, run_id DESC LIMIT 1",
            (as_of,),
        ).fetchone()
        history_kept: list[str] = []
        if previous is not None:
            for name in HISTORY_TABLES:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE run_id = %s").format(
                        sql.Identifier("segmentation", name)
                    ),
                    (run_id,),
                )
            history_kept = _carry_history(conn, run_id, carried, previous[0])
        conn.execute(
            "UPDATE segmentation.runs SET status = 'superseded' "
            "WHERE run_id = ANY(%s) AND status IN ('published', 'succeeded')",
            (older,),
        )
        runs.delete_results(conn, older)
        rows: dict[str, int] = {}
        if previous is not None:
            methods = [m for m in [*run["methods"], *carried] if m not in history_kept]
            rows = write_history(conn, run_id, previous[0], methods)
        conn.execute(
            "UPDATE segmentation.runs SET status = 'published', published_at = now() "
            "WHERE run_id = %s",
            (run_id,),
        )
        from etl.usecases.food import on_publish  # the use cases' generated views

        on_publish(conn)
        runs.stage_done(
            conn,
            run_id,
            "publish",
            seconds=time.perf_counter() - t0,
            rows=rows,
            metrics={"history_carried_from": {m: carried[m] for m in history_kept}}
            if history_kept
            else None,
        )
        conn.execute(
            "DELETE FROM segmentation.run_locks WHERE as_of_date = %s AND run_id = %s",
            (as_of, run_id),
        )
        pruned = runs.prune_customer_rows(
            conn, run["params"].get("keep_customer_rows_for_dates", 30)
        )
        if pruned:
            log.info("retention: customer-level rows of runs %s deleted", pruned)
    log.info("run %s published for %s (replaced runs %s)", run_id, as_of, older or "none")
    if carried:
        log.info("run %s: kept the published results of %s", run_id, carried)


# Per-method result tables: a method's rows move as a whole when it is carried forward (the
# memberships stay where they are: the run refers to them, runs.keep_methods).
CARRIED_TABLES = (
    "segment_profiles",
    "cluster_models",
    "demographic_profiles",
    "channel_profiles",
)


def _carry_forward(conn: psycopg.Connection, run: Mapping[str, Any]) -> dict[str, int]:
    """Keep the date's published results of the methods this run did not compute.

    A run with fewer methods than the date's published run would otherwise blank the other
    methods in ``mart``. Inside ``publish``'s transaction the run comes to show their
    memberships (a reference to the run that computed them, ``runs.keep_methods``: moving five
    methods' rows cost 10-12 s at 381k customers), their per-segment rows move to this run,
    and the run lists them in ``methods`` and ``metrics.carried_forward`` = {method: run they
    came from}; they keep the numbers of the run that computed them. ``--replace`` drops them
    instead. Returns {method: source run}."""
    previous = conn.execute(
        "SELECT run_id, methods FROM segmentation.runs WHERE as_of_date = %s "
        "AND status = 'published' AND run_id <> %s",
        (run["as_of_date"], run["run_id"]),
    ).fetchone()
    if previous is None:
        return {}
    source, methods = previous
    missing = [m for m in methods if m not in run["methods"]]
    if not missing:
        return {}
    runs.keep_methods(conn, run["run_id"], source, missing)
    for table in CARRIED_TABLES:
        # A cross-profile table is the output of its own method: all of it goes with it.
        whole = table.removesuffix("_profiles") in missing
        conn.execute(
            sql.SQL(
                "UPDATE {} SET run_id = %s WHERE run_id = %s AND (method = ANY(%s) OR %s)"
            ).format(sql.Identifier("segmentation", table)),
            (run["run_id"], source, missing, whole),
        )
    carried = {m: int(source) for m in missing}
    conn.execute(
        "UPDATE segmentation.runs SET methods = methods || %s::text[], "
        "metrics = metrics || jsonb_build_object('carried_forward', %s::jsonb) "
        "WHERE run_id = %s",
        (missing, Jsonb(carried), run["run_id"]),
    )
    return carried


HISTORY_TABLES = ("segment_history", "segment_migrations")  # in this order: one reads the other


def write_history(
    conn: psycopg.Connection, run_id: int, previous_run_id: int, methods: list[str]
) -> dict[str, int]:
    """The run's segment_history and segment_migrations rows of ``methods`` against the previous
    published run, method by method; rows written per table."""
    sources = runs.method_sources(conn, run_id)
    previous_sources = runs.method_sources(conn, previous_run_id)
    rows = dict.fromkeys(HISTORY_TABLES, 0)
    for method in methods:
        p = {
            "run_id": run_id,
            "previous_run_id": previous_run_id,
            "method": method,
            "source": sources[method],
            "previous_source": previous_sources.get(method),
        }
        for name in HISTORY_TABLES:
            rows[name] += conn.execute(read_sql(f"segmentation/{name}.sql"), p).rowcount
    return rows


def _carry_history(
    conn: psycopg.Connection, run_id: int, carried: Mapping[str, int], previous_run_id: int
) -> list[str]:
    """The carried methods whose changes the run they came from already worked out against the
    same previous run: their segment_history and segment_migrations rows move to this run
    instead of being computed again (a carried method's memberships are that run's, and a
    published run's memberships never change). Returns those methods; the others' history is
    computed at publish as usual. A run whose history was taken against another previous run (a
    date published in between) has no migration rows against this one, so its methods are
    computed again."""
    by_source: dict[int, list[str]] = {}
    for method, source in carried.items():
        by_source.setdefault(source, []).append(method)
    kept: list[str] = []
    for source, methods in by_source.items():
        same = [
            m
            for (m,) in conn.execute(
                "SELECT DISTINCT method FROM segmentation.segment_migrations "
                "WHERE run_id = %s AND previous_run_id = %s AND method = ANY(%s)",
                (source, previous_run_id, methods),
            )
        ]
        for name in HISTORY_TABLES:
            conn.execute(
                sql.SQL("UPDATE {} SET run_id = %s WHERE run_id = %s AND method = ANY(%s)").format(
                    sql.Identifier("segmentation", name)
                ),
                (run_id, source, same),
            )
        kept += same
    return kept


def fail_run(url: str, run_id: int, message: str) -> None:
    """Mark a run failed, delete its partial rows and release its date; idempotent."""
    with transaction(url) as conn:
        runs.fail(conn, run_id, message)
    log.warning("run %s failed: %s", run_id, message)


# ------------------------------------------------------------------------------------ run_all


def run_all(
    url: str,
    as_of: dt.date,
    *,
    methods: list[str] | tuple[str, ...] | str | None = None,
    config: str | Path | Mapping[str, Any] | None = None,
    trigger: str = "cli",
    params: Mapping[str, Any] | None = None,
    publish_result: bool = True,
    progress: Progress | None = None,
    replace: bool = False,
) -> int:
    """Every stage for one date, in the DAG's order (what `segwise run` does): features, each
    method, profiles, the data-quality checks, publish. Fails the run on any error.

    One session holds the run's owner lock throughout, so a killed process leaves a run the
    next start sees as abandoned at once. When a load is built into the warehouse while the run
    works, the run is failed and started again on the new data (up to ``RESTARTS`` times)."""
    say = progress or (lambda _msg: None)
    for attempt in range(RESTARTS + 1):
        try:
            return _run_once(
                url,
                as_of,
                methods=methods,
                config=config,
                trigger=trigger,
                params=params,
                publish_result=publish_result,
                say=say,
                replace=replace,
            )
        except runs.WarehouseChanged as exc:
            if attempt == RESTARTS:
                raise
            say(f"{exc}; starting again")
    raise AssertionError("unreachable")


RESTARTS = 3  # a run restarted this often because loads kept landing fails instead


def _run_once(
    url: str,
    as_of: dt.date | str,
    *,
    methods: list[str] | tuple[str, ...] | str | None,
    config: str | Path | Mapping[str, Any] | None,
    trigger: str,
    params: Mapping[str, Any] | None,
    publish_result: bool,
    say: Progress,
    replace: bool,
) -> int:
    with connect(url, autocommit=True) as owner:
        owner_pid = runs.hold_owner_lock(owner)
        run_id = start_run(
            url,
            as_of,
            methods=methods,
            config=config,
            trigger=trigger,
            params=params,
            owner_pid=owner_pid,
            replace=replace,
        )
        say(f"run {run_id}: started for {as_of}")
        try:
            t = time.perf_counter()
            n = build_features(url, run_id)
            say(f"run {run_id}: features for {n} customers ({time.perf_counter() - t:.1f} s)")
            with connect(url) as conn:
                chosen = runs.get_run(conn, run_id)["methods"]

            def method_stage(method: str) -> None:
                t = time.perf_counter()
                run_method(url, run_id, method)
                say(f"run {run_id}: {method} done ({time.perf_counter() - t:.1f} s)")

            lanes.run_in_lanes(chosen, method_stage)
            t = time.perf_counter()
            build_profiles(url, run_id)
            say(f"run {run_id}: profiles done ({time.perf_counter() - t:.1f} s)")
            checks = check_quality(url, run_id)
            say(f"run {run_id}: {len(checks)} data-quality checks passed{_scanned(checks)}")
            if publish_result:
                publish(url, run_id)
                say(f"run {run_id}: published")
        except BaseException as exc:
            _fail_quietly(url, run_id, exc)
            raise
    return run_id


def check_quality(url: str, run_id: int) -> list[Any]:
    """The data-quality checks the DAG runs between profiles and publish (etl.quality); a
    failure is a failed run whose previous published results stay visible."""
    from etl import quality  # noqa: PLC0415

    try:
        return quality.assert_quality(url, run_id)
    except quality.QualityError as exc:
        # A load built during the run explains every other mismatch: say that (and restart).
        if any(r.check == "run_read_one_warehouse" and not r.passed for r in exc.results):
            raise runs.WarehouseChanged(str(exc)) from None
        raise


def _scanned(checks: list[Any]) -> str:
    """Which checks read every order line (the others read the build-time record)."""
    scanned = sorted({c.check for c in checks if c.check in CHEAP and c.source == FULL_SCAN})
    if not scanned:
        return " (no order line read: the loads' build-time checks)"
    return f" ({', '.join(scanned)} scanned every order line)"


def _fail_quietly(url: str, run_id: int, exc: BaseException) -> None:
    """Mark the run failed, keeping the original error; when even that is impossible (the
    server is gone) the run is found abandoned by the next start, since its session ended."""
    if isinstance(exc, KeyboardInterrupt):
        message = "cancelled (Ctrl-C or SIGTERM)"
    else:
        message = f"{type(exc).__name__}: {exc}"
    try:
        fail_run(url, run_id, message)
    except Exception as secondary:  # noqa: BLE001 - keep the original error
        log.warning(
            "run %s not marked failed (%s): the next run will find it abandoned",
            run_id,
            str(secondary).splitlines()[0] if str(secondary) else secondary,
        )
