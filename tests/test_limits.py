"""The class limits that `memviz serve` workers install (memviz/ui/limits.py), with Streamlit's own request queue."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests, ScriptRequestType

from memviz.ui.limits import RerunGate, RunGate, cap_query_string


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


def _script_thread(gate: RunGate, runs: list, lock: threading.Lock, name: str) -> None:
    """A session's script thread as Streamlit runs it: take the request, run it, ask for the next (none)."""
    requests = ScriptRequests()
    requests.request_rerun(RerunData(query_string=name))
    request = gate.ready(requests, requests.on_scriptrunner_ready)
    while request.type == ScriptRequestType.RERUN:
        with lock:
            runs.append(("start", name, time.monotonic()))
        time.sleep(0.02)  # the run
        with lock:
            runs.append(("end", name, time.monotonic()))
        request = gate.ready(requests, requests.on_scriptrunner_ready)


def _most_at_once(runs: list) -> int:
    running = most = 0
    for event, _, _ in sorted(runs, key=lambda r: (r[2], r[0] == "start")):
        running += 1 if event == "start" else -1
        most = max(most, running)
    return most


def test_script_runs_of_a_worker_take_turns_and_every_one_runs():
    """Thirty sessions asking at once: with a limit of 1 their runs never overlap and the turn is always given back."""
    for limit, expected in ((1, 1), (2, 2)):
        gate, runs, lock = RunGate(limit), [], threading.Lock()
        threads = [threading.Thread(target=_script_thread, args=(gate, runs, lock, f"s{i}")) for i in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in threads), "a script thread never got its turn"
        assert sorted(name for event, name, _ in runs if event == "end") == sorted(f"s{i}" for i in range(30))
        assert _most_at_once(runs) == expected


def test_a_thread_told_to_stop_does_not_keep_a_turn():
    gate = RunGate(1)
    idle = ScriptRequests()  # no rerun pending: the thread will stop
    assert gate.ready(idle, idle.on_scriptrunner_ready).type == ScriptRequestType.STOP
    busy = ScriptRequests()
    busy.request_rerun(RerunData())
    assert gate.turns.acquire(timeout=1)  # the turn is free
    gate.turns.release()
    assert gate.ready(busy, busy.on_scriptrunner_ready).type == ScriptRequestType.RERUN
    assert not gate.turns.acquire(timeout=0.05)  # now held by this thread's run
    gate.release()
    assert gate.turns.acquire(timeout=1)
