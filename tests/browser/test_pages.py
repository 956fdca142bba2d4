"""Every page in a real browser: loads, no Streamlit exception, no console error, screenshot kept."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = {"home": "", "playground": "playground"}
CHARTS = {"home": 0, "playground": 2}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_cleanly(tab, name):
    tab.open(PAGES[name], charts=CHARTS[name])
    assert tab.page.locator("h1").first.inner_text().strip(), "page has no title"
    assert tab.exceptions() == []
    tab.screenshot(name)
    assert tab.errors == []


def test_playground_step_button_walks_the_head(tab):
    tab.open("playground", charts=2)
    for _ in range(3):
        tab.page.locator(".st-key-step_next button").click()
        tab.wait_idle()
    assert tab.page.get_by_text("Step 4: w_prev is the weighting step 3 produced").count() == 1
    assert "steps=3" in tab.page.url
    assert tab.exceptions() == []
    tab.screenshot("playground-after-3-steps")
    assert tab.errors == []


def _cell(tab, row: int, col: int, columns: int) -> tuple[float, float]:
    """Screen centre of a data-editor cell: a ~45 px index column, then equal columns; 35 px rows under a header."""
    editor = tab.page.locator('[data-testid="stDataFrame"]').first
    editor.scroll_into_view_if_needed()  # mouse clicks land only inside the viewport
    box = editor.bounding_box()
    column_width = (box["width"] - 45) / columns
    return box["x"] + 45 + column_width * (col + 0.5), box["y"] + 35 + 17 + 35 * row


def test_memory_editor_takes_a_number_and_refuses_an_empty_cell(tab):
    tab.open("playground?n=4&m=3&preset=Zeros", charts=2)
    tab.page.locator(".st-key-edit_memory").click()
    tab.page.wait_for_selector('[data-testid="stDataFrame"]', timeout=30_000)
    tab.wait_idle()
    tab.page.mouse.click(*_cell(tab, 0, 0, 3))
    tab.page.keyboard.press("ArrowDown")  # row 1, column 0
    tab.page.keyboard.press("Enter")  # open the cell editor
    tab.page.wait_for_timeout(400)
    tab.page.keyboard.press("Control+A")
    tab.page.keyboard.type("0.75", delay=60)
    tab.page.keyboard.press("Enter")
    tab.wait_idle()
    tab.page.wait_for_function("window.location.search.includes('mem=')", timeout=30_000)
    assert "0.75" in tab.page.url
    tab.page.mouse.click(*_cell(tab, 0, 0, 3))
    tab.page.keyboard.press("Delete")
    tab.wait_idle()
    alert = tab.page.locator('[data-testid="stAlert"]').filter(has_text="Keeping the last good memory")
    alert.wait_for(timeout=30_000)
    assert "row 0, column 0" in alert.inner_text()
    assert "0.75" in tab.page.url  # the last good memory is still the one in the link
    assert tab.exceptions() == []
    tab.screenshot("playground-memory-editor")
    assert tab.errors == []


@pytest.mark.parametrize("path", ["ntm?t=abc", "memn2n?hop=7&tau1=banana", "playground?beta=1e9", "?foo=bar"])
def test_a_link_notice_is_on_the_first_screen_above_the_title(tab, path):
    """The notice for ignored link values is filled in last but shown first (it once sat 1,200-2,400 px down)."""
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open(path, charts=0)
    notice = tab.page.locator('[data-testid="stAlert"]').filter(has_text="Some settings in the link were ignored")
    notice.wait_for(timeout=30_000)
    box, title = notice.bounding_box(), tab.page.locator("h1").first.bounding_box()
    assert box["y"] + box["height"] <= 720 and box["y"] < title["y"], (box, title)
    assert tab.exceptions() == []
