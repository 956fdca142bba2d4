"""Limits that protect a class on one Streamlit server; ``memviz.ui.worker`` installs them before the server starts.

Four small wraps of Streamlit 1.67's session handling, each tested on its own
(``tests/test_limits.py``):

- **Turns**: at most ``MEMVIZ_CONCURRENT_RUNS`` script runs (default 1) of a
  worker execute at once; the others wait in line (:class:`RunGate`). Thirty
  threads sharing one core's GIL made every run as slow as all of them, and
  the replies waited for the event loop among them: 60 students' p95 went from
  ~220 ms to ~150 ms, their slowest reply from 0.5-1.3 s to 0.2-0.3 s
  (``bench/bench_class.py``, 2 workers).
- **Coalescing**: a session starts at most one script run per
  ``MEMVIZ_RERUN_INTERVAL`` seconds (default 0.15) for the same target (the
  whole script, or one fragment). A burst of one control (a held arrow key, a
  dragged slider) becomes the first request plus the last one: each request
  carries the complete widget state, so the last one stands for the burst.
  Without this, every request of a burst stops the running script and starts
  another (Streamlit's fast reruns), and one student's burst takes CPU from
  the whole class.
- **Query-string cap**: a link parameter longer than ``MEMVIZ_QUERY_VALUE_MAX``
  characters (default 16384; memviz's longest real value, a hand-drawn
  120-step input, is about 3 KB) is dropped before the script sees it, so it
  is never echoed back (a single 98 KB value came back in a 144 KB reply).
- **View from the URL after a worker change**: a browser whose worker died
  reconnects (through the balancer) to another worker, which makes a new
  session; the browser then sends its old widget values. memviz keeps every
  view in the URL, and widget values set by callbacks (the step player's
  moves) are stale on the client, so the first run of a new session ignores
  the client's widget values and rebuilds the view from the URL, exactly as a
  shared link would.

That first run has to be asked for. Streamlit 1.67's browser client, once
reconnected, requests a script run only if a run was under way, the last run
was a fragment's, or the page has a fragment that reruns on a timer
(``handleConnectionStateChanged`` in its frontend); otherwise it keeps the dead
session's elements on screen and sends nothing, and the surviving worker's new
session stays empty until the student touches a control, whose value that
first run then drops. With steps in the browser (the step player), the last run
is usually a whole-script run, so :func:`rerun_on_reconnect`, called by
``app.py`` on every run, keeps one empty timer fragment on each page.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

LOGGER = logging.getLogger("memviz.ui.limits")
RERUN_INTERVAL = float(os.environ.get("MEMVIZ_RERUN_INTERVAL", "0.15"))
QUERY_VALUE_MAX = int(os.environ.get("MEMVIZ_QUERY_VALUE_MAX", "16384"))
CONCURRENT_RUNS = int(os.environ.get("MEMVIZ_CONCURRENT_RUNS", "1"))
RECONNECT_TIMER_S = 86_400.0
"""The timer of :func:`rerun_on_reconnect`'s fragment: a day, so it never fires within a lesson."""
_INSTALLED = False


def cap_query_string(query_string: str, value_max: int = QUERY_VALUE_MAX) -> str:
    """``query_string`` without the parameters whose key or value is longer than ``value_max`` characters."""
    if len(query_string) <= value_max:
        return query_string
    pairs = parse_qsl(query_string, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if len(k) <= value_max and len(v) <= value_max]
    if len(kept) < len(pairs):
        LOGGER.warning("dropped %d oversized query parameter(s)", len(pairs) - len(kept))
    return urlencode(kept)


class RerunGate:
    """Per session: start a run at most once per ``interval`` for each target, keeping only the latest request.

    ``submit(target, request)`` either runs ``request`` now (through ``dispatch``)
    or parks it; a parked request is replaced by a newer one for the same target
    and dispatched when the interval has passed. ``clock`` and ``schedule``
    (``loop.call_later``) are injectable for tests.
    """

    def __init__(self, dispatch, interval: float = RERUN_INTERVAL, clock=time.monotonic, schedule=None) -> None:
        self.dispatch = dispatch
        self.interval = interval
        self.clock = clock
        self.schedule = schedule
        self.last_start: dict[str, float] = {}
        self.parked: dict[str, Any] = {}
        self.coalesced = 0

    def submit(self, target: str, request: Any) -> None:
        """Run ``request`` now if ``target`` has not started a run within the interval, else park it."""
        now = self.clock()
        wait = self.last_start.get(target, -1e9) + self.interval - now
        if wait <= 0 and target not in self.parked:
            self.last_start[target] = now
            self.dispatch(request)
            return
        if target in self.parked:
            self.coalesced += 1
        else:
            schedule = self.schedule or asyncio.get_running_loop().call_later
            schedule(max(wait, 0.0), self._release, target)
        self.parked[target] = request

    def _release(self, target: str) -> None:
        request = self.parked.pop(target, None)
        if request is not None:
            self.last_start[target] = self.clock()
            self.dispatch(request)


class RunGate:
    """At most ``limit`` script runs of a worker execute at once; the others wait their turn (0: no limit).

    Streamlit gives each session its own script thread, and one process runs
    Python on one core at a time (the GIL): when thirty students press "next"
    together, thirty threads share the core in 5 ms slices, each run takes as
    long as all of them, and the event loop that sends finished replies waits
    for the GIL among them. Taking turns finishes the first student's run first
    and keeps the event loop responsive; the work is the same. A thread holds
    its turn from the moment it takes its next rerun request until it asks for
    the next one (:meth:`ready`), so the request it runs is the newest.
    """

    def __init__(self, limit: int = CONCURRENT_RUNS) -> None:
        self.limit = limit
        self.turns = threading.BoundedSemaphore(limit) if limit > 0 else None
        self.held = threading.local()

    def release(self) -> None:
        """Give the turn back, if this thread holds one."""
        if self.turns is not None and getattr(self.held, "turn", False):
            self.held.turn = False
            self.turns.release()

    def ready(self, requests: Any, take_request) -> Any:
        """``take_request()`` (Streamlit's next request for a script thread), in turn if it will be a run."""
        self.release()
        if self.turns is None or not _rerun_pending(requests):
            return take_request()
        self.turns.acquire()
        self.held.turn = True
        request = take_request()
        if not _is_rerun(request):
            self.release()
        return request


def _rerun_pending(requests: Any) -> bool:
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

    return getattr(requests, "_state", None) == ScriptRequestType.RERUN


def _is_rerun(request: Any) -> bool:
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

    return request.type == ScriptRequestType.RERUN


def _reconnect_anchor() -> None:
    """The body of :func:`rerun_on_reconnect`'s fragment: nothing; that the fragment exists is what counts."""


def rerun_on_reconnect(interval: float = RECONNECT_TIMER_S) -> None:
    """Make the browser ask for a script run each time its websocket reconnects (call it on every run).

    An empty fragment on a timer (``run_every``) in the sidebar: Streamlit's
    client requests a whole-script run after a reconnect when the page has one
    (see the module docstring). After a worker died, that run, on the worker
    the balancer chose, rebuilds the view from the URL; after a network blip
    that kept the session, it redraws the same view. Call it before the page
    runs, so a page's ``st.stop()`` cannot skip it (the client forgets the
    timers of fragments that a whole-script run did not declare).
    """
    import streamlit as st

    with st.sidebar:
        st.fragment(_reconnect_anchor, run_every=interval)()


def _target_of(client_state: Any) -> str:
    return getattr(client_state, "fragment_id", "") or "" if client_state is not None else ""


def install() -> None:
    """Wrap ``AppSession.request_rerun`` and Streamlit's query-string sanitiser (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from streamlit.runtime import app_session
    from streamlit.runtime.state import query_params

    original_sanitize = query_params.sanitize_query_string

    def sanitize(query_string: str) -> str:
        return original_sanitize(cap_query_string(query_string or ""))

    query_params.sanitize_query_string = sanitize
    app_session.sanitize_query_string = sanitize

    original_request_rerun = app_session.AppSession.request_rerun

    def request_rerun(self, client_state=None) -> None:
        if client_state is not None and not getattr(self, "_memviz_has_run", False):
            self._memviz_has_run = True
            if not client_state.fragment_id and len(client_state.widget_states.widgets):
                client_state.ClearField("widget_states")  # a new session: the view comes from the URL
            original_request_rerun(self, client_state)
            return
        gate = getattr(self, "_memviz_gate", None)
        if gate is None:
            gate = self._memviz_gate = RerunGate(lambda state: original_request_rerun(self, state))
        try:
            gate.submit(_target_of(client_state), client_state)
        except RuntimeError:  # no running event loop (called from a script thread): no gate
            original_request_rerun(self, client_state)

    app_session.AppSession.request_rerun = request_rerun
    install_run_gate(RunGate())
    _INSTALLED = True


def install_run_gate(gate: RunGate) -> None:
    """Make every script thread take its runs in turn through ``gate`` (see :class:`RunGate`)."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner_utils import script_requests

    original_ready = script_requests.ScriptRequests.on_scriptrunner_ready

    def on_scriptrunner_ready(self):
        return gate.ready(self, lambda: original_ready(self))

    original_thread = script_runner.ScriptRunner._run_script_thread

    def run_script_thread(self) -> None:
        try:
            original_thread(self)
        finally:  # a thread that ends in the middle of a run still gives its turn back
            gate.release()

    script_requests.ScriptRequests.on_scriptrunner_ready = on_scriptrunner_ready
    script_runner.ScriptRunner._run_script_thread = run_script_thread
