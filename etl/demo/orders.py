"""One day of demo order lines: sales drawn from the universe, returns of earlier sales, and a few
deliberately malformed rows.

Every random number of day D comes from D's own streams, so a day is the same whether it is
generated inside a two-year history or alone as the daily feed. Returns are decided when the
sale happens (with a lag of 1-30 days), so the feed for D replays the previous 30 days' sales to
find the returns that fall on D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.demo.calendar import demand, discount_rate, hour_cdf
from etl.demo.catalog import L1_CATEGORIES, Catalog
from etl.demo.rng import DAY_MALFORMED, DAY_ORDERS, rng_for
from etl.demo.universe import APP, CHANNELS, STORE, WEB, Universe

PLATFORMS = ("desktop", "mobile web", "ios", "android", "pos", "amazon", "ebay")
DESKTOP, MOBILE_WEB, IOS, ANDROID, POS, AMAZON, EBAY = range(len(PLATFORMS))
FALLBACK_CHANNEL_CDF = np.cumsum([0.42, 0.33, 0.10, 0.15])
FIRST_ORDER_SHARE = 0.6  # of new customers order on their signup day
MAX_LINES = 25
MAX_RETURN_LAG = 30
RETURN_SCALE = 1.1
PARTIAL_RETURN_SHARE = 0.3
DISCOUNT_PCTS = np.array([5, 10, 10, 15, 20, 20, 25, 30, 40, 50])
MALFORMED_RATE = 0.0005
MALFORMED_KINDS = ("unparseable date", "negative price", "non-numeric quantity")
BAD_DATES = ("2025-02-30 10:15:00", "31/12/2025 25:61", "not a date", "2025-13-01 08:00:00")
BAD_QUANTITIES = ("two", "3pcs", "1..2", "#VALUE!")
_HOUR_CDF = hour_cdf(CHANNELS)

# Line arrays shared by sales, returns and the assembled day.
FIELDS = (
    "kind",  # 0 sale, 1 return
    "order_day",  # day of the (original) sale: part of the order id
    "seq",  # sale's number within its day: part of the order id
    "line_no",
    "sec",  # second of the day the line's order was placed
    "customer",
    "product",
    "quantity",
    "price",  # unit price, cents
    "discount",  # cents
    "channel",
    "platform",
    "store",  # -1: none
)


@dataclass
class Lines:
    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["kind"])

    def select(self, mask: np.ndarray) -> Lines:
        return Lines({k: v[mask] for k, v in self.cols.items()})

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        return Lines({k: np.concatenate([p.cols[k] for p in parts]) for k in FIELDS})

    @staticmethod
    def empty() -> Lines:
        return Lines({k: np.zeros(0, dtype=np.int64) for k in FIELDS})


@dataclass
class DaySales:
    lines: Lines
    returns: Lines  # future return lines (kind 1), not yet numbered; see ``return_day``
    return_day: np.ndarray


@dataclass
class Day:
    day: int
    lines: Lines
    malformed: np.ndarray  # -1 clean, else index into MALFORMED_KINDS
    variant: np.ndarray


class CatalogIndex:
    """Search tables to draw products by overall popularity or inside a favourite category."""

    def __init__(self, cat: Catalog) -> None:
        self.any_cdf = np.cumsum(cat.popularity)
        self.any_cdf[-1] = 1.0
        stacked = np.empty(len(cat))
        for c in range(len(L1_CATEGORIES)):
            members = np.flatnonzero(cat.l1 == c)
            w = np.cumsum(cat.popularity[members])
            stacked[members] = c + w / w[-1]
            stacked[members[-1]] = c + 1.0
        self.fav_cdf = stacked
        self.cat = cat


def _hours(channel: np.ndarray, u: np.ndarray) -> np.ndarray:
    hour = np.searchsorted(_HOUR_CDF, channel + u, side="right") - 24 * channel
    return np.clip(hour, 0, 23)


def simulate_sales(u: Universe, idx: CatalogIndex, seed: int, day: int) -> DaySales:
    """The day's sales orders and the returns they will cause on later days."""
    rng = rng_for(seed, DAY_ORDERS, day)
    cat = idx.cat
    alive = np.flatnonzero((u.signup < day) & (u.death > day))
    cdf = np.cumsum(u.rate[alive] * (float(demand(day)[0]) / 365.0))
    total = float(cdf[-1]) if len(cdf) else 0.0
    k = int(rng.poisson(total))
    picked = alive[
        np.minimum(np.searchsorted(cdf, rng.random(k) * total, side="right"), len(alive) - 1)
    ]
    new = np.flatnonzero(u.signup == day)
    first = new[rng.random(len(new)) < FIRST_ORDER_SHARE]
    cust = np.concatenate([first, picked]).astype(np.int64)
    n = len(cust)

    loyal = rng.random(n) < u.loyalty[cust]
    fallback = np.searchsorted(FALLBACK_CHANNEL_CDF, rng.random(n) * FALLBACK_CHANNEL_CDF[-1])
    channel = np.where(loyal, u.pref_channel[cust], fallback)
    store = np.where(channel == STORE, u.store[cust], -1)
    channel = np.where((channel == STORE) & (store < 0), WEB, channel)
    pu = rng.random(n)
    platform = np.select(
        [channel == WEB, channel == APP, channel == STORE],
        [
            np.where(pu < 0.55, DESKTOP, MOBILE_WEB),
            np.where(u.android[cust], ANDROID, IOS),
            np.full(n, POS),
        ],
        np.where(pu < 0.65, AMAZON, EBAY),
    )
    sec = _hours(channel, rng.random(n)) * 3600 + rng.integers(0, 3600, n)
    n_lines = 1 + np.minimum(rng.poisson(u.basket[cust] - 1.0), MAX_LINES - 1)
    lag = np.minimum(rng.geometric(1 / 7, n), MAX_RETURN_LAG)
    ret_sec = _hours(channel, rng.random(n)) * 3600 + rng.integers(0, 3600, n)

    # Number orders in time order.
    o = np.lexsort((np.arange(n), sec))
    cust, channel, store, platform = cust[o], channel[o], store[o], platform[o]
    sec, n_lines, lag, ret_sec = sec[o], n_lines[o], lag[o], ret_sec[o]
    seq = np.arange(1, n + 1)

    total_lines = int(n_lines.sum())
    oi = np.repeat(np.arange(n), n_lines)
    line_no = np.arange(total_lines) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    lc = cust[oi]
    fav = rng.random(total_lines) < u.p_fav[lc]
    pu = rng.random(total_lines)
    product = np.where(
        fav,
        np.searchsorted(idx.fav_cdf, u.fav_l1[lc] + pu, side="right"),
        np.searchsorted(idx.any_cdf, pu, side="right"),
    )
    product = np.minimum(product, len(cat) - 1)
    quantity = 1 + np.minimum(rng.poisson(cat.extra_units[product]), 11)
    price = cat.price_cents[product]
    p_disc = np.clip(discount_rate(day) * u.deal[lc], 0.0, 0.9)
    discounted = rng.random(total_lines) < p_disc
    pct = DISCOUNT_PCTS[rng.integers(0, len(DISCOUNT_PCTS), total_lines)]
    discount = np.where(discounted, np.round(quantity * price * pct / 100.0), 0).astype(np.int64)
    p_ret = cat.return_rate[product] * u.return_propensity[lc] * RETURN_SCALE
    returned = rng.random(total_lines) < p_ret
    partial = (quantity > 1) & (rng.random(total_lines) < PARTIAL_RETURN_SHARE)
    part_qty = 1 + np.floor(rng.random(total_lines) * (quantity - 1)).astype(np.int64)
    ret_qty = np.where(partial, part_qty, quantity)

    kind = np.zeros(total_lines, dtype=np.int64)
    sales = Lines(
        {
            "kind": kind,
            "order_day": np.full(total_lines, day, dtype=np.int64),
            "seq": seq[oi],
            "line_no": line_no,
            "sec": sec[oi],
            "customer": lc,
            "product": product,
            "quantity": quantity,
            "price": price,
            "discount": discount,
            "channel": channel[oi],
            "platform": platform[oi],
            "store": store[oi],
        }
    )
    # Refund what was paid per unit: the net unit price, no discount on the return line.
    net_unit = np.round((quantity * price - discount) / quantity).astype(np.int64)
    r = returned
    returns = Lines(
        {
            "kind": np.ones(int(r.sum()), dtype=np.int64),
            "order_day": sales.cols["order_day"][r],
            "seq": sales.cols["seq"][r],
            "line_no": line_no[r],  # renumbered when the return order is assembled
            "sec": ret_sec[oi][r],
            "customer": lc[r],
            "product": product[r],
            "quantity": -ret_qty[r],
            "price": net_unit[r],
            "discount": np.zeros(int(r.sum()), dtype=np.int64),
            "channel": channel[oi][r],
            "platform": platform[oi][r],
            "store": store[oi][r],
        }
    )
    return DaySales(sales, returns, day + lag[oi][r])


def assemble_day(seed: int, day: int, sales: Lines, returns: list[Lines]) -> Day:
    """Merge the day's sales with the returns falling on it; mark the malformed rows.

    ``returns`` are the pending return lines for this day, oldest sale day first.
    """
    ret = Lines.concat(returns) if returns else Lines.empty()
    if len(ret):
        # One return order per original order, lines renumbered 1..k.
        key = ret.cols["order_day"] * 10_000_000 + ret.cols["seq"]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        sizes = np.diff(np.r_[starts, len(key)])
        ret.cols["line_no"] = np.arange(len(key)) - np.repeat(starts, sizes) + 1
    lines = Lines.concat([sales, ret])
    c = lines.cols
    order = np.lexsort((c["line_no"], c["seq"], c["order_day"], c["kind"], c["sec"]))
    lines = Lines({k: v[order] for k, v in c.items()})

    rng = rng_for(seed, DAY_MALFORMED, day)
    n = len(lines)
    hit = (rng.random(n) < MALFORMED_RATE) & (lines.cols["kind"] == 0)
    kinds = rng.integers(0, len(MALFORMED_KINDS), n)
    variant = rng.integers(0, len(BAD_DATES), n)
    return Day(day, lines, np.where(hit, kinds, -1), variant)
