"""The NTM addressing pipeline as one figure: memory, then the five stages, row-aligned.

Each location of memory is one row across every panel, so a student can follow
location i from its content, through its similarity to the key, to its final
weight (Graves et al. 2014, section 3.3, Figure 2).
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from plotly.subplots import make_subplots

from memviz.addressing import entropy_bits
from memviz.figures.theme import (
    BAR_COLOR,
    GHOST_COLOR,
    HIGHLIGHT_COLOR,
    MEMORY_COLORSCALE,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    SMALL_TEXT_PX,
    WEIGHT_COLORSCALE,
    base_layout,
    figure_spec,
    sub,
)

STAGE_TITLES = {
    "similarity": "1 · K",
    "w_c": f"2 · w{sub('c')}",
    "w_g": f"3 · w{sub('g')}",
    "w_s": f"4 · w{sub('s')}",
    "w": "5 · w",
}
STAGE_NAMES = {"similarity": "cosine", "w_c": "content", "w_g": "gate", "w_s": "shift", "w": "sharpen"}
"""One short word per stage, under its panel: a panel may be 70 px wide on a projector."""
NUMBERS_UP_TO = 24
"""With ``numbers=True``, print each bar's value on it when memory has at most this many locations."""
OVERRIDE_MARK = " <b>✎</b>"
"""How a stage title marks a knob fixed by an intervention (the long form is shortened to this)."""


def stage_stats(weighting: np.ndarray) -> str:
    """Entropy and peak of a weighting, as shown in each stage's hover and the pages' tables."""
    return f"H {entropy_bits(weighting):.2f} bits · max {float(np.max(weighting)):.2f} @ {int(np.argmax(weighting))}"


def short_knob(label: str) -> str:
    """A stage's knob label short enough for a narrow panel: ``β = 10``, ``s above``, the override as ✎.

    The shift's values are drawn as the kernel above its panel, so its label only points there.
    """
    fixed = "✎" in label
    text = label.replace(" <b>✎ override</b>", "").replace("✎ override", "").strip()
    if text.startswith("s = ["):
        text = "s above"
    return text + (OVERRIDE_MARK if fixed else "")


def _bar_text(values: np.ndarray, show: bool) -> list[str] | None:
    if not show:
        return None
    return [f"{v:.2f}" if abs(v) >= 0.005 else "" for v in values]


def _stage_bar(
    values: np.ndarray, rows: np.ndarray, name: str, show_numbers: bool, colors: object = BAR_COLOR, stats: str = ""
) -> dict:
    whole = f"<br>whole {name}: {stats}" if stats else ""
    return {
        "type": "bar",
        "orientation": "h",
        "x": values.astype(np.float32),
        "y": rows,
        "name": name,
        "marker": {"color": colors},
        "text": _bar_text(values, show_numbers),
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": f"location %{{y}}<br>{name} = %{{x:.4f}}{whole}<extra></extra>",
    }


def _ghost(values: np.ndarray, rows: np.ndarray, name: str) -> dict:
    """The quantity a stage starts from, drawn as grey ticks over the bars (none below 0.01)."""
    shown = values >= 0.01
    return {
        "type": "scatter",
        "mode": "markers",
        "x": values[shown].astype(np.float32),
        "y": rows[shown],
        "name": name,
        "marker": {"symbol": "line-ns-open", "size": 18, "color": GHOST_COLOR, "line": {"width": 3}},
        "hovertemplate": f"location %{{y}}<br>{name} = %{{x:.4f}}<extra></extra>",
    }


def _axis_ref(axis_name: str) -> str:
    """``"xaxis3"`` -> ``"x3"``, the form a trace uses to name its axes."""
    return axis_name[0] + axis_name[5:]


# Cells of the pipeline grid, in the order _pipeline_skeleton returns their axis refs.
KEY, SHIFT, MEMORY, SIMILARITY, W_C, W_G, W_S, W = range(8)
_CELLS = [(1, 1), (1, 5), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)]


def pipeline_height(n_locations: int) -> int:
    """Figure height for N rows: 20 px a row plus the titles, kernel and axes (400 px for N = 12)."""
    return max(380, 20 * n_locations + 160)


@lru_cache(maxsize=64)
def _pipeline_skeleton(n_locations: int, width: int, shift_width: int) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Layout of the pipeline grid for one memory shape (JSON) and each cell's axis refs.

    ``make_subplots`` is slow (it validates every object), and the grid only
    depends on N, M and the shift width, so it is built once per shape and
    copied per rerun. The grid is laid out for the narrowest column it meets
    (about 480 px: a 1280x720 projector at 150% zoom, sidebar open), where a
    stage panel is some 60 px wide: titles are two short lines, the stage's
    name sits under its panel, and the numbers live in the hover.
    """
    memory_share = min(0.3, max(0.16, 0.018 * width))
    height = pipeline_height(n_locations)
    fig = make_subplots(
        rows=2,
        cols=6,
        shared_yaxes="rows",
        column_widths=[memory_share] + [(1 - memory_share) / 5] * 5,
        row_heights=[0.12, 0.88],
        vertical_spacing=90 / height,
        horizontal_spacing=0.03,
        specs=[[{}, None, None, None, {}, None], [{}, {}, {}, {}, {}, {}]],
        subplot_titles=["title"] * len(_CELLS),
    )
    fig.update_layout(**base_layout(height=height), bargap=0.15)
    fig.update_layout(margin={"t": 30, "b": 100, "l": 60, "r": 10})
    column_range = [-0.5, width - 0.5]
    fig.update_yaxes(range=[n_locations - 0.5, -0.5], dtick=1 if n_locations <= 24 else None, row=2, col=1)
    fig.update_yaxes(title_text="location i", tickfont={"size": SMALL_TEXT_PX}, row=2, col=1)  # 20 px rows
    fig.update_yaxes(showticklabels=False, showgrid=False, row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, range=column_range, row=1, col=1)
    fig.update_xaxes(
        title_text="column j", showgrid=False, range=column_range, dtick=max(1, -(-width // 5)), row=2, col=1
    )
    fig.update_yaxes(showgrid=False, row=2, col=1)
    fig.update_xaxes(
        range=[-1.1, 1.1], title_text=STAGE_NAMES["similarity"], tickvals=[-1, 1], zeroline=True, row=2, col=2
    )
    for col, stage in zip(range(3, 7), ("w_c", "w_g", "w_s", "w"), strict=True):
        fig.update_xaxes(range=[0, 1.05], title_text=STAGE_NAMES[stage], tickvals=[0, 1], row=2, col=col)
    fig.update_xaxes(title_standoff=4, row=2)
    radius = shift_width // 2
    fig.update_xaxes(
        type="category",
        categoryarray=[f"{o:+d}" if o else "0" for o in range(-radius, radius + 1)],
        tickfont={"size": SMALL_TEXT_PX},
        row=1,
        col=5,
    )
    fig.update_yaxes(range=[0, 1.05], showticklabels=False, showgrid=False, row=1, col=5)
    fig.update_annotations(font_size=15, yanchor="bottom")
    refs = []
    for row, col in _CELLS:
        subplot = fig.get_subplot(row, col)
        refs.append((_axis_ref(subplot.xaxis.plotly_name), _axis_ref(subplot.yaxis.plotly_name)))
    layout = fig.layout.to_plotly_json()
    # plotly.py merges base_layout's compact template into its default one (~7 KB sent every rerun): put it back.
    layout["template"] = base_layout(0)["template"]
    return json.dumps(layout), tuple(refs)


def _shift_kernel(shift: np.ndarray) -> dict:
    """The shift distribution s as small bars over offsets -R..+R (offsets on the axis, values in the hover)."""
    radius = len(shift) // 2
    return {
        "type": "bar",
        "x": [f"{o:+d}" if o else "0" for o in range(-radius, radius + 1)],
        "y": shift.astype(np.float32),
        "name": "s",
        "marker": {"color": BAR_COLOR},
        "hovertemplate": "offset %{x}<br>s = %{y:.3f}<extra></extra>",
    }


SIMILARITY_NOTE = f"<span style='font-size:{SMALL_TEXT_PX}px'>k vs M{sub('i')}</span>"


def stage_title(stage: str, knob: str) -> str:
    """A stage panel's title: its number and symbol in bold, its knob under it (the similarity has none)."""
    second = short_knob(knob) or (SIMILARITY_NOTE if stage == "similarity" else "&nbsp;")
    return f"<b>{STAGE_TITLES[stage]}</b><br>{second}"


def addressing_pipeline_figure(
    memory: np.ndarray,
    key: np.ndarray,
    stages: dict[str, np.ndarray],
    w_prev: np.ndarray,
    shift: np.ndarray,
    knob_labels: dict[str, str] | None = None,
    key_row: int | None = None,
    numbers: bool = False,
    stats: dict[str, str] | None = None,
) -> dict:
    """Memory heatmap (key above it) and the five addressing stages as row-aligned bars.

    ``stages`` maps ``similarity, w_c, w_g, w_s, w`` to ``[N]`` arrays (an
    :class:`~memviz.addressing.AddressingTrace` as numpy); ``shift`` is the
    distribution over offsets -R..+R, drawn above the shift panel.
    ``knob_labels`` adds the knob each stage used to its title (e.g.
    ``{"w_c": "β = 10"}``). ``key_row`` outlines the row the key was copied from.
    Each bar's value and its stage's entropy and peak are in the hover;
    ``numbers`` also prints the values on the bars (for wide screens only).
    ``stats`` replaces the hover's entropy and peak per stage (e.g. over all
    locations when only some rows are drawn).
    """
    n_locations, width = memory.shape
    rows = np.arange(n_locations)
    show_numbers = numbers and n_locations <= NUMBERS_UP_TO
    knob_labels = knob_labels or {}
    layout_json, refs = _pipeline_skeleton(n_locations, width, len(shift))
    layout = json.loads(layout_json)

    titles = ["<b>key k</b>", "<b>shift s</b>", "<b>memory M</b>"]
    titles += [stage_title(stage, knob_labels.get(stage, "")) for stage in STAGE_TITLES]
    for annotation, title in zip(layout["annotations"], titles, strict=True):
        annotation["text"] = title
    layout["annotations"][SHIFT]["xanchor"] = "center"

    limit = float(max(1.0, np.abs(memory).max(), np.abs(key).max()))
    heat = {"type": "heatmap", "colorscale": MEMORY_COLORSCALE, "zmid": 0.0, "zmin": -limit, "zmax": limit}
    memory_domain = layout[refs[MEMORY][0].replace("x", "xaxis")]["domain"]
    key_trace = {
        **heat,
        "name": "k",
        "z": key[None, :].astype(np.float32),
        "showscale": False,
        "hovertemplate": "key column %{x}<br>k = %{z:.2f}<extra></extra>",
    }
    memory_trace = {
        **heat,
        "name": "M",
        "z": memory.astype(np.float32),
        "colorbar": {
            "orientation": "h",
            "x": (memory_domain[0] + memory_domain[1]) / 2,
            "xanchor": "center",
            "y": -45 / layout["height"],
            "yanchor": "top",
            "len": memory_domain[1] - memory_domain[0],
            "thickness": 10,
            "tickvals": [-limit, 0, limit],
            "ticktext": [f"{-limit:.2g}", "0", f"{limit:.2g}"],
            "tickfont": {"size": SMALL_TEXT_PX},
        },
        "hovertemplate": "location %{y}, column %{x}<br>M = %{z:.2f}<extra></extra>",
    }
    similarity = stages["similarity"]
    sim_colors = np.where(similarity >= 0, POSITIVE_COLOR, NEGATIVE_COLOR).tolist()

    def bar(stage: str, name: str) -> dict:
        summary = (stats or {}).get(stage) or stage_stats(stages[stage])
        return _stage_bar(stages[stage], rows, name, show_numbers, stats=summary)

    panels = [
        (KEY, key_trace),
        (SHIFT, _shift_kernel(shift)),
        (MEMORY, memory_trace),
        (SIMILARITY, _stage_bar(similarity, rows, "K", show_numbers, sim_colors)),
        (W_C, bar("w_c", "w_c")),
        (W_G, _ghost(w_prev, rows, "w_prev")),  # ghosts first, so bar labels stay on top
        (W_G, bar("w_g", "w_g")),
        (W_S, bar("w_s", "w_s")),
        (W, _ghost(stages["w_s"], rows, "w_s")),
        (W, bar("w", "w")),
    ]
    data = [{**trace, "xaxis": refs[cell][0], "yaxis": refs[cell][1]} for cell, trace in panels]

    if key_row is not None and 0 <= key_row < n_locations:
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": refs[MEMORY][0],
                "yref": refs[MEMORY][1],
                "x0": -0.5,
                "x1": width - 0.5,
                "y0": key_row - 0.5,
                "y1": key_row + 0.5,
                "line": {"color": HIGHLIGHT_COLOR, "width": 3},
            }
        ]
    return figure_spec(data, layout)


def walk_figure(walk: np.ndarray) -> dict:
    """Weightings over the steps taken so far: locations x steps, as in Fig. 6 of Graves et al."""
    steps, n_locations = walk.shape
    heat = {
        "type": "heatmap",
        "z": walk.T.astype(np.float32),
        "colorscale": WEIGHT_COLORSCALE,
        "zmin": 0.0,
        "zmax": 1.0,
        "colorbar": {"title": {"text": "w"}, "thickness": 12},
        "hovertemplate": "step %{x}, location %{y}<br>w = %{z:.3f}<extra></extra>",
    }
    layout = base_layout(height=max(260, 14 * n_locations + 120))
    layout["margin"] = {**layout["margin"], "t": 20}
    layout["yaxis"] = {"autorange": "reversed", "title": {"text": "location i"}}
    layout["xaxis"] = {"title": {"text": "step (0 = starting weighting)"}, "dtick": 1 if steps <= 30 else None}
    return figure_spec([heat], layout)
