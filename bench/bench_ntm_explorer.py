"""NTM Explorer numbers (issue 4) against a trivial one-chart page measured in the same run.

    .venv/bin/python bench/bench_ntm_explorer.py [--repeats 30]

* step change: median server rerun after "next step" <= 3x the trivial page's rerun.
  In the browser a step button reruns only the step fragment; AppTest reruns the
  whole script unless told otherwise, so the fragment-scoped rerun is requested
  the way the browser does (RerunData with the fragment's id), and the whole-script
  rerun is reported beside it as an upper bound;
* override change with its re-run of the episode (a new override every time, so
  the trace cache never answers) <= 5x; the override knobs live in the
  intervention fragment, so this too is a fragment-scoped rerun (whole-script
  rerun beside it);
* first render of the page with empty caches (model load + first trace + figures) <= 2.0 s;
* figure data per rerun (the chart specs AppTest receives) <= 400 KB;
* Plotly animation of a length-20 copy episode <= 1.5 MB;
* GIF export of a length-20 copy episode <= 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import streamlit as st
from common import ROOT, STEP_FRAGMENT, fragment_scoped, interleaved_medians, report, trivial_app, trivial_rerun
from streamlit.testing.v1 import AppTest

import memviz
from memviz.figures import export
from memviz.figures import ntm as figs
from memviz.ntm import explore as ex
from memviz.ui import ntm as ntm_page

GAMMAS = ["1", "1.5", "2", "3", "5", "10", "20", "50", "100"]


def explorer(query: dict[str, str] | None = None, clear: bool = False) -> tuple[AppTest, float]:
    """The app switched to the explorer (one run of home first: its url_path differs from its file name).

    Returns the AppTest and the seconds the explorer's own first run took;
    ``clear`` empties Streamlit's caches first, so that run loads the model.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/ntm.py")
    if clear:
        st.cache_resource.clear()
        st.cache_data.clear()
        ntm_page.clear_caches()
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    assert not at.exception, [e.message for e in at.exception]
    return at, elapsed


def figure_bytes(at: AppTest) -> int:
    return sum(len(chart.proto.spec) for chart in at.get("plotly_chart"))


def step_case(at: AppTest):
    def action(i: int) -> None:
        at.button_group(key="t_nav").set_value("next" if i % 2 == 0 else "prev").run()

    return action


OVERRIDE_FRAGMENT = "intervene_and_view"


def fragment_step_case(at: AppTest):
    """A step button click rerunning only the step fragment, as the browser asks for it."""
    return fragment_scoped(at, STEP_FRAGMENT, step_case(at))


def override_case(at: AppTest, steps: int, first: int = 0):
    """Each call sets a (gamma, step) pair not seen before, so the episode is re-run every time.

    ``first`` offsets the sequence of pairs, so that two cases on the same
    episode never answer each other from the shared trace cache.
    """
    counter = {"i": first}

    def action(_: int) -> None:
        i = counter["i"] = counter["i"] + 1
        at.session_state["t"] = i % steps  # the override is pinned to the step on screen
        at.select_slider(key="ov_gamma").set_value(GAMMAS[i % len(GAMMAS)]).run()

    return action


def fragment_override_case(at: AppTest, steps: int):
    """An override knob moved: the browser reruns only the intervention fragment (and the step view inside)."""
    return fragment_scoped(at, OVERRIDE_FRAGMENT, override_case(at, steps))


def revisit_case(at: AppTest):
    """Back and forth between two overrides already run: the trace cache answers, no model run."""

    def action(i: int) -> None:
        at.select_slider(key="ov_gamma").set_value(GAMMAS[i % 2]).run()

    return action


def model_case(steps_length: int, from_step: bool):
    """The re-run alone (no Streamlit), a new one-step override each call: from its step, or from step 0."""
    model = memviz.load_pretrained("ntm-copy")
    episode = ex.random_episode(model.task, 0, {"length": steps_length})
    base, states = ex.run_episode(model, episode.x), model.states(episode.x)

    def action(i: int) -> None:
        choice = ex.OverrideChoice(gamma=GAMMAS[i % len(GAMMAS)], step=(i + 1) % episode.steps)
        overrides = ex.build_overrides(choice, 3, episode.steps)
        if from_step:
            ex.rerun_from(model, episode.x, base, states, overrides)
        else:
            ex.run_episode(model, episode.x, overrides)

    return action


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    if "ntm-copy" not in memviz.list_pretrained():
        sys.exit("needs pretrained/ntm-copy")

    firsts = [explorer(clear=True)[1] for _ in range(6)]  # the first one also imports torch
    base = trivial_app()
    default, _ = explorer()
    long20, _ = explorer({"length": "20"})
    cases = {
        "step change (length 10, default view)": fragment_step_case(default),
        "step change (length 20)": fragment_step_case(long20),
        "whole-script rerun on a step change (length 10)": step_case(explorer()[0]),
        "override change + re-run (length 10)": fragment_override_case(explorer()[0], 21),
        "override change + re-run (length 20)": fragment_override_case(explorer({"length": "20"})[0], 41),
        "whole-script rerun on an override change + re-run (length 20)": override_case(
            explorer({"length": "20"})[0], 41, first=4 * 41
        ),
        "override change, trace already cached (length 10)": revisit_case(explorer()[0]),
        "the re-run alone from the override's step, no page (length 10)": model_case(10, True),
        "a full re-run from step 0, no page (length 10)": model_case(10, False),
    }
    baseline, medians = interleaved_medians(lambda i: trivial_rerun(base, i), cases, args.repeats)
    targets = {n: (3.0 if n.startswith("step") else 5.0) for n in cases if n.startswith(("step", "override change +"))}
    report("NTM Explorer: AppTest rerun against the trivial one-chart page", baseline, medians, targets)

    print("\nFirst render, empty caches (model load + first trace + figures), target <= 2.0 s")
    print(f"  first in this process (also imports torch): {firsts[0]:.2f} s")
    runs = ", ".join(f"{t:.2f}" for t in firsts[1:])
    print(f"  median of the next 5: {statistics.median(firsts[1:]):.2f} s  ({runs})")

    print("\nFigure data per rerun (chart specs AppTest receives), target <= 400 KB")
    views = {
        "default (length 10)": {},
        "length 20": {"length": "20"},
        "length 20, change M_t - M_t-1": {"length": "20", "diff": "toggle"},
        "length 20 with an override (adds the comparison chart)": {"length": "20", "ov_gamma": "50", "ov_step": "5"},
        "length 120": {"length": "120"},
        "LSTM baseline, length 20": {"model": "lstm-copy", "length": "20"},
    }
    for name, query in views.items():
        if query.get("model", "ntm-copy") not in memviz.list_pretrained():
            continue
        diff = query.pop("diff", None)
        at, _ = explorer(query)
        if diff:
            at.toggle(key="diff").set_value(True).run()
        at.button_group(key="t_nav").set_value("next").run()
        size = figure_bytes(at)
        print(f"  {name:58s} {size / 1000:7.1f} KB  {'met' if size <= 400_000 else 'NOT met'}")

    at, _ = explorer({"length": "20", "export": "true"})
    at.toggle(key="anim").set_value(True).run()
    animation = next(len(c.proto.spec) for c in at.get("plotly_chart") if c.key == "animation")
    print("\nPlotly animation, length-20 copy episode, target <= 1.5 MB")
    print(f"  {animation / 1e6:.2f} MB ({'met' if animation <= 1.5e6 else 'NOT met'})")

    model = memviz.load_pretrained("ntm-copy")
    episode = ex.random_episode(model.task, 0, {"length": 20})
    trace = model.run(episode.x)
    exports = {
        "GIF (target <= 5 s)": lambda: export.ntm_gif(trace, episode, title="ntm-copy"),
        "interactive HTML": lambda: figs.animation_html(
            figs.animation_figure(
                trace.memory_after, ex.touched_rows(trace), [(h.name, h.w) for h in trace.heads], episode.phases
            )
        ),
        "NPZ": lambda: ex.export_npz(trace, episode),
        "JSON": lambda: ex.export_json(trace, episode),
    }
    print("\nExports of a length-20 copy episode (median of 5)")
    for name, make in exports.items():
        times, data = [], b""
        for _ in range(5):
            start = time.perf_counter()
            data = make()
            times.append(time.perf_counter() - start)
        print(f"  {name:22s} {statistics.median(times):6.2f} s  {len(data) / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
