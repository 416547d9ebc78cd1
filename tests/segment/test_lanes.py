"""The method stages' two lanes: every method runs once, the lanes overlap, the heavy fits never
do, a free lane takes the next light method, and an error stops the other lane after its stage
in flight."""

from __future__ import annotations

import threading
import time

import pytest

from etl.segment import lanes

SIX = ["rfm", "tiers", "kmeans", "hierarchical", "demographic", "channel"]


def test_lanes_overlap_and_heavy_fits_do_not():
    met = threading.Barrier(2, timeout=10)  # broken unless a heavy and a light stage overlap
    lock = threading.Lock()
    running: set[str] = set()
    heavy_together: list[set[str]] = []
    done: list[str] = []

    def work(method: str) -> None:
        with lock:
            running.add(method)
            if len(running & lanes.HEAVY) > 1:
                heavy_together.append(set(running))
        if method in ("kmeans", "rfm"):
            met.wait()
        with lock:
            running.discard(method)
            done.append(method)

    lanes.run_in_lanes(SIX, work)
    assert sorted(done) == sorted(SIX)
    assert heavy_together == []


def test_an_error_stops_the_other_lane_after_its_stage():
    started: list[str] = []
    in_flight = threading.Event()
    release = threading.Event()

    def work(method: str) -> None:
        started.append(method)
        if method == "kmeans":
            in_flight.set()
            release.wait(10)
            time.sleep(0.5)  # the failing lane has set the stop by now (it raises right after)
        if method == "rfm":
            in_flight.wait(10)
            release.set()
            raise ValueError("rfm broke")

    with pytest.raises(ValueError, match="rfm broke"):
        lanes.run_in_lanes(SIX, work)
    assert sorted(started) == ["kmeans", "rfm"]  # neither lane started another stage


def test_the_heavy_lane_takes_light_methods_once_its_fits_are_done():
    lane_of: dict[str, str] = {}
    light_started, light_done = threading.Event(), threading.Event()

    def work(method: str) -> None:
        lane_of[method] = threading.current_thread().name
        if method == "kmeans":  # the other lane takes rfm first
            light_started.wait(10)
        if method == "rfm":  # and holds it until every other method is done
            light_started.set()
            light_done.wait(10)
        if method == "channel":
            light_done.set()

    lanes.run_in_lanes(SIX, work)
    assert sorted(lane_of) == sorted(SIX)
    assert lane_of["kmeans"] == lane_of["hierarchical"] != lane_of["rfm"]
    # tiers, demographic, channel went to the free lane while rfm held the other one
    assert {lane_of[m] for m in ("tiers", "demographic", "channel")} == {lane_of["kmeans"]}
