"""Helpers for the AppTest tests: run pages through the real navigation, read their figures."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 60) -> AppTest:
    """Run ``app.py`` and switch to ``pages/<page>.py``, as a user clicking in the sidebar would."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def figure(at: AppTest, key: str) -> dict:
    """The plotly figure spec a chart with this key sent to the browser.

    A chart drawn by Streamlit, or else a panel of that id in a step player (memviz.ui.stepper)
    at the step Python knows, rebuilt as the browser does.
    """
    for element in at.get("plotly_chart"):
        if element.key == key:
            return json.loads(element.proto.spec)
    from memviz.figures.stepped import unpack_step

    for element in at.get("bidi_component"):
        data = json.loads(element.proto.json)
        for panel in data.get("panels", []):
            if panel["id"] == key and "figure" in panel:
                return unpack_step(panel["figure"], data["step"])
    raise AssertionError(f"no chart with key {key!r}; charts: {[e.key for e in at.get('plotly_chart')]}")


def figure_keys(at: AppTest) -> set[str]:
    """The keys of every figure on the page: Streamlit's charts and the figure panels of the step players."""
    keys = {e.key for e in at.get("plotly_chart")}
    for element in at.get("bidi_component"):
        keys |= {p["id"] for p in json.loads(element.proto.json).get("panels", []) if "figure" in p}
    return keys


def array(value) -> np.ndarray:
    """A plotly data array as numpy, decoding plotly's typed-array form ``{"dtype", "bdata", "shape"}``."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            out = out.reshape([int(d) for d in str(value["shape"]).split(",")])
        return out.astype(float)
    return np.asarray([np.nan if v is None else v for v in value] if np.ndim(value) == 1 else value, dtype=float)


def trace_named(fig: dict, name: str) -> dict:
    matches = [t for t in fig["data"] if t.get("name") == name]
    assert matches, f"no trace named {name!r} in {[t.get('name') for t in fig['data']]}"
    return matches[0]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def stepper_data(at: AppTest, key: str) -> dict:
    """What the browser step player (memviz.ui.stepper) with this key was sent: panels, steps, the step."""
    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.json)
    raise AssertionError(f"no step player with key {key!r}")


def stepper_figure(at: AppTest, key: str, panel: str, step: int | None = None) -> dict:
    """A step player's figure at ``step`` (default: the step Python knows), rebuilt as the browser does."""
    from memviz.figures.stepped import unpack_step

    data = stepper_data(at, key)
    for entry in data["panels"]:
        if entry["id"] == panel:
            return unpack_step(entry["figure"], data["step"] if step is None else step)
    raise AssertionError(f"no panel {panel!r}; panels: {[p['id'] for p in data['panels']]}")


def stepper_html(at: AppTest, key: str, panel: str, step: int | None = None) -> str:
    from memviz.figures.stepped import inflate_json

    data = stepper_data(at, key)
    entry = next(p for p in data["panels"] if p["id"] == panel)
    return inflate_json(entry["html"])[data["step"] if step is None else step]


def set_step(at: AppTest, key: str, step: int) -> AppTest:
    """What the browser reports when the user reaches for another control after stepping to ``step``."""
    at.session_state[key] = {"step": step}
    return at.run()
