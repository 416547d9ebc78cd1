"""The one parser for a date given as text (`--as-of`, the DAG's trigger form, XCom values).

Entry points parse once and pass a ``datetime.date`` inward; nothing below them takes a string.
"""

from __future__ import annotations

import datetime as dt
import re

_YYYY_MM_DD = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` only (not the other ISO forms ``date.fromisoformat`` accepts, such as
    ``20111209``), so every entry point takes the same spelling; ValueError otherwise."""
    if _YYYY_MM_DD.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD")
