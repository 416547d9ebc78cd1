"""Independent, repeatable random streams: one per (seed, purpose, key).

Each stream comes from its own ``SeedSequence`` so any block of customers or any single day can be
regenerated on its own and give the same numbers as inside a full run (PCG64 bit generator).
"""

from __future__ import annotations

import numpy as np

# Purposes: never renumber, or every seed's output changes.
CUSTOMERS = 1
PRODUCTS = 2
DAY_ORDERS = 3
DAY_MALFORMED = 4
DAY_SIGNUPS = 5


def rng_for(seed: int, purpose: int, key: int) -> np.random.Generator:
    # Days before 1970 give negative keys; SeedSequence needs non-negative entropy words.
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, purpose, key + 2**31]))
    )
