"""memviz: run with `streamlit run app.py`.

Pages are given by absolute paths, so this script runs the same from any entry
point (``bench/served_app.py`` runs it from a folder without ``pages/``, as a
server runs it once it has left Streamlit's legacy pages mode; see
``memviz.ui.urlstate``).
"""

from pathlib import Path

import streamlit as st

from memviz.ui import limits, worker

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="memviz", page_icon=str(HERE / "assets/favicon.png"), layout="wide")

PAGES = [
    st.Page(HERE / "pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page(HERE / "pages/playground.py", title="Addressing Playground", icon=":material/tune:", url_path="playground"),
    st.Page(HERE / "pages/ntm.py", title="NTM Explorer", icon=":material/memory:", url_path="ntm"),
    st.Page(HERE / "pages/memn2n.py", title="MemN2N Explorer", icon=":material/forum:", url_path="memn2n"),
    st.Page(HERE / "pages/lessons.py", title="Lessons", icon=":material/school:", url_path="lessons"),
]

navigation = st.navigation(PAGES)
limits.rerun_on_reconnect()  # after a worker dies, the browser's reconnect reruns the view from the URL
worker.warm_and_freeze_first()  # once per process: heavy imports, then gc.freeze (see its docstring)
navigation.run()
