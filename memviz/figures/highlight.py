""" "Look here": an outline and a labelled arrow added to any figure spec, for the guided lessons.

The lesson page draws the same figures as the explorer pages and then marks what a
step's narration talks about. The mark has its own colour (magenta), distinct from
the orange the figures already use for the current step and the written rows, and a
label in a white box so it reads over any heatmap.
"""

from __future__ import annotations

from typing import Any

LOOK_COLOR = "#c2185b"


def outline(xref: str, yref: str, x0: float, x1: float, y0: float, y1: float) -> dict[str, Any]:
    """A thick magenta rectangle (data coordinates, or ``"x2 domain"``-style refs for a whole panel)."""
    return {
        "type": "rect",
        "xref": xref,
        "yref": yref,
        "x0": x0,
        "x1": x1,
        "y0": y0,
        "y1": y1,
        "line": {"color": LOOK_COLOR, "width": 4},
        "fillcolor": "rgba(0,0,0,0)",
        "layer": "above",
    }


def arrow(text: str, xref: str, yref: str, x: float, y: float, ax: int, ay: int) -> dict[str, Any]:
    """A label in a white box, ``(ax, ay)`` pixels away from the point ``(x, y)`` it points at."""
    return {
        "text": text,
        "xref": xref,
        "yref": yref,
        "x": x,
        "y": y,
        "ax": ax,
        "ay": ay,
        "showarrow": True,
        "arrowhead": 2,
        "arrowwidth": 2.5,
        "arrowcolor": LOOK_COLOR,
        "font": {"size": 15, "color": LOOK_COLOR},
        "bgcolor": "rgba(255,255,255,0.95)",
        "bordercolor": LOOK_COLOR,
        "borderwidth": 2,
        "borderpad": 4,
    }


def add_look(spec: dict[str, Any], shapes: list[dict[str, Any]], label: dict[str, Any] | None) -> dict[str, Any]:
    """``spec`` with the outline shapes and the arrow label appended (the figure itself is unchanged)."""
    layout = spec["layout"]
    layout["shapes"] = [*layout.get("shapes", []), *shapes]
    if label is not None and label.get("text"):
        layout["annotations"] = [*layout.get("annotations", []), label]
    return spec


def axes_of(spec: dict[str, Any], trace_name: str) -> tuple[str, str]:
    """The (x, y) axis refs of the first trace named ``trace_name`` (``("x3", "y3")``)."""
    for trace in spec["data"]:
        if trace.get("name") == trace_name:
            return trace.get("xaxis", "x"), trace.get("yaxis", "y")
    raise KeyError(f"no trace named {trace_name!r}")
