"""Deep-link shim: ``/ntm`` opened first thing after the server starts.

Until the first ``st.navigation`` call, Streamlit serves files in ``pages/`` by their
file name, so ``/ntm`` would be "page not found" on a fresh server (the explorer's
file is ``ntm_explorer.py``). This file catches that one request and hands it to
app.py's navigation, which runs the NTM Explorer (``url_path="ntm"``).
"""

from memviz.ui import use_app_navigation

use_app_navigation()
