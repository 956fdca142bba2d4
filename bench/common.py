"""Helpers shared by the AppTest benchmarks: time reruns against a baseline, print a table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import streamlit.testing.v1.local_script_runner as local_runner
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def share_compiled_scripts() -> None:
    """Compile each script once, as a server does, instead of once per AppTest run.

    A server keeps one cache of compiled scripts for its lifetime, while AppTest
    makes a new one per run and so recompiles app.py and the page script on every
    rerun; the benchmarks share one cache across runs. This applies to the trivial
    baseline page too. (The legacy ``pages/`` detection a server pays only once is
    avoided by the entry script, ``bench/served_app.py``, not by a patch.)
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    shared_cache = ScriptCache()
    app_test.ScriptCache = lambda: shared_cache


share_compiled_scripts()


def page_app(page: str, query: dict[str, str] | None = None) -> AppTest:
    """The real app switched to one of its pages, run once (warm caches, imports)."""
    at = AppTest.from_file(str(ROOT / "bench" / "served_app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(f"../pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def trivial_app() -> AppTest:
    """The baseline: one slider and one plotly chart (bench/trivial_page.py)."""
    at = AppTest.from_file(str(ROOT / "bench" / "trivial_page.py"), default_timeout=120)
    at.run()
    return at


def trivial_rerun(at: AppTest, i: int) -> None:
    at.slider(key="points").set_value(10 + i % 7).run()


def _timed(action: Callable[[int], None], i: int) -> float:
    start = time.perf_counter()
    action(i)
    return time.perf_counter() - start


def interleaved_medians(
    baseline: Callable[[int], None], cases: dict[str, Callable[[int], None]], repeats: int
) -> tuple[float, dict[str, float]]:
    """Median seconds of the baseline and of each case, timed in alternation.

    Alternating baseline and case calls means a busy machine slows both alike,
    so the ratios stay meaningful even when the absolute times drift.
    """
    for action in [baseline, *cases.values()]:
        action(-1)  # warm-up
    base_times: list[float] = []
    case_times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(repeats):
        for name, action in cases.items():
            base_times.append(_timed(baseline, i))
            case_times[name].append(_timed(action, i))
    return statistics.median(base_times), {name: statistics.median(t) for name, t in case_times.items()}


def report(title: str, baseline: float, cases: dict[str, float], targets: dict[str, float]) -> None:
    """Print medians and ratios to the baseline, with each case's target ratio."""
    rows = [("case", "median rerun", "ratio", "target")]
    rows.append(("trivial one-chart page (baseline)", f"{baseline * 1000:.1f} ms", "1.00", ""))
    for name, t in cases.items():
        ratio = t / baseline
        target = targets.get(name)
        verdict = "" if target is None else f"<= {target:g}: {'met' if ratio <= target else 'NOT met'}"
        rows.append((name, f"{t * 1000:.1f} ms", f"{ratio:.2f}", verdict))
    print(title)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def page_alone(page: str, query: dict[str, str] | None = None) -> AppTest:
    """One page script run by AppTest on its own, as the baseline is (no app.py navigation around it)."""
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def fragment_id(at: AppTest, function: str) -> str:
    """The id of the page's fragment that wraps the function with this qualified name."""
    for fragment_id, wrapped in at._fragment_storage._fragments.items():
        inner = [getattr(c.cell_contents, "__qualname__", "") for c in (wrapped.__closure__ or ())]
        if function in inner:
            return fragment_id
    raise LookupError(f"no fragment wrapping {function} on the page")


def fragment_scoped(at: AppTest, function: str, action):
    """``action`` as the browser sends it: a rerun of only the fragment wrapping ``function``."""
    scope = fragment_id(at, function)

    def scoped(**kwargs) -> RerunData:
        return RerunData(**kwargs, fragment_id_queue=[scope], is_fragment_scoped_rerun=True)

    def run(i: int) -> None:
        local_runner.RerunData = scoped
        try:
            action(i)
        finally:
            local_runner.RerunData = RerunData

    return run


STEP_FRAGMENT = "step_player.<locals>.frame"  # memviz.ui.step_player's fragment
