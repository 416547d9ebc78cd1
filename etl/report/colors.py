"""One colour per segment, the same in every chart of a report."""

from __future__ import annotations

from collections.abc import Iterable

# Plotly's and D3's qualitative palettes: 20 distinct colours before any repeats.
PALETTE = (
    "#636EFA",
    "#EF553B",
    "#00CC96",
    "#AB63FA",
    "#FFA15A",
    "#19D3F3",
    "#FF6692",
    "#B6E880",
    "#FF97FF",
    "#FECB52",
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
)
NEUTRAL = "#B0B0B0"  # '(new)', '(gone)' and '(none)': not segments
NOT_SEGMENTS = {"(new)", "(gone)", "(none)"}


def segment_colors(names: Iterable[str]) -> dict[str, str]:
    """Colours by sorted name, so a segment keeps its colour however the charts order it."""
    real = sorted({str(n) for n in names} - NOT_SEGMENTS)
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(real)}
    colors.update(dict.fromkeys(NOT_SEGMENTS, NEUTRAL))
    return colors


def with_alpha(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
