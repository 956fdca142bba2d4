"""The shared figure theme: subscripts drawn at a readable size, and presenter mode's larger type."""

from __future__ import annotations

import copy
import re

import numpy as np

from memviz.figures.addressing import addressing_pipeline_figure
from memviz.figures.theme import (
    MIN_TEXT_PX,
    PRESENTER_MIN_PX,
    for_presenter,
    presenter_px,
    sub,
    to_plotly,
)


def pipeline() -> dict:
    rng = np.random.default_rng(0)
    memory = rng.uniform(-1, 1, (12, 8)).astype(np.float32)
    w = np.full(12, 1 / 12, dtype=np.float32)
    stages = {"similarity": rng.uniform(-1, 1, 12), "w_c": w, "w_g": w, "w_s": w, "w": w}
    return addressing_pipeline_figure(memory, memory[3], stages, w, np.array([0.0, 1.0, 0.0]), {"w_c": "β = 10"}, 3)


def font_sizes(value, parent: str = "") -> list[float]:
    """Every font size a spec sets: ``size`` under a ``*font`` key and ``font-size:Npx`` inside texts."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key == "size" and parent.endswith("font"):
                found.append(float(item))
            else:
                found += font_sizes(item, key)
        return found
    if isinstance(value, list):
        return [size for item in value for size in font_sizes(item, parent)]
    if isinstance(value, str):
        return [float(px) for px in re.findall(r"font-size:\s*(\d+(?:\.\d+)?)px", value)]
    return []


def test_sub_sets_its_size_inside_the_sub_tag():
    assert sub("c") == "<sub><span style='font-size:13px'>c</span></sub>"
    assert sub(2, px=18) == "<sub><span style='font-size:18px'>2</span></sub>"


def test_figure_texts_are_at_least_the_minimum_and_subscripts_are_sized():
    spec = pipeline()
    assert min(font_sizes(spec)) >= MIN_TEXT_PX
    texts = " ".join(a["text"] for a in spec["layout"]["annotations"])
    assert "<sub>" in texts and "<sub><span style=" in texts  # no bare <sub> (plotly draws it at 70%)
    assert texts.count("<sub>") == texts.count("<sub><span style=")


def test_presenter_mode_raises_every_font_and_keeps_the_original():
    spec = pipeline()
    before = copy.deepcopy(spec["layout"])
    big = for_presenter(spec)
    to_plotly(big)  # still a valid figure
    assert spec["layout"] == before  # pure
    assert min(font_sizes(big)) >= PRESENTER_MIN_PX
    assert big["layout"]["font"]["size"] == presenter_px(15) >= 18
    assert big["layout"]["height"] > spec["layout"]["height"]
    assert big["data"][0]["z"] is spec["data"][0]["z"]  # arrays shared, not copied
    assert presenter_px(12) == PRESENTER_MIN_PX and presenter_px(20) == 25
