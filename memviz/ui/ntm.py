"""The NTM Explorer page's widgets, caching and layout (pages/ntm.py calls :func:`render`).

Graves, Wayne & Danihelka (2014): the copy, repeat copy and associative recall
tasks of section 4, the heads' addressing of section 3.3, the LSTM baseline.
The logic is in :mod:`memviz.ntm.explore`, the figures in
:mod:`memviz.figures.ntm`. The page lives in this module, imported once per
process, rather than in the page script: Streamlit recompiles a page script
and re-decorates its cached functions on every rerun (about 6 ms to compile
this much code, and about 1 ms per cached function).

A link carries the whole view (``/ntm?...``): ``model``, ``input`` (Random or
Drawn), ``seed``, ``length`` / ``repeats`` / ``items``, ``bits`` (a drawing, one
hex number per vector), ``query``, ``t`` (the step), ``diff``, ``pipe`` (the
head whose pipeline is shown), ``head``, ``ov_beta`` / ``ov_g`` / ``ov_shift`` /
``ov_gamma`` (``off`` or a value), ``ov_scope`` and ``ov_step``, ``vs_lstm``.
Values out of range fall back to the defaults with a notice.
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

import memviz
from memviz.figures import ntm as figs
from memviz.figures import ntm_steps as steps_fig
from memviz.figures.theme import MEMORY_COLORSCALE, WEIGHT_COLORSCALE
from memviz.ntm import explore as ex
from memviz.ntm.model import NTMTrace
from memviz.registry import PretrainedError, family_of
from memviz.ui import (
    DownloadFile,
    download_buttons,
    pretrained_model,
    show_figure,
    snapshot_url_params,
    warn_ignored_url_params,
)
from memviz.ui.stepper import stepper

URL = {"bind": "query-params"}
OFF = ex.OFF
BETA_OPTIONS = [OFF, "0", "0.5", "1", "2", "5", "10", "20", "50", "100", "1000"]
G_OPTIONS = [OFF, "0", "0.1", "0.25", "0.5", "0.75", "0.9", "1"]
GAMMA_OPTIONS = [OFF, "1", "1.5", "2", "3", "5", "10", "20", "50", "100"]
OVERRIDE_KEYS = ["ov_beta", "ov_g", "ov_shift", "ov_gamma"]
BOUND_KEYS = [
    "vs_lstm",
    "pipe",
    "model",
    "input",
    "seed",
    "length",
    "repeats",
    "items",
    "query",
    "t",
    "diff",
    "head",
    "ov_scope",
    "ov_step",
    "export",
    "anim",
]
PLAYER_KEY = "t_player"
GIF_STYLE = ex.GifStyle(WEIGHT_COLORSCALE, MEMORY_COLORSCALE)


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
    names = []
    for name in memviz.list_pretrained():
        try:
            if family_of(name) == "ntm":
                names.append(name)
        except PretrainedError:
            continue
    return names


def model_label(name: str) -> str:
    kind = "LSTM baseline" if name.startswith("lstm") else "NTM"
    task = name.split("-", 1)[-1].replace("-", " ")
    return f"{task} · {kind}"


def reset_for_model() -> None:
    """A new model: sizes, step and overrides start from that model's defaults."""
    for key in ["length", "repeats", "items", "query", PLAYER_KEY, "ov_step", "head", *OVERRIDE_KEYS]:
        st.session_state.pop(key, None)
    st.query_params.pop("bits", None)


def current_step() -> int:
    """The step on screen as Python last heard it from the browser's step player (0 before it reported)."""
    return int((st.session_state.get(PLAYER_KEY) or {}).get("step") or 0)


def pin_override_step() -> None:
    """An override slider moved: apply it at the step on screen."""
    st.session_state["ov_step"] = current_step()


_PANELS: OrderedDict[tuple, tuple[object, list[dict]]] = OrderedDict()
PANELS_KEPT = 8


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


def step_view(name: str, episode, shown, overrides: tuple, choice, input_labels, output_labels) -> None:
    """Everything that depends on the step, in the browser's step player: no rerun per step.

    The memory-change toggle and the head whose pipeline is drawn are widgets (a
    change reruns once and the player redraws its charts in place); the step, the
    scrubbing and playing happen in the browser from the episode's data sent once.
    """
    diff, pipe = False, None
    if isinstance(shown, NTMTrace):
        labels = [f"{h.name} head" for h in [*shown.write, *shown.read]]  # as the link has it: pipe=read0+head
        row = st.container(horizontal=True, vertical_alignment="center", gap="large")
        default = f"{choice.head} head" if choice and f"{choice.head} head" in labels else labels[0]
        with row:
            pipe = st.segmented_control("Addressing pipeline of", labels, default=default, key="pipe", **URL)
            diff = st.toggle("Show the change M_t − M_(t−1) instead of M_t", key="diff", **URL)
        pipe = (pipe or default).removesuffix(" head")
    panels = episode_panels(
        (name, diff, pipe),
        shown,
        lambda: steps_fig.step_panels(
            episode, shown, overrides, diff=diff, pipe_head=pipe, input_labels=input_labels, output_labels=output_labels
        ),
    )
    stepper(PLAYER_KEY, episode.steps, panels, unit="step", labels=episode.phases, url_key="t")
    if isinstance(shown, NTMTrace):
        st.markdown(
            ":small[:gray[Orange outlines: the locations the write head wrote at this step (w ≥ 0.1), and the "
            "current step on each weighting. Locations run down, time runs right, as in Fig. 6 of "
            "Graves et al. ← → step, space plays.]]"
        )


def reset_overrides() -> None:
    for key in OVERRIDE_KEYS:
        st.session_state[key] = OFF


def override_panel(config, steps: int) -> ex.OverrideChoice:
    """The intervention controls (NTM only): a head, its four knobs, and where to apply them.

    They sit in the page (not the sidebar) so that they and everything they
    change can rerun as one fragment. Sections 3.3.1-3.3.2 of Graves et al.
    """
    heads = [f"write{j}" for j in range(config.write_heads)] + [f"read{i}" for i in range(config.read_heads)]
    active = any(st.session_state.get(k, st.query_params.get(k, OFF)) != OFF for k in OVERRIDE_KEYS)
    with st.expander(
        "Intervene: fix a head's β, g, s and γ, and re-run the episode", expanded=active, icon=":material/tune:"
    ):
        st.caption(
            "*off* keeps what the controller emitted. Moving a knob applies it at the step on screen; "
            "the episode is re-run from there and compared with the untouched run below."
        )
        # Horizontal containers rather than columns: one layout block per row instead of five.
        where = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
        head = where.selectbox("Head", heads, key="head", width=160, **URL)
        scope = where.radio(
            "Apply", ["at one step", "at every step"], key="ov_scope", horizontal=True, width="content", **URL
        )
        at = 0
        if scope == "at one step":
            if "ov_step" in st.session_state:
                st.session_state["ov_step"] = min(max(int(st.session_state["ov_step"]), 0), steps - 1)
            at = int(where.number_input("At step", 0, steps - 1, key="ov_step", width=140, **URL))
        where.button("Reset overrides", key="ov_reset", icon=":material/restart_alt:", on_click=reset_overrides)
        knobs = st.container(horizontal=True, gap="large")
        common = {"on_change": pin_override_step, **URL}
        beta = knobs.select_slider("Key strength β", BETA_OPTIONS, key="ov_beta", **common)
        gate = knobs.select_slider("Gate g (1: content, 0: previous)", G_OPTIONS, key="ov_g", **common)
        shift = knobs.select_slider("Shift s (offset)", ex.shift_options(config.shift_width), key="ov_shift", **common)
        gamma = knobs.select_slider("Sharpening γ", GAMMA_OPTIONS, key="ov_gamma", **common)
    return ex.OverrideChoice(head, beta, gate, shift, gamma, scope == "at every step", at)


@functools.lru_cache(maxsize=8)
def task_specs(names: tuple[str, ...]) -> dict[str, dict]:
    """Each model's task, from its card (the LSTM baseline must match the NTM's task to compare).

    A process LRU: ``st.cache_data`` would hash its arguments and check the
    function's source on every rerun of the intervention fragment.
    """
    return {n: memviz.registry.read_card(n).get("task", {}) for n in names}


def render() -> None:
    """Run the page: sidebar, episode, the step player and everything that depends on the step."""
    raw_url = snapshot_url_params()

    # ------------------------------------------------------------------ sidebar: the episode
    models = explorer_models()
    if not models:
        st.title("NTM Explorer")
        st.error(
            "No pretrained NTM or LSTM model is installed in pretrained/. Train one: `python -m memviz.train ntm-copy`."
        )
        st.stop()

    with st.sidebar:
        st.header("Episode")
        default_model = models.index("ntm-copy") if "ntm-copy" in models else 0
        name = st.selectbox("Model", models, index=default_model, key="model", on_change=reset_for_model, **URL)
        try:
            model = pretrained_model(name)
        except PretrainedError as exc:
            st.error(f"{name} could not be loaded: {exc}")
            st.stop()
        task = model.task
        is_ntm = model.family == "ntm"
        st.caption(model.card.get("description", model_label(name)))
        source = st.radio("Input", ["Random", "Drawn"], key="input", horizontal=True, **URL)
        knobs = {k.key: k for k in ex.size_knobs(task)}
        size = {}
        for knob in knobs.values():
            if source == "Drawn" and knob.key in ("length", "items"):
                continue
            help_text = f"Trained on up to {knob.train_high}; larger values test generalisation."
            size[knob.key] = st.slider(
                knob.label, knob.low, knob.high, knob.default, key=knob.key, help=help_text, **URL
            )
        seed = int(st.number_input("Seed", 0, 99_999, 0, key="seed", **URL)) if source == "Random" else 0

    # ------------------------------------------------------------------ the episode
    def drawn_grid() -> np.ndarray | None:
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
            st.session_state[base_key] = pd.DataFrame(start > 0.5, columns=columns)
        with st.expander("Draw the input: one row per vector, tick the bits that are 1", expanded=True):
            if task.name == "associative_recall":
                st.caption(f"Rows are cut into items of {task.item_length} vectors.")
            edited = st.data_editor(st.session_state[base_key], key=editor_key, num_rows="dynamic", width="stretch")
            if st.button("Start again from a random drawing", key="draw_reset"):
                st.session_state.pop(base_key, None)
                st.session_state.pop(editor_key, None)
                st.query_params.pop("bits", None)
                st.rerun()
        try:
            grid = ex.check_grid(edited.to_numpy(dtype=object), task.bits)
        except ex.ExploreInputError as exc:
            st.error(f"{exc.args[0].capitalize()}. Showing the last good drawing.", icon=":material/warning:")
            return st.session_state.get(f"{editor_key}_good")
        st.session_state[f"{editor_key}_good"] = grid
        st.query_params["bits"] = ex.encode_grid(grid)
        return grid

    def build_episode() -> ex.Episode | None:
        if source == "Random":
            return ex.random_episode(task, seed, ex.clamp_size(task, size))
        grid = drawn_grid()
        if grid is None:
            return None
        query = 0
        if task.name == "associative_recall":
            items = max(len(grid) // task.item_length, 2)
            if "query" in st.session_state:  # fewer items drawn than before: keep the query inside the list
                st.session_state["query"] = min(max(int(st.session_state["query"]), 0), items - 2)
            query = int(st.number_input("Query: recall the item after item number", 0, items - 2, key="query", **URL))
        try:
            return ex.drawn_episode(task, grid, ex.clamp_size(task, size), query)
        except ex.ExploreInputError as exc:
            st.error(f"{exc.args[0].capitalize()}. Showing the last good episode.", icon=":material/warning:")
            return st.session_state.get(f"last_good_episode_{name}")

    st.title("NTM Explorer")
    st.caption(
        "A pretrained Neural Turing Machine one timestep at a time (Graves, Wayne & Danihelka 2014): "
        "what it writes to memory, where its heads look, and what happens when you turn a head's knobs."
    )
    episode = build_episode()
    if episode is None:
        st.info("Draw at least one vector to start.")
        st.stop()
    st.session_state[f"last_good_episode_{name}"] = episode
    steps = episode.steps
    base = run_trace(model, episode.x)

    @st.fragment
    def intervene_and_view() -> None:
        """The intervention panel and everything it changes, as one fragment.

        Moving an override knob reruns this fragment only (the episode set-up in
        the sidebar stays as it is); the step player inside is a fragment of its
        own, so a step change reruns even less.
        """

        def overridden_trace(choice: ex.OverrideChoice | None):
            """The re-run with overrides, or None; a bad or NaN-producing override keeps the last good view."""
            if choice is None or not choice.active:
                return None, ()
            try:
                overrides = ex.build_overrides(choice, model.config.shift_width, steps)
                trace = run_trace(model, episode.x, overrides)
                ex.check_finite(trace)
            except ex.ExploreInputError as exc:
                st.error(
                    f"This override cannot be shown: {exc}. Keeping the last good view.", icon=":material/warning:"
                )
                good = st.session_state.get("last_good_override")
                if good and good[0] == (name, episode.x.tobytes()):
                    return good[1], good[2]
                return None, ()
            st.session_state["last_good_override"] = ((name, episode.x.tobytes()), trace, overrides)
            return trace, overrides

        summary_slot = st.container()
        choice = override_panel(model.config, steps) if is_ntm else None
        changed, overrides = overridden_trace(choice)
        shown = changed if changed is not None else base

        # ------------------------------------------------------------------ summary and notices
        errors = ex.total_bit_errors(shown.outputs, episode.y, episode.mask)
        summary = (
            f"**{name}** · {model_label(name)} · {steps} timesteps · **{errors} wrong bit{'s' if errors != 1 else ''}**"
        )
        if overrides:
            head, _, rest = ex.describe_override(overrides[0]).partition(" ")
            summary += f" · override on **{head}** {rest}"
        summary_slot.markdown(summary)
        notice = ex.training_notice(task, episode.size)
        if notice:
            summary_slot.info(notice, icon=":material/science:")
        if is_ntm:
            wrap = ex.wrap_notice(episode.x, model.config.memory_n)
            if wrap:
                summary_slot.warning(wrap, icon=":material/sync:")
        input_labels, output_labels = ex.channel_names(task)

        # ------------------------------------------------------------------ the step view, stepped in the browser
        step_view(name, episode, shown, overrides, choice, input_labels, output_labels)

        # ------------------------------------------------------------------ what the override changed
        if changed is not None:
            comparison = ex.compare_runs(base, changed, episode.y, episode.mask)
            first = comparison.first_changed_step
            delta = comparison.errors_after - comparison.errors_before
            st.markdown(
                "#### What the override changed\n"
                f"Wrong bits: **{comparison.errors_before}** in the untouched run → "
                f"**{comparison.errors_after}** with the override ({delta:+d}) · "
                f"first step whose output moved: **{'none' if first is None else first}**"
            )
            override_step = overrides[0].step
            show_figure(
                figs.comparison_figure(
                    base.outputs, changed.outputs, episode.y, episode.mask, override_step, output_labels
                ),
                key="compare",
            )

        # ------------------------------------------------------------------ the LSTM baseline on the same input
        baseline = ex.baseline_for(name, models, task_specs(tuple(models))) if is_ntm else None
        if baseline and st.toggle(f"Compare with the LSTM baseline ({baseline}) on this input", key="vs_lstm", **URL):
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

        # ------------------------------------------------------------------ animation and export
        def title_text() -> str:
            return f"{name} · {model_label(name)}" + (" · with override" if overrides else "")

        def _heads(trace: NTMTrace) -> list[tuple[str, np.ndarray]]:
            return [(h.name, h.w) for h in [*trace.write, *trace.read]]

        def meta() -> dict:
            return {
                "model": name,
                "task": task.spec(),
                "input": source,
                "seed": seed,
                "size": size,
                "overrides": [{"head": o.head, "step": o.step, **o.values()} for o in overrides],
                "url": {k: v for k, v in st.query_params.to_dict().items()},
            }

        def export_section() -> None:
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
                        shown.memory_after, ex.touched_rows(shown), _heads(shown), episode.phases
                    )
                    show_figure(spec, key="animation")
            stem = f"{name}-seed{seed}" if source == "Random" else f"{name}-drawn"
            info = json.loads(json.dumps(meta(), default=str))  # now: the download callables run outside the script
            files: list[DownloadFile] = [
                (
                    "GIF for slides",
                    lambda: ex.episode_gif(shown, episode, GIF_STYLE, title_text()),
                    "gif",
                    "image/gif",
                    ":material/gif_box:",
                )
            ]
            if isinstance(shown, NTMTrace):
                animation = (shown.memory_after, ex.touched_rows(shown), _heads(shown), episode.phases)
                files.append(
                    (
                        "Interactive HTML",
                        lambda: figs.animation_html(figs.animation_figure(*animation, title_text())),
                        "html",
                        "text/html",
                        ":material/html:",
                    )
                )
            files += [
                (
                    "Trace as NPZ",
                    lambda: ex.export_npz(shown, episode),
                    "npz",
                    "application/octet-stream",
                    ":material/data_array:",
                ),
                (
                    "Trace as JSON",
                    lambda: ex.export_json(shown, episode, info),
                    "json",
                    "application/json",
                    ":material/data_object:",
                ),
            ]
            with box:
                download_buttons(files, stem, key_prefix="dl")
            box.caption("The GIF is drawn on the server (one frame per step); the HTML plays offline in any browser.")

        export_section()

    intervene_and_view()
    warn_ignored_url_params(raw_url, BOUND_KEYS + OVERRIDE_KEYS, extra_keys=["bits"])
