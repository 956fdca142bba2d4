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
    WEIGHT_COLORSCALE,
    base_layout,
    figure_spec,
)

STAGE_TITLES = {
    "similarity": "1 · similarity K",
    "w_c": "2 · content w<sub>c</sub>",
    "w_g": "3 · interpolated w<sub>g</sub>",
    "w_s": "4 · shifted w<sub>s</sub>",
    "w": "5 · sharpened w",
}
NUMBERS_UP_TO = 24
"""Print each bar's value on it when memory has at most this many locations."""


def stage_stats(weighting: np.ndarray) -> str:
    """Entropy and peak of a weighting, as shown under each stage title."""
    return f"H {entropy_bits(weighting):.2f} bits · max {float(np.max(weighting)):.2f} @ {int(np.argmax(weighting))}"


def _bar_text(values: np.ndarray, show: bool) -> list[str] | None:
    if not show:
        return None
    return [f"{v:.2f}" if abs(v) >= 0.005 else "" for v in values]


def _stage_bar(values: np.ndarray, rows: np.ndarray, name: str, show_numbers: bool, colors: object = BAR_COLOR) -> dict:
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
        "hovertemplate": f"location %{{y}}<br>{name} = %{{x:.4f}}<extra></extra>",
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


@lru_cache(maxsize=64)
def _pipeline_skeleton(n_locations: int, width: int, shift_width: int) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Layout of the pipeline grid for one memory shape (JSON) and each cell's axis refs.

    ``make_subplots`` is slow (it validates every object), and the grid only
    depends on N, M and the shift width, so it is built once per shape and
    copied per rerun.
    """
    memory_share = min(0.3, max(0.14, 0.018 * width))
    fig = make_subplots(
        rows=2,
        cols=6,
        shared_yaxes="rows",
        column_widths=[memory_share] + [(1 - memory_share) / 5] * 5,
        row_heights=[0.13, 0.87],
        vertical_spacing=0.14,
        horizontal_spacing=0.025,
        specs=[[{}, None, None, None, {}, None], [{}, {}, {}, {}, {}, {}]],
        subplot_titles=["title"] * len(_CELLS),
    )
    fig.update_layout(**base_layout(height=max(480, 26 * n_locations + 290)), bargap=0.15)
    fig.update_layout(margin={"t": 40, "b": 95})
    column_range = [-0.5, width - 0.5]
    fig.update_yaxes(range=[n_locations - 0.5, -0.5], dtick=1 if n_locations <= 32 else None, row=2, col=1)
    fig.update_yaxes(title_text="location i", row=2, col=1)
    fig.update_yaxes(showticklabels=False, showgrid=False, row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, range=column_range, row=1, col=1)
    fig.update_xaxes(
        title_text="column", showgrid=False, range=column_range, dtick=1 if width <= 16 else None, row=2, col=1
    )
    fig.update_yaxes(showgrid=False, row=2, col=1)
    fig.update_xaxes(range=[-1.45, 1.45], title_text="K", tickvals=[-1, 0, 1], zeroline=True, row=2, col=2)
    for col in range(3, 7):
        fig.update_xaxes(range=[0, 1.35], title_text="weight", tickvals=[0, 0.5, 1], row=2, col=col)
    radius = shift_width // 2
    fig.update_xaxes(
        type="category",
        categoryarray=[f"{o:+d}" if o else "0" for o in range(-radius, radius + 1)],
        showticklabels=False,
        row=1,
        col=5,
    )
    fig.update_yaxes(range=[0, 1.5], showticklabels=False, showgrid=False, row=1, col=5)
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
    """The shift distribution s as small bars over offsets -R..+R."""
    radius = len(shift) // 2
    return {
        "type": "bar",
        "x": [f"{o:+d}" if o else "0" for o in range(-radius, radius + 1)],
        "y": shift.astype(np.float32),
        "name": "s",
        "marker": {"color": BAR_COLOR},
        "text": [
            f"{o:+d}: {v:.2f}" if o else f"0: {v:.2f}" for o, v in zip(range(-radius, radius + 1), shift, strict=True)
        ],
        "textposition": "outside",
        "cliponaxis": False,
        "textfont": {"size": 12},
        "hovertemplate": "offset %{x}<br>s = %{y:.3f}<extra></extra>",
    }


def addressing_pipeline_figure(
    memory: np.ndarray,
    key: np.ndarray,
    stages: dict[str, np.ndarray],
    w_prev: np.ndarray,
    shift: np.ndarray,
    knob_labels: dict[str, str] | None = None,
    key_row: int | None = None,
) -> dict:
    """Memory heatmap (key above it) and the five addressing stages as row-aligned bars.

    ``stages`` maps ``similarity, w_c, w_g, w_s, w`` to ``[N]`` arrays (an
    :class:`~memviz.addressing.AddressingTrace` as numpy); ``shift`` is the
    distribution over offsets -R..+R, drawn above the shift panel.
    ``knob_labels`` adds the knob each stage used to its title (e.g.
    ``{"w_c": "β = 10"}``). ``key_row`` outlines the row the key was copied from.
    """
    n_locations, width = memory.shape
    rows = np.arange(n_locations)
    show_numbers = n_locations <= NUMBERS_UP_TO
    knob_labels = knob_labels or {}
    layout_json, refs = _pipeline_skeleton(n_locations, width, len(shift))
    layout = json.loads(layout_json)

    offsets = ", ".join(f"{o:+d}" if o else "0" for o in range(-(len(shift) // 2), len(shift) // 2 + 1))
    titles = ["key k", f"shift s over offsets {offsets}", f"memory M ({n_locations}×{width})"]
    for stage, title in STAGE_TITLES.items():
        knob = knob_labels.get(stage, "cosine of k and each row" if stage == "similarity" else "")
        stats = "" if stage == "similarity" else stage_stats(stages[stage])
        titles.append(f"<b>{title}</b><br><span style='font-size:13px'>{knob}<br>{stats}</span>")
    for annotation, title in zip(layout["annotations"], titles, strict=True):
        annotation["text"] = title

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
            "y": -0.1,
            "yanchor": "top",
            "len": memory_domain[1] - memory_domain[0],
            "thickness": 10,
            "tickfont": {"size": 12},
        },
        "hovertemplate": "location %{y}, column %{x}<br>M = %{z:.2f}<extra></extra>",
    }
    similarity = stages["similarity"]
    sim_colors = np.where(similarity >= 0, POSITIVE_COLOR, NEGATIVE_COLOR).tolist()
    panels = [
        (KEY, key_trace),
        (SHIFT, _shift_kernel(shift)),
        (MEMORY, memory_trace),
        (SIMILARITY, _stage_bar(similarity, rows, "K", show_numbers, sim_colors)),
        (W_C, _stage_bar(stages["w_c"], rows, "w_c", show_numbers)),
        (W_G, _ghost(w_prev, rows, "w_prev")),  # ghosts first, so bar labels stay on top
        (W_G, _stage_bar(stages["w_g"], rows, "w_g", show_numbers)),
        (W_S, _stage_bar(stages["w_s"], rows, "w_s", show_numbers)),
        (W, _ghost(stages["w_s"], rows, "w_s")),
        (W, _stage_bar(stages["w"], rows, "w", show_numbers)),
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
