"""One look for every page: colour scales, fonts and chart sizes.

* Weights (0..1) use Viridis: perceptually uniform and readable with the
  common colour-vision deficiencies.
* Memory values, differences and similarities use the diverging RdBu scale
  (blue negative, white zero, red positive), always centred on 0.
* Bars use one solid colour; a "ghost" (the quantity before a stage) is grey.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go

# Explicit (position, colour) pairs: plotly.js itself does not know the "_r" names.
# Tuples, because encode_arrays passes tuples through untouched (they are plain data).
WEIGHT_COLORSCALE = tuple(tuple(pair) for pair in plotly.colors.get_colorscale("Viridis"))
MEMORY_COLORSCALE = tuple(tuple(pair) for pair in plotly.colors.get_colorscale("RdBu_r"))
BAR_COLOR = "#2c5f8a"
NEGATIVE_COLOR = "#2166ac"
POSITIVE_COLOR = "#b2182b"
GHOST_COLOR = "#7f7f7f"
HIGHLIGHT_COLOR = "#e66100"  # orange: distinct from the blue/red of the diverging scale for all common CVD types

FONT = {"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 15}
MIN_TEXT_PX = 12
"""No chart text is drawn smaller than this (DESIGN.md 4b: readable from the back row of a classroom)."""
SMALL_TEXT_PX = 13
"""Secondary chart text (colour bar ticks, subscripts, phase names)."""
PRESENTER_SCALE = 1.25
"""Presenter mode multiplies every chart font, the height and the margins by this."""
PRESENTER_MIN_PX = 18
"""...and no presenter-mode chart text is smaller than this (DESIGN.md 4b)."""


def sub(text: str | int, px: int = SMALL_TEXT_PX) -> str:
    """A subscript plotly draws at ``px`` pixels, not at its default 70% (10.5 px under a 15 px line).

    plotly.js appends its own ``font-size:70%`` after any style given to ``<sub>``
    itself, so the size goes on a span inside it.
    """
    return f"<sub><span style='font-size:{px}px'>{text}</span></sub>"


_AXIS = {
    "gridcolor": "#EBF0F8",
    "linecolor": "#EBF0F8",
    "zerolinecolor": "#EBF0F8",
    "zerolinewidth": 2,
    "ticks": "",
    "automargin": True,
    "title": {"standoff": 15},
}
TEMPLATE = {
    "layout": {
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hovermode": "closest",
        "font": {"color": "#2a3f5f"},
    }
}
"""The parts of plotly's "plotly_white" template memviz figures use, as an object.

plotly.js only understands a template object (a template *name* is resolved by
plotly.py, which memviz's figure specs bypass), and the full template is ~7 KB
that every chart would send on every rerun.
"""


def base_layout(height: int) -> dict:
    """Layout keys every memviz figure shares (white background, readable fonts, tight margins)."""
    return {
        "height": height,
        "font": FONT,
        "template": TEMPLATE,
        "margin": {"l": 50, "r": 20, "t": 70, "b": 60},
        "showlegend": False,
        "hoverlabel": {"font_size": 14},
    }


def figure_spec(data: list[dict], layout: dict) -> dict:
    """A plotly figure as a plain dict (numpy arrays allowed), built without plotly objects.

    Building ``go.Figure`` objects validates every property and costs 10-100 ms
    per figure, more than a whole page rerun may take. memviz's figure
    functions return these specs instead; ``go.Figure(spec)`` turns one into a
    full figure (the tests do that for every figure function, which checks the
    spec), and :func:`encode_arrays` makes it JSON-ready.
    """
    return {"data": data, "layout": layout}


def _typed_array(array: np.ndarray) -> dict | list:
    """plotly.js's typed-array form: compact base64 instead of a JSON list of numbers."""
    if array.dtype.kind == "f":
        array = array.astype(np.float32)
    elif array.dtype.kind in "iub":
        array = array.astype(np.int32)
    else:
        return array.tolist()
    spec = {"dtype": "f4" if array.dtype.kind == "f" else "i4", "bdata": base64.b64encode(array.tobytes()).decode()}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(d) for d in array.shape)
    return spec


def encode_arrays(value: Any) -> Any:
    """Replace every numpy array inside a figure spec by plotly.js's typed-array form.

    Tuples are taken as plain data already (the colour scales are tuples), so
    the walk does not descend into them: this runs on every rerun.
    """
    if type(value) in _PLAIN:
        return value
    if isinstance(value, np.ndarray):
        return _typed_array(np.ascontiguousarray(value))
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN else encode_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _PLAIN else encode_arrays(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


_PLAIN = frozenset({str, int, float, bool, type(None), tuple})  # left as they are, checked first (the common case)


def parse_colour(text: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` or ``"rgb(r, g, b)"`` (plotly's two forms) as an (r, g, b) tuple of ints."""
    text = text.strip()
    if text.startswith("#"):
        return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
    inside = text[text.index("(") + 1 : text.index(")")]
    r, g, b = (round(float(v)) for v in inside.split(",")[:3])
    return r, g, b


def colour_lut(colorscale: Sequence[Sequence[Any]], size: int = 256) -> np.ndarray:
    """A ``[size, 3]`` uint8 lookup table from a plotly colour scale (``[[pos, colour], ...]``)."""
    positions = np.array([float(p) for p, _ in colorscale])
    colours = np.array([parse_colour(c) for _, c in colorscale], dtype=np.float64)
    grid = np.linspace(0.0, 1.0, size)
    lut = np.stack([np.interp(grid, positions, colours[:, k]) for k in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


def scale_colour(colorscale: Sequence[Sequence[Any]], value: float) -> tuple[int, int, int]:
    """The colour of a plotly colour scale at ``value`` in [0, 1] (clipped), as an (r, g, b) tuple."""
    positions = np.array([float(p) for p, _ in colorscale])
    colours = np.array([parse_colour(c) for _, c in colorscale], dtype=np.float64)
    v = float(np.clip(value, 0.0, 1.0))
    r, g, b = (round(float(np.interp(v, positions, colours[:, k]))) for k in range(3))
    return r, g, b


def to_plotly(spec: dict) -> go.Figure:
    """A full, validated ``go.Figure`` from a spec (for HTML/image export and checks)."""
    return go.Figure(spec)


_FONT_PX = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)px")


def presenter_px(px: float) -> int:
    """A chart font size in presenter mode: scaled by :data:`PRESENTER_SCALE`, at least :data:`PRESENTER_MIN_PX`."""
    return max(PRESENTER_MIN_PX, round(px * PRESENTER_SCALE))


def _present(value: Any, parent: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "size" and parent.endswith("font") and isinstance(item, (int, float)):
                out[key] = presenter_px(item)
            else:
                out[key] = _present(item, key)
        return out
    if isinstance(value, list):
        return [_present(item, parent) for item in value]
    if isinstance(value, str) and "font-size" in value:
        return _FONT_PX.sub(lambda m: f"font-size:{presenter_px(float(m.group(1)))}px", value)
    return value


def for_presenter(spec: dict) -> dict:
    """A copy of a figure spec for presenter mode (a projector, read from the back row).

    Every font size (layout, axis, trace and annotation fonts, and ``font-size``
    spans inside texts) is scaled by :data:`PRESENTER_SCALE` and raised to at
    least :data:`PRESENTER_MIN_PX`; the height and margins grow by the same
    factor, so the layout keeps its proportions. Pure: ``spec`` is not changed;
    arrays are shared, not copied.
    """
    out = _present(spec, "")
    layout = out.get("layout", {})
    if "size" not in layout.setdefault("font", {}):  # plotly's default (12 px) would stay small
        layout["font"]["size"] = presenter_px(FONT["size"])
    if layout.get("height"):
        layout["height"] = round(layout["height"] * PRESENTER_SCALE)
    if isinstance(layout.get("margin"), dict):
        layout["margin"] = {k: round(v * PRESENTER_SCALE) for k, v in layout["margin"].items()}
    return out
