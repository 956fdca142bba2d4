"""The NTM addressing pipeline as one figure: memory, then the five stages, row-aligned.

Each location of memory is one row across every panel, so a student can follow
location i from its content, through its similarity to the key, to its final
weight (Graves et al. 2014, section 3.3, Figure 2).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
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


def addressing_pipeline_figure(
    memory: np.ndarray,
    key: np.ndarray,
    stages: dict[str, np.ndarray],
    w_prev: np.ndarray,
    knob_labels: dict[str, str] | None = None,
    key_row: int | None = None,
) -> go.Figure:
    """Memory heatmap (with the key above it) and the five addressing stages as aligned bars.

    ``stages`` maps ``similarity, w_c, w_g, w_s, w`` to ``[N]`` arrays (an
    :class:`~memviz.addressing.AddressingTrace` as numpy). ``knob_labels`` adds
    the knob each stage used to its title (e.g. ``{"w_c": "β = 10"}``).
    ``key_row`` outlines the memory row the key was copied from.
    """
    n_locations, width = memory.shape
    rows = np.arange(n_locations)
    show_numbers = n_locations <= NUMBERS_UP_TO
    knob_labels = knob_labels or {}

    titles = ["key k", f"memory M ({n_locations}×{width})"]
    for stage, title in STAGE_TITLES.items():
        knob = knob_labels.get(stage, "cosine of k and each row" if stage == "similarity" else "")
        stats = "" if stage == "similarity" else stage_stats(stages[stage])
        titles.append(f"<b>{title}</b><br><span style='font-size:13px'>{knob}<br>{stats}</span>")

    memory_share = min(0.3, max(0.14, 0.018 * width))
    fig = make_subplots(
        rows=2,
        cols=6,
        shared_yaxes="rows",
        shared_xaxes="columns",
        column_widths=[memory_share] + [(1 - memory_share) / 5] * 5,
        row_heights=[1.0 / (n_locations + 1), n_locations / (n_locations + 1)],
        vertical_spacing=0.09,
        horizontal_spacing=0.025,
        specs=[[{}, None, None, None, None, None], [{}, {}, {}, {}, {}, {}]],
        subplot_titles=titles,
    )
    limit = float(max(1.0, np.abs(memory).max(), np.abs(key).max()))
    heat = {"type": "heatmap", "colorscale": MEMORY_COLORSCALE, "zmid": 0.0, "zmin": -limit, "zmax": limit}
    fig.add_trace(
        go.Heatmap(
            z=key[None, :].astype(np.float32),
            showscale=False,
            hovertemplate="key column %{x}<br>k = %{z:.2f}<extra></extra>",
            **{k: v for k, v in heat.items() if k != "type"},
        ),
        row=1,
        col=1,
    )
    domain = fig.layout.xaxis2.domain
    fig.add_trace(
        go.Heatmap(
            z=memory.astype(np.float32),
            colorbar={
                "orientation": "h",
                "x": (domain[0] + domain[1]) / 2,
                "xanchor": "center",
                "y": -0.1,
                "yanchor": "top",
                "len": domain[1] - domain[0],
                "thickness": 10,
                "tickfont": {"size": 12},
            },
            hovertemplate="location %{y}, column %{x}<br>M = %{z:.2f}<extra></extra>",
            **{k: v for k, v in heat.items() if k != "type"},
        ),
        row=2,
        col=1,
    )
    similarity = stages["similarity"]
    sim_colors = np.where(similarity >= 0, POSITIVE_COLOR, NEGATIVE_COLOR)
    fig.add_trace(_stage_bar(similarity, rows, "K", show_numbers, sim_colors.tolist()), row=2, col=2)
    fig.add_trace(_stage_bar(stages["w_c"], rows, "w_c", show_numbers), row=2, col=3)
    fig.add_trace(_stage_bar(stages["w_g"], rows, "w_g", show_numbers), row=2, col=4)
    fig.add_trace(_ghost(w_prev, rows, "w_prev"), row=2, col=4)
    fig.add_trace(_stage_bar(stages["w_s"], rows, "w_s", show_numbers), row=2, col=5)
    fig.add_trace(_stage_bar(stages["w"], rows, "w", show_numbers), row=2, col=6)
    fig.add_trace(_ghost(stages["w_s"], rows, "w_s"), row=2, col=6)

    if key_row is not None and 0 <= key_row < n_locations:
        fig.add_shape(
            type="rect",
            x0=-0.5,
            x1=width - 0.5,
            y0=key_row - 0.5,
            y1=key_row + 0.5,
            line={"color": HIGHLIGHT_COLOR, "width": 3},
            row=2,
            col=1,
        )

    fig.update_layout(**base_layout(height=max(440, 26 * n_locations + 230)), bargap=0.15)
    fig.update_layout(margin={"t": 40, "b": 95})
    fig.update_yaxes(range=[n_locations - 0.5, -0.5], dtick=1 if n_locations <= 32 else None, row=2, col=1)
    fig.update_yaxes(title_text="location i", row=2, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=1)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_xaxes(title_text="column", dtick=1 if width <= 16 else None, row=2, col=1)
    fig.update_xaxes(range=[-1.45, 1.45], title_text="K", tickvals=[-1, 0, 1], zeroline=True, row=2, col=2)
    for col in range(3, 7):
        fig.update_xaxes(range=[0, 1.35], title_text="weight", tickvals=[0, 0.5, 1], row=2, col=col)
    fig.update_annotations(font_size=15, yanchor="bottom")
    return fig


def walk_figure(walk: np.ndarray) -> go.Figure:
    """Weightings over the steps taken so far: locations x steps, as in Fig. 6 of Graves et al."""
    steps, n_locations = walk.shape
    fig = go.Figure(
        go.Heatmap(
            z=walk.T.astype(np.float32),
            x=np.arange(steps),
            y=np.arange(n_locations),
            colorscale=WEIGHT_COLORSCALE,
            zmin=0.0,
            zmax=1.0,
            colorbar={"title": {"text": "w"}, "thickness": 12},
            hovertemplate="step %{x}, location %{y}<br>w = %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(**base_layout(height=max(260, 14 * n_locations + 120)))
    fig.update_layout(margin={"t": 20})
    fig.update_yaxes(autorange="reversed", title_text="location i")
    fig.update_xaxes(title_text="step (0 = starting weighting)", dtick=1 if steps <= 30 else None)
    return fig


def shift_figure(shift: np.ndarray) -> go.Figure:
    """The normalised shift distribution s over offsets -R..+R (+1 moves focus from i to i + 1)."""
    radius = len(shift) // 2
    offsets = [f"{o:+d}" if o else "0" for o in range(-radius, radius + 1)]
    fig = go.Figure(
        go.Bar(
            x=offsets,
            y=shift.astype(np.float32),
            marker_color=BAR_COLOR,
            text=[f"{v:.2f}" for v in shift],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="offset %{x}<br>s = %{y:.3f}<extra></extra>",
        )
    )
    fig.update_layout(**base_layout(height=170))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 40})
    fig.update_yaxes(range=[0, 1.25], showticklabels=False, showgrid=False)
    fig.update_xaxes(title_text="offset", type="category")
    return fig
