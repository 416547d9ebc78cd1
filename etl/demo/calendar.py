"""Dates as integer day numbers, and the demand calendar: yearly and weekly seasonality, retail
events (Black Friday, Cyber Monday, Christmas, sales) and intraday order-time profiles."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from etl.demo.defaults import DEFAULT_END, DEFAULT_START  # noqa: F401 - re-exported

EPOCH = date(1970, 1, 1)

# The fixed demo timeline, so the default output never depends on today's date.
HISTORY_START = date(2021, 11, 1)  # earliest signup of the base customer universe
BASE_END = DEFAULT_END  # after this, new customers come from the daily feed's signups

# Monday .. Sunday
WEEKDAY = np.array([0.95, 0.88, 0.90, 0.96, 1.04, 1.20, 1.07])
# January .. December
MONTH = np.array([0.97, 0.80, 0.88, 0.93, 0.98, 0.94, 0.96, 0.93, 0.99, 1.04, 1.20, 1.42])


def two_years_before(end: date) -> date:
    """The first day of the two-year window ending on ``end`` (inclusive)."""
    try:
        back = end.replace(year=end.year - 2)
    except ValueError:  # 29 February
        back = end.replace(year=end.year - 2, day=28)
    return back + timedelta(days=1)


def to_day(d: date) -> int:
    return (d - EPOCH).days


def from_day(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Month (1-12), day of month and weekday (Monday = 0) of day numbers."""
    dt = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month_start = dt.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    dom = (dt - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (np.asarray(days, dtype=np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return month, dom, weekday


def _black_friday(days: np.ndarray) -> np.ndarray:
    """The Friday after the fourth Thursday of November."""
    month, dom, weekday = _parts(days)
    return (month == 11) & (dom >= 23) & (dom <= 29) & (weekday == 4)


def _raw_demand(days: np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    month, dom, weekday = _parts(days)
    m = MONTH[month - 1] * WEEKDAY[weekday]
    black_friday = _black_friday(days)
    cyber_monday = _black_friday(days - 3)
    m = np.where(black_friday, m * 2.6, m)
    m = np.where(cyber_monday, m * 1.9, m)
    xmas = np.select(
        [(month == 12) & (dom == 24), (month == 12) & (dom == 25), (month == 12) & (dom == 26)],
        [0.7, 0.35, 0.8],
        1.0,
    )
    pre_xmas = np.where((month == 12) & (dom >= 10) & (dom <= 21), 1.15, 1.0)
    return m * xmas * pre_xmas


# Normalised so an average day has demand 1: a customer's yearly rate means orders per year.
_NORM = float(_raw_demand(np.arange(to_day(date(2022, 1, 1)), to_day(date(2026, 1, 1)))).mean())


def demand(days: np.ndarray | int) -> np.ndarray:
    """Relative demand of each day (mean 1 over a year)."""
    return _raw_demand(np.atleast_1d(days)) / _NORM


def discount_rate(day: int) -> float:
    """Base share of lines sold with a discount on that day (before a customer's deal appetite)."""
    month, dom, _ = (int(x[0]) for x in _parts(np.array([day])))
    if _black_friday(np.arange(day - 3, day + 1)).any():  # Black Friday .. Cyber Monday
        return 0.42
    if (month == 12 and dom >= 26) or (month == 1 and dom <= 15):
        return 0.30
    if month == 7 and dom <= 15:
        return 0.24
    if month == 12:
        return 0.20
    return 0.10


# Order-time profiles per channel: weights of hours 0..23; stores open 9:00-21:00.
_HOURS = {
    "web": "2 1 .5 .3 .3 .5 1 2 3 4 4.5 5 6 5.5 5 4.5 4.5 5 6 7.5 8.5 8 6 4",
    "app": "3 1.5 .8 .4 .3 .6 1.5 3 4 4 4 4.5 6 5 4.5 4.5 5 5.5 6.5 8 9 9 7 5",
    "store": "0 0 0 0 0 0 0 0 0 3 5 6 7 7 6 6 6.5 7.5 8 6 3.5 0 0 0",
    "marketplace": "3 2 1 1 1 1 2 3 4 4 4 4 5 5 4.5 4.5 4.5 5 5.5 6 6.5 6 5 4",
}


def hour_cdf(channels: tuple[str, ...]) -> np.ndarray:
    """Stacked cumulative hour distributions: row c holds c + CDF, searchable with c + u."""
    out = []
    for c, name in enumerate(channels):
        cum = np.cumsum([float(w) for w in _HOURS[name].split()])
        cum /= cum[-1]
        cum[np.isclose(cum, 1.0)] = 1.0  # closed hours at the end of the day stay unreachable
        out.append(c + cum)
    return np.concatenate(out)
