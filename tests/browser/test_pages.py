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
    assert "Step 4" in tab.page.locator("h4").first.inner_text()
    assert "steps=3" in tab.page.url
    assert tab.exceptions() == []
    tab.screenshot("playground-after-3-steps")
    assert tab.errors == []
