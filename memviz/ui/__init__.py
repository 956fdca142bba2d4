"""memviz.ui: the Streamlit layer, and the only part of memviz that imports streamlit.

This module holds the pieces every page shares (figure display, downloads, the
step player, model loading); :mod:`memviz.ui.urlstate` the URL state every page
declares as one table (and the one navigation workaround); ``memviz.ui.playground``,
``memviz.ui.ntm`` and ``memviz.ui.memn2n`` each page's widgets as module-level
functions. Every script in ``pages/`` follows one pattern and reads top to bottom
as its layout: ``urlstate.open_page(...)`` first, then its sections, then
``urlstate.show_notices(...)``. Modules are imported once per process, while a
page script is recompiled on every rerun, so the scripts stay short. Below this
layer, ``memviz`` core and ``memviz.figures`` never import streamlit (DESIGN.md
section 1; ``tests/test_layering.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st
from plotly.basedatatypes import BaseFigure

from memviz.figures.theme import encode_arrays, for_presenter
from memviz.ui.stepper import single_figure

PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def snapshot_url_params() -> dict[str, str]:
    """The query parameters as this run started, before bound widgets clean them up.

    Call it after :func:`memviz.ui.urlstate.open_page` (which has dropped what a link
    could not use) and before the widgets.
    """
    return {k: st.query_params.get(k, "") for k in st.query_params}


class _ReadyFigure(BaseFigure):
    """Hands ``st.plotly_chart`` a spec that is already plain JSON-ready data.

    Streamlit accepts a dict too, but then builds and validates a full
    ``go.Figure`` from it (tens of ms per chart, on every rerun). A plotly
    figure object is passed through its ``to_dict()``, so this shell, which
    skips plotly's object tree entirely, returns the spec as it is. Specs are
    checked against plotly's schema in the tests instead.
    """

    def __init__(self, spec: dict) -> None:  # deliberately no super().__init__()
        self._ready_spec = encode_arrays(spec)

    def to_dict(self) -> dict:
        return self._ready_spec


def show_figure(spec: dict, key: str) -> None:
    """Display a figure spec (from ``memviz.figures``) full width with memviz's toolbar settings.

    Drawn by the browser's step player as one figure with no step controls
    (:func:`memviz.ui.stepper.single_figure`), so a rerun with a new spec updates the
    chart in place instead of Streamlit deleting and re-creating it. A Plotly
    animation (a spec with ``frames``) plays its own frames in ``st.plotly_chart``.
    In presenter mode (:mod:`memviz.ui.classroom`) every chart font is raised to at least 18 px.
    """
    if not spec.get("frames"):
        single_figure(key, spec)
        return
    if st.session_state.get("_presenting"):
        spec = for_presenter(spec)
    st.plotly_chart(_ReadyFigure(spec), key=key, width="stretch", theme=None, config=PLOTLY_CONFIG)


DownloadFile = tuple[str, Callable[[], bytes | str], str, str, str]  # label, make, extension, MIME type, icon


def download_buttons(files: Sequence[DownloadFile], stem: str, key_prefix: str) -> None:
    """A row of download buttons, ``{stem}.{extension}`` each; a file is made only when its button is clicked.

    ``make`` runs outside the script run (Streamlit calls it on the click), so it must
    capture what it needs rather than read widgets.
    """
    with st.container(horizontal=True):
        for label, make, ext, mime, icon in files:
            st.download_button(
                label,
                data=make,
                file_name=f"{stem}.{ext}",
                mime=mime,
                key=f"{key_prefix}_{ext}",
                icon=icon,
                on_click="ignore",
            )


def _clamp_step(key: str, count: int) -> int:
    value = st.session_state.get(key, 0)
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = 0
    return min(max(value, 0), max(count - 1, 0))


NAV_LABELS = {
    "first": ":material/first_page:",
    "prev": ":material/chevron_left:",
    "next": ":material/chevron_right:",
    "last": ":material/last_page:",
}
"""The step player's move buttons (one segmented control), in order."""


def _nav_clicked(key: str, nav_key: str, count: int) -> None:
    """A move was picked in the step player: make it, then clear the control so it acts as four buttons."""
    target = st.session_state.get(nav_key)
    st.session_state[nav_key] = None
    if target:
        current = _clamp_step(key, count)
        step = {"first": 0, "prev": current - 1, "next": current + 1, "last": count - 1}[target]
        st.session_state[key] = min(max(step, 0), count - 1)


def step_player(
    key: str,
    count: int,
    render: Callable[[int], None],
    *,
    unit: str = "step",
    labels: Sequence[str] | None = None,
    speeds: Sequence[float] = (0.5, 1, 2, 4),
) -> None:
    """Step through ``count`` frames: pause or a playing speed, then ⏮ ◀ ▶ ⏭ and a scrub slider, then ``render(i)``.

    The step lives in ``st.session_state[key]`` and in the URL (``?key=i``).
    The move buttons, the slider and ``render`` run inside an ``st.fragment``,
    so a step change reruns only what depends on the step; while playing, the
    fragment reruns itself every ``1 / speed`` seconds (``run_every``) and
    advances one frame, stopping at the last. ``labels[i]`` names frame ``i``
    (e.g. the phase of a timestep) under the slider. Play/speed and the four
    moves are one segmented control each: every widget costs each rerun about
    a millisecond, and these two replace six.
    """
    if count <= 0:
        st.info(f"Nothing to step through: this episode has no {unit}s.")
        return
    play_key, nav_key, ticked_key = f"{key}_play", f"{key}_nav", f"{key}_ticked"
    if play_key not in st.session_state:
        st.session_state[play_key] = 0  # paused (set here, not as the control's default, so it can be reset below)
    elif st.session_state[play_key] and st.session_state.get(ticked_key) and _clamp_step(key, count) >= count - 1:
        st.session_state[play_key] = 0  # played to the end: back to Pause, set before the control is drawn
    speed = st.segmented_control(
        f"Play ({unit}s per second)",
        [0, *speeds],
        key=play_key,
        format_func=lambda s: ":material/pause: Pause" if not s else f":material/play_arrow: {s:g}",
    )
    playing = bool(speed)

    @st.fragment(run_every=1.0 / float(speed) if playing else None)
    def frame() -> None:
        if key not in st.session_state:
            st.session_state[key] = 0
        st.session_state[key] = _clamp_step(key, count)
        if st.session_state.get(play_key) and st.session_state.get(ticked_key):
            if st.session_state[key] >= count - 1:
                st.rerun()  # a whole run stops the play control (above) and this fragment's timer
            st.session_state[key] += 1
        st.session_state[ticked_key] = bool(st.session_state.get(play_key))
        row = st.container(horizontal=True, vertical_alignment="center")  # one block: cheaper than columns
        row.segmented_control(
            f"Move one {unit}",
            list(NAV_LABELS),
            key=nav_key,
            format_func=NAV_LABELS.get,
            on_change=_nav_clicked,
            args=(key, nav_key, count),
            label_visibility="collapsed",
            help=f"First, previous, next and last {unit}",
        )
        with row:
            step = st.slider(
                unit.capitalize(),
                0,
                max(count - 1, 1),
                key=key,
                bind="query-params",
                disabled=count == 1,
                label_visibility="collapsed",
            )
        step = min(int(step), count - 1)
        name = f" · {labels[step]}" if labels is not None and step < len(labels) else ""
        st.markdown(f"**{unit.capitalize()} {step} of {count - 1}**{name}")
        render(step)

    frame()


@st.cache_resource(show_spinner=False, max_entries=16)
def pretrained_model(name: str) -> object:
    """``memviz.load_pretrained(name)`` once per process, shared by every session: never mutate it.

    Also sets torch to one intra-op thread for the process: the shipped models are tiny,
    and on a shared 2-core machine two threads only contend (a MemN2N answer took
    22 ms with 2 threads and 1.3 ms with 1, measured under load).
    """
    import torch

    import memviz

    torch.set_num_threads(1)
    return memviz.load_pretrained(name)


@st.cache_data(show_spinner=False, max_entries=1024)
def cached_result(key: tuple, _compute: Callable[[], object]) -> object:
    """``_compute()``, cached (``st.cache_data``) under ``key``, which must name everything the result depends on.

    Decorating a function with ``st.cache_data`` inside a page script costs about 1 ms
    per function on every rerun (Streamlit hashes the function's source each time the
    script runs); this wrapper is decorated once per process. Example:
    ``cached_result(("memn2n-answer", model, story, question, taus), lambda: ...)``.
    """
    return _compute()
