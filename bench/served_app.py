"""The real app.py, run the way a running server runs it (the benchmarks' entry script).

A server leaves Streamlit's legacy ``pages/`` mode at its first ``st.navigation``
call and stays out of it, while AppTest re-detects the mode on every run from the
``pages/`` folder beside the main script (``memviz.ui.urlstate`` explains the
detection). This entry script lives in ``bench/``, which has no ``pages/`` folder,
so every AppTest run starts where a server's reruns are: app.py's navigation, no
detour, and no Streamlit class patched.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent.parent / "app.py"), run_name="__main__")
