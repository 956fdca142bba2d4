"""Every page in a real browser: loads, no Streamlit exception, no console error, screenshot kept."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = {"home": "", "playground": "playground"}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_cleanly(tab, name):
    tab.open(PAGES[name])
    assert tab.page.locator("h1").first.inner_text().strip(), "page has no title"
    assert tab.exceptions() == []
    tab.screenshot(name)
    assert tab.errors == []


def test_playground_step_button_walks_the_head(tab):
    tab.open("playground")
    assert tab.page.locator('[data-testid="stPlotlyChart"]').count() >= 2
    for _ in range(3):
        tab.page.get_by_role("button", name="Step ▶").click()
        tab.wait_idle()
    assert "Step 4" in tab.page.locator("h3").all_inner_texts()[0]
    assert "steps=3" in tab.page.url
    assert tab.exceptions() == []
    tab.screenshot("playground-after-3-steps")
    assert tab.errors == []
