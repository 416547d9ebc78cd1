"""The opening: what changed since the previous published run, in a marketer's terms."""

from __future__ import annotations

import math

import pandas as pd

from etl.report.html import change, esc, num

# Lifecycle stages shown in the opening when the lifecycle method ran (its labels).
STAGES = ("active", "new", "lapsed")


def totals(profiles: pd.DataFrame, run_id: int, method: str) -> dict[str, float]:
    """Customers, net revenue, lifecycle counts and predicted value of one run, from profiles.

    Every method labels every customer of the run, so any method's sizes add up to the
    customers; the chosen method is used when it ran.
    """
    mine = profiles[profiles["run_id"] == run_id]
    if mine.empty:
        return {}
    base = method if method in set(mine["method"]) else sorted(mine["method"])[0]
    chosen = mine[mine["method"] == base]
    out = {"customers": float(chosen["customers"].sum()), "revenue": float(chosen["revenue"].sum())}
    life = mine[mine["method"] == "lifecycle"]
    for stage in STAGES:
        if not life.empty:
            out[stage] = float(life.loc[life["segment"] == stage, "customers"].sum())
    clv = mine[mine["method"] == "clv"]
    if not clv.empty and clv["total_clv"].notna().any():
        out["predicted_value"] = float(clv["total_clv"].sum())
    return out


LABELS = {
    "customers": ("Customers", 0),
    "revenue": ("Net revenue", 0),
    "active": ("Active customers", 0),
    "new": ("New customers", 0),
    "lapsed": ("Lapsed customers", 0),
    "predicted_value": ("Predicted value, next 12 months", 0),
}


def render(data) -> str:  # data: ReportData
    run_id = int(data.run["run_id"])
    now = totals(data.profiles, run_id, data.method)
    before = (
        totals(data.profiles, int(data.previous["run_id"]), data.method) if data.previous else {}
    )
    if data.previous:
        intro = (
            f"Changes against the previous published run ({esc(str(data.previous['as_of_date']))}"
            f", run {int(data.previous['run_id'])})."
        )
    else:
        intro = "No earlier published run to compare with: this is the first."
    tiles = []
    for key, (label, digits) in LABELS.items():
        if key not in now:
            continue
        value = now[key]
        tiles.append(
            f'<div class="kpi" data-kpi="{key}"><div class="label">{esc(label)}</div>'
            f'<div class="value">{num(value, digits)}</div>'
            f"<div>{change(value, before.get(key))}</div></div>"
        )
    missing = []
    if "active" not in now:
        missing.append("active / new / lapsed customers need the lifecycle method")
    if "predicted_value" not in now:
        missing.append("predicted value needs the clv method")
    note = f'<p class="note">Not shown: {esc("; ".join(missing))}.</p>' if missing else ""
    return f"<h2>What changed</h2><p>{intro}</p><div class='kpis'>{''.join(tiles)}</div>{note}"


def finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)
