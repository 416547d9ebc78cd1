"""docs/segmentation.md states the default segment definitions the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from etl.segment.run_config import DEFAULT_RFM_ACTIONS, DEFAULT_RFM_SEGMENTS, DEFAULT_TIER_ACTIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "segmentation.md").read_text("utf-8")


def _rows(header: str) -> dict[str, list[str]]:
    table = DOC.split(header, 1)[1].split("\n\n", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[1:]]
    return {r[0]: r[1:] for r in rows if r and not r[0].startswith("---")}


def test_rfm_segments_and_actions_are_the_defaults():
    rows = _rows("| segment | R score | F score | recommended action |")
    assert {name: tuple(r) for name, r in rows.items()} == {
        name: (cells["r"], cells["f"], DEFAULT_RFM_ACTIONS[name])
        for name, cells in DEFAULT_RFM_SEGMENTS.items()
    }


def test_rfm_grid_matches_the_segments():
    grid = _rows("| R \\ F | 1 | 2 | 3 | 4 | 5 |")
    for name, cells in DEFAULT_RFM_SEGMENTS.items():
        r_lo, _, r_hi = cells["r"].partition("-")
        f_lo, _, f_hi = cells["f"].partition("-")
        for r in range(int(r_lo), int(r_hi or r_lo) + 1):
            for f in range(int(f_lo), int(f_hi or f_lo) + 1):
                assert grid[f"**{r}**"][f - 1] == name, (r, f)


def test_tier_actions_are_the_defaults():
    rows = _rows("| size tier | recommended action |")
    assert {k: v[0] for k, v in rows.items()} == DEFAULT_TIER_ACTIONS


def test_no_reference_outside_the_repository():
    assert not re.search(r"product\.md|engineer", DOC)
