"""NTM Explorer in a real browser: step with the buttons, play for a second, no error, screenshots kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHARTS = 4  # bit grids, memory + weightings, the open head's pipeline, write/read vectors


def step_label(tab) -> str:
    return tab.page.get_by_text(re.compile(r"^Step \d+ of \d+")).first.inner_text()


def test_step_buttons_and_play(tab):
    tab.open("ntm", charts=CHARTS)
    assert tab.page.locator("h1").first.inner_text().strip() == "NTM Explorer"
    assert step_label(tab).startswith("Step 0 of 20")
    tab.screenshot("ntm-explorer")
    for _ in range(3):
        tab.page.locator(".st-key-t_nav button", has_text="chevron_right").click()  # the icon's ligature text
        tab.wait_idle()
    assert step_label(tab).startswith("Step 3 of 20")
    assert "t=3" in tab.page.url
    tab.screenshot("ntm-explorer-step-3")
    tab.page.get_by_role("tab", name="read0 head").click()  # the other head's pipeline, drawn on demand
    tab.wait_idle()
    tab.page.locator(".st-key-pipeline_read0 .js-plotly-plot").wait_for(timeout=30_000)
    assert "pipe=read0" in tab.page.url

    tab.page.locator(".st-key-t_play button").nth(2).click()  # Pause, 0.5, 1, 2, 4: one step per second
    tab.wait_idle()
    tab.page.wait_for_timeout(1500)
    tab.page.locator(".st-key-t_play button", has_text="Pause").click()
    tab.wait_idle()
    later = int(re.match(r"Step (\d+)", step_label(tab)).group(1))
    assert later > 3, "playing for a second should advance the step"
    assert tab.exceptions() == []
    assert tab.errors == []


def test_override_and_animation_render(tab):
    tab.open("ntm?t=12&ov_g=0&ov_shift=1&ov_step=12&length=20&export=true", charts=CHARTS + 1)
    assert tab.page.get_by_text("What the override changed").count() == 1
    tab.page.locator(".st-key-anim label").click()
    tab.wait_idle()
    tab.page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 12", timeout=30_000)
    tab.screenshot("ntm-explorer-override")
    animation = tab.page.locator(".st-key-animation")
    assert animation.locator(".gtitle").text_content().startswith("step 0")
    animation.get_by_text("▶ Play").click()  # plotly.js plays the frames: no rerun, no server
    tab.page.wait_for_timeout(1500)
    assert not animation.locator(".gtitle").text_content().startswith("step 0"), "the animation should have moved on"
    with tab.page.expect_download() as gif:
        tab.page.locator(".st-key-dl_gif button").first.click()
    assert Path(gif.value.path()).read_bytes()[:6] == b"GIF89a"  # drawn on the server, no browser involved
    with tab.page.expect_download() as trace:
        tab.page.locator(".st-key-dl_json button").first.click()
    doc = json.loads(Path(trace.value.path()).read_text())
    assert doc["meta"]["overrides"] == [{"head": "write0", "step": 12, "g": 0.0, "shift": [0.0, 0.0, 1.0]}]
    tab.page.set_viewport_size({"width": 1600, "height": 4600})
    tab.wait_idle()
    tab.screenshot("ntm-explorer-override-full")
    assert tab.exceptions() == []
    assert tab.errors == []
