"""Exports drawn on the server, no browser: animated GIFs and self-contained HTML pages.

The NTM Explorer's episode GIF (:func:`ntm_gif`: memory, write and read weightings
over time as in Graves et al. 2014, Fig. 6, and the bits, one frame per step), the
MemN2N Explorer's hop GIF (:func:`memn2n_gif`: attention per hop over the story and
the "answer if it stopped here", one frame per hop), and :func:`figure_html` for any
figure spec. Colours come from :mod:`memviz.figures.theme` (DESIGN.md section 4).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memviz.figures.theme import (
    GHOST_COLOR,
    HIGHLIGHT_COLOR,
    MEMORY_COLORSCALE,
    WEIGHT_COLORSCALE,
    colour_lut,
    scale_colour,
    to_plotly,
)
from memviz.memn2n.explore import Example, answer_rank
from memviz.memn2n.model import MemN2NTrace
from memviz.ntm.explore import Episode, Trace, touched_rows, written_rows
from memviz.ntm.model import NTMTrace

# -- HTML ------------------------------------------------------------------------------------


def figure_html(spec: dict, title: str) -> str:
    """A self-contained HTML page (plotly.js inlined, works offline) of a figure spec."""
    figure = to_plotly(spec)
    figure.update_layout(title={"text": title})
    return figure.to_html(full_html=True, include_plotlyjs=True, auto_play=False)


# -- NTM GIF: frames painted into a fixed palette -------------------------------------------

_LEVELS = 100
WEIGHT_BASE, MEMORY_BASE, WHITE, HIGHLIGHT, INK = 0, _LEVELS, 2 * _LEVELS, 2 * _LEVELS + 1, 2 * _LEVELS + 2


def gif_palette(style: GifStyle) -> list[int]:
    """The GIF's fixed palette: 100 weight colours, 100 memory colours, white, highlight and ink."""
    rows = [colour_lut(style.weight_scale, _LEVELS), colour_lut(style.memory_scale, _LEVELS)]
    rows.append(np.array([(255, 255, 255), style.highlight, (20, 20, 20)], dtype=np.uint8))
    return np.concatenate(rows).ravel().tolist()


def _paint(values: np.ndarray, base: int, low: float, high: float, cell: tuple[int, int]) -> np.ndarray:
    """A heatmap as palette indices: each value a ``cell`` (height, width) block of colour ``base + level``."""
    scaled = np.clip((np.nan_to_num(values) - low) / (high - low), 0.0, 1.0)
    index = (base + np.round(scaled * (_LEVELS - 1))).astype(np.uint8)
    return np.repeat(np.repeat(index, cell[0], axis=0), cell[1], axis=1)


@dataclass(frozen=True)
class GifStyle:
    """Colour scales (plotly form) and sizes for :func:`ntm_gif` (the theme's scales by default)."""

    weight_scale: Sequence[Sequence[Any]] = WEIGHT_COLORSCALE
    memory_scale: Sequence[Sequence[Any]] = MEMORY_COLORSCALE
    highlight: tuple[int, int, int] = (230, 97, 0)
    panel_height: int = 300
    frame_ms: int = 400


def ntm_gif(trace: Trace, episode: Episode, style: GifStyle | None = None, title: str = "") -> bytes:
    """The episode as an animated GIF, one frame per step, drawn with numpy and Pillow (no browser).

    Each frame shows the memory M_t (NTM) beside the write and read weightings
    over time with the cursor at t (Graves et al. 2014, Fig. 6), and below them
    the input, target and output bits with the same cursor. An LSTM episode
    shows only the bits. Frames are painted straight into a fixed palette, so
    no per-frame colour quantisation is needed.
    """
    from PIL import Image, ImageDraw, ImageFont

    style = style or GifStyle()
    font = ImageFont.load_default(size=16)
    palette = gif_palette(style)
    layout = _gif_layout(trace, episode, style)
    frames = []
    for t in range(trace.steps):
        image = Image.fromarray(_gif_frame(trace, episode, t, layout), mode="P")
        image.putpalette(palette)
        draw = ImageDraw.Draw(image)
        for x, y, text in canvas_labels(trace, episode, t, layout, title):
            draw.text((x, y), text, fill=INK, font=font)
        frames.append(image)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=style.frame_ms, loop=0)
    return buffer.getvalue()


_PAD, _HEADER, _LABEL = 16, 34, 22


def _gif_layout(trace: Trace, episode: Episode, style: GifStyle) -> dict[str, Any]:
    """Pixel geometry of a GIF frame: cell sizes, panel origins (y, x), the zoomed memory rows."""
    steps = trace.steps
    time_cell = max(2, min(14, 480 // steps))
    layout: dict[str, Any] = {"time_cell": time_cell, "bits_cell": 10, "highlight": HIGHLIGHT}
    top, right = _HEADER, _PAD + 70 + steps * time_cell + _PAD
    if isinstance(trace, NTMTrace):
        rows = touched_rows(trace)
        row_cell = max(2, min(14, style.panel_height // len(rows)))
        width_cell = max(4, 140 // trace.memory_after.shape[2])
        layout.update(rows=rows, row_cell=row_cell, memory_cell=(row_cell, width_cell))
        layout["memory_origin"] = (top + _LABEL, _PAD)
        x = _PAD + trace.memory_after.shape[2] * width_cell + 2 * _PAD
        layout["head_origins"] = []
        for _ in [*trace.write, *trace.read]:
            layout["head_origins"].append((top + _LABEL, x))
            x += max(steps * time_cell, 250) + 2 * _PAD
        top += _LABEL + len(rows) * row_cell + _PAD
        right = max(right, x)
    layout["bit_origins"] = []
    for grid in (episode.x, episode.y, trace.outputs):
        layout["bit_origins"].append((top + _LABEL, _PAD + 70))
        top += _LABEL + grid.shape[1] * layout["bits_cell"] + _PAD // 2
    layout["height"], layout["width"] = top + _PAD, max(right, 560)
    return layout


def _blit(canvas: np.ndarray, pixels: np.ndarray, origin: tuple[int, int]) -> None:
    y, x = origin
    canvas[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels


def _cursor(canvas: np.ndarray, origin: tuple[int, int], height: int, t: int, cell: int) -> None:
    """An outlined column at step t (2 px lines in the highlight colour) over a time-axis panel."""
    y, x = origin
    x0, x1 = x + t * cell - 2, x + (t + 1) * cell
    canvas[y - 2 : y + height + 2, x0 : x0 + 2] = HIGHLIGHT
    canvas[y - 2 : y + height + 2, x1 : x1 + 2] = HIGHLIGHT
    canvas[y - 2 : y, x0 : x1 + 2] = HIGHLIGHT
    canvas[y + height : y + height + 2, x0 : x1 + 2] = HIGHLIGHT


def _gif_frame(trace: Trace, episode: Episode, t: int, layout: dict[str, Any]) -> np.ndarray:
    """One frame as palette indices (see :func:`gif_palette`)."""
    canvas = np.full((layout["height"], layout["width"]), WHITE, dtype=np.uint8)
    tc = layout["time_cell"]
    if isinstance(trace, NTMTrace):
        rows, rc = layout["rows"], layout["row_cell"]
        limit = float(max(1.0, np.abs(trace.memory_after).max()))
        memory = trace.memory_after[t][rows]
        _blit(canvas, _paint(memory, MEMORY_BASE, -limit, limit, layout["memory_cell"]), layout["memory_origin"])
        for head, origin in zip([*trace.write, *trace.read], layout["head_origins"], strict=True):
            _blit(canvas, _paint(head.w[:, rows].T, WEIGHT_BASE, 0.0, 1.0, (rc, tc)), origin)
            _cursor(canvas, origin, len(rows) * rc, t, tc)
        y0, x0 = layout["memory_origin"]
        x1 = x0 + memory.shape[1] * layout["memory_cell"][1]
        for row in written_rows(np.stack([h.w[t] for h in trace.write])):
            for position in np.flatnonzero(rows == row):
                y = y0 + int(position) * rc
                canvas[max(y - 2, 0) : y, x0:x1] = HIGHLIGHT
                canvas[y + rc : y + rc + 2, x0:x1] = HIGHLIGHT
    grids = (episode.x, episode.y * episode.mask[:, None], trace.outputs)
    bc = layout["bits_cell"]
    for grid, origin in zip(grids, layout["bit_origins"], strict=True):
        _blit(canvas, _paint(grid.T, WEIGHT_BASE, 0.0, 1.0, (bc, tc)), origin)
        _cursor(canvas, origin, grid.shape[1] * bc, t, tc)
    return canvas


def canvas_labels(
    trace: Trace, episode: Episode, t: int, layout: dict[str, Any], title: str
) -> list[tuple[int, int, str]]:
    """Text of a GIF frame as (x, y, text): title with the step and phase, and every panel's name."""
    labels = [(_PAD, 8, f"{title}   step {t} of {trace.steps - 1}: {episode.phases[t]}")]
    if isinstance(trace, NTMTrace):
        y, x = layout["memory_origin"]
        labels.append((x, y - _LABEL + 2, "memory M_t"))
        for head, (hy, hx) in zip([*trace.write, *trace.read], layout["head_origins"], strict=True):
            labels.append((hx, hy - _LABEL + 2, f"{head.name} w: location x time"))
    for name, (y, _x) in zip(("input", "target", "output"), layout["bit_origins"], strict=True):
        labels.append((_PAD, y - 2, name))
    return labels


# -- MemN2N GIF: frames drawn with PIL, no browser ---------------------------------------

_GIF_WIDTH = 1200
_ROW = 30
_CELL = 74


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"):
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _fit(draw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def memn2n_gif_frame(trace: MemN2NTrace, example: Example, hop: int):
    """One frame: the story with the attention of hops 1..hop, and hop ``hop``'s readout (a PIL image)."""
    from PIL import Image, ImageDraw

    n, hops = len(trace.sentences), trace.hops
    top = 110
    readout_h = 40 + 6 * 34
    height = top + n * _ROW + 30 + readout_h
    image = Image.new("RGB", (_GIF_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    big, normal, bold = _font(24, bold=True), _font(18), _font(18, bold=True)
    truth = f" · true answer: {example.answer}" if example.answer else ""
    draw.text((20, 14), _fit(draw, f"Q: {trace.question}{truth}", big, _GIF_WIDTH - 40), fill="black", font=big)
    heading = f"Hop {hop} of {hops}: attention p_k over the sentences (★ supporting fact)"
    draw.text((20, 52), heading, fill="#333333", font=normal)
    cells_left = _GIF_WIDTH - 20 - hops * _CELL
    for k in range(hops):
        draw.text((cells_left + k * _CELL + 12, 82), f"hop {k + 1}", fill="black", font=bold)
    for i, sentence in enumerate(trace.sentences):
        y = top + i * _ROW
        star = "★ " if i in example.supporting else ""
        masked = i in trace.masked
        label = f"{i + 1:>2}. {star}{sentence}" + ("  (masked)" if masked else "")
        colour = GHOST_COLOR if masked else (HIGHLIGHT_COLOR if star else "black")
        draw.text((20, y + 4), _fit(draw, label, normal, cells_left - 40), fill=colour, font=normal)
        for k in range(hops):
            box = (cells_left + k * _CELL, y, cells_left + (k + 1) * _CELL - 3, y + _ROW - 3)
            if k >= hop:
                draw.rectangle(box, fill="#eeeeee")
                continue
            value = float(trace.attention[k, i])
            fill = scale_colour(WEIGHT_COLORSCALE, value)
            draw.rectangle(box, fill=fill)
            if value >= 0.01:
                ink = "black" if sum(fill) > 380 else "white"
                draw.text((box[0] + 14, y + 4), f"{value:.2f}", fill=ink, font=normal)
    y0 = top + n * _ROW + 24
    draw.text((20, y0), f"Answer if it stopped after hop {hop}:", fill="black", font=bold)
    rows = list(trace.hop_top5[hop - 1])
    rank = answer_rank(trace, hop, example.answer)
    if rank is not None and rank[0] > len(rows):  # the true answer, marked even when it is not in the top 5
        rows.append((f"{example.answer} (rank {rank[0]})", rank[1]))
    for r, (word, prob) in enumerate(rows):
        y = y0 + 34 + r * 34
        colour = HIGHLIGHT_COLOR if word.split(" (rank")[0] == example.answer else "#2c5f8a"
        draw.text((20, y + 2), _fit(draw, word, normal, 200), fill="black", font=normal)
        draw.rectangle((240, y, 240 + round(prob * 700), y + 26), fill=colour)
        draw.text((250 + round(prob * 700), y + 2), f"{prob:.2f}", fill="black", font=normal)
    return image


def memn2n_gif(trace: MemN2NTrace, example: Example, seconds_per_hop: float = 1.5) -> bytes:
    """An animated GIF, one frame per hop, drawn on the server with PIL (no browser, no kaleido)."""
    from PIL import Image

    frames = [
        memn2n_gif_frame(trace, example, hop).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
        for hop in range(1, trace.hops + 1)
    ]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=int(seconds_per_hop * 1000),
        loop=0,
        optimize=True,
    )
    return buffer.getvalue()
