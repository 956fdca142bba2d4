"""The class limits that `memviz serve` workers install (memviz/ui/limits.py)."""

from __future__ import annotations

from urllib.parse import parse_qs

from memviz.ui.limits import RerunGate, cap_query_string


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, object, str]] = []

    def __call__(self) -> float:
        return self.now

    def call_later(self, delay: float, fn, target: str) -> None:
        self.timers.append((self.now + delay, fn, target))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, fn, target in due:
            fn(target)


def test_a_burst_of_one_control_runs_at_most_once_per_interval_and_ends_on_its_last_request():
    clock, runs = FakeClock(), []
    gate = RerunGate(runs.append, interval=0.15, clock=clock, schedule=clock.call_later)
    for i in range(20):  # a held arrow key: 20 requests in 0.2 s
        gate.submit("", f"t={i}")
        clock.advance(0.01)
    clock.advance(0.5)
    assert runs[0] == "t=0" and runs[-1] == "t=19"
    assert len(runs) == 3  # at 0, 0.15 and 0.30 s
    assert gate.coalesced == 17


def test_requests_slower_than_the_interval_all_run_and_targets_are_separate():
    clock, runs = FakeClock(), []
    gate = RerunGate(runs.append, interval=0.15, clock=clock, schedule=clock.call_later)
    for i in range(3):
        gate.submit("", f"whole {i}")
        gate.submit("fragment", f"fragment {i}")
        clock.advance(0.2)
    assert runs == ["whole 0", "fragment 0", "whole 1", "fragment 1", "whole 2", "fragment 2"]


def test_oversized_query_values_are_dropped_and_the_rest_kept():
    big = "x" * 98_000
    capped = cap_query_string(f"seed=11&t=3&junk={big}&{big}=1", value_max=16_384)
    assert parse_qs(capped) == {"seed": ["11"], "t": ["3"]}
    assert cap_query_string("seed=11&t=3") == "seed=11&t=3"
