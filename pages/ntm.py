"""NTM Explorer: step through a pretrained NTM's episode, see every addressing stage, and intervene.

The page's layout, top to bottom; the pieces are in :mod:`memviz.ui.ntm`, the logic
in :mod:`memviz.ntm.explore`, the figures in :mod:`memviz.figures.ntm`.
"""

import streamlit as st

from memviz.ui import classroom, urlstate
from memviz.ui import ntm as page

urlstate.open_page("ntm", page.URL_PARAMS | classroom.PARAMS)
classroom.setup(classroom.NTM)
models = page.explorer_models()
if not models:
    page.no_models()

with st.sidebar:
    st.header("Episode")
    setup = page.episode_settings(models)

classroom.title_row(
    "NTM Explorer", "A pretrained Neural Turing Machine, one timestep at a time (Graves, Wayne & Danihelka 2014)."
)
episode = page.build_episode(setup)
if episode is None:
    st.info("Draw at least one vector to start.")
    st.stop()
page.intervene_and_view(setup, episode)
urlstate.show_notices(page.URL_PARAMS | classroom.PARAMS)
