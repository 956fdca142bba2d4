"""Figures of the NTM Explorer: an episode's bits, memory, weightings and addressing at step t.

Pure functions from trace arrays to plain figure specs (:func:`figure_spec`),
no plotly objects on the rerun path. Conventions of Graves, Wayne & Danihelka
(2014): memory rows are locations (section 3), weightings over time are drawn
as locations x time as in their Fig. 6, and a head's addressing at one step is
the five stages of section 3.3 (reusing :func:`addressing_pipeline_figure`).
Locations always run down the y axis, time along the x axis.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

from memviz.figures.addressing import STAGE_TITLES, addressing_pipeline_figure, stage_stats, stage_title
from memviz.figures.theme import (
    GHOST_COLOR,
    HIGHLIGHT_COLOR,
    MEMORY_COLORSCALE,
    MIN_TEXT_PX,
    SMALL_TEXT_PX,
    WEIGHT_COLORSCALE,
    base_layout,
    figure_spec,
    sub,
    to_plotly,
)
from memviz.tasks.copy import wrong_bits

PERCENT_ABOVE = 12_000
"""Weight heatmaps with more cells than this are sent as whole percentages (1 byte a cell, not 4)."""
PHASE_COLORS = {"input": "#4d4d4d", "delimiter": "#7f7f7f", "output": "#1a1a1a"}
UNSCORED_COLOR = "#d9d9d9"


def _cursor(step: int, xref: str, y0: float = 0.0, y1: float = 1.0, yref: str = "paper") -> dict:
    """An orange outline around time step ``step`` (the current step on every time axis)."""
    return {
        "type": "rect",
        "xref": xref,
        "yref": yref,
        "x0": step - 0.5,
        "x1": step + 0.5,
        "y0": y0,
        "y1": y1,
        "line": {"color": HIGHLIGHT_COLOR, "width": 3},
        "fillcolor": "rgba(0,0,0,0)",
    }


def _title(text: str, x: float, y: float, xanchor: str = "left", size: int = 15) -> dict:
    return {
        "text": text,
        "x": x,
        "y": y,
        "xref": "paper",
        "yref": "paper",
        "xanchor": xanchor,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": size},
    }


def weights_z(w: np.ndarray) -> tuple[dict | np.ndarray, float, str]:
    """A weighting heatmap's z, its zmax and the hover text for z.

    Up to :data:`PERCENT_ABOVE` cells: float32 weights (0..1). Beyond, whole
    percentages as plotly.js's 1-byte typed array, so a 120-vector copy's
    Fig. 6 panels fit the per-rerun budget; a colour scale shows no difference.
    """
    if w.size <= PERCENT_ABOVE:
        return w.astype(np.float32), 1.0, "%{z:.3f}"
    percent = np.round(np.clip(w, 0.0, 1.0) * 100).astype(np.uint8)
    spec = {"dtype": "u1", "bdata": base64.b64encode(percent.tobytes()).decode(), "shape": "{}, {}".format(*w.shape)}
    return spec, 100.0, "%{z}% (rounded)"


def _time_axis(steps: int, title: str | None = "time step t", narrow: bool = False) -> dict:
    most = 5 if narrow else 12  # ticks that stay apart in a 140 px panel (narrow) or a 480 px column
    dtick = next((d for d in (1, 2, 5, 10, 20, 25, 50, 100) if steps / d <= most), 200)
    axis = {"range": [-0.5, steps - 0.5], "dtick": dtick, "showgrid": False, "zeroline": False}
    if title:
        axis["title"] = {"text": title}
    return axis


def _runs(kinds: Sequence[str]) -> list[tuple[str, int, int]]:
    """Contiguous runs of equal phase kinds as (kind, first step, last step)."""
    runs: list[tuple[str, int, int]] = []
    for t, kind in enumerate(kinds):
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1], t)
        else:
            runs.append((kind, t, t))
    return runs


def phase_band(kinds: Sequence[str], y: float) -> tuple[list[dict], list[dict]]:
    """Phase names above the time axis and dotted lines between phases: (annotations, shapes)."""
    annotations, shapes = [], []
    for kind, first, last in _runs(kinds):
        if last - first >= 1 or kind != "delimiter":
            label = kind if last - first >= 2 else kind[:5]
            annotations.append(
                {
                    "text": f"<i>{label}</i>",
                    "x": (first + last) / 2,
                    "xref": "x",
                    "y": y,
                    "yref": "paper",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 13, "color": PHASE_COLORS.get(kind, "#333")},
                }
            )
        if first > 0:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": first - 0.5,
                    "x1": first - 0.5,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": GHOST_COLOR, "width": 1, "dash": "dot"},
                }
            )
    return annotations, shapes


def _bit_ticks(labels: Sequence[str], every: int = 2) -> list[str]:
    """Every other (or every ``every``-th) "bit i" label (rows are thin on a projector) plus every named channel."""
    bits = [label for label in labels if label.startswith("bit ")]
    return [
        label for label in labels if not label.startswith("bit ") or bits.index(label) % every == 0 or len(bits) <= 6
    ]


def _bit_heat(z: np.ndarray, yaxis: str, name: str, labels: Sequence[str], showscale: bool = False) -> dict:
    heat = {
        "type": "heatmap",
        "z": z.astype(np.float32),
        "x": np.arange(z.shape[1], dtype=np.int32),
        "y": list(labels),
        "xaxis": "x",
        "yaxis": yaxis,
        "name": name,
        "colorscale": WEIGHT_COLORSCALE,
        "zmin": 0.0,
        "zmax": 1.0,
        "hoverongaps": False,
        "xgap": 1 if z.shape[1] <= 60 else 0,
        "ygap": 1,
        "showscale": showscale,
        "hovertemplate": f"step %{{x}}, %{{y}}<br>{name} = %{{z:.2f}}<extra></extra>",
    }
    if showscale:
        heat["colorbar"] = {"thickness": 12, "len": 0.9, "tickvals": [0, 0.5, 1], "tickfont": {"size": SMALL_TEXT_PX}}
    return heat


def bit_grids_figure(
    inputs: np.ndarray,
    target: np.ndarray,
    outputs: np.ndarray,
    mask: np.ndarray,
    step: int,
    kinds: Sequence[str],
    input_labels: Sequence[str],
    output_labels: Sequence[str],
    title_suffix: str = "",
) -> dict:
    """Input, target and output bits over the whole episode (bits x time), the step outlined.

    Unscored target steps are left grey; output bits that are wrong after
    thresholding at 0.5 are crossed in orange (the task's score, section 4).
    """
    steps = inputs.shape[0]
    scored = mask > 0
    target_z = np.where(scored[None, :], target.T, np.nan).astype(np.float32)
    wrong = wrong_bits(outputs, target, mask)
    wt, wb = np.nonzero(wrong)
    domains = {"yaxis": [0.69, 0.95], "yaxis2": [0.36, 0.62], "yaxis3": [0.0, 0.28]}
    data = [
        _bit_heat(inputs.T, "y", "input", input_labels, showscale=True),
        _bit_heat(target_z, "y2", "target", output_labels),
        _bit_heat(outputs.T, "y3", "output", output_labels),
        {
            "type": "scatter",
            "mode": "markers",
            "x": wt.astype(np.int32),
            "y": [output_labels[b] for b in wb],
            "xaxis": "x",
            "yaxis": "y3",
            "name": "wrong bit",
            "marker": {"symbol": "x-thin-open", "size": 11, "color": HIGHLIGHT_COLOR, "line": {"width": 3}},
            "hovertemplate": "step %{x}, %{y}: wrong<extra></extra>",
        },
    ]
    layout = base_layout(height=440)
    layout["margin"] = {"l": 110, "r": 20, "t": 50, "b": 50}
    layout["plot_bgcolor"] = UNSCORED_COLOR
    layout["xaxis"] = {**_time_axis(steps), "anchor": "y3"}
    for (name, domain), label in zip(domains.items(), ("input", "target", "output"), strict=True):
        layout[name] = {
            "domain": domain,
            "autorange": "reversed",
            "showgrid": False,
            "tickfont": {"size": MIN_TEXT_PX},
            "tickmode": "array",
            "tickvals": _bit_ticks(input_labels if label == "input" else output_labels),
            "title": {"text": f"<b>{label}</b>", "standoff": 6},
        }
    band, lines = phase_band(kinds, 0.955)
    errors = int(wrong.sum())
    layout["annotations"] = [
        *band,
        _title(f"grey: not scored{title_suffix}", 1, 0.625, "right", 13),
        _title(f"faded: not scored · {errors} wrong bit{'s' if errors != 1 else ''} ✕", 1, 0.285, "right", 13),
    ]
    faded = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": first - 0.5,
            "x1": last + 0.5,
            "y0": domains["yaxis3"][0],
            "y1": domains["yaxis3"][1],
            "fillcolor": "rgba(255,255,255,0.55)",
            "line": {"width": 0},
            "layer": "above",
        }
        for kind, first, last in _runs(["scored" if m else "free" for m in scored])
        if kind == "free"
    ]
    layout["shapes"] = [*faded, *lines, _cursor(step, "x", 0.0, 0.95)]
    return figure_spec(data, layout)


def _location_ticks(rows: np.ndarray, compact: bool = False) -> dict:
    """y-axis ticks naming the real location of each displayed row (rows may wrap round); ``compact``: half as many."""
    every = 1 if len(rows) <= 16 else 2 if len(rows) <= 40 else 5 if len(rows) <= 100 else 10
    if compact and len(rows) > 8:
        every *= 2
    positions = [i for i, r in enumerate(rows) if r % every == 0]
    return {
        "type": "category",
        "tickmode": "array",
        "tickvals": [str(int(rows[i])) for i in positions],
        "ticktext": [str(int(rows[i])) for i in positions],
        "range": [len(rows) - 0.5, -0.5],
        "showgrid": False,
        "zeroline": False,
    }


def colour_limit(values: np.ndarray, change: bool = False) -> float:
    """The memory colour scale's half-width: at least 1 for M (0.05 for a change M_t - M_{t-1})."""
    return float(max(0.05 if change else 1.0, np.abs(values).max()))


def memory_weights_figure(
    memory: np.ndarray,
    rows: np.ndarray,
    heads: Sequence[tuple[str, np.ndarray]],
    step: int,
    written: Sequence[int] = (),
    diff: np.ndarray | None = None,
    limit: float | None = None,
    compact: bool = False,
) -> dict:
    """Memory M_t beside each head's weighting over time (locations x time, Fig. 6), on shared rows.

    ``rows`` are the locations shown (the zoom; they may wrap round), ``heads``
    is ``[(name, w [T, N])]``. ``written`` rows are outlined in the memory
    panel; with ``diff`` (M_t - M_{t-1}) the memory panel shows the change.
    ``limit`` fixes the colour scale at +-limit (one scale for a whole episode, so a
    cell keeps its colour from step to step); by default it fits this step's values.
    ``compact``: thinner rows, every other one labelled (presenter mode, whose larger
    type would otherwise push the figure below a 1280x720 screen).
    """
    shown = memory[rows] if diff is None else diff[rows]
    width = memory.shape[1]
    steps = heads[0][1].shape[0] if heads else 1
    if limit is None:
        limit = colour_limit(memory if diff is None else diff, diff is not None)
    memory_share = 0.2 if heads else 1.0
    gap = 0.06
    first_gap = 0.11  # room for the memory colour bar's ticks
    head_width = (1 - memory_share - first_gap - gap * max(len(heads) - 1, 0)) / max(len(heads), 1)
    y_ticks = _location_ticks(rows, compact)
    row_names = [str(int(r)) for r in rows]  # categories: the rows may wrap round (..., 126, 127, 0, 1)
    mem_label = "M<sub>t</sub>" if diff is None else "ΔM"
    data = [
        {
            "type": "heatmap",
            "z": shown.astype(np.float32),
            "x": np.arange(width, dtype=np.int32),
            "y": row_names,
            "xaxis": "x",
            "yaxis": "y",
            "name": "memory",
            "colorscale": MEMORY_COLORSCALE,
            "zmid": 0.0,
            "zmin": -limit,
            "zmax": limit,
            "colorbar": {
                "x": memory_share - 0.02,
                "xanchor": "left",
                "thickness": 10,
                "len": 0.8,
                "tickvals": [-limit, 0, limit],
                "ticktext": [f"{-limit:.2g}", "0", f"{limit:.2g}"],
                "tickfont": {"size": SMALL_TEXT_PX},
            },
            "hovertemplate": f"location %{{y}}, column %{{x}}<br>{mem_label} = %{{z:.3f}}<extra></extra>",
        }
    ]
    if compact:
        layout = base_layout(height=int(min(600, max(300, 15 * len(rows) + 105))))
        layout["margin"] = {"l": 70, "r": 20, "t": 60, "b": 45}
    else:
        layout = base_layout(height=int(min(720, max(400, 18 * len(rows) + 170))))
        layout["margin"] = {"l": 70, "r": 20, "t": 75, "b": 55}
    layout["xaxis"] = {
        "domain": [0, memory_share - 0.04],
        "title": {"text": "column j"},
        "showgrid": False,
        "dtick": 10 if width > 10 else 5 if width > 5 else 1,
        "range": [-0.5, width - 0.5],
    }
    layout["yaxis"] = {**y_ticks, "title": {"text": "location i"}, "anchor": "x"}
    title = f"<b>memory M</b>{sub('t')}" if diff is None else f"<b>M</b>{sub('t')} <b>−</b> <b>M</b>{sub('t−1')}"
    if len(rows) < memory.shape[0]:
        title += f"<br><span style='font-size:{SMALL_TEXT_PX}px'>rows {rows[0]}–{rows[-1]}</span>"
    annotations = [_title(title, 0, 1.0)]
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y",
            "x0": -0.5,
            "x1": width - 0.5,
            "y0": position - 0.5,
            "y1": position + 0.5,
            "line": {"color": HIGHLIGHT_COLOR, "width": 3},
        }
        for r in written
        for position in np.flatnonzero(rows == r)
    ]
    x0 = memory_share + first_gap
    for k, (name, w) in enumerate(heads, start=2):
        axis = f"x{k}"
        z, zmax, z_text = weights_z(w[:, rows].T)
        data.append(
            {
                "type": "heatmap",
                "z": z,
                "x": np.arange(steps, dtype=np.int32),
                "y": row_names,
                "xaxis": axis,
                "yaxis": "y",
                "name": name,
                "colorscale": WEIGHT_COLORSCALE,
                "zmin": 0.0,
                "zmax": zmax,
                "showscale": k == len(heads) + 1,
                "colorbar": {  # no title: the panels are titled "... w", and a title met the "1" at 18 px
                    "thickness": 10,
                    "len": 0.8,
                    "tickvals": [0, zmax / 2, zmax],
                    "ticktext": ["0", "0.5", "1"],
                },
                "hovertemplate": f"step %{{x}}, location %{{y}}<br>{name} w = {z_text}<extra></extra>",
            }
        )
        layout[f"xaxis{k}"] = {**_time_axis(steps, narrow=True), "domain": [x0, x0 + head_width], "anchor": "y"}
        annotations.append(_title(f"<b>{name}</b> w", x0, 1.0))
        shapes.append(_cursor(step, axis, -0.5, len(rows) - 0.5, "y"))
        x0 += head_width + gap
    layout["annotations"], layout["shapes"] = annotations, shapes
    return figure_spec(data, layout)


def pipeline_figure(
    memory_before: np.ndarray,
    key: np.ndarray,
    stages: dict[str, np.ndarray],
    w_prev: np.ndarray,
    shift: np.ndarray,
    rows: np.ndarray,
    knob_labels: dict[str, str],
) -> dict:
    """One head's addressing at step t (section 3.3): the playground's five aligned panels, zoomed to ``rows``.

    The stage values are computed over all N locations; only ``rows`` (e.g.
    16 around the head's focus) are drawn, labelled with their real
    locations, and each stage's entropy and peak are those of the whole
    weighting, not of the rows shown.
    """
    cut = {name: values[rows] for name, values in stages.items()}
    whole = {name: stage_stats(values) for name, values in stages.items() if name != "similarity"}
    spec = addressing_pipeline_figure(memory_before[rows], key, cut, w_prev[rows], shift, knob_labels, stats=whole)
    layout = spec["layout"]
    memory_y = next(trace["yaxis"] for trace in spec["data"] if trace.get("name") == "M")
    axis = layout["y" + "axis" + memory_y[1:]]
    positions = _location_ticks(rows)["tickvals"]
    axis.update(tickvals=[int(np.flatnonzero(rows == int(p))[0]) for p in positions], ticktext=positions)
    axis["title"] = {"text": "location i"}
    for trace in spec["data"]:
        if trace.get("type") == "bar":
            trace["hovertemplate"] = trace["hovertemplate"].replace("location %{y}", "location %{customdata}")
            trace["customdata"] = rows.astype(np.int32)
    annotations = layout["annotations"]
    n = memory_before.shape[0]
    where = f"{rows[0]}–{rows[-1]}" if len(rows) < n else f"all {n}"
    annotations[2]["text"] = f"<b>M{sub('t−1')}</b> rows {where}"
    for index, stage in enumerate(STAGE_TITLES, start=3):
        annotations[index]["text"] = stage_title(stage, knob_labels.get(stage, ""))
    return spec


def readout_figure(vectors: Sequence[tuple[str, np.ndarray, str]], title: str = "") -> dict:
    """Small strips of a head's vectors at step t: erase e (0..1), add a and read r (−1..1), by column.

    ``vectors`` is ``[(label, values [M], "weight" | "memory")]``.
    """
    count = len(vectors)
    data, layout = [], base_layout(height=100 + 48 * count)
    layout["margin"] = {"l": 130, "r": 20, "t": 40, "b": 45}
    if title:
        head, _, rest = title.partition(" (")
        if rest:  # a narrow column: the explanation in brackets goes on a second, smaller line
            head += f"<br><span style='font-size:{SMALL_TEXT_PX}px'>({rest}</span>"
            layout["margin"]["t"] = 60
            layout["height"] += 20
        layout["annotations"] = [_title(head, 0, 1.02)]
    step = 1.0 / count
    for k, (label, values, scale) in enumerate(vectors):
        axis = "y" if k == 0 else f"y{k + 1}"
        weight = scale == "weight"
        limit = 1.0 if weight else float(max(1.0, np.abs(values).max()))
        data.append(
            {
                "type": "heatmap",
                "z": values[None, :].astype(np.float32),
                "y": [label],
                "xaxis": "x",
                "yaxis": axis,
                "name": label,
                "colorscale": WEIGHT_COLORSCALE if weight else MEMORY_COLORSCALE,
                "zmin": 0.0 if weight else -limit,
                "zmax": limit,
                "xgap": 1,
                "showscale": False,
                "hovertemplate": f"column %{{x}}<br>{label} = %{{z:.3f}}<extra></extra>",
            }
        )
        top = 1 - k * step
        layout["yaxis" if k == 0 else f"yaxis{k + 1}"] = {"domain": [top - step + 0.08, top], "tickfont": {"size": 13}}
    width = len(vectors[0][1]) if vectors else 1
    layout["xaxis"] = {
        "title": {"text": "memory column j"},
        "range": [-0.5, width - 0.5],
        "dtick": 1 if width <= 24 else 5,
        "anchor": "y" if count == 1 else f"y{count}",
    }
    return figure_spec(data, layout)


def comparison_figure(
    base_outputs: np.ndarray,
    new_outputs: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    override_step: int | None,
    labels: Sequence[str],
    names: tuple[str, str] = ("untouched", "with override"),
    titles: tuple[str, str] = ("untouched run", "with the override"),
    height: int = 420,
    compact: bool = False,
) -> dict:
    """Outputs of two runs of one episode and their difference (bits x time).

    By default the untouched run and the run with an override, whose step
    (``override_step``; None: every step) is marked; the NTM against the LSTM
    baseline with other ``names`` and ``titles``. Wrong bits are crossed as in
    :func:`bit_grids_figure`. ``height`` in px (beside the override knobs it is shorter);
    ``compact``: a label on every fourth bit only (a short chart in presenter mode's large type).
    """
    steps = base_outputs.shape[0]
    change = (new_outputs - base_outputs).T.astype(np.float32)
    data = []
    domains = {"y": [0.69, 0.95], "y2": [0.36, 0.62], "y3": [0.0, 0.28]}
    errors = []
    for axis, (name, z) in zip(domains, [(names[0], base_outputs), (names[1], new_outputs)], strict=False):
        data.append(_bit_heat(z.T, axis, name, labels, showscale=axis == "y"))
        wrong = wrong_bits(z, target, mask)
        errors.append(int(wrong.sum()))
        wt, wb = np.nonzero(wrong)
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": wt.astype(np.int32),
                "y": [labels[b] for b in wb],
                "xaxis": "x",
                "yaxis": axis,
                "name": f"wrong ({name})",
                "marker": {"symbol": "x-thin-open", "size": 11, "color": HIGHLIGHT_COLOR, "line": {"width": 3}},
                "hovertemplate": "step %{x}, %{y}: wrong<extra></extra>",
            }
        )
    data.append(
        {
            "type": "heatmap",
            "z": change,
            "x": np.arange(steps, dtype=np.int32),
            "y": list(labels),
            "xaxis": "x",
            "yaxis": "y3",
            "name": "change",
            "colorscale": MEMORY_COLORSCALE,
            "zmid": 0.0,
            "zmin": -1.0,
            "zmax": 1.0,
            "showscale": False,
            "ygap": 1,
            "hovertemplate": "step %{x}, %{y}<br>change in p = %{z:+.3f}<extra></extra>",
        }
    )
    layout = base_layout(height=height)
    layout["margin"] = {"l": 60, "r": 20, "t": 40, "b": 50}
    layout["xaxis"] = {**_time_axis(steps), "anchor": "y3"}
    for name, domain in domains.items():
        layout["yaxis" + name[1:]] = {
            "domain": domain,
            "autorange": "reversed",
            "tickfont": {"size": MIN_TEXT_PX},
            "tickmode": "array",
            "tickvals": _bit_ticks(labels, 4 if compact else 2),
        }
    layout["annotations"] = [
        _title(f"<b>{titles[0]}</b> · {errors[0]} wrong bits", 0, 0.955, size=14),
        _title(f"<b>{titles[1]}</b> · {errors[1]} wrong bits", 0, 0.625, size=14),
        _title("<b>change</b> in p(bit = 1): red up, blue down", 0, 0.285, size=14),
    ]
    layout["shapes"] = [] if override_step is None else [_cursor(override_step, "x")]
    return figure_spec(data, layout)


def hidden_state_figure(hidden: np.ndarray, step: int) -> dict:
    """The LSTM baseline's hidden state h_t over time (units x time), the step outlined."""
    steps, _units = hidden.shape
    heat = {
        "type": "heatmap",
        "z": hidden.T.astype(np.float32),
        "colorscale": MEMORY_COLORSCALE,
        "zmid": 0.0,
        "zmin": -1.0,
        "zmax": 1.0,
        "colorbar": {"title": {"text": "h"}, "thickness": 10},
        "hovertemplate": "step %{x}, unit %{y}<br>h = %{z:.3f}<extra></extra>",
    }
    layout = base_layout(height=420)
    layout["margin"] = {"l": 70, "r": 20, "t": 40, "b": 50}
    layout["xaxis"] = _time_axis(steps)
    layout["yaxis"] = {"title": {"text": "hidden unit"}, "autorange": "reversed", "showgrid": False}
    layout["annotations"] = [_title(f"<b>LSTM hidden state</b> h{sub('t')} (no external memory)", 0, 1.0)]
    layout["shapes"] = [_cursor(step, "x")]
    return figure_spec([heat], layout)


def animation_figure(
    memory: np.ndarray,
    rows: np.ndarray,
    heads: Sequence[tuple[str, np.ndarray]],
    phases: Sequence[str],
    title: str = "",
) -> dict:
    """The whole episode as a Plotly animation: memory M_t and the cursor over the weightings, per frame.

    ``memory`` is ``[T, N, M]`` (memory after each step). The weighting
    panels are drawn once; each frame only replaces the memory heatmap and
    moves the cursors, so the browser plays it with no server round trip.
    """
    steps = memory.shape[0]
    spec = memory_weights_figure(memory[0], rows, heads, 0)
    layout = spec["layout"]
    limit = float(max(1.0, np.abs(memory).max()))
    spec["data"][0].update(zmin=-limit, zmax=limit)
    layout["height"] = layout["height"] + 90
    layout["margin"] = {**layout["margin"], "b": 150}
    fixed = [s for s in layout["shapes"] if s["yref"] == "y" and s["xref"] == "x"]
    moving = [s for s in layout["shapes"] if s not in fixed]
    del fixed  # written-row outlines depend on the step and are left out of the animation
    layout["shapes"] = moving
    prefix = f"{title} · " if title else ""
    layout["title"] = {"text": f"{prefix}step 0: {phases[0]}", "x": 0.01, "y": 0.99, "yanchor": "top"}
    layout["title"]["font"] = {"size": 16}
    layout["margin"]["t"] = 110
    frames = []
    for t in range(steps):
        shapes = [{**s, "x0": t - 0.5, "x1": t + 0.5} for s in moving]

        frames.append(
            {
                "name": str(t),
                "data": [{"type": "heatmap", "z": memory[t][rows].astype(np.float32)}],
                "traces": [0],
                "layout": {"shapes": shapes, "title": {**layout["title"], "text": f"{prefix}step {t}: {phases[t]}"}},
            }
        )
    play = {"frame": {"duration": 400, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    layout["updatemenus"] = [
        {
            "type": "buttons",
            "direction": "left",
            "x": 0,
            "y": -0.2,
            "xanchor": "left",
            "yanchor": "top",
            "showactive": False,
            "buttons": [
                {"label": "▶ Play", "method": "animate", "args": [None, play]},
                {"label": "Pause", "method": "animate", "args": [[None], pause]},
            ],
        }
    ]
    layout["sliders"] = [
        {
            "active": 0,
            "x": 0.16,
            "len": 0.84,
            "y": -0.2,
            "yanchor": "top",
            "currentvalue": {"prefix": "step ", "font": {"size": 14}},
            "steps": [
                {
                    "label": str(t),
                    "method": "animate",
                    "args": [[str(t)], {**pause, "frame": {"duration": 0, "redraw": True}}],
                }
                for t in range(steps)
            ],
        }
    ]
    spec["frames"] = frames
    return spec


def animation_html(spec: dict) -> str:
    """A self-contained HTML page (plotly.js inlined) that plays an animation spec offline."""
    return to_plotly(spec).to_html(include_plotlyjs=True, full_html=True, auto_play=False)
