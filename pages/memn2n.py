"""MemN2N Explorer: which sentence a memory network reads on each hop, and how that changes its answer.

Layout only; the widgets are in memviz/ui/memn2n.py, the logic in memviz/memn2n/explore.py
and the figures in memviz/figures/memn2n.py.
"""

from __future__ import annotations

import streamlit as st

from memviz.ui import classroom, snapshot_url_params, urlstate
from memviz.ui import memn2n as page

urlstate.open_page("memn2n", page.URL_PARAMS | classroom.PARAMS)
classroom.setup(classroom.MEMN2N)
raw_url = snapshot_url_params()

classroom.title_row("MemN2N Explorer", "An End-to-End Memory Network (Sukhbaatar et al. 2015), hop by hop.")

models = page.memn2n_models()
if not models:
    st.info(
        "No MemN2N model is installed yet. Train one with `python -m memviz.train memn2n-babi` "
        "(it lands in `pretrained/`), then reload this page.",
        icon=":material/hourglass_empty:",
    )
    st.stop()

with st.sidebar:
    st.header("Story")
    source = st.radio("Source", page.SOURCES, key="src", horizontal=True, **page.URL)
    example, problem = page.read_source(source, raw_url)

    st.header("Model")
    hop_counts = sorted(set(models.values()))
    hops = st.radio(
        "Hops (each count is its own trained model)",
        hop_counts,
        index=len(hop_counts) - 1,
        key="hops",
        horizontal=True,
        on_change=page.open_on_all_hops,
        **page.URL,
    )
    names = [n for n, h in models.items() if h == hops]
    name = names[0] if len(names) == 1 else st.selectbox("Model", names, key="model", **page.URL)


page.what_if_and_hops(name, hops, example, problem, source, raw_url)
st.caption(
    "A memory network stores each sentence of a story in memory. On every hop it attends over the sentences "
    "(softmax of u·m), reads a weighted sum o, and adds it to its state: u ← u + o (memviz's models keep the "
    "positive part, u ← max(0, u + o)). Every setting on this page is in its address: copy it to share this view."
)
urlstate.show_notices(page.URL_PARAMS | classroom.PARAMS)
