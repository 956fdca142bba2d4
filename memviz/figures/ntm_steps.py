"""The NTM Explorer's step view for every step at once, packed for the browser's step player.

Each panel is what the explorer used to draw for one step t (memory M_t beside the
weightings over time, bit grids, the readout table, one head's five addressing
stages, the write and read vectors), built for every t by the figure functions of
:mod:`memviz.figures.ntm` and packed by :func:`memviz.figures.stepped.pack_steps`
into a skeleton plus the values that change. The browser then steps with no
server round trip. Pure: no streamlit.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from memviz.figures import ntm as figs
from memviz.figures.stepped import deflate_json, pack_steps
from memviz.figures.theme import for_presenter
from memviz.ntm import explore as ex
from memviz.ntm.model import NTMTrace

PIPELINE_ROWS = 16
KNOBS = ("beta", "g", "shift", "gamma")


def _panel(panel_id: str, frames: Sequence[dict], presenter: bool = False) -> dict:
    """One figure at every step, packed; in presenter mode with chart text of at least 18 px."""
    return {"id": panel_id, "figure": pack_steps([for_presenter(f) for f in frames] if presenter else frames)}


def readout_html(trace: NTMTrace, t: int, overrides: Sequence) -> str:
    """The heading and table of every head's weighting at t (sum, entropy, peak) and the knobs it used (✎ = fixed)."""
    header = ["head", "Σ w", "entropy", "max w @ location", "β", "g", "shift s(−1, 0, +1)", "γ"]
    rows = []
    for head in [*trace.write, *trace.read]:
        stats = ex.weight_stats(head.w[t])
        fixed = ex.fixed_knobs(overrides, head.name, t)
        values = {
            "beta": f"{head.beta[t]:.2f}",
            "g": f"{head.g[t]:.2f}",
            "shift": ", ".join(f"{v:.2f}" for v in head.shift[t]),
            "gamma": f"{head.gamma[t]:.2f}",
        }
        knobs = [f"<b>✎ {values[k]}</b>" if k in fixed else values[k] for k in KNOBS]
        cells = [
            f"<b>{html.escape(head.name)}</b>",
            f"{stats.total:.3f}",
            f"{stats.entropy:.2f} bits",
            f"{stats.peak:.2f} @ {stats.at}",
            *knobs,
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head_row = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    return (
        f"<h4>Addressing at step {t}: key → similarity → w_c → w_g → w_s → w</h4>"
        f"<table>{head_row}{''.join(rows)}</table>"
    )


def _pipeline(trace: NTMTrace, head, t: int, overrides: Sequence) -> dict:
    stages = {s: getattr(head, s)[t] for s in ("similarity", "w_c", "w_g", "w_s", "w")}
    rows = ex.focus_window(head.w[t], PIPELINE_ROWS)
    return figs.pipeline_figure(
        trace.memory_before[t],
        head.key[t],
        stages,
        head.w_prev[t],
        head.shift[t],
        rows,
        ex.knob_labels(head, t, overrides),
    )


def _vectors(trace: NTMTrace, t: int) -> dict:
    vectors = [(f"{h.name} erase e", h.erase[t], "weight") for h in trace.write]
    vectors += [(f"{h.name} add a", h.add[t], "memory") for h in trace.write]
    vectors += [(f"{h.name} read r", h.read_vector[t], "memory") for h in trace.read]
    return figs.readout_figure(vectors, f"<b>Write and read vectors at step {t}</b> (erase 0..1, add and read −1..1)")


def step_panels(
    episode: ex.Episode,
    trace,
    overrides: Sequence = (),
    *,
    diff: bool = False,
    pipe_head: str | None = None,
    input_labels: Sequence[str] = (),
    output_labels: Sequence[str] = (),
    presenter: bool = False,
) -> list[dict]:
    """Every panel of the step view, for every step of ``episode`` (an NTM or an LSTM baseline trace).

    An NTM's memory and weightings come first, then its bits; an LSTM's bits, then its hidden state.
    ``presenter``: the memory and the bits only, with chart text of at least 18 px (a projector).
    """
    steps = range(episode.steps)
    bits = [
        figs.bit_grids_figure(
            episode.x, episode.y, trace.outputs, episode.mask, t, episode.kinds, input_labels, output_labels
        )
        for t in steps
    ]
    if not isinstance(trace, NTMTrace):
        hidden = [figs.hidden_state_figure(trace.hidden, t) for t in steps]
        return [_panel("bits", bits, presenter), _panel("hidden", hidden, presenter)]
    rows = ex.touched_rows(trace)
    heads = [(h.name, h.w) for h in [*trace.write, *trace.read]]
    changes = trace.memory_after - trace.memory_before
    limit = figs.colour_limit(changes if diff else trace.memory_after, diff)  # one colour scale for the episode
    memory = []
    for t in steps:
        written = ex.written_rows(np.stack([h.w[t] for h in trace.write]))
        change = changes[t] if diff else None
        memory.append(
            figs.memory_weights_figure(trace.memory_after[t], rows, heads, t, written, change, limit, compact=presenter)
        )
    # memory first: on a 1280x720 projector it and the step bar share the first screen (DESIGN.md 4b)
    panels = [_panel("memory", memory, presenter), _panel("bits", bits, presenter)]
    if presenter:
        return panels
    panels.append({"id": "readout", "html": deflate_json([readout_html(trace, t, overrides) for t in steps])})
    by_name = {h.name: h for h in [*trace.write, *trace.read]}
    head = by_name.get(pipe_head or "", next(iter(by_name.values())))
    panels.append(_panel("pipeline", [_pipeline(trace, head, t, overrides) for t in steps]))
    panels.append(_panel("vectors", [_vectors(trace, t) for t in steps]))
    return panels
