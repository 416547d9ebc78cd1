"""The demo product catalogue: a three-level category tree with prices, costs and popularity.

The tree and the price levels are fixed so segment names stay stable across seeds; the products
inside each leaf (how many, names, exact prices, costs, popularity) are drawn from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.demo.rng import PRODUCTS, rng_for

# l1 | popularity | gross margin low-high | return rate per line | extra units per line (mean)
_L1 = """
Electronics|1.0|0.12-0.28|0.030|0.05
Fashion|1.3|0.50-0.68|0.055|0.15
Home & Garden|0.8|0.35-0.55|0.020|0.15
Grocery|1.6|0.18-0.32|0.002|1.40
Beauty & Health|1.0|0.55-0.72|0.008|0.40
Baby & Kids|0.7|0.30-0.48|0.015|0.60
Sports & Outdoors|0.6|0.32-0.50|0.020|0.10
Books & Media|0.7|0.25-0.40|0.010|0.10
"""

# l1 | l2 | median list price | l3 leaves
_L2 = """
Electronics|Phones & Tablets|320|Smartphones;Tablets;Phone Cases
Electronics|Computers|420|Laptops;Monitors;Keyboards & Mice
Electronics|Audio|90|Headphones;Speakers;Earbuds
Electronics|TV & Video|380|Televisions;Streaming Devices
Fashion|Women|45|Dresses;Tops;Jeans
Fashion|Men|48|Shirts;Trousers;Jackets
Fashion|Shoes|75|Sneakers;Boots;Sandals
Fashion|Accessories|40|Bags;Watches;Sunglasses
Home & Garden|Furniture|260|Sofas;Tables;Chairs
Home & Garden|Kitchen|45|Cookware;Small Appliances;Tableware
Home & Garden|Garden|30|Plants;Garden Tools;Outdoor Furniture
Home & Garden|Decor|28|Lighting;Rugs;Candles
Grocery|Fresh|3.5|Fruit;Vegetables;Dairy
Grocery|Pantry|4|Pasta & Rice;Snacks;Breakfast
Grocery|Beverages|6|Coffee & Tea;Soft Drinks;Wine
Beauty & Health|Skincare|22|Moisturisers;Cleansers;Sunscreen
Beauty & Health|Makeup|18|Lipstick;Foundation;Mascara
Beauty & Health|Personal Care|8|Hair Care;Oral Care;Shaving
Baby & Kids|Baby Care|14|Diapers;Baby Food;Wipes
Baby & Kids|Toys|25|Building Sets;Dolls;Board Games
Baby & Kids|Kids Clothing|18|Baby Clothes;Kids Shoes
Sports & Outdoors|Fitness|35|Yoga Mats;Weights;Fitness Trackers
Sports & Outdoors|Cycling|120|Bikes;Helmets;Bike Accessories
Sports & Outdoors|Camping|70|Tents;Sleeping Bags;Backpacks
Books & Media|Books|14|Fiction;Non-fiction;Children's Books
Books & Media|Media|30|Video Games;Music;Films
"""

_BRANDS = (
    "Aurora Nordvik Lumen Vireo Kestrel Solace Tamarind Orbis Halcyon Brisa Quillon Marlow "
    "Cobalt Juniper Ridgeway Sable Tessera Umbra Verdant Wren Alder Basalt Cinder Dune Ember "
    "Fjord Gable Harbor Inlet Jasper"
).split()


@dataclass(frozen=True)
class L1:
    name: str
    popularity: float
    margin: tuple[float, float]
    return_rate: float
    extra_units: float


def _parse_l1() -> tuple[L1, ...]:
    out = []
    for line in _L1.strip().splitlines():
        name, pop, margin, ret, qty = line.split("|")
        lo, hi = (float(x) for x in margin.split("-"))
        out.append(L1(name, float(pop), (lo, hi), float(ret), float(qty)))
    return tuple(out)


def _parse_l2() -> list[tuple[str, str, float, list[str]]]:
    out = []
    for line in _L2.strip().splitlines():
        l1, l2, price, leaves = line.split("|")
        out.append((l1, l2, float(price), leaves.split(";")))
    return out


L1_CATEGORIES: tuple[L1, ...] = _parse_l1()
L1_NAMES: tuple[str, ...] = tuple(c.name for c in L1_CATEGORIES)


@dataclass(frozen=True)
class Catalog:
    """Products sorted by l1 (so each l1 is a contiguous index range)."""

    product_id: list[str]
    product_name: list[str]
    l1: np.ndarray  # int index into L1_CATEGORIES
    l2: list[str]
    l3: list[str]
    price_cents: np.ndarray  # list price
    cost_cents: np.ndarray  # unit cost
    popularity: np.ndarray  # relative weight, sums to 1 within the catalogue
    return_rate: np.ndarray
    extra_units: np.ndarray

    def __len__(self) -> int:
        return len(self.product_id)


def build_catalog(seed: int) -> Catalog:
    rng = rng_for(seed, PRODUCTS, 0)
    index = {c.name: i for i, c in enumerate(L1_CATEGORIES)}
    rows: list[tuple[int, str, str, float]] = []
    for l1, l2, median, leaves in _parse_l2():
        for l3 in leaves:
            n = int(rng.integers(4, 13))
            for price in median * rng.lognormal(0.0, 0.45, size=n):
                rows.append((index[l1], l2, l3, float(price)))
    rows.sort(key=lambda r: r[0])  # stable: keeps tree order inside each l1
    n = len(rows)
    l1 = np.array([r[0] for r in rows], dtype=np.int64)
    raw = np.array([r[3] for r in rows])
    # Charm pricing: x.99 above 10, x.x9 below.
    price = np.where(raw >= 10, np.ceil(raw) * 100 - 1, np.ceil(raw * 10) * 10 - 1)
    price_cents = np.maximum(price, 49).astype(np.int64)
    lo = np.array([L1_CATEGORIES[i].margin[0] for i in l1])
    hi = np.array([L1_CATEGORIES[i].margin[1] for i in l1])
    margin = rng.uniform(lo, hi)
    cost_cents = np.round(price_cents * (1.0 - margin)).astype(np.int64)
    # Zipf-like popularity inside each l1, scaled by the l1's share of demand.
    popularity = np.empty(n)
    for i, cat in enumerate(L1_CATEGORIES):
        members = np.flatnonzero(l1 == i)
        ranks = rng.permutation(len(members)) + 1
        w = 1.0 / ranks**0.9
        popularity[members] = cat.popularity * w / w.sum()
    popularity /= popularity.sum()
    brands = rng.integers(0, len(_BRANDS), size=n)
    models = rng.integers(100, 1000, size=n)
    letters = rng.integers(0, 26, size=n)
    names = [
        f"{_BRANDS[b]} {r[2]} {chr(65 + int(c))}{m}"
        for b, r, c, m in zip(brands, rows, letters, models, strict=True)
    ]
    return Catalog(
        product_id=[f"P{i:05d}" for i in range(1, n + 1)],
        product_name=names,
        l1=l1,
        l2=[r[1] for r in rows],
        l3=[r[2] for r in rows],
        price_cents=price_cents,
        cost_cents=cost_cents,
        popularity=popularity,
        return_rate=np.array([L1_CATEGORIES[i].return_rate for i in l1]),
        extra_units=np.array([L1_CATEGORIES[i].extra_units for i in l1]),
    )
