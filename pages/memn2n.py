"""Deep-link shim: ``/memn2n`` opened first thing after the server starts.

Until the first ``st.navigation`` call, Streamlit serves files in ``pages/`` by their
file name, so ``/memn2n`` would be "page not found" on a fresh server (the explorer's
file is ``memn2n_explorer.py``). This file catches that one request and hands it to
app.py's navigation, which runs the MemN2N Explorer (``url_path="memn2n"``).
"""

from memviz.ui import use_app_navigation

use_app_navigation()
