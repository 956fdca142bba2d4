"""The Lessons page (``/lessons?lesson=ID&step=N``): a narrated tour that drives the live views.

``pages/lessons.py`` calls :func:`render`. A step's view is computed by
:class:`memviz.lessons.LiveStep` from the shipped models (loaded through the app's
shared :func:`memviz.ui.pretrained_model`), drawn by the explorer pages' own figure
functions (:func:`memviz.lessons.views.step_figures`), with the narration beside it,
previous/next buttons (also the ← and → keys), a progress bar and a button that opens
the same view in its explorer, in a new tab (the explorer keeps its sidebar of controls,
which this page starts collapsed to give the figure the width of a projector).
Steps are numbered from 1 in the link, as on screen.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from memviz import lessons as core
from memviz.figures.lessons import step_figures
from memviz.lessons.links import explorer_query
from memviz.ui import classroom, pretrained_model, show_figure, urlstate

PAGE = "pages/lessons.py"
URL_PARAMS = urlstate.table(
    # both read by the page itself (no widget), which names an unknown lesson or a step out of range
    urlstate.Param("lesson", "text", None, max_length=200, widget=False),
    urlstate.Param("step", "text", "1", max_length=20, widget=False),
    classroom.PARAMS[classroom.PRESENT_KEY],  # presenter mode, as on every page (no classroom `show` here)
)
PAGE_NAMES = {"playground": "Playground", "ntm": "NTM Explorer", "memn2n": "MemN2N Explorer"}
"""Short names: the link button sits in the narrow column beside the figure (and must fit at 150% zoom)."""


def library_notices(library: core.LessonLibrary) -> None:
    """Say when the teacher's folder was not used, and which lesson files did not load (and why)."""
    for notice in library.notices:
        st.info(notice, icon=":material/folder_off:")
    if library.problems:
        files = sorted({p.source for p in library.problems})
        with st.expander(
            f"{len(files)} lesson file(s) could not be loaded: {', '.join(files)}", icon=":material/warning:"
        ):
            st.markdown("\n".join(f"- {p}" for p in library.problems))


def lesson_list(library: core.LessonLibrary) -> None:
    """Every lesson as a card: title, what it covers, its length, and a link to its first step."""
    st.title("Lessons")
    st.caption(
        "Guided tours of the live models: each step sets a view, marks what to look at and says what it means, "
        "with the model's own numbers. Use ← and → to move; every step is a link you can paste into a slide."
    )
    columns = st.columns(2)
    for i, lesson in enumerate(library.lessons.values()):
        with columns[i % 2].container(border=True):
            st.markdown(f"**{lesson.title}** · {len(lesson.steps)} steps")
            st.markdown(lesson.summary)
            st.page_link(
                PAGE, label="Start", icon=":material/play_arrow:", query_params={"lesson": lesson.id, "step": "1"}
            )
            if not lesson.builtin:
                st.caption(f"From your folder: {lesson.source}")


def step_number(raw: str | None, count: int) -> tuple[int, str | None]:
    """The 1-based step a link asks for, clamped into 1..count, and a notice when it had to be changed."""
    if raw is None or raw == "":
        return 1, None
    try:
        number = int(raw)
    except ValueError:
        return 1, f"`step={urlstate.shorten(raw)}` is not a step number; showing step 1 of {count}."
    if number < 1:
        return 1, f"Step {number} is not in this lesson (steps 1–{count}); showing step 1."
    if number > count:
        return count, f"Step {number} is past the end of this lesson (steps 1–{count}); showing the last step."
    return number, None


def go_to(number: int) -> None:
    """Button callback: move to step ``number`` (the link follows)."""
    st.query_params["step"] = str(number)


def step_header(lesson: core.Lesson, number: int) -> None:
    """Lesson title, step title, and the progress through the lesson on one compact line."""
    count = len(lesson.steps)
    step = lesson.steps[number - 1]
    st.markdown(f"##### {lesson.title} · {number}. {step.title}")
    st.progress(number / count, text=f"Step {number} of {count}")


def step_controls(lesson: core.Lesson, number: int) -> None:
    """Previous / next (← →)."""
    count = len(lesson.steps)
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Previous",
        key="lesson_prev",
        icon=":material/chevron_left:",
        on_click=go_to,
        args=(number - 1,),
        disabled=number <= 1,
        shortcut="Left",
    )
    row.button(
        "Next",
        key="lesson_next",
        icon=":material/chevron_right:",
        on_click=go_to,
        args=(number + 1,),
        disabled=number >= count,
        type="primary",
        shortcut="Right",
    )


def explorer_links(live: core.LiveStep) -> None:
    """The same view in its explorer (a new tab), and back to the lesson list."""
    page, params = explorer_query(live)
    st.link_button(
        f"Open in {PAGE_NAMES[page]}",
        f"{page}?{urlencode(params)}",  # relative to /lessons, so a server's base path is kept
        icon=":material/open_in_new:",
        help="Opens this view in a new tab with the same settings; the lesson stays here.",
    )
    st.page_link(PAGE, label="All lessons", icon=":material/list:", query_params={})


def claims_note(live: core.LiveStep) -> None:
    """A quiet line saying the step's claims hold on the shipped model, or a warning naming any that does not."""
    results = live.claims()
    failing = [r for r in results if not r.holds]
    if failing:
        st.warning(
            "This step's story does not hold on the installed model: " + "; ".join(str(r) for r in failing),
            icon=":material/report:",
        )
    elif results:
        st.caption(f":material/verified: {len(results)} claim(s) of this step checked against the live model.")


def narration_panel(lesson: core.Lesson, number: int, live: core.LiveStep) -> None:
    """The controls, then the words beside the figure: narration (from the live trace), what to look at.

    Previous and Next come first, so they stay at the same place on every step (under the narration they
    moved with its length, and a second click could land on the link that took their place)."""
    step_controls(lesson, number)
    with st.container(border=True):
        st.markdown(live.narration().strip().replace("\n", "\n\n"))
        label = live.label()
        if label:
            st.markdown(f":violet[**Look at** the magenta outline: {label}]")
    explorer_links(live)
    claims_note(live)


def show_step(lesson: core.Lesson, number: int) -> None:
    """One step: header, then the live figure beside its narration."""
    step_header(lesson, number)
    try:
        live = core.LiveStep(lesson.steps[number - 1], load=pretrained_model)
        figures = step_figures(live)
    except (core.LessonValueError, ValueError, OSError) as exc:
        st.error(f"This step's view cannot be shown: {exc}", icon=":material/error:")
        step_controls_fallback(lesson, number)
        return
    left, right = st.columns([7, 3], gap="medium")
    with left:
        for place, (_view, spec) in enumerate(figures):
            show_figure(spec, key=f"lesson_figure_{place}")  # one key per place: the next step redraws in place
    with right:
        narration_panel(lesson, number, live)


def step_controls_fallback(lesson: core.Lesson, number: int) -> None:
    """Previous / next when a step's view failed, so a class is never stuck."""
    row = st.container(horizontal=True)
    row.button("Previous", key="lesson_prev", on_click=go_to, args=(number - 1,), disabled=number <= 1)
    row.button("Next", key="lesson_next", on_click=go_to, args=(number + 1,), disabled=number >= len(lesson.steps))


PROJECTOR_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem; padding-bottom: 1rem; }
</style>
"""
"""Less empty space above the lesson's title, so figure and narration fit a 1280x720 projector."""


def projector_layout() -> None:
    """Start the Lessons page with the sidebar collapsed and a smaller top margin: the figure needs the width.

    ``?present=1`` (presenter mode, as on every page) also raises every chart font to 18 px.
    """
    st.set_page_config(initial_sidebar_state="collapsed")
    st.session_state["_presenting"] = classroom.present_in_link()
    st.html(PROJECTOR_CSS)


def library_with_notices() -> core.LessonLibrary:
    """Every lesson that loads, after saying what did not (a teacher's folder, a malformed file)."""
    library = core.load_library()
    library_notices(library)
    return library


def chosen_lesson(library: core.LessonLibrary) -> core.Lesson | None:
    """The lesson the link names; None (the list) when it names none, or one that does not exist, with a notice."""
    lesson_id = st.query_params.get("lesson")
    if not lesson_id:
        return None
    lesson = library.lessons.get(lesson_id)
    if lesson is None:
        broken = [p for p in library.problems if p.source.rsplit("/", 1)[-1].removesuffix(".toml") == lesson_id]
        reason = " It did not load: " + "; ".join(map(str, broken)) if broken else ""
        shown = urlstate.shorten(lesson_id)
        st.warning(f"There is no lesson `{shown}`.{reason} Pick one below.", icon=":material/link_off:")
    return lesson


def chosen_step(lesson: core.Lesson) -> int:
    """The step the link names (1-based), clamped into the lesson with a notice; the link follows."""
    number, notice = step_number(st.query_params.get("step"), len(lesson.steps))
    if notice:
        st.warning(notice, icon=":material/link_off:")
    st.query_params["step"] = str(number)
    return number
