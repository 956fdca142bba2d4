"""NTM Explorer in a real browser: step, keys and play with no rerun, an override at the step on screen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHARTS = 4  # bit grids, memory + weightings, the chosen head's pipeline, write/read vectors


PLAYER = '[data-testid="memvizStepper"]'


def step(tab) -> int:
    return int(tab.page.get_attribute(PLAYER, "data-step"))


def count_frames_sent(tab) -> list[int]:
    """A one-element list counting the websocket messages the page sends (a rerun request is one)."""
    sent = [0]
    tab.page.on("websocket", lambda ws: ws.on("framesent", lambda _payload: sent.__setitem__(0, sent[0] + 1)))
    return sent


def test_step_buttons_keys_and_play_in_the_browser(tab):
    sent = count_frames_sent(tab)
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("ntm", charts=CHARTS)
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    assert tab.page.locator("h1").first.inner_text().strip() == "NTM Explorer"
    assert tab.page.locator(f"{PLAYER} .mvs-label").inner_text().startswith("Step 0 of 20")
    tab.screenshot("ntm-explorer")
    before = sent[0]
    for _ in range(3):
        tab.page.locator(f'{PLAYER} .mvs-btn[aria-label^="Next"]').click()
    assert step(tab) == 3
    tab.page.locator("h1").first.click()
    tab.page.keyboard.press("ArrowRight")
    tab.page.keyboard.press("ArrowLeft")
    tab.page.keyboard.press("ArrowRight")
    assert step(tab) == 4 and tab.url_shows("t=4")
    assert tab.page.locator(f"{PLAYER} .mvs-label").inner_text().startswith("Step 4 of 20 · input 5/10")
    assert "at step 4" in tab.page.locator(f"{PLAYER} .mvs-html").inner_text()
    tab.page.keyboard.press("Space")  # play at 1 step per second
    tab.page.wait_for_function(f"document.querySelector('{PLAYER}').dataset.step > 4", timeout=15_000)
    tab.page.keyboard.press("Space")
    assert tab.page.get_attribute(PLAYER, "data-playing") == "0"
    tab.page.wait_for_timeout(300)
    assert sent[0] == before, "stepping and playing send nothing to the server (no rerun)"
    created = [p.get_attribute("data-created") for p in tab.page.locator(f"{PLAYER} .mvs-panel").all()]
    assert created == ["1", "1", None, "1", "1"], "each chart drawn once, then updated in place"
    tab.screenshot("ntm-explorer-stepped")

    at = step(tab)  # another control: the browser tells Python the step first, so the override lands on it
    tab.page.get_by_text("Intervene: fix a head").click()
    tab.wait_idle()
    tab.page.locator('.st-key-ov_g input[type="range"]').focus()
    tab.page.keyboard.press("ArrowRight")
    tab.wait_idle()
    tab.page.get_by_text("What the override changed").wait_for(timeout=30_000)
    pinned = tab.page.locator(".st-key-ov_step input").input_value()
    assert pinned == str(at), f"the override landed at step {pinned}, not the step on screen {at}"
    assert step(tab) == at
    created = [p.get_attribute("data-created") for p in tab.page.locator(f"{PLAYER} .mvs-panel").all()]
    assert created == ["1", "1", None, "1", "1"], "the re-run episode updates the charts in place"
    tab.page.locator(".st-key-pipe button", has_text="read0 head").click()  # the other head's pipeline, one round trip
    tab.wait_idle()
    assert "pipe=read0" in tab.page.url
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


def test_clearing_the_whole_drawing_reaches_the_model(tab):
    """Issue 15: select all cells and Delete logged 'Failed to apply edit None' per cell and was ignored.

    The server log is read after the test (conftest's ``server_log_stays_clean``).
    """
    tab.open("ntm?input=Drawn", charts=CHARTS)
    assert re.search(r"bits=(?!(00\.)*00&)", tab.page.url), "a random drawing has some bits set"
    editor = tab.page.locator('[data-testid="stDataFrame"]').first
    editor.scroll_into_view_if_needed()
    box = editor.bounding_box()
    tab.page.mouse.click(box["x"] + 60, box["y"] + 35 + 17)  # the first row's first bit, past the index column
    tab.page.keyboard.press("Control+a")
    tab.page.keyboard.press("Delete")
    tab.page.wait_for_function("/bits=(00\\.)*00(&|$)/.test(window.location.search)", timeout=30_000)
    tab.wait_idle()
    assert tab.exceptions() == []
    assert tab.errors == []


# Steps through the player counting Plotly.react calls, then compares the memory panel's heatmap images
# (repainted by the player) with plotly's own drawing of the same figure (Plotly.redraw), pixel by pixel,
# and the values plotly's hover reads before and after.
REPAINT_CHECK = """
async (steps) => {
  const root = document.querySelector('[data-testid="memvizStepper"]');
  const gd = root.querySelector('[data-panel="memory"]');
  const images = async () => {
    const out = [];
    for (const image of gd.querySelectorAll('g.hm image')) {
      const picture = new Image();
      picture.src = image.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
      await picture.decode();
      const canvas = document.createElement('canvas');
      canvas.width = picture.width;
      canvas.height = picture.height;
      const context = canvas.getContext('2d');
      context.drawImage(picture, 0, 0);
      const pixels = context.getImageData(0, 0, picture.width, picture.height).data;
      out.push({ size: [picture.width, picture.height], pixels: Array.from(pixels) });
    }
    return out;
  };
  let reacts = 0;
  const react = window.Plotly.react;
  window.Plotly.react = function (box) { reacts += box === gd ? 1 : 0; return react.apply(this, arguments); };
  for (let i = 0; i < steps; i++) {
    root.querySelector('.mvs-btn[aria-label^="Next"]').click();
    await new Promise((r) => requestAnimationFrame(r));
  }
  window.Plotly.react = react;
  const painted = await images();
  const hover = JSON.stringify(gd.calcdata.map((cd) => cd[0].z));
  await window.Plotly.redraw(gd);
  const drawn = await images();
  let worst = 0;
  painted.forEach((p, k) => p.pixels.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - drawn[k].pixels[i])); }));
  const sizes = (images) => images.map((p) => p.size);
  const hoverKept = hover === JSON.stringify(gd.calcdata.map((cd) => cd[0].z));
  return { reacts, step: Number(root.dataset.step), painted: sizes(painted), drawn: sizes(drawn), worst, hoverKept };
}
"""


def test_a_step_repaints_the_memory_cells_as_plotly_draws_them(tab):
    """A step writes the new memory into the chart without Plotly.react: the same pixels plotly draws."""
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("ntm?t=3", charts=CHARTS)
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    result = tab.page.evaluate(REPAINT_CHECK, 6)
    assert result["step"] == 9
    assert result["reacts"] == 0, "a step that only writes memory cells must not re-create the figure's drawing"
    assert result["painted"] == result["drawn"] and len(result["painted"]) == 3
    assert result["worst"] == 0, "the repainted cells must have exactly plotly's colours"
    assert result["hoverKept"], "the hover must read the values of the step on screen"
    assert tab.errors == []


def test_a_chart_below_the_fold_is_drawn_when_it_comes_into_view(tab):
    """Opening the page draws the first screen's charts; the head's pipeline, further down, when scrolled to."""
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.page.goto(f"{tab.base_url}/ntm", wait_until="domcontentloaded")
    tab.wait_idle()
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    memory = tab.page.locator(f'{PLAYER} [data-panel="memory"]')
    pipeline = tab.page.locator(f'{PLAYER} [data-panel="pipeline"]')
    assert memory.get_attribute("data-created") == "1" and memory.get_attribute("data-pending") is None
    assert pipeline.get_attribute("data-pending") == "1" and pipeline.locator(".main-svg").count() == 0
    height = pipeline.bounding_box()["height"]
    assert height > 200, "a chart not drawn yet keeps its height, so the page does not jump when it is drawn"
    tab.page.locator(f'{PLAYER} .mvs-btn[aria-label^="Next"]').click()  # a step before it was ever drawn
    pipeline.scroll_into_view_if_needed()
    tab.page.wait_for_function(
        "document.querySelector('[data-panel=\"pipeline\"]').dataset.created === '1'", timeout=10_000
    )
    assert pipeline.get_attribute("data-step") == "1", "drawn at the step on screen"
    assert abs(pipeline.bounding_box()["height"] - height) < 2
    assert tab.errors == []
