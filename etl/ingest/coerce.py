"""SQL that turns one raw text column into a typed value, or NULL when it does not parse.

PostgreSQL 15 has no ``pg_input_is_valid``, and one bad cast would abort the whole statement, so
every cast is guarded by a regular expression that admits only values the cast accepts. Date and
time formats are given strptime-style (``%m/%d/%Y %H:%M``) and compiled to both a guard regex and
a ``to_timestamp`` pattern. The guards check field ranges; the one thing a regex cannot check
(day 29-31 of a short month) goes through ``staging.try_timestamp``, which only those rare values
reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

from etl.errors import ConfigurationError

TYPES = ("text", "id", "integer", "number", "boolean", "date", "timestamp")

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)

# strptime directive -> (PostgreSQL to_timestamp field, regex for the whole range,
#                        regex that is always valid for every month (days 1-28))
_DIRECTIVES: dict[str, tuple[str, str, str | None]] = {
    "Y": ("YYYY", r"\d{4}", None),
    "y": ("YY", r"\d{2}", None),
    "m": ("MM", r"(?:0?[1-9]|1[0-2])", None),
    "d": ("DD", r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1\d|2[0-8])"),
    "H": ("HH24", r"(?:[01]?\d|2[0-3])", None),
    "I": ("HH12", r"(?:0?[1-9]|1[0-2])", None),
    "M": ("MI", r"[0-5]\d", None),
    "S": ("SS", r"[0-5]\d", None),
    "f": ("US", r"\d{1,6}", None),
    "p": ("AM", r"[AaPp]\.?[Mm]\.?", None),
    "b": ("Mon", rf"(?:{_MONTHS})", None),
    "B": ("Month", rf"(?:{_MONTH_NAMES})", None),
}


# strptime formats whose values PostgreSQL's own ::timestamp / ::date read the same way
PLAIN_DATES = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


@dataclass(frozen=True)
class DateFormat:
    """One accepted date/time layout of a column."""

    text: str  # as written in the mapping
    pg_format: str | None  # None: ISO 8601, parsed by a cast
    safe_regex: str  # values that always convert without error
    full_regex: str  # values that might (day 29-31); checked by try_timestamp
    # What staging checks a column's values against (etl.ingest.date_formats), so that the
    # build may read a whole column with this one format: the values ``fast_value`` converts
    # as the careful parse does (for ISO: without a zone); day 29-31 separately, by the year,
    # month and day the named groups of ``parts_regex`` capture (Y or y, m or b or B, d).
    check_safe: str = ""
    check_full: str = ""
    parts_regex: str = ""

    @property
    def casts(self) -> bool:
        """Values of this format (as staging checks them) are read by a plain cast."""
        return self.pg_format is None or self.text in PLAIN_DATES


ISO_DATE = r"\d{4}-(?:0[1-9]|1[0-2])-"
ISO_TIME = r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?)?"
ISO_TZ = r"(?:\s*(?:Z|UTC|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?))"


def compile_format(text: str) -> DateFormat:
    if text.lower() in ("iso", "iso8601", "iso 8601"):
        safe = rf"^\s*{ISO_DATE}(?:0[1-9]|1\d|2[0-8]){ISO_TIME}"
        return DateFormat(
            "iso",
            None,
            rf"{safe}{ISO_TZ}?\s*$",
            rf"^\s*{ISO_DATE}(?:29|30|31){ISO_TIME}{ISO_TZ}?\s*$",
            # a value with a zone is converted to UTC: not by a plain cast
            check_safe=rf"{safe}\s*$",
            check_full=rf"^\s*{ISO_DATE}(?:0[1-9]|[12]\d|3[01]){ISO_TIME}\s*$",
            parts_regex=r"^\s*(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})",
        )
    pg: list[str] = []
    safe: list[str] = []
    full: list[str] = []
    parts: list[str] = []
    named: set[str] = set()
    literal: list[str] = []

    def flush_literal() -> None:
        if literal:
            chunk = "".join(literal)
            # letters must be double-quoted in a to_timestamp pattern or they become fields
            pg.append(
                '"' + chunk.replace('"', '\\"') + '"' if re.search(r"[A-Za-z]", chunk) else chunk
            )
            esc = re.escape(chunk).replace(r"\ ", r"\s+").replace(" ", r"\s+")
            safe.append(esc)
            full.append(esc)
            parts.append(esc)
            literal.clear()

    i = 0
    seen_day = False
    while i < len(text):
        ch = text[i]
        if ch == "%":
            if i + 1 >= len(text):
                raise ConfigurationError(f"date format {text!r} ends with a lone %")
            d = text[i + 1]
            i += 2
            if d == "%":
                literal.append("%")
                continue
            if d not in _DIRECTIVES:
                raise ConfigurationError(
                    f"date format {text!r}: %{d} is not supported "
                    f"(use %{', %'.join(_DIRECTIVES)} or 'iso')"
                )
            flush_literal()
            field, rx_full, rx_safe = _DIRECTIVES[d]
            pg.append(field)
            full.append(rx_full)
            if d in "YymbBd" and d not in named:
                named.add(d)
                parts.append(f"(?P<{d}>{rx_full})")
            else:
                parts.append(rx_full)
            if d == "d":
                seen_day = True
                safe.append(rx_safe or rx_full)
            else:
                safe.append(rx_full)
        else:
            literal.append(ch)
            i += 1
    flush_literal()
    if not any(f in pg for f in ("YYYY", "YY")):
        raise ConfigurationError(f"date format {text!r} has no year (%Y or %y)")
    full_rx = "^\\s*" + "".join(full) + "\\s*$"
    safe_rx = "^\\s*" + "".join(safe) + "\\s*$"
    case = "(?i)" if any(d in text for d in ("%b", "%B", "%p")) else ""
    full_rx = case + full_rx if seen_day else case + safe_rx
    return DateFormat(
        text,
        "".join(pg),
        case + safe_rx,
        full_rx,
        check_safe=case + safe_rx,
        check_full=full_rx,
        parts_regex=case + "^\\s*" + "".join(parts) + "\\s*$",
    )


def typed_value(
    raw: sql.Composable, type_: str, formats: list[DateFormat], *, fast: bool = False
) -> sql.Composable:
    """SQL giving the typed value of ``raw`` or NULL when it is empty or does not parse.

    ``raw`` is trimmed text with blanks as NULL (staging does that). ``fast``: numbers use plain
    casts, which give the careful result for every value they accept and raise a data
    exception for one they cannot parse; the caller then runs the careful (regex-guarded,
    slower) version. Dates are always careful: callers parse each distinct value once (they
    repeat a lot: every line of an order has the same timestamp).
    """
    if type_ == "text":
        return raw
    if type_ == "id":
        return sql.SQL("staging.parse_id({})").format(raw)
    if type_ == "integer":
        if fast:  # '3', ' -7 '; '3.0' or '1e3' raise and take the careful path
            return sql.SQL("({})::integer").format(raw)
        return sql.SQL("staging.parse_integer({})").format(raw)
    if type_ == "number":
        if fast:  # the caller drops NaN, Infinity and |n| >= 1e15, as parse_number does
            return sql.SQL("({})::numeric").format(raw)
        return sql.SQL("staging.parse_number({})").format(raw)
    if type_ == "boolean":
        return sql.SQL("staging.parse_boolean({})").format(raw)
    if type_ == "timestamp":
        return _careful_timestamp(raw, formats)
    if type_ == "date":
        return sql.SQL("({})::date").format(_careful_timestamp(raw, formats))
    raise ConfigurationError(f"unknown column type {type_!r}: use one of {', '.join(TYPES)}")


def _careful_timestamp(raw: sql.Composable, formats: list[DateFormat]) -> sql.Composable:
    branches = []
    for f in formats:
        if f.pg_format is None:
            # ISO: an offset or Z converts to UTC; a plain value is taken as it is
            conv = sql.SQL(
                "CASE WHEN {raw} ~ {tz} THEN ({raw}::timestamptz AT TIME ZONE 'UTC') "
                "ELSE {raw}::timestamp END"
            ).format(raw=raw, tz=sql.Literal(ISO_TZ + r"\s*$"))
            fmt = sql.Literal("iso")
        else:
            conv = sql.SQL("(to_timestamp({}, {}) AT TIME ZONE 'UTC')").format(
                raw, sql.Literal(f.pg_format)
            )
            fmt = sql.Literal(f.pg_format)
        branches.append(
            sql.SQL("WHEN {} ~ {} THEN {}").format(raw, sql.Literal(f.safe_regex), conv)
        )
        if f.full_regex != f.safe_regex:
            branches.append(
                sql.SQL("WHEN {} ~ {} THEN staging.try_timestamp({}, {})").format(
                    raw, sql.Literal(f.full_regex), raw, fmt
                )
            )
    return sql.SQL("CASE {} END").format(sql.SQL(" ").join(branches))


def describe(type_: str, formats: list[DateFormat]) -> str:
    """How a value of this type should look, for rejection reasons."""
    if type_ in ("date", "timestamp"):
        shown = " or ".join(f.text for f in formats)
        return f"not a {'date' if type_ == 'date' else 'date/time'} in format {shown}"
    return {
        "id": "not an identifier",
        "integer": "not an integer",
        "number": "not a number",
        "boolean": "not a boolean (true/false, t/f, yes/no, y/n, 1/0)",
    }.get(type_, f"not a {type_}")
