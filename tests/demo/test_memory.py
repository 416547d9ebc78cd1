"""Streaming keeps memory flat: a 2M-line history stays far below holding its lines in memory."""

from __future__ import annotations

import threading

import psutil

from etl import demo

LINES = 2_000_000
# 2M lines held as pandas string columns would take well over 1 GB; streaming uses one day.
MAX_GROWTH_MB = 200


def test_two_million_lines_with_bounded_memory(tmp_path):
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = demo.write_history(tmp_path, scale_lines=LINES)
    finally:
        done.set()
        sampler.join()
    assert abs(result.order_lines - LINES) < 0.02 * LINES
    size = (tmp_path / "order_lines.csv").stat().st_size
    assert size > 150 * 2**20  # the file really holds ~2M lines
    growth_mb = (peak - base) / 2**20
    assert growth_mb < MAX_GROWTH_MB, f"peak RSS grew by {growth_mb:.0f} MB"
