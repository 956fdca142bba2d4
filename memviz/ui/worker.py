"""One ``memviz serve`` worker: ``streamlit run`` with memviz's class limits installed first.

``python -m memviz.ui.worker run app.py [streamlit options]`` is ``streamlit run
app.py ...`` after :func:`memviz.ui.limits.install` and :func:`warm_imports`;
everything else is Streamlit's own command line.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading

WARM_MODULES = ("torch", "plotly.graph_objects", "memviz.ui.ntm", "memviz.ui.memn2n", "memviz.ui.playground")
"""Imported before the worker reports healthy, so the first student on it (or one moved to it after another
worker died) does not wait seconds for torch and the page modules."""


def warm_imports(modules: tuple[str, ...] = WARM_MODULES) -> None:
    """Import the heavy modules now; a module that is gone (renamed on another branch) is skipped."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"memviz worker: not preloaded: {name} ({exc})", file=sys.stderr)


def freeze_heap() -> None:
    """Move every object alive now (torch, plotly, pandas, streamlit: ~1M objects) out of the garbage collector's view.

    Streamlit runs a full ``gc.collect(2)`` after every script run
    (``runner.postScriptGC``). With the libraries above on the heap, that one
    call took ~200 ms of a ~230 ms rerun on this machine under load (about 90%
    of a rerun's server CPU on all three pages; ``bench/profile_rerun.py``).
    Frozen objects are never scanned again, so the post-run collection still
    frees each run's garbage cycles but costs milliseconds. Modules imported
    once stay alive anyway, so nothing collectable is frozen.
    """
    gc.collect()
    gc.freeze()


_WARMED = threading.Event()
_WARM_LOCK = threading.Lock()


def warm_and_freeze_once() -> None:
    """:func:`warm_imports` then :func:`freeze_heap`, once per process, whoever asks first.

    A ``memviz serve`` worker does it before it reports healthy; plain ``streamlit run app.py``
    gets it from app.py's first run (that first visitor waits for the imports once). A one-time
    start-up step of the process, never a per-request setting:
    without it every rerun of every page paid ~130 ms of Streamlit's post-run collection
    (measured in the browser on the Playground, NTM override and MemN2N temperature).
    """
    with _WARM_LOCK:
        if _WARMED.is_set():
            return
        warm_imports()
        freeze_heap()
        _WARMED.set()


def warm_and_freeze_first() -> None:
    """:func:`warm_and_freeze_once` in the calling script run, the first time only (cheap to call every run).

    In the run, not on a thread of its own: importing plotly's lazily loaded modules on two
    threads at once left a half-initialised module (make_subplots failed on a fresh server).
    """
    if not _WARMED.is_set():
        warm_and_freeze_once()


def main() -> None:
    """Install the limits, warm the imports, then hand the command line to Streamlit's CLI."""
    from memviz.ui import limits, profiling

    limits.install()
    profiling.install()  # only with MEMVIZ_PROFILE=path
    warm_and_freeze_once()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
