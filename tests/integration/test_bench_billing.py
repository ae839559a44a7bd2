"""The time-to-bill benchmarks run as a user runs them and print consistent figures.

Small sizes, and no figure is held to a speed: what is checked is that every entry is posted
once, that the drain's figures add up (the hub's slot hold contains the vendor's response
time, which is never shorter than the latency), and that the machine's figures are there to
read the run by. The benchmarks use SQLite, as the targets are stated.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(300)


def bench(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "pshub.cli", "bench", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_drain_posts_every_entry_once_and_takes_its_ratio_apart() -> None:
    figures = bench("drain", "--entries", "600", "--concurrency", "3", "--latency-ms", "20")
    assert (figures["posted"], figures["duplicates"], figures["concurrency_rejections"]) == (
        600,
        0,
        0,
    )
    assert figures["requests"] >= 2 * 6  # a submit and at least one read per batch of 100
    assert figures["vendor_response_ms_mean"] >= 20  # never answered before the latency
    # Each slot is taken before the request goes and released after its answer is read.
    assert figures["slot_hold_ms_mean"] >= figures["vendor_response_ms_mean"]
    assert 0 < figures["slots_in_flight_mean"] <= 3
    assert 0 <= figures["slots_idle_percent"] < 100
    host = figures["machine"]
    assert {"cpus", "calibration_ms", "cpu_steal_percent", "machine_busy_percent"} <= set(host)
    if sys.platform == "linux":  # the processes' CPU is read from /proc
        assert host["hub_cpu_seconds"] > 0 and host["vendor_cpu_seconds"] > 0
        assert host["cpu_busy_percent"] > 0


def test_the_overhead_benchmark_posts_every_entry_once_into_the_sink() -> None:
    figures = bench("overhead", "--entries", "600", "--processes", "0")
    assert (figures["posted"], figures["erp_lines"], figures["duplicates"]) == (600, 600, 0)
    assert figures["entries_per_second"] > 0
    assert figures["machine"]["calibration_ms"] > 0
    if sys.platform == "linux":
        assert figures["machine"]["hub_cpu_seconds"] > 0
