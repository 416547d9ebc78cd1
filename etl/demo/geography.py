"""Where the demo customers live: macro region -> market -> country -> state -> city.

A fixed table (not random) so every seed shares one map and regional segments have stable names.
``weight`` is a rough urban population share; ``income`` scales a country's income level;
``stores`` is how many physical stores the retailer runs there (0: online-only city);
``android`` is the share of app users on Android.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class City:
    region: str
    market: str
    country: str
    code: str  # ISO 3166 alpha-2, used in store ids
    state: str
    city: str
    city_code: str
    weight: float
    income: float
    stores: int
    android: float


# region | market | country | code | state | city | city code | weight | income | stores | android
_TABLE = """
Europe|DACH|Germany|DE|Berlin|Berlin|BER|3.6|1.0|3|0.45
Europe|DACH|Germany|DE|Bavaria|Munich|MUC|1.5|1.15|2|0.45
Europe|DACH|Germany|DE|Hamburg|Hamburg|HAM|1.8|1.05|2|0.45
Europe|DACH|Germany|DE|North Rhine-Westphalia|Cologne|CGN|1.1|1.0|1|0.45
Europe|DACH|Germany|DE|North Rhine-Westphalia|Düsseldorf|DUS|0.6|1.05|1|0.45
Europe|DACH|Austria|AT|Vienna|Vienna|VIE|1.9|1.0|1|0.5
Europe|DACH|Switzerland|CH|Zurich|Zürich|ZRH|0.4|1.6|1|0.35
Europe|DACH|Switzerland|CH|Geneva|Geneva|GVA|0.2|1.55|0|0.35
Europe|UK & Ireland|United Kingdom|GB|England|London|LON|8.9|1.1|3|0.45
Europe|UK & Ireland|United Kingdom|GB|England|Manchester|MAN|2.7|0.9|1|0.5
Europe|UK & Ireland|United Kingdom|GB|England|Birmingham|BHX|2.6|0.85|1|0.5
Europe|UK & Ireland|United Kingdom|GB|Scotland|Edinburgh|EDI|0.5|0.95|1|0.45
Europe|UK & Ireland|United Kingdom|GB|Scotland|Glasgow|GLA|0.6|0.85|0|0.5
Europe|UK & Ireland|Ireland|IE|Leinster|Dublin|DUB|1.4|1.1|1|0.45
Europe|France & Benelux|France|FR|Île-de-France|Paris|PAR|6.0|1.0|2|0.55
Europe|France & Benelux|France|FR|Auvergne-Rhône-Alpes|Lyon|LYS|1.4|0.9|1|0.6
Europe|France & Benelux|France|FR|Provence-Alpes-Côte d'Azur|Marseille|MRS|1.6|0.8|0|0.65
Europe|France & Benelux|Netherlands|NL|North Holland|Amsterdam|AMS|1.2|1.05|1|0.5
Europe|France & Benelux|Netherlands|NL|South Holland|Rotterdam|RTM|1.0|0.95|0|0.55
Europe|Nordics|Sweden|SE|Stockholm County|Stockholm|STO|1.6|1.1|1|0.4
Europe|Nordics|Sweden|SE|Skåne|Malmö|MMX|0.7|0.95|0|0.45
Europe|Nordics|Denmark|DK|Capital Region|Copenhagen|CPH|1.3|1.15|1|0.4
North America|USA|United States|US|New York|New York City|NYC|8.3|1.3|3|0.35
North America|USA|United States|US|California|Los Angeles|LAX|3.9|1.2|2|0.4
North America|USA|United States|US|California|San Francisco|SFO|0.9|1.6|1|0.3
North America|USA|United States|US|Illinois|Chicago|CHI|2.7|1.1|1|0.4
North America|USA|United States|US|Texas|Houston|HOU|2.3|1.0|1|0.45
North America|USA|United States|US|Texas|Austin|AUS|1.0|1.15|0|0.35
North America|USA|United States|US|Washington|Seattle|SEA|0.8|1.4|1|0.35
North America|USA|United States|US|Florida|Miami|MIA|0.5|0.95|0|0.45
North America|Canada|Canada|CA|Ontario|Toronto|YYZ|2.8|1.0|1|0.45
North America|Canada|Canada|CA|Quebec|Montreal|YUL|1.8|0.9|0|0.5
North America|Canada|Canada|CA|British Columbia|Vancouver|YVR|0.7|1.0|0|0.45
APAC|ANZ|Australia|AU|New South Wales|Sydney|SYD|5.3|1.1|1|0.45
APAC|ANZ|Australia|AU|Victoria|Melbourne|MEL|5.0|1.05|0|0.45
APAC|ANZ|New Zealand|NZ|Auckland|Auckland|AKL|1.7|0.9|0|0.5
APAC|Japan|Japan|JP|Tokyo|Tokyo|TYO|6.0|0.9|0|0.3
APAC|Japan|Japan|JP|Osaka|Osaka|OSA|2.7|0.8|0|0.35
APAC|India|India|IN|Maharashtra|Mumbai|BOM|5.0|0.3|0|0.9
APAC|India|India|IN|Karnataka|Bengaluru|BLR|4.0|0.35|0|0.85
APAC|India|India|IN|Delhi|New Delhi|DEL|4.5|0.3|0|0.9
LATAM|Brazil|Brazil|BR|São Paulo|São Paulo|SAO|5.0|0.4|0|0.85
LATAM|Brazil|Brazil|BR|Rio de Janeiro|Rio de Janeiro|RIO|3.0|0.35|0|0.85
LATAM|Mexico|Mexico|MX|Mexico City|Mexico City|MEX|4.5|0.4|0|0.8
LATAM|Mexico|Mexico|MX|Jalisco|Guadalajara|GDL|1.5|0.35|0|0.85
"""


def _parse(table: str) -> tuple[City, ...]:
    cities = []
    for line in table.strip().splitlines():
        f = line.split("|")
        cities.append(City(*f[:7], float(f[7]), float(f[8]), int(f[9]), float(f[10])))
    return tuple(cities)


CITIES: tuple[City, ...] = _parse(_TABLE)


def city_weights() -> np.ndarray:
    w = np.array([c.weight for c in CITIES], dtype=np.float64)
    return w / w.sum()


def store_table() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Store ids, the first store index of each city and each city's store count."""
    ids: list[str] = []
    first = np.zeros(len(CITIES), dtype=np.int64)
    count = np.zeros(len(CITIES), dtype=np.int64)
    for i, c in enumerate(CITIES):
        first[i] = len(ids)
        count[i] = c.stores
        ids.extend(f"ST-{c.code}-{c.city_code}-{k}" for k in range(1, c.stores + 1))
    return ids, first, count
