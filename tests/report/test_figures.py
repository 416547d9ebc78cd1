"""The pure parts of the report: one colour per segment in every chart, figures from frames."""

from __future__ import annotations

import pandas as pd

from etl.report import figures
from etl.report.colors import NEUTRAL, segment_colors
from etl.report.headline import totals


def test_a_segment_keeps_its_colour_in_every_chart():
    colors = segment_colors(["Champions", "At Risk", "Hibernating"])
    assert colors == segment_colors(["Hibernating", "Champions", "At Risk"])
    assert len({colors[s] for s in ("Champions", "At Risk", "Hibernating")}) == 3
    assert colors["(new)"] == colors["(gone)"] == NEUTRAL
    sizes = pd.DataFrame(
        {
            "as_of_date": ["2024-01-31", "2024-01-31", "2024-02-29", "2024-02-29"],
            "segment": ["Champions", "At Risk", "Champions", "At Risk"],
            "customers": [10, 5, 12, 4],
            "customer_share": [0.66, 0.33, 0.75, 0.25],
        }
    )
    moves = pd.DataFrame(
        {
            "from_segment": ["Champions", "At Risk", "(new)"],
            "to_segment": ["Champions", "Champions", "At Risk"],
            "customers": [9, 2, 3],
        }
    )
    line = figures.sizes_over_time(sizes, colors, "rfm")
    sankey = figures.migration_sankey(moves, colors, "moves")
    by_trace = {t.name: t.line.color for t in line.data}
    assert by_trace == {"At Risk": colors["At Risk"], "Champions": colors["Champions"]}
    nodes = dict(zip(sankey.data[0].node.label, sankey.data[0].node.color, strict=True))
    assert nodes["Champions (now)"] == nodes["Champions (before)"] == colors["Champions"]
    assert nodes["(new)"] == NEUTRAL
    assert list(sankey.data[0].link.value) == [9, 2, 3]


def test_rfm_grid_names_each_cell_by_its_segment():
    grid = pd.DataFrame(
        {
            "r_score": [5, 1],
            "f_score": [5, 1],
            "segment": ["Champions", "Hibernating"],
            "customers": [7, 3],
            "revenue": [700.0, 30.0],
        }
    )
    heat = figures.rfm_grid(grid).data[0]
    assert heat.z[4][4] == 7 and heat.z[0][0] == 3 and heat.z[2][2] == 0
    assert heat.text[4][4] == "Champions<br>7" and heat.text[0][0] == "Hibernating<br>3"


def test_cohort_heatmap_in_percent():
    cohorts = pd.DataFrame(
        {
            "cohort_month": ["2024-01-01"] * 2 + ["2024-02-01"],
            "months_since_first": [0, 1, 0],
            "cohort_size": [10, 10, 4],
            "retention_rate": [1.0, 0.3, 1.0],
        }
    )
    heat = figures.cohort_heatmap(cohorts).data[0]
    assert list(heat.z[0]) == [100.0, 30.0]
    assert heat.y[0] == "2024-01 (10)"


def test_headline_totals_against_the_previous_run():
    profiles = pd.DataFrame(
        {
            "run_id": [2, 2, 2, 2, 1],
            "method": ["rfm", "rfm", "lifecycle", "clv", "rfm"],
            "segment": ["A", "B", "lapsed", "High value", "A"],
            "customers": [3.0, 2.0, 1.0, 5.0, 4.0],
            "revenue": [30.0, 20.0, 5.0, 50.0, 40.0],
            "total_clv": [None, None, None, 99.0, None],
        }
    )
    now = totals(profiles, 2, "rfm")
    assert now == {
        "customers": 5.0, "revenue": 50.0, "active": 0.0, "new": 0.0, "lapsed": 1.0,
        "predicted_value": 99.0,
    }  # fmt: skip
    assert totals(profiles, 1, "rfm") == {"customers": 4.0, "revenue": 40.0}
