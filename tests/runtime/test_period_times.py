"""The loop's work per period is kept in a histogram of fixed size (the soak's RSS trend was a list)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from appliance.runtime.latency import PeriodTimes


def test_percentiles_match_numpy_to_one_bin():
    values = np.random.default_rng(1).gamma(2.0, 1.5, size=20_000)
    times = PeriodTimes()
    for value in values:
        times.add(float(value))
    assert len(times) == values.size
    for q in (50, 90, 99):
        assert abs(times.percentile(q) - np.percentile(values, q)) <= PeriodTimes.BIN_MS + 1e-9


def test_a_period_beyond_the_limit_reads_as_the_limit_and_counts_in_max():
    times = PeriodTimes()
    times.add(2.0)
    times.add(3_000.0)
    assert times.max_ms == 3_000.0
    assert times.percentile(99) == PeriodTimes.LIMIT_MS


def test_nothing_added_has_no_percentile():
    assert PeriodTimes().percentile(50) is None


def test_a_simulated_hour_of_periods_allocates_nothing_that_stays():
    times = PeriodTimes()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for index in range(360_000):          # one hour of 10 ms periods
            times.add((index % 700) / 100.0)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 10_000           # a list of them held 11-12 MB
