"""A run's method stages in two lanes side by side, as the DAG's parallel tasks run them.

Each method stage is its own transaction on its own connection (``pipeline.run_method``), and
most of a stage's time is a server backend writing the memberships or a Python fit, so two
stages at once keep both cores busy. The methods whose model fit holds the most memory (the
cluster fits, the CLV fit) share one lane and run one after another, so the process never holds
two fits at once; the others run in the second lane.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

HEAVY = frozenset({"kmeans", "hierarchical", "clv"})


def split(methods: Sequence[str]) -> list[list[str]]:
    """The non-empty lanes: the heavy fits, then the rest, each in the given order."""
    lanes = [[m for m in methods if m in HEAVY], [m for m in methods if m not in HEAVY]]
    return [lane for lane in lanes if lane]


def run_in_lanes(methods: Sequence[str], work: Callable[[str], None]) -> None:
    """``work(method)`` for every method, the lanes side by side. The first error is raised
    once the other lane has finished the stage it was in (its later stages are not started);
    an interrupt likewise waits for the stages in flight, whose results the caller's failing of
    the run then deletes."""
    stop = threading.Event()

    def lane(methods: list[str]) -> None:
        for method in methods:
            if stop.is_set():
                return
            try:
                work(method)
            except BaseException:
                stop.set()
                raise

    lanes = split(methods)
    if len(lanes) == 1:
        for method in lanes[0]:
            work(method)
        return
    with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="segwise-lane") as pool:
        futures = [pool.submit(lane, m) for m in lanes]
        try:
            for future in futures:
                future.result()
        except BaseException:
            stop.set()
            raise
