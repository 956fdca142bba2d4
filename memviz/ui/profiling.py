"""Where a rerun's server CPU goes: opt-in profiling of a ``memviz serve`` worker (``MEMVIZ_PROFILE=path``).

:func:`install` wraps Streamlit 1.67's ``ScriptRunner._run_script`` (the
script thread: the page's code, figure building, widget registration and each
element's protobuf) in ``cProfile``, and times ``serialize_forward_msg`` (the
event loop turning each ForwardMsg into bytes for the websocket). After every
run the merged ``pstats`` file is rewritten at ``path`` and a JSON summary at
``path + ".json"`` (runs, script CPU seconds, serialisation seconds and bytes).
``bench/profile_rerun.py`` drives a worker and reads them. Never on by default:
profiling slows a run several times over.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import threading
import time

_LOCK = threading.Lock()
_STATE: dict = {"runs": 0, "script_cpu_s": 0.0, "serialize_s": 0.0, "serialize_bytes": 0, "messages": 0}
_STATS: list[pstats.Stats] = []


def install(path: str | None = None) -> bool:
    """Install the profiler if ``path`` (or ``MEMVIZ_PROFILE``) is set; whether it was installed."""
    path = path or os.environ.get("MEMVIZ_PROFILE")
    if not path:
        return False
    from streamlit.runtime import runtime_util
    from streamlit.runtime.scriptrunner import script_runner

    original_run = script_runner.ScriptRunner._run_script

    def profiled_run(self, rerun_data) -> None:
        profile = cProfile.Profile(time.thread_time)
        cpu0 = time.thread_time()
        profile.enable()
        try:
            original_run(self, rerun_data)
        finally:
            profile.disable()
            record_run(path, profile, time.thread_time() - cpu0)

    original_serialize = runtime_util.serialize_forward_msg

    def timed_serialize(msg):
        start = time.thread_time()
        data = original_serialize(msg)
        with _LOCK:
            _STATE["serialize_s"] += time.thread_time() - start
            _STATE["serialize_bytes"] += len(data)
            _STATE["messages"] += 1
        return data

    script_runner.ScriptRunner._run_script = profiled_run
    runtime_util.serialize_forward_msg = timed_serialize
    for module_name in ("streamlit.web.server.starlette.starlette_websocket", "streamlit.runtime.app_session"):
        module = __import__(module_name, fromlist=["_"])
        if hasattr(module, "serialize_forward_msg"):
            module.serialize_forward_msg = timed_serialize
    return True


def record_run(path: str, profile: cProfile.Profile, cpu_s: float) -> None:
    """Merge one run's profile and rewrite the files."""
    with _LOCK:
        _STATE["runs"] += 1
        _STATE["script_cpu_s"] += cpu_s
        if _STATS:
            _STATS[0].add(profile)
        else:
            _STATS.append(pstats.Stats(profile))
        _STATS[0].dump_stats(path)
        with open(path + ".json", "w") as f:
            json.dump(_STATE, f)
