"""MemN2N Explorer figures: a trace -> plain figure specs (no plotly objects on the rerun path).

The canonical picture of a memory network (Sukhbaatar et al. 2015, Figure 2 and the
bAbI examples of sec. 4) is the story as rows and the hops as columns, each cell the
attention p_k(i) = softmax(u_k . m_i) of eq. 1. Beside it: the "answer if it stopped
here", softmax(W u_{k+1}) after each hop (eq. 3 applied early), and the controller
state u_{k+1} = u_k + o_k (sec. 2.2) row by row.

Every function returns a :func:`memviz.figures.theme.figure_spec` dict; frames past the
current hop are left empty (None), so the layout stays put while stepping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from memviz.figures.theme import (
    BAR_COLOR,
    GHOST_COLOR,
    HIGHLIGHT_COLOR,
    MEMORY_COLORSCALE,
    SMALL_TEXT_PX,
    WEIGHT_COLORSCALE,
    base_layout,
    figure_spec,
    sub,
)
from memviz.memn2n.model import MemN2NTrace

ROW_PX = 22
"""Height of one sentence row: one line of 15 px text, read from the back of a classroom; 18 sentences
and the hop bar fit a 1280x720 screen (DESIGN.md 4b, figure first)."""
PRESENTER_ROW_PX = 20
"""...and in presenter mode, whose figures grow by a quarter (:func:`memviz.figures.theme.for_presenter`)."""
LABEL_CHARS = 40
"""Sentences longer than this are shortened on the axis (the hover shows them whole)."""
WRAP_CHARS = 24
"""Where :func:`wrap` breaks a long label (for narrow charts that can afford two lines)."""


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap(text: str, width: int = WRAP_CHARS) -> str:
    """Break ``text`` at the last space before ``width`` characters, once (two lines at most, the rest kept)."""
    if len(text) <= width or " " not in text[1:width]:
        return text
    cut = text.rfind(" ", 1, width + 1)
    return text[:cut] + "<br>" + text[cut + 1 :]


def sentence_labels(sentences: Sequence[str], supporting: Sequence[int] = (), masked: Sequence[int] = ()) -> list[str]:
    """Axis labels ``3. John went to the kitchen.`` on one line; supporting facts bold orange with ★, masked grey."""
    labels = []
    support, hidden = set(supporting), set(masked)
    for i, sentence in enumerate(sentences):
        text = f"{i + 1}. {_escape(_short(sentence))}"
        if i in hidden:
            labels.append(f"<span style='color:{GHOST_COLOR}'>⊘ {text} (masked)</span>")
        elif i in support:
            labels.append(f"<span style='color:{HIGHLIGHT_COLOR}'><b>★ {text}</b></span>")
        else:
            labels.append(text)
    return labels


def hop_labels(temperature: np.ndarray) -> list[str]:
    """Column titles: the hop number (the axis is titled "hop") and, when changed, ``τ = 0.5`` under it."""
    labels = []
    for k, tau in enumerate(np.asarray(temperature, dtype=float)):
        extra = f"<br><span style='font-size:{SMALL_TEXT_PX}px'>τ = {tau:g}</span>" if abs(tau - 1.0) > 1e-9 else ""
        labels.append(f"<b>{k + 1}</b>{extra}")
    return labels


def _attention_cells(trace: MemN2NTrace, hop: int) -> tuple[np.ndarray, list[list[str]]]:
    """Rows = sentences, columns = hops; cells of hops after ``hop`` are NaN (plotly draws a gap, no number).

    A cell's text is its attention in percent (``61``): two digits fit a 40 px column at 15 px.
    """
    n, hops = len(trace.sentences), trace.hops
    shown = min(hop, hops)
    z = np.full((n, hops), np.nan, dtype=np.float32)
    z[:, :shown] = trace.attention[:shown].T
    text = [[""] * hops for _ in range(n)]
    masked = set(trace.masked)
    for k in range(shown):
        for i in range(n):
            if i in masked:
                text[i][k] = "—"
            elif z[i, k] >= 0.005:
                text[i][k] = f"{100 * z[i, k]:.0f}"
    return z, text


def story_attention_figure(
    trace: MemN2NTrace,
    hop: int,
    supporting: Sequence[int] = (),
    row_px: int = ROW_PX,
    cells_through: int | None = None,
) -> dict[str, Any]:
    """The story (rows, oldest at the top, newest last) and the attention p_k of hops 1..``hop`` (columns).

    ``hop`` = 0 shows the story before any hop. The current hop's column is outlined.
    ``row_px``: the height of a sentence's row (presenter mode's larger type asks for thinner rows).
    ``cells_through``: fill the cells of hops 1..``cells_through`` instead (the step player fills them
    all and covers the hops not reached with :func:`attention_curtains`, so a hop change redraws no cell).
    """
    n, hops = len(trace.sentences), trace.hops
    z, text = _attention_cells(trace, hop if cells_through is None else cells_through)
    heat = {
        "type": "heatmap",
        "name": "attention",
        "z": z,
        "x": list(range(1, hops + 1)),
        "y": list(range(1, n + 1)),
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 15},
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": WEIGHT_COLORSCALE,
        "xgap": 3,
        "ygap": 3,
        "hoverongaps": False,
        "customdata": [[_escape(sentence)] * hops for sentence in trace.sentences],  # whole, on hover
        "hovertemplate": "%{customdata}<br>sentence %{y}, hop %{x}: p = %{z:.3f}<extra></extra>",
        "showscale": False,  # every cell prints its value; a colour bar would take a narrow column's width
    }
    layout = base_layout(height=max(260, row_px * n + 80))
    layout.update(
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        xaxis={
            "title": {"text": "hop (p in %)", "font": {"size": 15}},
            "tickvals": list(range(1, hops + 1)),
            "ticktext": hop_labels(trace.temperature),
            "range": [0.5, hops + 0.5],
            "side": "top",
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
            "tickfont": {"size": 15},
        },
        yaxis={
            "tickvals": list(range(1, n + 1)),
            "ticktext": sentence_labels(trace.sentences, supporting, trace.masked),
            "range": [n + 0.5, 0.5],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
            "automargin": True,
            "tickfont": {"size": 15},
        },
        plot_bgcolor="#f4f4f4",
    )
    layout["shapes"], layout["annotations"] = [], []  # the same keys at every hop: a hop change is a relayout
    if 1 <= hop <= hops:
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": hop - 0.5,
                "x1": hop + 0.5,
                "y0": 0.5,
                "y1": n + 0.5,
                "line": {"color": HIGHLIGHT_COLOR, "width": 3},
            }
        ]
    else:
        layout["annotations"] = [
            {
                "text": "Before hop 1:<br>the next hop shows<br>where hop 1 looks",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 15, "color": "#444444"},
                "bgcolor": "rgba(255,255,255,0.85)",
            }
        ]
    return figure_spec([heat], layout)


def readout_rows(trace: MemN2NTrace, hop: int, answer: str | None) -> tuple[list[str], list[float], list[str]]:
    """Top-5 words of hop ``hop``'s readout, probabilities and colours; the true answer is added if not among them."""
    top = trace.hop_top5[hop - 1]
    words = [w for w, _ in top]
    probs = [float(p) for _, p in top]
    if answer and answer not in words and answer in trace.answers:
        position = trace.answers.index(answer)
        p = float(trace.hop_probs[hop - 1, position])
        rank = int((trace.hop_probs[hop - 1] > p).sum()) + 1
        words.append(f"{answer} (rank {rank})")
        probs.append(p)
    colours = [HIGHLIGHT_COLOR if w.split(" (rank")[0] == answer else BAR_COLOR for w in words]
    return words, probs, colours


def attention_curtains(hops: int) -> list[dict]:
    """For the step player: hop k's column of :func:`story_attention_figure` is covered until hop k."""
    return [
        {"until": k, "xref": "x", "x0": k - 0.5, "x1": k + 0.5, "yref": "paper", "y0": 0, "y1": 1}
        for k in range(1, hops + 1)
    ]


READOUT_GAP = 0.12
"""Between two hops' panels of the readout (paper height): a hop's tick labels and the next hop's title stay
apart when a lesson caps the height."""


def _readout_panel(hops: int, k: int) -> tuple[float, float]:
    """(bottom, top) in paper height of hop ``k + 1``'s panel in :func:`readout_figure`."""
    panel = (1 - READOUT_GAP * (hops - 1)) / hops
    top = 1 - k * (panel + READOUT_GAP)
    return max(0.0, round(top - panel, 4)), min(1.0, round(top, 4))


def readout_curtains(hops: int) -> list[dict]:
    """For the step player: hop k's panel of :func:`readout_figure` (bars and tick labels, not its title) is
    covered, and says "not yet", until hop k."""
    curtains = []
    for k in range(hops):
        bottom, top = _readout_panel(hops, k)
        y0 = bottom - 0.8 * READOUT_GAP  # the x tick labels under the panel too (the last one's: in the margin)
        cover = {"xref": "container", "x0": 0, "x1": 1, "yref": "paper", "y0": y0, "y1": top}
        curtains.append({"until": k + 1, **cover, "text": "not yet"})
    return curtains


def readout_figure(
    trace: MemN2NTrace, hop: int, answer: str | None = None, bars_through: int | None = None
) -> dict[str, Any]:
    """ "Answer if it stopped here" after each hop 1..``hop``: top-5 bars, the true answer in orange.

    One panel per hop, stacked; panels of hops not reached yet say so. ``bars_through``: draw the bars of
    hops 1..``bars_through`` instead (the step player draws them all and covers the hops not reached with
    :func:`readout_curtains`, so the figure is the same at every hop).
    """
    hops = trace.hops
    bars_through = hop if bars_through is None else bars_through
    data: list[dict] = []
    annotations: list[dict] = []
    layout = base_layout(height=60 + 170 * hops)
    layout.update(margin={"l": 20, "r": 30, "t": 40, "b": 20}, bargap=0.25)
    for k in range(hops):
        suffix = "" if k == 0 else str(k + 1)
        bottom, top = _readout_panel(hops, k)
        x_axis = {"domain": [0, 1], "range": [0, 1.18], "anchor": f"y{suffix}", "fixedrange": True}
        x_axis.update({"tickvals": [0, 0.5, 1], "showgrid": True, "tickfont": {"size": 13}})
        y_axis = {
            "domain": [bottom, top],
            "anchor": f"x{suffix}",
            "autorange": "reversed",
            "fixedrange": True,
        }
        y_axis.update({"automargin": True, "tickfont": {"size": 16}, "type": "category"})
        layout[f"xaxis{suffix}"] = x_axis
        layout[f"yaxis{suffix}"] = y_axis
        if k < bars_through:
            words, probs, colours = readout_rows(trace, k + 1, answer)
            # the rows' range, best answer on top, fixed: a label pointing into the panel must not widen it
            y_axis.update({"autorange": False, "range": [len(words) - 0.5, -0.5]})
            data.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": f"hop {k + 1}",
                    "x": np.asarray(probs, dtype=np.float32),
                    "y": words,
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                    "marker": {"color": colours},
                    "text": [f"{p:.2f}" for p in probs],
                    "textposition": "outside",
                    "textfont": {"size": 15},
                    "constraintext": "none",
                    "cliponaxis": False,
                    "hovertemplate": "%{y}: %{x:.3f}<extra></extra>",
                }
            )
        else:
            layout[f"xaxis{suffix}"]["visible"] = False
            layout[f"yaxis{suffix}"]["visible"] = False
        # its best answer is the first bar; "not yet" is short: the readout column may be 190 px wide
        title = f"<b>After hop {k + 1}</b>" if k < bars_through else f"<b>Hop {k + 1}</b>: not yet"
        annotations.append(
            {
                "text": title,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top + 0.01,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 16},
            }
        )
    layout["annotations"] = annotations
    return figure_spec(data, layout)


def controller_rows(hops: int, nonlinearity: str = "none") -> list[str]:
    """Row labels of the controller figure: u₁, o₁, u₂ = u₁ + o₁, ... (sec. 2.2).

    A model with a hop nonlinearity (:func:`memviz.memn2n.hop_update`) says so: u₂ = ReLU(u₁ + o₁).
    """
    rows = [f"u{sub('1')} = B q (question)"]
    form = {"relu": "ReLU({})", "relu-half": "ReLU½({})"}.get(nonlinearity, "{}")
    for k in range(1, hops + 1):
        rows.append(f"o{sub(k)} (read at hop {k})")
        rows.append(f"u{sub(k + 1)} = " + form.format(f"u{sub(k)} + o{sub(k)}"))
    return rows


def controller_figure(trace: MemN2NTrace, hop: int) -> dict[str, Any]:
    """u_1, then o_k and u_{k+1} = u_k + o_k for hops 1..``hop`` (rows) over the embedding dimensions.

    Diverging colours centred on 0, with one range for the whole trace so colours compare across hops.
    """
    hops, dim = trace.hops, trace.u.shape[1]
    rows = [trace.u[0]]
    for k in range(hops):
        rows.extend([trace.o[k], trace.u[k + 1]])
    shown = 1 + 2 * min(hop, hops)
    limit = float(max(np.abs(trace.u).max(), np.abs(trace.o).max(), 1e-6))
    z = np.full((len(rows), dim), np.nan, dtype=np.float32)
    z[:shown] = np.stack(rows[:shown])
    heat = {
        "type": "heatmap",
        "name": "controller",
        "z": z,
        "zmin": -limit,
        "zmax": limit,
        "zmid": 0.0,
        "colorscale": MEMORY_COLORSCALE,
        "xgap": 1,
        "ygap": 2,
        "hoverongaps": False,
        "hovertemplate": "dimension %{x}: %{z:.3f}<extra></extra>",
        "colorbar": {"thickness": 12, "len": 0.9},
    }
    layout = base_layout(height=70 + 30 * len(rows))
    layout.update(
        margin={"l": 20, "r": 20, "t": 10, "b": 50},
        xaxis={"title": {"text": "embedding dimension"}, "showgrid": False, "zeroline": False, "fixedrange": True},
        yaxis={
            "tickvals": list(range(len(rows))),
            "ticktext": controller_rows(hops, trace.nonlinearity),
            "range": [len(rows) - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
            "fixedrange": True,
        },
        plot_bgcolor="#f4f4f4",
    )
    return figure_spec([heat], layout)


def animation_figure(trace: MemN2NTrace, supporting: Sequence[int] = ()) -> dict[str, Any]:
    """The story-attention figure as Plotly frames, hop 1..K, with play and a slider (runs in the browser)."""
    hops = trace.hops
    base = story_attention_figure(trace, 1, supporting)
    frames = []
    for hop in range(1, hops + 1):
        spec = story_attention_figure(trace, hop, supporting)
        frames.append({"name": f"hop {hop}", "data": spec["data"], "layout": {"shapes": spec["layout"]["shapes"]}})
    layout = dict(base["layout"])
    layout["margin"] = {**layout["margin"], "b": 90}
    layout["height"] = layout["height"] + 70
    layout["updatemenus"] = [
        {
            "type": "buttons",
            "direction": "left",
            "x": -0.02,
            "y": -0.02,
            "xanchor": "right",
            "yanchor": "top",
            "pad": {"t": 10},
            "buttons": [
                {
                    "label": "▶ Play",
                    "method": "animate",
                    "args": [None, {"frame": {"duration": 1200, "redraw": True}, "fromcurrent": False}],
                },
                {
                    "label": "❚❚ Pause",
                    "method": "animate",
                    "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                },
            ],
        }
    ]
    layout["sliders"] = [
        {
            "active": 0,
            "x": 0,
            "y": -0.02,
            "len": 1,
            "yanchor": "top",
            "currentvalue": {"visible": False},
            "font": {"size": 15},
            "steps": [
                {
                    "label": f"hop {hop}",
                    "method": "animate",
                    "args": [[f"hop {hop}"], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}],
                }
                for hop in range(1, hops + 1)
            ],
        }
    ]
    spec = figure_spec(base["data"], layout)
    spec["frames"] = frames
    return spec


def accuracy_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-task error (%) of this model beside the paper's (Sukhbaatar et al. 2015, Table 1), 5% failure line."""
    tasks = list(dict.fromkeys((r["task"], r["name"]) for r in rows))
    labels = [f"{t} {n}" for t, n in tasks]
    data = []
    colours = [BAR_COLOR, "#b0b0b0", "#6e6e6e"]
    for model, colour in zip(dict.fromkeys(r["model"] for r in rows), colours, strict=False):
        by_task = {r["task"]: r["error"] for r in rows if r["model"] == model}
        values = [by_task.get(t) for t, _ in tasks]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": model,
                "x": values,
                "y": labels,
                "marker": {"color": colour},
                "text": [None if v is None else f"{v:.1f}" for v in values],
                "textposition": "outside",
                "textfont": {"size": 12},
                "cliponaxis": False,
                "hovertemplate": f"%{{y}}<br>{model}: %{{x:.1f}}% error<extra></extra>",
            }
        )
    layout = base_layout(height=120 + 46 * len(tasks))
    layout.update(
        barmode="group",
        bargap=0.25,
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        margin={"l": 20, "r": 40, "t": 50, "b": 50},
        xaxis={"title": {"text": "error (%), lower is better"}, "range": [0, 105], "fixedrange": True},
        yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True, "tickfont": {"size": 14}},
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": 5,
                "x1": 5,
                "y0": 0,
                "y1": 1,
                "line": {"color": HIGHLIGHT_COLOR, "dash": "dash", "width": 2},
            }
        ],
    )
    return figure_spec(data, layout)
