"""The demo customer universe: demographics plus the hidden traits that drive their behaviour.

Purchase behaviour follows the Pareto/NBD story that CLV models assume: while alive, a customer
orders as a Poisson process with their own yearly rate (gamma-distributed across customers, so a
few are very frequent and many buy once); each customer's lifetime is exponential with a
gamma-distributed dropout rate, so some churn within weeks and others stay for years.

Customers are drawn in fixed blocks, each from its own random stream, so customer ``C0000042``
is the same person whatever the universe size. After ``BASE_END`` new customers come from each
day's signups (stream per day), which is what lets the daily feed invent new customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.demo.calendar import BASE_END, DEFAULT_START, HISTORY_START, demand, from_day, to_day
from etl.demo.catalog import L1_CATEGORIES, L1_NAMES
from etl.demo.geography import CITIES, city_weights, store_table
from etl.demo.rng import CUSTOMERS, DAY_SIGNUPS, rng_for

BLOCK = 4096
CHANNELS = ("web", "app", "store", "marketplace")
WEB, APP, STORE, MARKETPLACE = range(4)
GENDERS = ("female", "male")  # plus unknown (left blank)
FAMILY = ("single", "married", "living with parents and siblings", "divorced/widowed")
EARLY_SIGNUP_SHARE = 0.45  # signed up before DEFAULT_START
MEDIAN_INCOME = 52_000
MEAN_ORDERS_PER_YEAR = 7.0

# Age bands 18-24, 25-34, 35-49, 50-64, 65+ -> probabilities of each FAMILY status.
_FAMILY_BY_AGE = np.array(
    [
        [0.55, 0.08, 0.35, 0.02],
        [0.45, 0.42, 0.06, 0.07],
        [0.22, 0.65, 0.01, 0.12],
        [0.18, 0.62, 0.00, 0.20],
        [0.15, 0.50, 0.00, 0.35],
    ]
)
_AGE_EDGES = np.array([25, 35, 50, 65])
# Preferred channel (web, app, store, marketplace) by age band.
_CHANNEL_BY_AGE = np.array(
    [
        [0.28, 0.52, 0.08, 0.12],
        [0.36, 0.42, 0.10, 0.12],
        [0.42, 0.30, 0.15, 0.13],
        [0.48, 0.18, 0.22, 0.12],
        [0.52, 0.10, 0.28, 0.10],
    ]
)

COLUMNS = (
    "signup",
    "death",
    "city",
    "store",
    "gender",
    "birth_year",
    "income",
    "family",
    "n_dependants",
    "pref_channel",
    "loyalty",
    "android",
    "fav_l1",
    "p_fav",
    "rate",
    "basket",
    "deal",
    "return_propensity",
)


@dataclass
class Universe:
    """Column arrays, one entry per customer; ``ids`` is the matching customer_id array."""

    ids: pa.Array
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    @staticmethod
    def concat(parts: list[Universe]) -> Universe:
        parts = [p for p in parts if len(p)] or parts[:1]
        return Universe(
            ids=pa.concat_arrays([p.ids for p in parts]),
            cols={c: np.concatenate([p.cols[c] for p in parts]) for c in COLUMNS},
        )


def _signup_cdf() -> tuple[np.ndarray, np.ndarray, float]:
    """Signup days of the base universe, their CDF, and the late-period density constant.

    30% joined in the three years before the demo window at a flat rate; 70% join inside the
    window at a rate growing linearly (the business grows) times the demand calendar.
    """
    h0, s0, e0 = to_day(HISTORY_START), to_day(DEFAULT_START), to_day(BASE_END)
    early = np.arange(h0, s0)
    late = np.arange(s0, e0 + 1)
    trend = 1.0 + 0.5 * (late - s0) / (e0 - s0)
    late_w = trend * demand(late)
    z = float(late_w.sum())
    w = np.concatenate(
        [
            np.full(len(early), EARLY_SIGNUP_SHARE / len(early)),
            (1 - EARLY_SIGNUP_SHARE) * late_w / z,
        ]
    )
    cdf = np.cumsum(w)
    cdf[-1] = 1.0
    return np.concatenate([early, late]), cdf, z


_SIGNUP_DAYS, _SIGNUP_CDF, _LATE_Z = _signup_cdf()
_STORE_IDS, _STORE_FIRST, _STORE_COUNT = store_table()
_CITY_CDF = np.cumsum(city_weights())
_CITY_CDF[-1] = 1.0
_CITY_INCOME = np.array([c.income for c in CITIES])
_CITY_ANDROID = np.array([c.android for c in CITIES])
_L1_POP = np.array([c.popularity for c in L1_CATEGORIES])


def feed_signup_rate(base_customers: int) -> float:
    """Expected signups per average-demand day after BASE_END (continues the growth trend's end)."""
    return base_customers * (1 - EARLY_SIGNUP_SHARE) * 1.5 / _LATE_Z


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(probs))
    return (u[:, None] >= cdf).sum(axis=1)


def _draw_people(rng: np.random.Generator, signup: np.ndarray) -> dict[str, np.ndarray]:
    """Demographics and behaviour traits for customers with the given signup days.

    The order of draws is part of the output contract: changing it changes every seed's data.
    """
    n = len(signup)
    city = np.searchsorted(_CITY_CDF, rng.random(n), side="right")
    city = np.minimum(city, len(CITIES) - 1)
    stores = _STORE_COUNT[city]
    store = np.where(
        stores > 0, _STORE_FIRST[city] + np.floor(rng.random(n) * np.maximum(stores, 1)), -1
    ).astype(np.int64)

    g = rng.random(n)
    gender = np.where(g < 0.50, 0, np.where(g < 0.97, 1, -1))
    age = np.clip(np.round(rng.normal(41.0, 14.0, n)), 18, 88).astype(np.int64)
    signup_year = signup.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    birth_year = signup_year - age
    band = np.searchsorted(_AGE_EDGES, age, side="right")
    family = _pick(rng, _FAMILY_BY_AGE[band])
    dep_mean = np.array([0.35, 1.4, 0.05, 0.6])[family] * np.where(age >= 60, 0.3, 1.0)
    n_dep = np.minimum(rng.poisson(dep_mean), 3)
    age_curve = np.interp(age, [18, 25, 45, 55, 67, 88], [0.45, 0.7, 1.1, 1.15, 0.85, 0.7])
    income = (
        MEDIAN_INCOME
        * _CITY_INCOME[city]
        * age_curve
        * np.where(family == 1, 1.15, 1.0)
        * rng.lognormal(0.0, 0.45, n)
    )
    income = np.maximum(np.round(income / 100) * 100, 6000).astype(np.int64)
    income = np.where(rng.random(n) < 0.03, -1, income)
    birth_year = np.where(rng.random(n) < 0.01, -1, birth_year)

    channel_p = _CHANNEL_BY_AGE[band].copy()
    channel_p[:, STORE] *= stores > 0
    pref_channel = _pick(rng, channel_p)
    loyalty = rng.beta(6.0, 2.0, n)
    android = rng.random(n) < _CITY_ANDROID[city]

    # Favourite top-level category depends on life stage: the demographic segments' signal.
    aff = np.tile(_L1_POP, (n, 1))
    female, male = gender == 0, gender == 1
    names = {name: i for i, name in enumerate(L1_NAMES)}
    aff[:, names["Baby & Kids"]] *= np.where(n_dep > 0, 1.0 + 1.5 * n_dep, 0.15)
    aff[:, names["Grocery"]] *= 1.0 + 0.4 * n_dep
    aff[:, names["Electronics"]] *= np.where(male & (age < 45), 2.0, np.where(female, 0.7, 1.0))
    aff[:, names["Fashion"]] *= np.where(female, 1.7, 0.8) * np.where(age < 35, 1.3, 1.0)
    aff[:, names["Beauty & Health"]] *= np.where(female, 2.0, 0.4)
    aff[:, names["Sports & Outdoors"]] *= np.where((age >= 22) & (age <= 50), 1.5, 0.7)
    aff[:, names["Books & Media"]] *= np.where(age >= 50, 1.6, 1.0)
    aff[:, names["Home & Garden"]] *= np.where((age >= 35) & (family == 1), 1.6, 1.0)
    fav_l1 = _pick(rng, aff)
    p_fav = rng.beta(3.0, 2.5, n)

    wealth = np.where(income > 0, income / MEDIAN_INCOME, 1.0)
    shape = 0.7
    rate = (
        rng.gamma(shape, MEAN_ORDERS_PER_YEAR / shape, n)
        * (1.0 + 0.15 * n_dep)
        * np.clip(wealth, 0.3, 3.0) ** 0.15
        * np.where(fav_l1 == names["Grocery"], 1.5, 1.0)
    )
    dropout = rng.gamma(2.0, 0.25, n)  # per year
    lifetime = np.minimum(rng.exponential(1.0, n) / dropout * 365.0, 36500.0)
    death = signup + 1 + np.floor(lifetime).astype(np.int64)
    basket = (
        1.0 + rng.gamma(2.0, 0.5, n) + 0.3 * n_dep + np.where(fav_l1 == names["Grocery"], 1.2, 0.0)
    )
    deal = rng.gamma(2.0, 0.5, n)
    return_propensity = rng.gamma(1.5, 1.0 / 1.5, n)
    return {
        "signup": signup.astype(np.int32),
        "death": death.astype(np.int32),
        "city": city.astype(np.int16),
        "store": store.astype(np.int32),
        "gender": gender.astype(np.int8),
        "birth_year": birth_year.astype(np.int16),
        "income": income.astype(np.int32),
        "family": family.astype(np.int8),
        "n_dependants": n_dep.astype(np.int8),
        "pref_channel": pref_channel.astype(np.int8),
        "loyalty": loyalty,
        "android": android,
        "fav_l1": fav_l1.astype(np.int8),
        "p_fav": p_fav,
        "rate": rate,
        "basket": basket,
        "deal": deal,
        "return_propensity": return_propensity,
    }


def _base_block(seed: int, block: int) -> dict[str, np.ndarray]:
    rng = rng_for(seed, CUSTOMERS, block)
    signup = _SIGNUP_DAYS[np.searchsorted(_SIGNUP_CDF, rng.random(BLOCK), side="right")]
    return _draw_people(rng, signup)


def _feed_day(seed: int, base_customers: int, day: int) -> Universe:
    rng = rng_for(seed, DAY_SIGNUPS, day)
    k = int(rng.poisson(feed_signup_rate(base_customers) * float(demand(day)[0])))
    ids = _ids(f"C{from_day(day).strftime('%Y%m%d')}-", k, 4)
    return Universe(ids, _draw_people(rng, np.full(k, day, dtype=np.int64)))


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width=width, padding="0"), "")


def build_universe(seed: int, customers: int, until: date) -> Universe:
    """The ``customers`` base customers plus every daily-feed signup up to ``until``.

    Filled block by block into preallocated columns: memory is the universe itself (~100 bytes
    per customer), not a multiple of it.
    """
    cols: dict[str, np.ndarray] = {}
    for b in range(-(-customers // BLOCK)):
        block = _base_block(seed, b)
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, customers)
        for c in COLUMNS:
            if c not in cols:
                cols[c] = np.empty(customers, dtype=block[c].dtype)
            cols[c][lo:hi] = block[c][: hi - lo]
    base = Universe(_ids("C", customers, 7), cols)
    feed = [_feed_day(seed, customers, d) for d in range(to_day(BASE_END) + 1, to_day(until) + 1)]
    return Universe.concat([base, *feed]) if feed else base


STORE_IDS = _STORE_IDS
