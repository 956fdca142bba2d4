"""One look for every page: colour scales, fonts and chart sizes.

* Weights (0..1) use Viridis: perceptually uniform and readable with the
  common colour-vision deficiencies.
* Memory values, differences and similarities use the diverging RdBu scale
  (blue negative, white zero, red positive), always centred on 0.
* Bars use one solid colour; a "ghost" (the quantity before a stage) is grey.
"""

from __future__ import annotations

WEIGHT_COLORSCALE = "Viridis"
MEMORY_COLORSCALE = "RdBu_r"
BAR_COLOR = "#2c5f8a"
NEGATIVE_COLOR = "#2166ac"
POSITIVE_COLOR = "#b2182b"
GHOST_COLOR = "#7f7f7f"
HIGHLIGHT_COLOR = "#e66100"  # orange: distinct from the blue/red of the diverging scale for all common CVD types

FONT = {"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 15}
TITLE_FONT_SIZE = 16


def base_layout(height: int) -> dict:
    """Layout keys every memviz figure shares (white background, readable fonts, tight margins)."""
    return {
        "height": height,
        "font": FONT,
        "template": "plotly_white",
        "margin": {"l": 50, "r": 20, "t": 70, "b": 60},
        "showlegend": False,
        "hoverlabel": {"font_size": 14},
    }
