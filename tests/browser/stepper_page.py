"""A page with only the step player, for the browser tests: 20 steps of a heatmap and a bar chart.

Every script run appends a line to the file named by ``MEMVIZ_RUN_LOG`` (if set), so a test
can count reruns. ``?steps=N`` changes the episode length.
"""

import os

import numpy as np
import streamlit as st

from memviz.figures.theme import base_layout, figure_spec
from memviz.ui.stepper import figure_panel, html_panel, stepper

if os.environ.get("MEMVIZ_RUN_LOG"):
    with open(os.environ["MEMVIZ_RUN_LOG"], "a", encoding="utf-8") as log:
        log.write("run\n")

steps = int(st.query_params.get("steps", "20"))
rng = np.random.default_rng(0)
memory = rng.standard_normal((steps, 16, 8)).astype(np.float32)


def heat(t: int) -> dict:
    layout = base_layout(300)
    layout["title"] = {"text": f"memory at step {t}"}
    return figure_spec([{"type": "heatmap", "z": memory[t], "zmin": -3, "zmax": 3}], layout)


def bars(t: int) -> dict:
    return figure_spec([{"type": "bar", "y": np.abs(memory[t, :, 0])}], base_layout(250))


st.title("Stepper test page")
knob = st.slider("A knob that changes the data", 0, 10, 3, key="knob")
memory = memory * (1 + knob / 10)  # new data, same panels: the charts must update in place
step = stepper(
    "player",
    steps,
    [
        figure_panel("heat", [heat(t) for t in range(steps)]),
        html_panel("text", [f"<b>row sum</b> {memory[t].sum():.3f}" for t in range(steps)]),
        figure_panel("bars", [bars(t) for t in range(steps)]),
    ],
    labels=[f"phase {t % 3}" for t in range(steps)],
)
st.write(f"Python knows step {step}")
