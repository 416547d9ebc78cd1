"""The per-run HTML report (`segwise report`): one self-contained, interactive file.

Data access (etl.report.data, SQL in sql/report/) is kept apart from rendering (one module per
section, pure functions from DataFrames to figures and HTML). docs/report.md describes it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import psycopg

from etl.db import connect
from etl.errors import SegwiseError
from etl.report import appendix, cards, clusters, clv, headline, history, rfm, usecases
from etl.report.colors import segment_colors
from etl.report.data import ReportData, load
from etl.report.html import Charts, esc, page, static_page

DEFAULT_METHOD = "rfm"


def resolve_run(url: str, run_id: int | None = None, as_of: dt.date | None = None) -> int:
    """The run to report: explicit id, else the published run of a date, else the latest."""
    with connect(url) as conn:
        if run_id is not None:
            row = conn.execute(
                "SELECT run_id FROM segmentation.runs WHERE run_id = %s", (run_id,)
            ).fetchone()
            if row is None:
                raise SegwiseError(f"no segmentation run {run_id}")
            return int(row[0])
        if as_of is None:  # the run the mart shows (its one definition: mart.as_of)
            found = conn.execute("SELECT run_id FROM mart.as_of").fetchone()
        else:  # at most one published run per date (unique index runs_one_published_per_date)
            found = conn.execute(
                "SELECT run_id FROM segmentation.runs "
                "WHERE status = 'published' AND as_of_date = %s",
                (as_of,),
            ).fetchone()
    if found is None:
        where = f" for {as_of}" if as_of else ""
        raise SegwiseError(f"no published segmentation run{where}: run `segwise run` first")
    return int(found[0])


def _quality(url: str, run_id: int) -> pd.DataFrame:
    from etl import quality  # noqa: PLC0415

    try:
        results = quality.run_checks(url, run_id)
    except Exception as exc:  # noqa: BLE001 - the appendix says why instead of failing the report
        return pd.DataFrame({"check": ["(not run)"], "result": [str(exc).splitlines()[0]]})
    return pd.DataFrame(
        [
            (r.check, r.subject, r.expected, r.actual, "ok" if r.passed else "FAILED", r.source)
            for r in results
        ],
        columns=["check", "subject", "expected", "actual", "result", "source"],
    )


def write_report(url: str, run_id: int, out: str | Path, method: str = DEFAULT_METHOD) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    checks = _quality(url, run_id)
    with connect(url) as conn:
        body = render(conn, run_id, method, checks)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)  # never a half-written report
    return out


def render(
    conn: psycopg.Connection, run_id: int, method: str, checks: pd.DataFrame | None = None
) -> str:
    data = load(conn, run_id, method, checks)
    run = data.run
    if data.profiles[data.profiles["run_id"] == run_id].empty:
        parts = [
            f"<h1>segwise run {run_id}: customers as of {run['as_of_date']}</h1>",
            "<p>No customer segments for this run (failed or superseded).</p>",
        ]
        if run["message"]:
            parts.append(f"<p class=err>{esc(run['message'])}</p>")
        return static_page(run_id, parts + [appendix.render(data)])
    backtest = clv.backtest(conn, data.clv_model, run["as_of_date"]) if _fitted(data) else None
    extra = usecases.sections(conn, run_id, list(run["methods"]), charts := Charts())
    return assemble(data, charts, backtest, extra)


def _fitted(data: ReportData) -> bool:
    return data.clv_model is not None and data.clv_model["status"] == "fitted"


def assemble(
    data: ReportData, charts: Charts, backtest: dict | str | None, extra: list[str]
) -> str:
    """The page from loaded data (pure: no database)."""
    run = data.run
    names = set(data.profiles.loc[data.profiles["method"] == data.method, "segment"].astype(str))
    names |= set(data.sizes["segment"].astype(str)) if not data.sizes.empty else set()
    colors = segment_colors(names)
    current = data.profiles[
        (data.profiles["run_id"] == run["run_id"]) & (data.profiles["method"] == data.method)
    ].sort_values("customers", ascending=False)
    options = "".join(f"<option>{esc(str(s))}</option>" for s in current["segment"])
    header = (
        f"<h1>Customer segments as of {run['as_of_date']}</h1>"
        f"<div>segwise run {run['run_id']} ({esc(run['status'])}); segments by "
        f"<b>{esc(data.method)}</b>.</div>"
        f"<div class='filter'><label>Show segment: <select id='segment-filter'>"
        f"<option value=''>all segments</option>{options}</select></label></div>"
    )
    body = [
        headline.render(data),
        cards.render(data, colors),
        rfm.render(data, charts),
        history.kpis(data, charts),
        history.sizes(data, charts, colors),
        history.migrations(data, charts, colors),
        history.cohorts(data, charts),
        clv.render(data, charts, colors, backtest),
        clusters.render(data, charts),
        *extra,
        appendix.render(data),
    ]
    return page(f"segwise report: run {run['run_id']}", header, body, charts)
