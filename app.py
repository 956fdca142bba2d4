"""memviz: run with `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="memviz", page_icon="assets/favicon.png", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/playground.py", title="Addressing Playground", icon=":material/tune:", url_path="playground"),
    st.Page("pages/ntm.py", title="NTM Explorer", icon=":material/memory:", url_path="ntm"),
    st.Page("pages/memn2n.py", title="MemN2N Explorer", icon=":material/forum:", url_path="memn2n"),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:", url_path="lessons"),
]

st.navigation(PAGES).run()
