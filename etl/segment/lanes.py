"""A run's method stages in two lanes side by side, as the DAG's parallel tasks run them.

Each method stage is its own transaction on its own connection (``pipeline.run_method``), and
most of a stage's time is a server backend writing the memberships or a Python fit, so two
stages at once keep both cores busy. The methods whose model fit holds the most memory (the
cluster fits, the CLV fit) run only in the first lane, one after another, so the process never
holds two fits at once; the other methods are taken in order by whichever lane is free.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

HEAVY = frozenset({"kmeans", "hierarchical", "clv"})


def run_in_lanes(methods: Sequence[str], work: Callable[[str], None]) -> None:
    """``work(method)`` for every method, two lanes side by side. The first error is raised
    once the other lane has finished the stage it was in (no lane starts another); an interrupt
    likewise waits for the stages in flight, whose results the caller's failing of the run then
    deletes."""
    heavy = [m for m in methods if m in HEAVY]
    light = deque(m for m in methods if m not in HEAVY)
    if len(methods) < 2:
        for method in methods:
            work(method)
        return
    stop = threading.Event()
    lock = threading.Lock()

    def next_light() -> str | None:
        with lock:
            return light.popleft() if light and not stop.is_set() else None

    def lane(own: list[str]) -> None:
        try:
            for method in own:
                if stop.is_set():
                    return
                work(method)
            while (method := next_light()) is not None:
                work(method)
        except BaseException:
            stop.set()
            raise

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="segwise-lane") as pool:
        futures = [pool.submit(lane, heavy), pool.submit(lane, [])]
        try:
            for future in futures:
                future.result()
        except BaseException:
            stop.set()
            raise
