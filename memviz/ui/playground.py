"""Streamlit pieces of the Addressing Playground (``pages/playground.py`` is its layout).

Module-level functions with explicit arguments, imported once per process (a page
script is recompiled on every rerun); the logic is in :mod:`memviz.playground`,
the figures in :mod:`memviz.figures.addressing`, the link's settings in
:data:`URL_PARAMS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from memviz import playground as pg
from memviz.figures.addressing import addressing_pipeline_figure, stage_stats, walk_figure
from memviz.ui import cached_result, show_figure, urlstate
from memviz.ui.stepper import figure_panel, live_addressing, stepper

BETA_OPTIONS = [0, 0.1, 0.2, 0.5, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100]
GAMMA_OPTIONS = [1, 1.25, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50]
SHIFT_KEYS = {-2: "s_m2", -1: "s_m1", 0: "s_0", 1: "s_p1", 2: "s_p2"}
SHIFT_DEFAULTS = {-2: 0.0, -1: 0.0, 0: 1.0, 1: 0.0, 2: 0.0}
URL = urlstate.BIND
# Widgets show (and links carry) these labels; the core uses the mode names.
KEY_LABELS = {"Copy": "copy", "Noisy copy": "noisy", "Typed": "edited"}
PREVIOUS_LABELS = {"One-hot": "one-hot", "Uniform": "uniform", "Carry forward": "carry"}
URL_PARAMS = urlstate.table(
    urlstate.Param("beta", "choice", "10", choices=urlstate.choices(BETA_OPTIONS)),
    urlstate.Param("g", "float", 1.0, 0.0, 1.0),
    urlstate.Param("radius", "choice", "1", choices=("1", "2")),
    *(urlstate.Param(key, "float", SHIFT_DEFAULTS[o], 0.0, 1.0) for o, key in SHIFT_KEYS.items()),
    urlstate.Param("gamma", "choice", "1", choices=urlstate.choices(GAMMA_OPTIONS)),
    urlstate.Param("prev", "choice", "Carry forward", choices=tuple(PREVIOUS_LABELS)),
    urlstate.Param("prev_row", "int", 0, 0, 63),
    urlstate.Param("key_mode", "choice", "Copy", choices=tuple(KEY_LABELS)),
    urlstate.Param("key_text", "text", "", max_length=2000),
    urlstate.Param("key_row", "int", 3, 0, 63),
    urlstate.Param("noise", "float", 0.3, 0.0, 1.0),
    urlstate.Param("n", "int", 12, 2, 64),
    urlstate.Param("m", "int", 8, 2, 32),
    urlstate.Param("preset", "choice", "Random", choices=tuple(p.capitalize() for p in pg.MEMORY_PRESETS)),
    urlstate.Param("seed", "int", 0, 0, 99_999),
    urlstate.Param("mem", "text", "", widget=False),
    urlstate.Param("steps", "int", 0, 0, pg.MAX_STEPS, widget=False),
)
"""Every setting a Playground link can carry (memviz.ui.urlstate)."""
EQUATIONS = [
    r"K_i = \frac{k \cdot M_i}{\lVert k\rVert\,\lVert M_i\rVert}",
    r"w^c_i = \frac{e^{\beta K_i}}{\sum_j e^{\beta K_j}}",
    r"\begin{aligned} w^g = {} & g\, w^c \\ & + (1-g)\, w_{t-1} \end{aligned}",
    r"w^s_i = \sum_j w^g_j\, s(i-j)",
    r"w_i = \frac{(w^s_i)^\gamma}{\sum_j (w^s_j)^\gamma}",
]

NO_SHIFT = {"radius": 1, "s_m1": 0.0, "s_0": 1.0, "s_p1": 0.0}
SCENARIOS = {
    "Content lookup": (
        "β picks the row most like the key. With a noisy key, lower β and watch the focus spread.",
        {"preset": "Random", "key_mode": "Noisy copy", "beta": 20, "g": 1.0, **NO_SHIFT, "gamma": 1, "prev": "One-hot"},
    ),
    "Ambiguous content": (
        "Rows i and i + N/2 hold the same numbers, so content alone cannot choose: w_c splits in two.",
        {"preset": "Duplicated", "key_mode": "Copy", "beta": 20, "g": 1.0, **NO_SHIFT, "gamma": 1, "prev": "One-hot"},
    ),
    "Find, then move": (
        "Content finds the key's row, then the shift moves the focus one row on: how a copy head starts.",
        {
            "preset": "Random",
            "key_mode": "Copy",
            "beta": 50,
            "g": 1.0,
            "radius": 1,
            "s_m1": 0.0,
            "s_0": 0.0,
            "s_p1": 1.0,
            "gamma": 1,
            "prev": "One-hot",
        },
    ),
    "Walk by location": (
        "g = 0 ignores the key and the shift moves the focus one row per Step; it wraps at the end.",
        {"g": 0.0, "radius": 1, "s_m1": 0.0, "s_0": 0.0, "s_p1": 1.0, "gamma": 1, "prev": "Carry forward", "steps": 0},
    ),
    "Blur, then sharpen": (
        "A soft shift blurs the focus more on every Step. Raise γ to keep it sharp.",
        {"g": 0.0, "radius": 1, "s_m1": 0.0, "s_0": 0.3, "s_p1": 0.7, "gamma": 1, "prev": "Carry forward", "steps": 4},
    ),
}


@dataclass(frozen=True)
class Settings:
    """Everything the sidebar sets, read once per rerun."""

    beta: float
    gate: float
    shift: tuple[float, ...]
    gamma: float
    prev_mode: str
    prev_row: int
    key_mode: str
    key_row: int
    noise: float
    key_text: str
    n_locations: int
    width: int
    preset: str
    seed: int

    @property
    def memory_signature(self) -> tuple:
        return (self.preset, self.n_locations, self.width, self.seed)

    @property
    def knobs(self) -> pg.HeadKnobs:
        return pg.HeadKnobs(beta=self.beta, gate=self.gate, shift=self.shift, gamma=self.gamma)


def number_input(label: str, key: str) -> int:
    """A whole-number input bound to the URL, with the range and default of its :data:`URL_PARAMS` entry."""
    p = URL_PARAMS[key]
    return st.number_input(label, int(p.low), int(p.high), int(p.default), key=key, **URL)


def sidebar_settings() -> Settings:
    """Head knobs first (what a class turns most), then w_prev, key and memory set-up."""
    with st.sidebar:
        st.header("Head knobs")
        beta = st.select_slider("Key strength β (stage 2)", BETA_OPTIONS, value=10, key="beta", **URL)
        gate = st.slider("Gate g (stage 3)", 0.0, 1.0, 1.0, 0.05, key="g", **URL)
        radius = st.radio("Shift range R (offsets −R … +R, stage 4)", [1, 2], key="radius", horizontal=True, **URL)
        shift = tuple(
            st.slider(f"s({o:+d})" if o else "s(0)", 0.0, 1.0, SHIFT_DEFAULTS[o], 0.05, key=SHIFT_KEYS[o], **URL)
            for o in range(-radius, radius + 1)
        )
        gamma = st.select_slider("Sharpening γ (stage 5)", GAMMA_OPTIONS, value=1, key="gamma", **URL)

        st.header("Previous weighting")
        prev_mode = PREVIOUS_LABELS[st.radio("w_prev", list(PREVIOUS_LABELS), key="prev", index=2, **URL)]
        st.caption(pg.PREVIOUS_MODES[prev_mode])
        prev_row = 0 if prev_mode == "uniform" else int(number_input("Start row", "prev_row"))

        st.header("Key")
        key_mode = KEY_LABELS[st.radio("Key k", list(KEY_LABELS), key="key_mode", horizontal=True, **URL)]
        key_row, noise, key_text = 3, 0.0, ""
        if key_mode == "edited":
            key_text = st.text_input(
                "Typed key (comma-separated, M numbers)", key="key_text", placeholder="e.g. 1, 0, -0.5, ...", **URL
            )
        else:
            key_row = int(number_input("Copy row", "key_row"))
        if key_mode == "noisy":
            noise = st.slider("Noise σ", 0.0, 1.0, 0.3, 0.05, key="noise", **URL)

        st.header("Memory")
        n_locations = int(number_input("Locations N", "n"))
        width = int(number_input("Width M", "m"))
        preset = st.selectbox("Preset", [p.capitalize() for p in pg.MEMORY_PRESETS], key="preset", **URL).lower()
        st.caption(pg.MEMORY_PRESETS[preset])
        seed = int(number_input("Seed", "seed"))
    return Settings(
        beta=float(beta),
        gate=float(gate),
        shift=shift,
        gamma=float(gamma),
        prev_mode=prev_mode,
        prev_row=prev_row,
        key_mode=key_mode,
        key_row=key_row,
        noise=float(noise),
        key_text=key_text,
        n_locations=n_locations,
        width=width,
        preset=preset,
        seed=seed,
    )


def current_memory(s: Settings) -> np.ndarray:
    """The preset, or the hand-edited memory carried in the link (``mem``) for this preset."""
    base = pg.memory_preset(s.preset, s.n_locations, s.width, s.seed)
    if st.session_state.get("mem_signature", s.memory_signature) != s.memory_signature:
        st.query_params.pop("mem", None)  # a new preset or shape starts from the preset again
    st.session_state["mem_signature"] = s.memory_signature
    text = st.query_params.get("mem")
    if not text:
        return base
    try:
        return pg.decode_memory(text, s.n_locations, s.width)
    except pg.PlaygroundInputError as exc:
        st.warning(
            f"The memory in the link was not used: {exc}. Showing the preset instead.", icon=":material/link_off:"
        )
        st.query_params.pop("mem", None)
        return base


def memory_editor(s: Settings, memory: np.ndarray) -> np.ndarray:
    """Hand-edit the memory; a bad cell shows a message and keeps the last good memory."""
    editor_key = "memory_editor_{}_{}_{}_{}".format(*s.memory_signature)
    if not st.toggle("Edit memory by hand", key="edit_memory"):
        st.session_state["last_good_memory"] = memory
        return memory
    with st.container(border=True):
        st.caption(
            "Change any cell and the figures follow; the edit travels in the link. Cells must be finite numbers."
        )
        edited = st.data_editor(
            pd.DataFrame(memory, columns=[f"c{j}" for j in range(s.width)]), key=editor_key, width="stretch"
        )
        try:
            candidate = pg.check_memory_table(edited.to_numpy(dtype=object))
        except pg.PlaygroundInputError as exc:
            st.error(f"{exc}. Keeping the last good memory.", icon=":material/warning:")
            candidate = st.session_state.get("last_good_memory", memory)
            if candidate.shape != memory.shape:
                candidate = memory
        if not np.array_equal(candidate, memory):
            st.query_params["mem"] = pg.encode_memory(candidate)
        if st.button("Reset memory to the preset", key="reset_memory"):
            st.query_params.pop("mem", None)
            st.session_state.pop(editor_key, None)
            st.rerun()
    st.session_state["last_good_memory"] = candidate
    return candidate


def read_key(s: Settings, memory: np.ndarray) -> tuple[np.ndarray, int]:
    """The key from the sidebar settings; a bad typed key keeps the last good one."""
    row = min(s.key_row, s.n_locations - 1)
    if s.key_row >= s.n_locations:
        st.info(f"Copy row {s.key_row} is past the last location; using row {row}.")
    if s.key_mode == "edited" and not s.key_text.strip():
        st.info("Type a key in the sidebar; until then the key is a copy of the chosen row.")
        return memory[row].copy(), row
    try:
        key = pg.make_key(memory, s.key_mode, row, s.noise, s.seed, s.key_text)
    except pg.PlaygroundInputError as exc:
        st.error(f"{exc}. Keeping the last good key.", icon=":material/warning:")
        key = st.session_state.get("last_good_key", memory[row])
        if key.shape != (s.width,):
            key = memory[row].copy()
    st.session_state["last_good_key"] = key
    return key, row


def apply_scenario() -> None:
    """Set every knob a scenario names (the widgets, and so the URL, follow)."""
    name = st.session_state.get("scenario")
    if name in SCENARIOS:
        st.session_state.update(SCENARIOS[name][1])


def scenario_picker() -> None:
    scenario = st.pills("Try a scenario", list(SCENARIOS), key="scenario", on_change=apply_scenario)
    if scenario:
        st.info(SCENARIOS[scenario][0], icon=":material/school:")


def steps_from_link() -> int:
    """The step count carried in the link (``steps``, checked by its :data:`URL_PARAMS` entry), else 0."""
    return int(urlstate.link_value("steps", URL_PARAMS))


def _move_steps(delta: int) -> None:
    st.session_state["steps"] = int(min(max(st.session_state["steps"] + delta, 0), pg.MAX_STEPS))


def step_controls() -> int:
    """Back / Step / Reset buttons in carry mode; the step count travels in the link."""
    if "steps" not in st.session_state:
        st.session_state["steps"] = steps_from_link()
    # One horizontal row of content-wide buttons: in narrow columns (1024 px, 150% zoom) the labels stay whole.
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.button("Back", key="step_back", icon=":material/undo:", on_click=_move_steps, args=(-1,))
    row.button(
        "Step",
        key="step_next",
        icon=":material/redo:",
        on_click=_move_steps,
        args=(1,),
        type="primary",
    )
    row.button(
        "Reset",
        key="step_reset",
        icon=":material/restart_alt:",
        on_click=_move_steps,
        args=(-pg.MAX_STEPS,),
    )
    steps = st.session_state["steps"]
    if steps:
        st.query_params["steps"] = str(steps)
    else:
        st.query_params.pop("steps", None)
    return steps


STAGE_LABELS = [
    "1 · similarity K",
    "2 · content focus w_c",
    "3 · interpolation w_g",
    "4 · shift w_s",
    "5 · sharpening w",
]


def pipeline_view(
    s: Settings, memory: np.ndarray, key: np.ndarray, key_row: int, result: pg.PlaygroundResult, steps: int
) -> None:
    """The row-aligned pipeline figure, then its stages' equations and numbers (stacked: they fit any column)."""
    if s.prev_mode == "carry":
        start = "the one-hot start" if steps == 0 else f"the weighting step {steps} produced"
        st.caption(
            f"**Step {steps + 1}: w_prev is {start}** · {steps} steps taken · "
            "press Step to feed this result back in as the next w_prev"
        )
    shift_text = ", ".join(f"{v:.2f}" for v in result.shift)
    labels = {
        "w_c": f"β = {s.beta:g}",
        "w_g": f"g = {s.gate:.2f}",
        "w_s": f"s = [{shift_text}]",
        "w": f"γ = {s.gamma:g}",
    }
    key_row_shown = None if s.key_mode == "edited" else key_row
    total = sum(s.shift)
    if abs(total - 1.0) > 1e-6:
        st.caption(
            f"The shift sliders sum to {total:.2f}, so each is divided by that sum: s = [{shift_text}]."
            if total > 0
            else "Every shift slider is 0, so the shift keeps the focus where it is: s(0) = 1."
        )
    spec = addressing_pipeline_figure(memory, key, result.trace, result.w_prev, result.shift, labels, key_row_shown)
    live = live_addressing(memory, key, result.walk[0], steps, live_knobs(s, len(result.shift) // 2))
    stepper("pipeline_view", 1, [figure_panel("pipeline", [spec])], url_key=None, controls=False, live=live)
    with st.expander("The five stages: equations, knobs, entropy and peak", icon=":material/function:"):
        stages = ["similarity", "w_c", "w_g", "w_s", "w"]
        for label, equation, stage in zip(STAGE_LABELS, EQUATIONS, stages, strict=True):
            numbers = "" if stage == "similarity" else f" · {labels[stage]} · {stage_stats(result.trace[stage])}"
            st.markdown(f"**{label}**{numbers}")
            st.latex(equation)


def live_knobs(s: Settings, radius: int) -> dict:
    """The sidebar sliders the pipeline follows while they are dragged (memviz.ui.stepper.live_addressing)."""
    return {
        "beta": {"key": "beta", "value": s.beta, "options": BETA_OPTIONS},
        "g": {"key": "g", "value": s.gate},
        "gamma": {"key": "gamma", "value": s.gamma, "options": GAMMA_OPTIONS},
        "shift": [{"key": SHIFT_KEYS[o], "value": v} for o, v in zip(range(-radius, radius + 1), s.shift, strict=True)],
    }


def explanation(s: Settings, result: pg.PlaygroundResult) -> None:
    st.markdown(
        "Each row is a location; follow it left to right. "
        "Grey ticks show what a stage starts from: **w_prev** in panel 3 and **w_s** in panel 5. "
        "The orange box marks the row the key was copied from. Offset +1 moves the focus from location "
        "*i* to *i + 1*; the last location wraps round to the first."
    )
    if s.prev_mode == "carry":
        st.markdown("**The walk so far**: the weighting after each step (step 0 is the starting one-hot).")
        show_figure(walk_figure(result.walk), key="walk")


def playground_result(
    memory: np.ndarray, key: np.ndarray, knobs: pg.HeadKnobs, w_start: np.ndarray, steps: int
) -> pg.PlaygroundResult:
    """:func:`memviz.playground.run_playground`, cached: a rerun that changes none of these replays no walk."""
    arrays = tuple((a.shape, a.dtype.str, a.tobytes()) for a in (memory, key, w_start))
    return cached_result(
        ("playground", arrays, knobs, int(steps)), lambda: pg.run_playground(memory, key, knobs, w_start, steps)
    )
