"""Lessons in a real browser: each lesson's first and last step open from their links, and Next
(button and → key) walks one whole lesson, with no exception and no console error."""

from __future__ import annotations

import pytest
from conftest import DRAW_CHARTS, figure_geometry

from memviz import lessons

pytestmark = pytest.mark.browser

ENDS = [
    (lesson_id, number)
    for lesson_id in lessons.list_lessons()
    for number in sorted({1, len(lessons.load_lesson(lesson_id).steps)})
]


def heading(tab) -> str:
    return tab.page.locator('[data-testid="stMarkdownContainer"] h5').first.inner_text()


@pytest.mark.parametrize(("lesson_id", "number"), ENDS)
def test_first_and_last_step_open_from_their_links(tab, lesson_id, number):
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open(f"lessons?lesson={lesson_id}&step={number}", charts=1)
    step = lessons.load_lesson(lesson_id).steps[number - 1]
    assert f"{number}. {step.title}" in heading(tab)
    assert tab.page.get_by_text("Look at", exact=False).count() >= 1
    assert tab.exceptions() == []
    tab.screenshot(f"lesson-{lesson_id}-{number}")
    assert tab.errors == []


def test_next_walks_through_a_whole_lesson(tab):
    """Every step reached with Next shows the figure its own link shows (a step may bring another kind of
    figure into the same place: once the previous figure's axes stayed, squashed and overlapping)."""
    lesson = lessons.load_lesson("ntm-copy")
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("lessons?lesson=ntm-copy&step=1", charts=1)
    walked = {}
    for number in range(2, len(lesson.steps) + 1):
        if number % 2:
            tab.page.keyboard.press("ArrowRight")  # the arrow key, on every other step
        else:
            tab.page.locator(".st-key-lesson_next button").click()
        tab.page.wait_for_function(f"window.location.search.includes('step={number}')", timeout=30_000)
        tab.wait_idle()
        assert f"{number}. {lesson.steps[number - 1].title}" in heading(tab)
        assert tab.page.locator(".js-plotly-plot").count() >= 1
        walked[number] = figure_geometry(tab)
    assert tab.page.locator(".st-key-lesson_next button").is_disabled()
    assert tab.exceptions() == []
    assert tab.errors == []
    for number, geometry in walked.items():
        tab.open(f"lessons?lesson=ntm-copy&step={number}", charts=1)
        assert figure_geometry(tab) == geometry, f"step {number} reached with Next differs from its link"


def test_explorer_button_opens_the_same_view_in_a_new_tab(tab):
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("lessons?lesson=ntm-copy&step=9", charts=1)
    with tab.context.expect_page() as opened:
        tab.page.get_by_test_id("stBaseLinkButton-secondary").first.click()
    explorer = opened.value
    # every chart, scrolled into view in turn (the player draws a chart below the fold when it comes into view)
    explorer.wait_for_function(DRAW_CHARTS, arg=1, timeout=60_000, polling=100)
    assert "/ntm?" in explorer.url and "length=40" in explorer.url and "vs_lstm=true" in explorer.url
    explorer.get_by_text("LSTM baseline (lstm-copy), no external memory").first.wait_for(timeout=30_000)
    alerts = " ".join(explorer.locator('[data-testid="stAlert"]').all_inner_texts())
    assert "ignored" not in alerts and "Traceback" not in alerts
    assert explorer.locator('[data-testid="stSidebar"]').is_visible(), "the explorer's controls are in view"
    assert tab.errors == []


def test_lesson_list_starts_a_lesson(tab):
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("lessons")
    tab.page.get_by_role("link", name="Start").first.click()
    tab.page.wait_for_function("window.location.search.includes('step=1')", timeout=30_000)
    tab.page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=60_000)
    first = lessons.load_lesson(lessons.list_lessons()[0])
    assert f"1. {first.steps[0].title}" in heading(tab)
    assert tab.exceptions() == []
    tab.screenshot("lessons-list-started")
    assert tab.errors == []
