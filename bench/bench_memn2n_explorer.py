"""MemN2N Explorer: rerun cost against a trivial one-chart page, first render, figure bytes per rerun.

    python bench/bench_memn2n_explorer.py [--repeats 30]

Targets (issue 6), measured with AppTest in this process, the baseline timed in
alternation (bench/common.py) so the ratios hold on a busy machine:

- a hop change or a slider change: median rerun <= 3x the trivial page's;
- first render (model load plus first answer, caches empty): <= 2.0 s;
- one rerun sends <= 200 KB of figure data (chart specs as AppTest receives them).

AppTest reruns the whole script unless told otherwise. In the browser a hop change
reruns the hop player's fragment and a temperature or mask change the what-if
fragment (``memviz.ui.memn2n.what_if_and_hops``); those fragment-scoped reruns are
requested the way the browser does (bench/common.py) and are what the targets
apply to. Whole-script reruns are reported beside them as an upper bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.logger import set_log_level
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fragment_scoped, interleaved_medians, report, trivial_app, trivial_rerun

TAUS = [0.5, 1.0, 2.0, 0.3]
WHAT_IF = "what_if_and_hops"  # memviz.ui.memn2n's fragment for the what-if controls
LONG_STORY = "\n".join(f"Mary went to the {room}." for room in ["kitchen", "garden", "office", "hallway"] * 15)


def explorer(query: dict[str, str] | None = None, *, run: bool = True) -> AppTest:
    """The app switched to the explorer (a first run registers its custom url_path /memn2n)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/memn2n.py")
    if run:
        at.run()
        assert not at.exception, at.exception
    return at


def chart_bytes(at: AppTest) -> int:
    """Bytes of figure data the last run sent: plotly specs plus Vega-Lite specs and datasets."""
    total = sum(len(chart.proto.spec) for chart in at.get("plotly_chart"))
    total += sum(len(element.proto.json) for element in at.get("bidi_component"))  # every hop, sent once
    for chart in at.get("vega_lite_chart"):
        total += len(chart.proto.spec) + len(chart.proto.data.data)
        total += sum(len(d.data.data) for d in chart.proto.datasets)
    return total


def first_render_in_process(repeats: int) -> float:
    """Median seconds of the explorer's first run with every Streamlit cache cleared (model load + answer)."""
    times = []
    for _ in range(repeats):
        at = explorer(run=False)
        st.cache_resource.clear()
        st.cache_data.clear()
        from memviz.ui import memn2n as memn2n_page  # here: the cold-process run imports this module itself

        memn2n_page.clear_caches()
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return statistics.median(times)


COLD = """
import time
start = time.perf_counter()
import sys; sys.path.insert(0, {bench!r})
from bench_memn2n_explorer import explorer
at = explorer(run=False)
switched = time.perf_counter()
import torch  # the page's first run imports it; timed apart, it is Python start-up, not the page
imported = time.perf_counter()
at.run()
print(f"{{switched - start:.3f}} {{imported - switched:.3f}} {{time.perf_counter() - imported:.3f}}")
"""


def first_render_cold_process() -> tuple[float, float, float]:
    """(imports + app start, ``import torch``, first explorer run) in a fresh process: what a new server pays once."""
    code = COLD.format(bench=str(Path(__file__).resolve().parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    setup, torch_import, first = (float(x) for x in out.stdout.split()[-3:])
    return setup, torch_import, first


_SCRIPT_RUNS: list[float] = []


def _install_script_timer() -> None:
    """Record the duration of every script run (``ScriptRunner._run_script``: what a server does per rerun)."""
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script
    if getattr(original, "timed", False):
        return

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            _SCRIPT_RUNS.append(time.perf_counter() - start)

    timed.timed = True
    script_runner.ScriptRunner._run_script = timed


def script_timed(action: Callable[[int], None], into: list[float]) -> Callable[[int], None]:
    """``action``, also appending the seconds its script run(s) took to ``into``."""
    _install_script_timer()

    def run(i: int) -> None:
        _SCRIPT_RUNS.clear()
        action(i)
        into.append(sum(_SCRIPT_RUNS))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    set_log_level("error")  # AppTest outside a server logs "missing ScriptRunContext" and cache notices

    from memviz.ui.memn2n import TAU_OPTIONS  # here, so the cold-process run below imports it itself

    base = trivial_app()
    default, tau_view, mask_view, fresh_view, browser_view = (explorer() for _ in range(5))
    hops = json.loads(default.get("bidi_component")[0].proto.json)["steps"] - 1
    task3 = explorer({"task": "3 three-supporting-facts", "seed": "2"})

    def never_seen(at: AppTest, offset: int = 0) -> Callable[[int], None]:
        """A (tau2, tau3) pair not asked for before: the model runs (3 hops, 64-d) inside the rerun.

        ``offset`` keeps two such cases from answering each other from the shared cache.
        """

        def action(i: int) -> None:
            j = i + 1 + offset
            at.select_slider(key="tau2").set_value(TAU_OPTIONS[j % 11])
            at.select_slider(key="tau3").set_value(TAU_OPTIONS[j // 11 % 11]).run()

        return action

    def hop_change(at: AppTest) -> Callable[[int], None]:
        def report(i: int) -> None:  # a hop the browser reports (it steps on its own)
            at.session_state["hop_player"] = {"step": i % (hops + 1)}
            at.run()

        return report

    def tau_change(at: AppTest) -> Callable[[int], None]:
        return lambda i: at.select_slider(key="tau1").set_value(TAUS[i % 4]).run()

    def mask_click(at: AppTest) -> Callable[[int], None]:
        def pills():  # the sentence-mask pills, looked up in the current tree
            return next(g for g in at.get("button_group") if (g.key or "").startswith("mask_"))

        return lambda i: pills().set_value([1 + i % 3]).run()

    whole_tau, whole_fresh = explorer(), explorer()
    cases = {
        "hop change (the hop player's fragment)": fragment_scoped(
            browser_view, "what_if_and_hops", hop_change(browser_view)
        ),
        "temperature slider, hop 1 (the what-if fragment)": fragment_scoped(tau_view, WHAT_IF, tau_change(tau_view)),
        "mask a sentence (the what-if fragment)": fragment_scoped(mask_view, WHAT_IF, mask_click(mask_view)),
        "temperature slider, answer never computed before": fragment_scoped(
            fresh_view, WHAT_IF, never_seen(fresh_view)
        ),
        "whole-script rerun: hop change (default story)": hop_change(default),
        "whole-script rerun: hop change (task 3, 30+ sentences)": hop_change(task3),
        "whole-script rerun: temperature slider": tau_change(whole_tau),
        "whole-script rerun: answer never computed before": never_seen(whole_fresh, offset=60),
    }
    script_times: dict[str, list[float]] = {name: [] for name in ["baseline", *cases]}
    timed_cases = {name: script_timed(action, script_times[name]) for name, action in cases.items()}
    baseline_action = script_timed(lambda i: trivial_rerun(base, i), script_times["baseline"])
    baseline, medians = interleaved_medians(baseline_action, timed_cases, args.repeats)
    targets = {n: 3.0 for n in cases if not n.startswith("whole-script")}
    report("MemN2N Explorer: AppTest rerun after a change (wall)", baseline, medians, targets)
    print()
    script = {name: statistics.median(times[1:]) for name, times in script_times.items()}  # [0] is the warm-up
    report(
        "Same runs, server side only: the script run (app.py + page) without AppTest's parsing of the element tree",
        script.pop("baseline"),
        script,
        targets,
    )

    print()
    warm = first_render_in_process(5)
    setup, torch_import, cold = first_render_cold_process()
    print("First render: model load + first answer + page (target <= 2.0 s)")
    print(f"  caches cleared, in a running process (median of 5): {warm:.2f} s  {'met' if warm <= 2.0 else 'NOT met'}")
    print(
        f"  fresh process, first explorer run after `import torch`: {cold:.2f} s  {'met' if cold <= 2.0 else 'NOT met'}"
    )
    print(
        f"  (once per server process before that: streamlit + app start {setup:.2f} s, "
        f"import torch {torch_import:.2f} s)"
    )

    print()
    print("Figure data per rerun (target <= 200 KB)")
    views = {
        "default view (all hops)": default,
        "task 3, 30+ sentences": task3,
        "typed story, 60 sentences (50 kept)": explorer({"src": "Typed"}),
        "animation shown (Plotly frames)": explorer({"export": "true", "anim": "true"}),
    }
    typed = views["typed story, 60 sentences (50 kept)"]
    typed.text_area(key="story_text").input(LONG_STORY).run()
    for name, at in views.items():
        size = chart_bytes(at)
        print(f"  {name:<40} {size / 1000:7.1f} KB  {'met' if size <= 200_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
