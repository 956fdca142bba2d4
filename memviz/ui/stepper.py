"""The browser step player: step, scrub and play an episode's figures with no server round trip.

One ``st.components.v2`` component (no iframe; DESIGN.md section 4 says why)
gets, once per episode, every panel's figure at every step packed by
:func:`memviz.figures.stepped.pack_steps` (a skeleton plus float32 or 8-bit
per-step arrays) or per-step HTML. Its JavaScript (``static/stepper.js``) draws
each figure once with plotly.js and updates it in place on a step change; it
owns the controls (first/previous/next/last, a scrub slider, play/pause at 0.5,
1, 2 or 4 steps per second, the arrow keys and space), writes the step to the
URL (``?t=N``) and tells Python the step only when another control is about to
rerun the script, so a step change never reruns it.

plotly.js is served by Streamlit's static route for components
(``/component/<name>/``, declared with ``st.components.v1.declare_component``
on its folder): no CDN, nothing fetched from the internet at run time, cached by
the browser after the first page. It is plotly.js's *cartesian* bundle
(heatmap, bar, scatter: every trace the players draw), fetched by ``setup.sh``
from the npm registry in the very version the installed plotly package bundles:
a browser evaluates it in a third of the time of the full 4.6 MB
``package_data/plotly.min.js`` (about 1 s on this machine, the largest part of
opening a page). Without it (no npm at set-up, or another plotly.js version
installed since) the full bundle of the plotly package is served.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import plotly
import streamlit as st
import streamlit.components.v1 as components_v1

from memviz.figures.stepped import deflate_json, pack_steps
from memviz.figures.theme import for_presenter

STATIC = Path(__file__).parent / "static"
FULL_BUNDLE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
CARTESIAN_BUNDLE = STATIC / "vendor" / "plotly-cartesian.min.js"
"""Fetched by setup.sh (npm: ``plotly.js-cartesian-dist-min`` at :func:`bundle_version` of the full bundle)."""


def bundle_version(path: Path) -> str | None:
    """The plotly.js version a bundle's header names (``* plotly.js (cartesian - minified) v4.1.1``)."""
    try:
        with open(path, encoding="utf-8") as bundle:
            header = bundle.read(300)
    except OSError:
        return None
    match = re.search(r"plotly\.js\b[^\n]*? v(\d+\.\d+\.\d+)", header)
    return match.group(1) if match else None


def plotly_bundle() -> Path:
    """The plotly.js file the browser loads: the cartesian bundle if it is the installed version, else the full one."""
    version = bundle_version(CARTESIAN_BUNDLE)
    return CARTESIAN_BUNDLE if version is not None and version == bundle_version(FULL_BUNDLE) else FULL_BUNDLE


PLOTLY_FILE = plotly_bundle()
PLOTLY_COMPONENT = "plotlyjs"
PLOTLY_URL = f"component/{__name__}.{PLOTLY_COMPONENT}/{PLOTLY_FILE.name}"
SPEEDS = (0.5, 1, 2, 4)
JS_FILES = ("addressing.js", "stepper.js")
"""One module: the addressing math (the Playground's live panels use it), then the player."""
CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}

_component = st.components.v2.component(
    "memviz_stepper",
    html="",
    css=(STATIC / "stepper.css").read_text(encoding="utf-8"),
    js="\n".join((STATIC / name).read_text(encoding="utf-8") for name in JS_FILES),
    isolate_styles=False,  # plotly.js styles its charts from the document's head
)


def figure_panel(
    panel_id: str, frames: Sequence[dict], width: float | None = None, curtains: Sequence[dict] | None = None
) -> dict:
    """A panel drawing one figure, given its spec at every step (see :func:`memviz.figures.stepped.pack_steps`).

    Panels stack; those given a ``width`` (a share of the row, e.g. 0.6 and 0.4) sit side by side
    while the row is wide enough and wrap below each other when it is not.

    ``curtains``: parts of the figure covered while the step is before ``until`` (a hop not reached yet),
    each ``{"until": step, "xref", "x0", "x1", "yref", "y0", "y1"}`` (and a ``"text"`` it shows) with
    refs ``"paper"``, ``"container"`` (the whole figure, margins too) or an axis (``"x"``, ``"y2"``).
    A cover has the plot's background, hides what is under it from the hover, and stays under the
    figure's annotations; moving covers is all a step change costs, so frames that differ only there
    redraw nothing.
    """
    if st.session_state.get("_presenting"):  # presenter mode (memviz.ui.classroom): chart text >= 18 px
        frames = [for_presenter(frame) for frame in frames]
    panel: dict = {"id": panel_id, "figure": pack_steps(frames)}
    if width:
        panel["width"] = width
    if curtains:
        panel["curtains"] = list(curtains)
    return panel


def html_panel(panel_id: str, html: Sequence[str]) -> dict:
    """A panel of trusted HTML, one string per step (escape any user text before it goes in)."""
    return {"id": panel_id, "html": deflate_json(list(html))}


def parse_step(raw: str | None, steps: int, unit: str = "step") -> tuple[int, str]:
    """A step from a link (``?t=N``), clamped to the episode, and a notice when it was not taken as it was."""
    if raw is None or raw == "":
        return 0, ""
    try:
        value = int(raw)
    except ValueError:
        return 0, f"The link's {unit} {raw!r} is not a number: showing {unit} 0."
    last = max(steps - 1, 0)
    if value > last:
        return last, f"The link asks for {unit} {value}, beyond this episode's last {unit} ({last}): showing {last}."
    if value < 0:
        return 0, f"The link's {unit} {value} is negative: showing {unit} 0."
    return value, ""


def _serve_plotly_js() -> None:
    """Make :data:`PLOTLY_FILE` available at :data:`PLOTLY_URL` (idempotent)."""
    components_v1.declare_component(PLOTLY_COMPONENT, path=str(PLOTLY_FILE.parent))


def stepper(
    key: str,
    steps: int,
    panels: list[dict],
    *,
    unit: str = "step",
    labels: Sequence[str] | None = None,
    url_key: str | None = "t",
    speeds: Sequence[float] = SPEEDS,
    on_step: Callable[[], None] | None = None,
    default_step: int = 0,
    controls: bool = True,
    live: dict | None = None,
    clamp_notice: bool = True,
    figure_only: bool = False,
) -> int:
    """Mount the step player over ``panels`` and return the step Python knows.

    That is the step in the link on the first run, then the last step the
    browser reported (it reports when another control is used, so a rerun
    caused by a knob sees the step on screen). A link's step beyond the
    episode is clamped with a notice shown in the player. ``default_step`` is
    shown first when the link names none. ``controls=False`` hides the step controls
    (one figure that only updates in place); ``live`` makes the first panel follow the
    addressing sliders while they are dragged (see :func:`live_addressing`).
    ``clamp_notice=False`` leaves the notice of a clamped link step to the page.
    ``figure_only`` marks a plain figure (:func:`single_figure`) rather than a player in the page.
    """
    _serve_plotly_js()
    known = (st.session_state.get(key) or {}).get("step")
    notice = ""
    forgotten = known is None  # a first run, or the page forgot the step on purpose (a new hop count)
    if known is None:
        raw = st.query_params.get(url_key) if url_key else None
        known, notice = parse_step(raw, steps, unit) if raw else (default_step, "")
    known = min(max(int(known), 0), max(steps - 1, 0))
    data = {
        "panels": panels,
        "steps": int(steps),
        "step": known,
        "unit": unit,
        "labels": list(labels) if labels is not None else None,
        "url_key": url_key,
        "speeds": list(speeds),
        "speed": 1,
        "notice": notice if clamp_notice else "",
        "plotly_url": PLOTLY_URL,
        "config": CONFIG,
        "controls": controls,
        "live": live,
        "figure_only": figure_only,
        "reset_step": forgotten,  # the browser's player, which outlives reruns, goes to "step" too
    }
    result = _component(key=key, data=data, default={"step": known}, on_step_change=on_step or _ignore)
    step = result.get("step", known) if result is not None else known
    step = min(max(int(step if step is not None else known), 0), max(steps - 1, 0))
    if url_key and st.query_params.get(url_key) != str(step):
        st.query_params[url_key] = str(step)
    return step


def single_figure(key: str, spec: dict) -> None:
    """One figure, drawn once by the browser and updated in place when a rerun brings a new spec.

    The panel's id is ``key`` too, so tests and the layout checks find it as they find a player's panel.
    """
    stepper(key, 1, [figure_panel(key, [spec])], url_key=None, controls=False, figure_only=True)


def live_addressing(
    memory: np.ndarray, key: np.ndarray, w_start: np.ndarray, steps: int, knobs: dict[str, dict]
) -> dict:
    """What the browser needs to recompute the addressing stages while a slider is dragged.

    ``knobs`` maps ``beta``, ``g``, ``gamma`` to ``{"key": widget key, "value": v}`` (plus
    ``"options"`` for a select slider, whose range input holds the option's index) and
    ``shift`` to a list of such dicts over offsets -R..+R.
    """
    return {
        "memory": np.asarray(memory, dtype=np.float64).tolist(),
        "key": np.asarray(key, dtype=np.float64).tolist(),
        "w_start": np.asarray(w_start, dtype=np.float64).tolist(),
        "steps": int(steps),
        **knobs,
    }


def _ignore() -> None:
    """The step arrived from the browser; nothing else to do (the rerun reads it)."""
