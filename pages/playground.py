"""Addressing Playground: one NTM head's four addressing stages, no model needed.

The page's layout, top to bottom: sidebar settings, scenario and step controls, the
pipeline, then the details. The pieces are in :mod:`memviz.ui.playground`, the logic
in :mod:`memviz.playground`.
"""

import streamlit as st

from memviz import playground as pg
from memviz.ui import classroom, urlstate
from memviz.ui import playground as page

urlstate.open_page("playground", page.URL_PARAMS | classroom.PARAMS)
classroom.setup(classroom.PLAYGROUND)
classroom.title_row(
    "Addressing Playground", "One NTM head turns a key into a weighting, stage by stage (Graves et al. 2014, §3.3)."
)
settings = page.sidebar_settings()
memory = page.current_memory(settings)
controls_area, figure_area, details_area = st.container(), st.container(), st.container()
with details_area:
    memory = page.memory_editor(settings, memory)
with details_area:  # under the figure: at 1280x720 the figure and its knobs come first
    page.scenario_picker()
with controls_area:
    key, key_row = page.read_key(settings, memory)
    steps = page.step_controls() if settings.prev_mode == "carry" else 0
start_mode = "one-hot" if settings.prev_mode == "carry" else settings.prev_mode
w_start = pg.previous_weighting(start_mode, settings.n_locations, settings.prev_row)
result = page.playground_result(memory, key, settings.knobs, w_start, steps)
with figure_area:
    page.pipeline_view(settings, memory, key, key_row, result, steps)
if classroom.secondary():  # presenter mode: the figure and its controls only
    with details_area:
        page.explanation(settings, result)
urlstate.show_notices(page.URL_PARAMS | classroom.PARAMS)
