"""The policy-throughput benchmark's arithmetic: medians per figure, CPU growth, and the pack process's CPU clock."""

from __future__ import annotations

import os
import time

from benchmarks.policy_throughput import Sample, growth, median_sample, process_cpu_seconds


def test_policy_throughput_median_takes_each_figure_on_its_own() -> None:
    samples = [Sample(1.0, 9.0, 0.5, 0.1), Sample(3.0, 1.0, 0.7, 0.3), Sample(2.0, 2.0, 9.0, 0.2)]

    assert median_sample(samples) == Sample(2.0, 2.0, 0.7, 0.2)


def test_policy_throughput_growth_is_cpu_at_the_large_size_over_the_small_one() -> None:
    samples = {("pack", 1_000): Sample(9.0, 9.0, 1.0, 0.1), ("pack", 10_000): Sample(1.0, 1.0, 10.0, 1.0)}

    whole = growth(samples, "pack", 1_000, 10_000, stack_only=False)
    stack = growth(samples, "pack", 1_000, 10_000, stack_only=True)

    assert whole is not None and round(whole, 2) == 10.0
    assert stack is not None and round(stack, 2) == 10.0


def test_policy_throughput_growth_of_an_unmeasurably_small_figure_is_none() -> None:
    samples = {("floor", 100): Sample(1.0, 0.1, 0.5, 0.0), ("floor", 1_000): Sample(1.0, 0.1, 5.0, 0.02)}

    assert growth(samples, "floor", 100, 1_000, stack_only=True) is None
    assert growth(samples, "floor", 100, 1_000, stack_only=False) == 5.02 / 0.5


def test_policy_throughput_reads_a_processes_cpu_clock() -> None:
    before = process_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.1
    while time.process_time() < deadline:
        pass

    assert process_cpu_seconds(os.getpid()) - before >= 0.05
