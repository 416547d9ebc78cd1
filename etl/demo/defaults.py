"""The demo generator's defaults, in a module of their own so that the CLI can show them in
``--help`` without importing numpy, pyarrow and pandas."""

from __future__ import annotations

from datetime import date

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 5000
DEFAULT_END = date(2026, 10, 31)
DEFAULT_START = date(2024, 11, 1)  # two years (730 days) up to DEFAULT_END inclusive
