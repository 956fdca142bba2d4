"""A lesson step's figures, drawn by the explorer pages' own figure functions, with the step's highlight.

:func:`step_figures` returns ``[(key, spec)]``: the figure a step's ``view`` names, built
from the live run exactly as its page builds it (:mod:`memviz.figures.addressing`,
:mod:`memviz.figures.ntm`, :mod:`memviz.figures.memn2n`), then marked with an outline
and a labelled arrow (:mod:`memviz.figures.highlight`). Heights are capped so that a
figure and its narration share one 1280x720 screen.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from memviz.figures import highlight as hl
from memviz.lessons.live import LiveStep

MAX_HEIGHT = 500
"""Tallest figure on the lesson page (px): the figure and the narration fit a 1280x720 projector."""
PIPELINE_ROWS = 10
LABEL_MARGIN = 190
"""Width (px) of the margin right of the story's attention grid that holds a step's label."""
STAGE_TRACES = {"memory": "M", "similarity": "K", "w_c": "w_c", "w_g": "w_g", "w_s": "w_s", "w": "w"}


def _cap(spec: dict[str, Any], tick_size: int = 14) -> dict[str, Any]:
    layout = spec["layout"]
    if layout.get("height", 0) > MAX_HEIGHT:
        layout["height"] = MAX_HEIGHT
        for name, axis in layout.items():
            if name.startswith("yaxis") and isinstance(axis, dict) and "tickfont" in axis:
                axis["tickfont"] = {**axis["tickfont"], "size": tick_size}
        for trace in spec["data"]:
            if "textfont" in trace:
                trace["textfont"] = {**trace["textfont"], "size": tick_size}
    return spec


STATS = re.compile(r"<br>(&nbsp;|H [\d.]+ bits(<br>| · )max [\d.]+ @ \d+)")


def _compact_pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    """Stage titles without their entropy/peak line, which overlaps at lesson width (the narration has the numbers)."""
    for annotation in spec["layout"].get("annotations", []):
        text = STATS.sub("", annotation.get("text", ""))
        annotation["text"] = text.replace("cosine of k and each row", "cosine with k")
    return spec


def _label(live: LiveStep, xref: str, yref: str, x: float, y: float, ax: int, ay: int) -> dict | None:
    text = live.label()
    return hl.arrow(text, xref, yref, x, y, ax, ay) if text else None


# --------------------------------------------------------------------------- addressing pipelines


def _pipeline_look(live: LiveStep, spec: dict, stages: dict, positions: np.ndarray | None) -> dict:
    """Outline a stage panel (or one row of it) of an addressing pipeline figure."""
    stage = live.highlight_at("stage") or "w"
    row = live.highlight_at("row")
    xa, ya = hl.axes_of(spec, STAGE_TRACES[stage])
    n = len(stages["w"])
    if row is None:  # the label goes under the panel's axis title, in the figure's bottom margin
        shapes = [hl.outline(f"{xa} domain", f"{ya} domain", 0, 1, 0, 1)]
        return hl.add_look(spec, shapes, _label(live, f"{xa} domain", f"{ya} domain", 0.5, 0, 0, 72))
    position = int(row) if positions is None else int(np.flatnonzero(positions == int(row))[0])
    shapes = [hl.outline(f"{xa} domain", ya, 0, 1, position - 0.5, position + 0.5)]
    ay = 70 if position < n / 2 else -70
    if stage == "memory":  # just under the row, to the right: clear of the location numbers and of the key's row
        x, ax = _memory_columns(spec) / 2 - 0.5, 60
        ay = 35 if position + 2 < n else -35
    else:
        x, ax = float(max(stages.get(stage, [0])[position], 0.0)), -70 if stage in ("w_s", "w") else 70
    return hl.add_look(spec, shapes, _label(live, xa, ya, x, position, ax, ay))


def _memory_columns(spec: dict) -> int:
    """How many columns the pipeline's memory heatmap has."""
    memory = next(t for t in spec["data"] if t.get("name") == STAGE_TRACES["memory"])
    return int(np.asarray(memory["z"]).shape[1])


def playground_figures(live: LiveStep) -> list[tuple[str, dict]]:
    from memviz.figures.addressing import addressing_pipeline_figure, walk_figure

    run, knobs = live.run, live.run.knobs
    if live.step.view == "walk":
        walk = np.vstack([run.result.walk, run.result.trace["w"][None, :]])  # the walk up to the step in view
        spec = walk_figure(walk)
        spec["layout"].update(height=380)
        spec["layout"]["yaxis"].update(autorange=None, range=[run.n - 0.5, -0.5], dtick=1)
        step, row = live.highlight_at("step"), live.highlight_at("row")
        if live.step.highlight:
            x0, x1 = (-0.5, len(walk) - 0.5) if step is None else (step - 0.5, step + 0.5)
            y0, y1 = (-0.5, run.n - 0.5) if row is None else (row - 0.5, row + 0.5)
            label = _label(live, "x", "y", (x0 + x1) / 2, y1, 0, 50)
            hl.add_look(spec, [hl.outline("x", "y", x0, x1, y0, y1)], label)
        return [("lesson_walk", _cap(spec))]
    shift = ", ".join(f"{v:.2f}" for v in run.result.shift)
    labels = {"w_c": f"β = {knobs['beta']:g}", "w_g": f"g = {knobs['g']:.2f}", "w_s": f"s = [{shift}]"}
    labels["w"] = f"γ = {knobs['gamma']:g}"
    trace = run.result.trace
    spec = addressing_pipeline_figure(
        run.memory, run.key, trace, run.result.w_prev, run.result.shift, labels, run.key_row
    )
    if live.step.highlight:
        _pipeline_look(live, spec, {**trace, "memory": np.zeros(run.n)}, None)
    return [("lesson_pipeline", _cap(_compact_pipeline(spec)))]


# --------------------------------------------------------------------------- NTM Explorer


def _ntm_memory(live: LiveStep) -> dict:
    from memviz.figures.ntm import memory_weights_figure
    from memviz.ntm import explore as ex

    run = live.run
    trace, t = run.trace, run.t
    rows = ex.touched_rows(trace)
    heads = [(h.name, h.w) for h in [*trace.write, *trace.read]]
    written = ex.written_rows(np.stack([h.w[t] for h in trace.write]))
    spec = memory_weights_figure(trace.memory_after[t], rows, heads, t, written)
    if not live.step.highlight:
        return spec
    panel = live.highlight_at("panel") or "memory"
    name = {"memory": "memory", "write": "write0", "read": "read0"}[panel]
    xa, ya = hl.axes_of(spec, name)
    row = live.highlight_at("row")
    found = np.flatnonzero(rows == int(row)) if row is not None else np.array([])
    if not found.size:
        shapes = [hl.outline(f"{xa} domain", f"{ya} domain", 0, 1, 0, 1)]
        return hl.add_look(spec, shapes, _label(live, f"{xa} domain", f"{ya} domain", 0.5, 0, 0, 40))
    position = int(found[0])
    ay = 60 if position < len(rows) / 2 else -60
    if panel == "memory":
        _end_ticks_only(spec["data"][0])  # the label crosses the colour bar's middle, where its "0" was
        width = trace.memory_after.shape[2]
        shapes = [hl.outline(xa, ya, -0.5, width - 0.5, position - 0.5, position + 0.5)]
        return hl.add_look(spec, shapes, _label(live, xa, ya, width / 2, position, 40, ay))
    shapes = [hl.outline(xa, ya, t - 0.5, t + 0.5, position - 0.5, position + 0.5)]
    ax = -80 if t > trace.steps / 2 else 80
    return hl.add_look(spec, shapes, _label(live, xa, ya, t, position, ax, ay))


def _end_ticks_only(heatmap: dict) -> None:
    """Keep only the two end ticks of a heatmap's colour bar (a label will sit across its middle)."""
    bar = heatmap.get("colorbar", {})
    if "tickvals" in bar:
        heatmap["colorbar"] = {**bar, "tickvals": bar["tickvals"][::2], "ticktext": bar.get("ticktext", [])[::2]}


def _ntm_pipeline(live: LiveStep) -> dict:
    from memviz.figures.ntm import pipeline_figure
    from memviz.ntm import explore as ex

    run = live.run
    head, t = run.trace.head(run.knobs["head"]), run.t
    stages = {s: getattr(head, s)[t] for s in ("similarity", "w_c", "w_g", "w_s", "w")}
    rows = ex.focus_window(head.w[t], PIPELINE_ROWS)
    shift = ", ".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in head.shift[t])
    labels = {"w_c": f"β = {head.beta[t]:.2f}", "w_g": f"g = {head.g[t]:.2f}", "w_s": f"s = [{shift}]"}
    labels["w"] = f"γ = {head.gamma[t]:.2f}"
    spec = pipeline_figure(run.trace.memory_before[t], head.key[t], stages, head.w_prev[t], head.shift[t], rows, labels)
    if live.step.highlight:
        cut = {name: values[rows] for name, values in stages.items()}
        _pipeline_look(live, spec, {**cut, "memory": np.zeros(len(rows))}, rows)
    return spec


def _bit_panels(live: LiveStep, spec: dict, names: tuple[str, ...]) -> dict:
    """Outline a panel of a bits figure (input/target/output or first/second/change), or one step of it."""
    if not live.step.highlight:
        return spec
    panel = live.highlight_at("panel") or names[-1]
    ya = ("y", "y2", "y3")[names.index(panel)]
    step = live.highlight_at("step")
    if step is None:
        shapes = [hl.outline("x domain", f"{ya} domain", 0, 1, 0, 1)]
        return hl.add_look(spec, shapes, _label(live, "x domain", f"{ya} domain", 0.5, 1, 0, -30))
    shapes = [hl.outline("x", f"{ya} domain", step - 0.5, step + 0.5, 0, 1)]
    ax = -80 if step > live.run.episode.steps / 2 else 80
    return hl.add_look(spec, shapes, _label(live, "x", f"{ya} domain", step, 1, ax, -30))


def ntm_figures(live: LiveStep) -> list[tuple[str, dict]]:
    from memviz.figures import ntm as figs

    run, view = live.run, live.step.view
    episode = run.episode
    inputs, outputs = run.task.channel_names()
    if view == "memory":
        return [("lesson_memory", _cap(_ntm_memory(live)))]
    if view == "pipeline":
        return [("lesson_pipeline", _cap(_compact_pipeline(_ntm_pipeline(live))))]
    if view == "bits":
        spec = figs.bit_grids_figure(
            episode.x, episode.y, run.trace.outputs, episode.mask, run.t, episode.kinds, inputs, outputs
        )
        return [("lesson_bits", _cap(_bit_panels(live, spec, ("input", "target", "output"))))]
    if view == "compare":
        step = None if not run.overrides or run.overrides[0].step is None else run.overrides[0].step
        spec = figs.comparison_figure(run.base.outputs, run.trace.outputs, episode.y, episode.mask, step, outputs)
    else:
        baseline = run.knobs["baseline"]
        spec = figs.comparison_figure(
            run.trace.outputs,
            run.lstm.outputs,
            episode.y,
            episode.mask,
            None,
            outputs,
            names=("NTM", "LSTM"),
            titles=(f"NTM ({run.knobs['model']})", f"LSTM baseline ({baseline}), no external memory"),
        )
    return [(f"lesson_{view}", _cap(_bit_panels(live, spec, ("first", "second", "change"))))]


# --------------------------------------------------------------------------- MemN2N Explorer


def memn2n_figures(live: LiveStep) -> list[tuple[str, dict]]:
    from memviz.figures.memn2n import readout_figure, story_attention_figure

    run = live.run
    if live.step.view == "readout":
        spec = readout_figure(run.trace, run.hop, run.example.answer)
        hop = live.highlight_at("hop")
        if live.step.highlight and hop:
            suffix = "" if hop == 1 else str(hop)
            shapes = [hl.outline(f"x{suffix} domain", f"y{suffix} domain", 0, 1, 0, 1)]
            word, p = run.trace.hop_top5[hop - 1][0]
            hl.add_look(spec, shapes, _label(live, f"x{suffix}", f"y{suffix}", p, word, 60, 30))
        return [("lesson_readout", _cap(spec))]
    spec = story_attention_figure(run.trace, run.hop, run.example.supporting)
    if live.step.highlight:
        n, hops = len(run.trace.sentences), run.trace.hops
        sentence, hop = live.highlight_at("sentence"), live.highlight_at("hop")
        x0, x1 = (0.5, hops + 0.5) if hop is None else (hop - 0.5, hop + 0.5)
        y0, y1 = (0.5, n + 0.5) if sentence is None else (sentence - 0.5, sentence + 0.5)
        # the label sits in a margin right of the grid, level with what it marks: clear of every cell's number
        label = _label(live, "x", "y", hops + 0.5, (y0 + y1) / 2, LABEL_MARGIN // 2, 0)
        if label is not None:
            spec["layout"]["margin"] = {**spec["layout"]["margin"], "r": LABEL_MARGIN}
        hl.add_look(spec, [hl.outline("x", "y", x0, x1, y0, y1)], label)
    return [("lesson_attention", _cap(spec))]


FIGURES = {"playground": playground_figures, "ntm": ntm_figures, "memn2n": memn2n_figures}


def step_figures(live: LiveStep) -> list[tuple[str, dict]]:
    """The step's figure(s) as ``[(chart key, figure spec)]``, highlight included."""
    return FIGURES[live.step.page](live)
