"""The NTM Explorer page's widgets and caching (``pages/ntm.py`` is its layout).

Graves, Wayne & Danihelka (2014): the copy, repeat copy and associative recall
tasks of section 4, the heads' addressing of section 3.3, the LSTM baseline.
The logic and text formatting are in :mod:`memviz.ntm.explore`, the figures in
:mod:`memviz.figures.ntm`. The functions live in this module, imported once per
process, and the page script calls them top to bottom: Streamlit recompiles a
page script and re-decorates its cached functions on every rerun (about 6 ms to
compile this much code, and about 1 ms per cached function).

A link carries the whole view (``/ntm?...``): ``model``, ``input`` (Random or
Drawn), ``seed``, ``length`` / ``repeats`` / ``items``, ``bits`` (a drawing, one
hex number per vector), ``query``, ``t`` (the step), ``diff``, ``pipe`` (the
head whose pipeline is shown), ``head``, ``ov_beta`` / ``ov_g`` / ``ov_shift`` /
``ov_gamma`` (``off`` or a value), ``ov_scope`` and ``ov_step``, ``vs_lstm``.
:data:`URL_PARAMS` declares them all; values out of range fall back to the
defaults with a notice (:mod:`memviz.ui.urlstate`).
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import memviz
from memviz.figures import export
from memviz.figures import ntm as figs
from memviz.figures import ntm_steps as steps_fig
from memviz.ntm import explore as ex
from memviz.ntm.model import NTMTrace
from memviz.registry import PretrainedError, models_for_page
from memviz.ui import DownloadFile, classroom, download_buttons, pretrained_model, show_figure, urlstate
from memviz.ui.stepper import stepper

URL = urlstate.BIND
OFF = ex.OFF
BETA_OPTIONS = [OFF, "0", "0.5", "1", "2", "5", "10", "20", "50", "100", "1000"]
G_OPTIONS = [OFF, "0", "0.1", "0.25", "0.5", "0.75", "0.9", "1"]
GAMMA_OPTIONS = [OFF, "1", "1.5", "2", "3", "5", "10", "20", "50", "100"]
OVERRIDE_KEYS = ["ov_beta", "ov_g", "ov_shift", "ov_gamma"]
URL_PARAMS = urlstate.table(
    urlstate.Param("model", "text", "ntm-copy", max_length=200),
    urlstate.Param("input", "choice", "Random", choices=("Random", "Drawn")),
    urlstate.Param("seed", "int", 0, 0, 99_999),
    *(urlstate.Param(key, "int", None, 1, 1000) for key in ("length", "repeats", "items")),
    urlstate.Param("bits", "text", "", max_length=4000, widget=False),
    urlstate.Param("query", "int", 0, 0, 1000),
    urlstate.Param("t", "int", 0, 0, 100_000, widget=False),  # the browser's step player reads and writes it
    urlstate.Param("diff", "bool", False),
    urlstate.Param("pipe", "text", None, max_length=100),
    urlstate.Param("head", "text", None, max_length=100),
    urlstate.Param("ov_beta", "choice", OFF, choices=tuple(BETA_OPTIONS)),
    urlstate.Param("ov_g", "choice", OFF, choices=tuple(G_OPTIONS)),
    urlstate.Param("ov_shift", "text", OFF, max_length=20),
    urlstate.Param("ov_gamma", "choice", OFF, choices=tuple(GAMMA_OPTIONS)),
    urlstate.Param("ov_scope", "choice", "at one step", choices=("at one step", "at every step")),
    urlstate.Param("ov_step", "int", 0, 0, 100_000),
    urlstate.Param("export", "bool", False),
    urlstate.Param("anim", "bool", False),
    urlstate.Param("vs_lstm", "bool", False),
)
"""Every setting an NTM Explorer link can carry (memviz.ui.urlstate)."""
PLAYER_KEY = "t_player"
COMPARE_PX = 330
PRESENTER_COMPARE_PX = 300
"""Height of the override's before/after chart beside the knobs: both fit a 1280x720 screen
(in presenter mode every chart grows by a quarter, :func:`memviz.figures.theme.for_presenter`)."""
PANELS_KEPT = 8
_PANELS: OrderedDict[tuple, tuple[object, list[dict]]] = OrderedDict()


# ------------------------------------------------------------------ caching
def run_trace(model, x: np.ndarray, overrides: tuple = ()):
    """The traced episode of a loaded model (:func:`memviz.ui.pretrained_model`) on ``x``, cached for the process.

    With overrides, only the steps from the first overridden one are re-run
    (the earlier ones cannot change); the result equals a full re-run.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    return _trace(model, x.tobytes(), x.shape, tuple(overrides))


@functools.lru_cache(maxsize=48)
def _trace(model, x_bytes: bytes, shape: tuple[int, ...], overrides: tuple):
    """One trace per (model object, input, overrides), shared by every session and never mutated.

    An in-memory LRU rather than ``st.cache_data``: Streamlit would hash the input
    array and pickle the trace (about 1 MB for a length-20 copy) on every new
    override. Keyed by the model object itself, so a reloaded model never meets
    another model's traces.
    """
    x = np.frombuffer(x_bytes, dtype=np.float32).reshape(shape)
    if not overrides or model.family != "ntm":
        return ex.run_episode(model, x, overrides)
    base = _trace(model, x_bytes, shape, ())
    return ex.rerun_from(model, x, base, _states(model, x_bytes, shape), overrides)


@functools.lru_cache(maxsize=16)
def _states(model, x_bytes: bytes, shape: tuple[int, ...]) -> list:
    """The NTM's state before each step of the untouched episode (read only), so overrides re-run from t."""
    return model.states(np.frombuffer(x_bytes, dtype=np.float32).reshape(shape))


def clear_caches() -> None:
    """Forget every cached trace (tests and benchmarks that start from empty caches)."""
    _trace.cache_clear()
    _states.cache_clear()
    task_specs.cache_clear()


def explorer_models() -> list[str]:
    """The shipped NTM and LSTM models (the MemN2N ones have their own page)."""
    return models_for_page("pages/ntm.py")


def model_label(name: str) -> str:
    """``copy · NTM`` or ``copy · LSTM baseline``: the task from the card, the kind from its family."""
    model = pretrained_model(name)
    kind = "LSTM baseline" if model.family == "lstm" else "NTM"
    return f"{model.task.name.replace('_', ' ')} · {kind}"


def reset_for_model() -> None:
    """A new model: sizes, step and overrides start from that model's defaults."""
    for key in ["length", "repeats", "items", "query", PLAYER_KEY, "ov_step", "head", *OVERRIDE_KEYS]:
        st.session_state.pop(key, None)
    st.query_params.pop("bits", None)


def current_step() -> int:
    """The step on screen as Python last heard it from the browser's step player, else the address's ``t``."""
    reported = (st.session_state.get(PLAYER_KEY) or {}).get("step")
    if reported is not None:
        return int(reported)
    linked = st.query_params.get("t", "0")
    return int(linked) if linked.isdigit() else 0


def pin_override_step() -> None:
    """An override slider moved: apply it at the step on screen, unless a step was typed (issue 15)."""
    st.session_state["ov_touched"] = True
    st.session_state["ov_knob_moved"] = True
    if not st.session_state.get("ov_step_typed"):
        st.session_state["ov_step"] = current_step()


def step_typed() -> None:
    """The "At step" box changed: noted here, judged by :func:`settle_typed_step` after every callback."""
    st.session_state["ov_step_edited"] = True


def settle_typed_step() -> None:
    """A changed "At step" counts as typed (knobs moved later keep it) unless a knob moved in the same run.

    When the browser reports the step on screen and a knob moves in quick succession, the
    knob's message still carries the "At step" the page showed before the report's run set
    it, which looks like an edit; a person cannot type a step and move a knob in one message.
    """
    edited = st.session_state.pop("ov_step_edited", False)
    moved = st.session_state.pop("ov_knob_moved", False)
    if edited and not moved:
        st.session_state["ov_step_typed"] = True


def reset_overrides() -> None:
    """Every knob back to off; the panel stays open and a typed step is forgotten."""
    for key in OVERRIDE_KEYS:
        st.session_state[key] = OFF
    st.session_state["ov_touched"] = True
    st.session_state["ov_step_typed"] = False


def override_panel(config, steps: int) -> tuple[ex.OverrideChoice, DeltaGenerator]:
    """The intervention controls (NTM only): a head, its four knobs, and where to apply them.

    They sit in the page (not the sidebar) so that they and everything they
    change can rerun as one fragment. Sections 3.3.1-3.3.2 of Graves et al.
    Returns the choice and the column beside the knobs, where the override's
    effect goes (DESIGN.md 4b: an intervention's effect sits next to its knob).
    """
    heads = [f"write{j}" for j in range(config.write_heads)] + [f"read{i}" for i in range(config.read_heads)]
    settle_typed_step()
    active = any(st.session_state.get(k, st.query_params.get(k, OFF)) != OFF for k in OVERRIDE_KEYS)
    opened = active or st.session_state.get("ov_touched", False)  # Reset keeps the panel open
    with st.expander(
        "Intervene: fix a head's β, g, s and γ, and re-run the episode", expanded=opened, icon=":material/tune:"
    ):
        knobs_column, result_column = classroom.wrapping_columns("ov_split", [2, 3], [290, 430])
    with knobs_column:
        # Horizontal containers rather than columns: one layout block per row instead of five.
        where = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
        head = where.selectbox("Head", heads, key="head", width=110, **URL)
        at = 0
        scope = st.radio("Apply", ["at one step", "at every step"], key="ov_scope", horizontal=True, **URL)
        if scope == "at one step":
            if "ov_step" in st.session_state:
                st.session_state["ov_step"] = min(max(int(st.session_state["ov_step"]), 0), steps - 1)
            if not st.session_state.get("ov_step_typed") and not active:
                st.session_state["ov_step"] = min(current_step(), steps - 1)  # the step on screen
            at = int(where.number_input("At step", 0, steps - 1, key="ov_step", width=120, on_change=step_typed, **URL))
        knobs = st.container(horizontal=True, gap="small")
        common = {"on_change": pin_override_step, "width": 140, **URL}
        beta = knobs.select_slider("Key strength β", BETA_OPTIONS, key="ov_beta", **common)
        gate = knobs.select_slider("Gate g", G_OPTIONS, key="ov_g", help="1: content, 0: previous weighting", **common)
        shift = knobs.select_slider("Shift s", ex.shift_options(config.shift_width), key="ov_shift", **common)
        gamma = knobs.select_slider("Sharpening γ", GAMMA_OPTIONS, key="ov_gamma", **common)
        last = st.container(horizontal=True, vertical_alignment="center", gap="small")
        last.button("Reset", key="ov_reset", icon=":material/restart_alt:", on_click=reset_overrides)
        last.caption("*off*: what the controller emitted. A knob acts at the step on screen; the run is redone.")
    return ex.OverrideChoice(head, beta, gate, shift, gamma, scope == "at every step", at), result_column


@functools.lru_cache(maxsize=8)
def task_specs(names: tuple[str, ...]) -> dict[str, dict]:
    """Each model's task, from its card (the LSTM baseline must match the NTM's task to compare).

    A process LRU: ``st.cache_data`` would hash its arguments and check the
    function's source on every rerun of the intervention fragment.
    """
    return {n: memviz.registry.read_card(n).task for n in names}


@dataclass(frozen=True)
class Setup:
    """What the sidebar chose: the model and how its episode is made."""

    name: str
    model: Any
    models: tuple[str, ...]
    source: str  # "Random" or "Drawn"
    seed: int
    size: dict[str, int]

    @property
    def task(self) -> Any:
        return self.model.task

    @property
    def is_ntm(self) -> bool:
        return self.model.family == "ntm"


def no_models() -> None:
    """The page when no NTM or LSTM model is installed."""
    st.title("NTM Explorer")
    st.error(
        "No pretrained NTM or LSTM model is installed in pretrained/. Train one: `python -m memviz.train ntm-copy`."
    )
    st.stop()


def episode_settings(models: list[str]) -> Setup:
    """The sidebar's model, input source, size sliders and seed."""
    default_model = models.index("ntm-copy") if "ntm-copy" in models else 0
    name = st.selectbox("Model", models, index=default_model, key="model", on_change=reset_for_model, **URL)
    try:
        model = pretrained_model(name)
    except PretrainedError as exc:
        st.error(f"{name} could not be loaded: {exc}")
        st.stop()
    st.caption(model.card.description or model_label(name))
    source = st.radio("Input", ["Random", "Drawn"], key="input", horizontal=True, **URL)
    size = {}
    for knob in model.task.size_knobs():
        if source == "Drawn" and knob.drawn:
            continue
        help_text = f"Trained on up to {knob.train_high}; larger values test generalisation."
        size[knob.key] = st.slider(knob.label, knob.low, knob.high, knob.default, key=knob.key, help=help_text, **URL)
    seed = int(st.number_input("Seed", 0, 99_999, 0, key="seed", **URL)) if source == "Random" else 0
    return Setup(name, model, tuple(models), source, seed, size)


def drawn_grid(task: Any) -> np.ndarray | None:
    """The hand-drawn vectors: checkbox grid in an expander; a bad grid keeps the last good one."""
    editor_key = f"draw_{task.name}_{task.bits}"
    base_key = f"{editor_key}_base"
    if base_key not in st.session_state:
        start = None
        if st.query_params.get("bits"):
            try:
                start = ex.decode_grid(st.query_params["bits"], task.bits)
            except ex.ExploreInputError as exc:
                st.warning(f"The drawing in the link was not used: {exc}.", icon=":material/link_off:")
        if start is None:
            start = ex.random_episode(task, 0, ex.clamp_size(task, {})).sequence
        columns = [f"bit {j}" for j in range(task.bits)]
        # nullable booleans: a cleared cell (Delete) is missing, which a plain bool column cannot hold (issue 15)
        st.session_state[base_key] = pd.DataFrame(start > 0.5, columns=columns).astype("boolean")
    with st.expander("Draw the input: one row per vector, tick the bits that are 1", expanded=True):
        if task.drawing_hint:
            st.caption(task.drawing_hint)
        edited = st.data_editor(st.session_state[base_key], key=editor_key, num_rows="dynamic", width="stretch")
        if st.button("Start again from a random drawing", key="draw_reset"):
            st.session_state.pop(base_key, None)
            st.session_state.pop(editor_key, None)
            st.query_params.pop("bits", None)
            st.rerun()
    try:
        grid = ex.check_grid(edited.astype(object).where(edited.notna(), None).to_numpy(), task.bits)
    except ex.ExploreInputError as exc:
        st.error(f"{exc.args[0].capitalize()}. Showing the last good drawing.", icon=":material/warning:")
        return st.session_state.get(f"{editor_key}_good")
    st.session_state[f"{editor_key}_good"] = grid
    st.query_params["bits"] = ex.encode_grid(grid)
    return grid


def drawn_query(task: Any, grid: np.ndarray) -> int:
    """The query item of a drawn episode (associative recall), kept inside the drawn list; 0 when none."""
    items = task.query_count(len(grid))
    if items is None:
        return 0
    if "query" in st.session_state:  # fewer items drawn than before: keep the query inside the list
        st.session_state["query"] = min(max(int(st.session_state["query"]), 0), items - 2)
    return int(st.number_input("Query: recall the item after item number", 0, items - 2, key="query", **URL))


def build_episode(setup: Setup) -> ex.Episode | None:
    """The episode to show: from the seed, or from the drawing (a bad one keeps the last good episode)."""
    task = setup.task
    if setup.source == "Random":
        episode = ex.random_episode(task, setup.seed, ex.clamp_size(task, setup.size))
    else:
        grid = drawn_grid(task)
        if grid is None:
            return None
        try:
            episode = ex.drawn_episode(task, grid, ex.clamp_size(task, setup.size), drawn_query(task, grid))
        except ex.ExploreInputError as exc:
            st.error(f"{exc.args[0].capitalize()}. Showing the last good episode.", icon=":material/warning:")
            return st.session_state.get(f"last_good_episode_{setup.name}")
    st.session_state[f"last_good_episode_{setup.name}"] = episode
    return episode


def overridden_trace(setup: Setup, episode: ex.Episode, choice: ex.OverrideChoice | None) -> tuple[Any, tuple]:
    """The re-run with overrides, or None; a bad or NaN-producing override keeps the last good view."""
    if choice is None or not choice.active:
        return None, ()
    model, steps = setup.model, episode.steps
    try:
        overrides = ex.build_overrides(choice, model.config.shift_width, steps)
        trace = run_trace(model, episode.x, overrides)
        ex.check_finite(trace)
    except ex.ExploreInputError as exc:
        st.error(f"This override cannot be shown: {exc}. Keeping the last good view.", icon=":material/warning:")
        good = st.session_state.get("last_good_override")
        if good and good[0] == (setup.name, episode.x.tobytes()):
            return good[1], good[2]
        return None, ()
    st.session_state["last_good_override"] = ((setup.name, episode.x.tobytes()), trace, overrides)
    return trace, overrides


def headline(setup: Setup, episode: ex.Episode, shown: Any, overrides: tuple) -> None:
    """The headline: model, steps, wrong bits, the override."""
    errors = ex.total_bit_errors(shown.outputs, episode.y, episode.mask)
    st.markdown(
        ex.episode_headline(setup.name, model_label(setup.name), episode.steps, errors, overrides), width="content"
    )


def notices(setup: Setup, episode: ex.Episode) -> None:
    """The training-range and wrap notices."""
    notice = ex.training_notice(setup.task, episode.size)
    if notice:
        st.info(notice, icon=":material/science:")
    if setup.is_ntm:
        wrap = ex.wrap_notice(episode.x, setup.model.config.memory_n)
        if wrap:
            st.warning(wrap, icon=":material/sync:")


def view_choices(shown: Any, choice: Any) -> tuple[bool, str | None]:
    """The memory-change toggle and the head whose addressing pipeline is drawn (NTM only), in one compact row."""
    if not isinstance(shown, NTMTrace):
        return False, None
    labels = [f"{h.name} head" for h in [*shown.write, *shown.read]]  # as links spell it: pipe=read0+head
    default = f"{choice.head} head" if choice and f"{choice.head} head" in labels else labels[0]
    pipe = default
    group = st.container(horizontal=True, vertical_alignment="center", gap="small", width="content")
    if classroom.secondary():  # presenter mode draws no pipeline
        group.markdown(":gray[Pipeline of]", width="content")
        pipe = group.segmented_control(
            "Addressing pipeline of",
            labels,
            default=default,
            key="pipe",
            label_visibility="collapsed",
            help="The head whose addressing pipeline is drawn below the memory",
            **URL,
        )
    diff = group.toggle(
        "Show ΔM", key="diff", help="The change to memory at this step, M_t − M_(t−1), instead of M_t", **URL
    )
    return diff, (pipe or default).removesuffix(" head")


@st.fragment
def intervene_and_view(setup: Setup, episode: ex.Episode) -> None:
    """The intervention panel and everything it changes, as one fragment.

    Moving an override knob reruns this fragment only (the episode set-up in
    the sidebar stays as it is); the step player inside is a fragment of its
    own, so a step change reruns even less.
    """
    base = run_trace(setup.model, episode.x)
    top_row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    notices(setup, episode)
    choice, result_column = override_panel(setup.model.config, episode.steps) if setup.is_ntm else (None, None)
    changed, overrides = overridden_trace(setup, episode, choice)
    shown = changed if changed is not None else base
    with top_row:
        headline(setup, episode, shown, overrides)
        diff, pipe = view_choices(shown, choice)
    channels = setup.task.channel_names()
    if result_column is not None:  # the override's effect beside its knobs (DESIGN.md 4b)
        with result_column:
            if changed is not None:
                override_comparison(base, changed, overrides, episode, channels[1])
            else:
                st.caption("Move a knob: the output bits with and without the override appear here.")
    step_view(setup.name, episode, channels, shown, overrides, diff, pipe)
    linked_step = urlstate.from_link("t")
    if linked_step is not None and linked_step.isdigit() and int(linked_step) >= episode.steps:
        urlstate.report_unused("t", linked_step, f"is past the last step ({episode.steps - 1})")
    if setup.is_ntm:
        baseline_comparison(setup, episode, shown, channels[1])
    export_section(setup, episode, shown, overrides)


def episode_panels(key: tuple, trace: object, build: Callable[[], list[dict]]) -> list[dict]:
    """The step view's packed panels for ``trace``, built once per (trace, view) and kept for a few episodes.

    Keyed by the trace object's identity (traces are cached and never mutated; the entry
    holds the trace, so its id cannot be reused while the entry lives).
    """
    full_key = (id(trace), *key)
    if full_key in _PANELS:
        _PANELS.move_to_end(full_key)
        return _PANELS[full_key][1]
    panels = build()
    _PANELS[full_key] = (trace, panels)
    while len(_PANELS) > PANELS_KEPT:
        _PANELS.popitem(last=False)
    return panels


def step_view(
    name: str,
    episode: ex.Episode,
    channels: tuple[list[str], list[str]],
    shown: Any,
    overrides: tuple,
    diff: bool,
    pipe: str | None,
) -> None:
    """Everything that depends on the step, in the browser's step player: no rerun per step.

    The whole episode's panels (memory, bits, readout table, one head's pipeline,
    vectors) are sent once; the step, scrubbing and playing happen in the browser.
    The head whose pipeline is drawn and the memory-change toggle are widgets above
    the player (:func:`view_choices`): changing one reruns once and the player redraws its charts in place.
    """
    panels = episode_panels(
        (name, diff, pipe, classroom.secondary()),
        shown,
        lambda: steps_fig.step_panels(
            episode,
            shown,
            overrides,
            diff=diff,
            pipe_head=pipe,
            input_labels=channels[0],
            output_labels=channels[1],
            presenter=not classroom.secondary(),
        ),
    )
    stepper(PLAYER_KEY, episode.steps, panels, unit="step", labels=episode.phases, url_key="t", clamp_notice=False)
    if isinstance(shown, NTMTrace) and classroom.secondary():  # presenter mode: no caption
        st.markdown(
            ":small[:gray[Orange outlines: the locations the write head wrote at this step (w ≥ 0.1), and the "
            "current step on each weighting. Locations run down, time runs right, as in Fig. 6 of "
            "Graves et al. ← → step, space plays. Memory M_t and the heads' weightings come first, "
            "then the input, target and output bits.]]"
        )


def override_comparison(
    base: Any, changed: Any, overrides: tuple, episode: ex.Episode, output_labels: list[str]
) -> None:
    """What the override changed: wrong bits before and after, and the two outputs side by side."""
    comparison = ex.compare_runs(base, changed, episode.y, episode.mask)
    first = comparison.first_changed_step
    delta = comparison.errors_after - comparison.errors_before
    st.markdown(
        "##### What the override changed\n"
        f"Wrong bits: **{comparison.errors_before}** untouched → "
        f"**{comparison.errors_after}** with the override ({delta:+d}) · "
        f"first output that moved: step **{'none' if first is None else first}**"
    )
    show_figure(
        figs.comparison_figure(
            base.outputs,
            changed.outputs,
            episode.y,
            episode.mask,
            overrides[0].step,
            output_labels,
            height=COMPARE_PX if classroom.secondary() else PRESENTER_COMPARE_PX,
            compact=classroom.presenting(),
        ),
        key="compare",
    )


def baseline_comparison(setup: Setup, episode: ex.Episode, shown: Any, output_labels: list[str]) -> None:
    """The LSTM baseline trained on the same task, on the same input (section 4 compares them so)."""
    name = setup.name
    baseline = ex.baseline_for(name, setup.models, task_specs(setup.models))
    if not baseline or not st.toggle(
        f"Compare with the LSTM baseline ({baseline}) on this input", key="vs_lstm", **URL
    ):
        return
    lstm = run_trace(pretrained_model(baseline), episode.x)
    show_figure(
        figs.comparison_figure(
            shown.outputs,
            lstm.outputs,
            episode.y,
            episode.mask,
            None,
            output_labels,
            names=("NTM", "LSTM"),
            titles=(f"NTM ({name})", f"LSTM baseline ({baseline}), no external memory"),
        ),
        key="vs_lstm_chart",
    )


def export_meta(setup: Setup, overrides: tuple) -> dict:
    """What an exported trace says about itself: model, task, input, size, overrides and the link."""
    return {
        "model": setup.name,
        "task": setup.task.spec(),
        "input": setup.source,
        "seed": setup.seed,
        "size": setup.size,
        "overrides": [{"head": o.head, "step": o.step, **o.values()} for o in overrides],
        "url": {k: v for k, v in st.query_params.to_dict().items()},
    }


def export_files(setup: Setup, episode: ex.Episode, shown: Any, overrides: tuple) -> list[DownloadFile]:
    """The downloads: GIF, interactive HTML (NTM), trace as NPZ and JSON (made only when clicked)."""
    title = f"{setup.name} · {model_label(setup.name)}" + (" · with override" if overrides else "")
    info = json.loads(json.dumps(export_meta(setup, overrides), default=str))  # now: the callables run later
    files: list[DownloadFile] = [
        (
            "GIF for slides",
            lambda: export.ntm_gif(shown, episode, title=title),
            "gif",
            "image/gif",
            ":material/gif_box:",
        )
    ]
    if isinstance(shown, NTMTrace):
        animation = (shown.memory_after, ex.touched_rows(shown), head_weights(shown), episode.phases)
        files.append(
            (
                "Interactive HTML",
                lambda: figs.animation_html(figs.animation_figure(*animation, title)),
                "html",
                "text/html",
                ":material/html:",
            )
        )
    npz = ("Trace as NPZ", lambda: ex.export_npz(shown, episode), "npz", "application/octet-stream")
    files.append((*npz, ":material/data_array:"))
    json_file = ("Trace as JSON", lambda: ex.export_json(shown, episode, info), "json", "application/json")
    files.append((*json_file, ":material/data_object:"))
    return files


def head_weights(trace: NTMTrace) -> list[tuple[str, np.ndarray]]:
    return [(h.name, h.w) for h in [*trace.write, *trace.read]]


def export_section(setup: Setup, episode: ex.Episode, shown: Any, overrides: tuple) -> None:
    """Animation and downloads, built only while their expander is open (a closed one costs nothing)."""
    box = st.expander(
        "Animate and export: Plotly animation, GIF for slides, HTML, trace as NPZ or JSON",
        key="export",
        on_change="rerun",
        icon=":material/movie:",
        **URL,
    )
    if not box.open:
        return
    if isinstance(shown, NTMTrace) and box.toggle(
        "Animate the whole episode in the browser (no reruns)", key="anim", **URL
    ):
        with box:
            spec = figs.animation_figure(
                shown.memory_after, ex.touched_rows(shown), head_weights(shown), episode.phases
            )
            show_figure(spec, key="animation")
    stem = f"{setup.name}-seed{setup.seed}" if setup.source == "Random" else f"{setup.name}-drawn"
    stem += "-override" if overrides else ""
    with box:
        download_buttons(export_files(setup, episode, shown, overrides), stem, key_prefix="dl")
    box.caption("The GIF is drawn on the server (one frame per step); the HTML plays offline in any browser.")
