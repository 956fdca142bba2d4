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

import numpy as np
import pandas as pd
import streamlit as st

import memviz
from memviz.figures import export
from memviz.figures import ntm as figs
from memviz.ntm import explore as ex
from memviz.ntm.model import NTMTrace
from memviz.registry import PretrainedError, models_for_page
from memviz.ui import (
    DownloadFile,
    download_buttons,
    pretrained_model,
    show_figure,
    snapshot_url_params,
    step_player,
    warn_ignored_url_params,
)

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
PIPELINE_ROWS = 16


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
    kind = "LSTM baseline" if name.startswith("lstm") else "NTM"
    task = name.split("-", 1)[-1].replace("-", " ")
    return f"{task} · {kind}"


def reset_for_model() -> None:
    """A new model: sizes, step and overrides start from that model's defaults."""
    for key in ["length", "repeats", "items", "query", "t", "ov_step", "head", *OVERRIDE_KEYS]:
        st.session_state.pop(key, None)
    st.query_params.pop("bits", None)


def pin_override_step() -> None:
    """An override slider moved: apply it at the step on screen."""
    st.session_state["ov_step"] = int(st.session_state.get("t", 0))


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
    return {n: memviz.registry.read_card(n).task for n in names}


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
        st.caption(model.card.description or model_label(name))
        source = st.radio("Input", ["Random", "Drawn"], key="input", horizontal=True, **URL)
        knobs = {k.key: k for k in task.size_knobs()}
        size = {}
        for knob in knobs.values():
            if source == "Drawn" and knob.drawn:
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
            if task.drawing_hint:
                st.caption(task.drawing_hint)
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
        items = task.query_count(len(grid))
        if items is not None:
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
        input_labels, output_labels = task.channel_names()

        # ------------------------------------------------------------------ at step t
        def readout_table(trace: NTMTrace, t: int) -> str:
            """Sum, entropy and peak of each head's weighting at t, with the knobs it used (✎ = overridden)."""
            lines = ["| head | Σ w | entropy | max w @ location | β | g | shift s(−1, 0, +1) | γ |", "|---" * 8 + "|"]
            for head in [*trace.write, *trace.read]:
                stats = ex.weight_stats(head.w[t])
                fixed = ex.fixed_knobs(overrides, head.name, t)
                knob = {k: ("**✎ {}**" if k in fixed else "{}") for k in ("beta", "g", "shift", "gamma")}
                shift = ", ".join(f"{v:.2f}" for v in head.shift[t])
                lines.append(
                    f"| **{head.name}** | {stats.total:.3f} | {stats.entropy:.2f} bits | {stats.peak:.2f} @ {stats.at} "
                    f"| {knob['beta'].format(f'{head.beta[t]:.2f}')} | {knob['g'].format(f'{head.g[t]:.2f}')} "
                    f"| {knob['shift'].format(shift)} | {knob['gamma'].format(f'{head.gamma[t]:.2f}')} |"
                )
            return "\n".join(lines)

        def knob_labels(head, t: int) -> dict[str, str]:
            """Each stage's knob at t for the pipeline titles, with the overridden ones marked."""
            fixed = ex.fixed_knobs(overrides, head.name, t)

            def mark(name: str) -> str:
                return " <b>✎ override</b>" if name in fixed else ""

            shift = ", ".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in head.shift[t])  # 1.00 -> 1, 0.50 -> 0.5
            return {
                "w_c": f"β = {head.beta[t]:.2f}{mark('beta')}",
                "w_g": f"g = {head.g[t]:.2f}{mark('g')}",
                "w_s": f"s = [{shift}]{mark('shift')}",
                "w": f"γ = {head.gamma[t]:.2f}{mark('gamma')}",
            }

        def render_pipelines(trace: NTMTrace, t: int) -> None:
            """One tab per head with its five addressing stages at t (section 3.3); only the open tab is drawn."""
            heads = [*trace.write, *trace.read]
            labels = [f"{h.name} head" for h in heads]
            default = f"{choice.head} head" if choice and f"{choice.head} head" in labels else labels[0]
            tabs = st.tabs(labels, key="pipe", default=default, on_change="rerun", **URL)
            for tab, head in zip(tabs, heads, strict=True):
                if tab.open is False:
                    continue
                with tab:
                    stages = {s: getattr(head, s)[t] for s in ("similarity", "w_c", "w_g", "w_s", "w")}
                    rows = ex.focus_window(head.w[t], PIPELINE_ROWS)
                    spec = figs.pipeline_figure(
                        trace.memory_before[t],
                        head.key[t],
                        stages,
                        head.w_prev[t],
                        head.shift[t],
                        rows,
                        knob_labels(head, t),
                    )
                    show_figure(spec, key=f"pipeline_{head.name}")

        def render_step(t: int) -> None:
            """Everything that depends on the step: one fragment rerun per step change."""
            show_figure(
                figs.bit_grids_figure(
                    episode.x, episode.y, shown.outputs, episode.mask, t, episode.kinds, input_labels, output_labels
                ),
                key="bits",
            )
            if not isinstance(shown, NTMTrace):
                show_figure(figs.hidden_state_figure(shown.hidden, t), key="hidden")
                return
            diff = st.toggle("Show the change M_t − M_(t−1) instead of M_t", key="diff", **URL)
            rows = ex.touched_rows(shown)
            heads = [(h.name, h.w) for h in [*shown.write, *shown.read]]
            written = ex.written_rows(np.stack([h.w[t] for h in shown.write]))
            change = shown.memory_after[t] - shown.memory_before[t] if diff else None
            show_figure(
                figs.memory_weights_figure(shown.memory_after[t], rows, heads, t, written, change), key="memory"
            )
            st.markdown(
                ":small[:gray[Orange outlines: the locations the write head wrote at this step (w ≥ 0.1), and the "
                "current step on each weighting. Locations run down, time runs right, as in Fig. 6 of "
                "Graves et al.]]\n\n"
                f"#### Addressing at step {t}: key → similarity → w_c → w_g → w_s → w\n\n" + readout_table(shown, t)
            )
            render_pipelines(shown, t)
            vectors = [(f"{h.name} erase e", h.erase[t], "weight") for h in shown.write]
            vectors += [(f"{h.name} add a", h.add[t], "memory") for h in shown.write]
            vectors += [(f"{h.name} read r", h.read_vector[t], "memory") for h in shown.read]
            show_figure(
                figs.readout_figure(
                    vectors, f"<b>Write and read vectors at step {t}</b> (erase 0..1, add and read −1..1)"
                ),
                key="vectors",
            )

        step_player("t", steps, render_step, unit="step", labels=episode.phases)

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
                    lambda: export.ntm_gif(shown, episode, title=title_text()),
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
