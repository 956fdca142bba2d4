"""The Playground's panels follow a slider while it is dragged, and match the server's numbers on release."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import figure_geometry

pytestmark = pytest.mark.browser

PLAYER = '[data-testid="memvizStepper"]'
READ = """() => {
    const gd = document.querySelector('[data-panel="pipeline"]');
    const stage = (name) => Array.from(gd._fullData.find((t) => t.name === name).x);
    return {
        live: Number(document.querySelector('[data-testid="memvizStepper"]').dataset.live || 0),
        w_c: stage('w_c'), w_g: stage('w_g'), w_s: stage('w_s'), w: stage('w'),
        titles: gd.layout.annotations.slice(4).map((a) => a.text),
    };
}"""


def test_panels_follow_the_beta_slider_while_dragged(tab):
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("playground?g=0.5&s_m1=0.2&gamma=2", charts=1)
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    before = tab.page.evaluate(READ)
    assert "β = 10" in before["titles"][0]
    thumb = tab.page.locator('.st-key-beta [data-testid="stSliderThumbValue"]').locator("..").bounding_box()
    x, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
    tab.page.mouse.move(x, y)
    tab.page.mouse.down()
    for k in range(1, 5):
        tab.page.mouse.move(x - 12 * k, y)  # towards small beta: a softer content focus
        tab.page.wait_for_timeout(150)
    tab.page.wait_for_timeout(400)
    dragged = tab.page.evaluate(READ)
    assert dragged["live"] > 0, "the panels were redrawn during the drag"
    assert dragged["titles"][0] != before["titles"][0], "the β shown follows the hand"
    assert not np.allclose(dragged["w_c"], before["w_c"])
    tab.screenshot("playground-dragging-beta")
    tab.page.mouse.up()
    tab.wait_idle()
    tab.page.wait_for_function(
        "(t) => document.querySelector('[data-panel=pipeline]').layout.annotations[4].text === t",
        arg=dragged["titles"][0],
    )
    released = tab.page.evaluate(READ)  # what the server computed with memviz.addressing for the released value
    for stage in ("w_c", "w_g", "w_s", "w"):
        np.testing.assert_allclose(dragged[stage], released[stage], atol=1e-5, err_msg=stage)
    assert dragged["titles"] == released["titles"]
    created = tab.page.get_attribute('[data-panel="pipeline"]', "data-created")
    assert created == "1", "the release updates the chart in place"
    # the drawing the hand left is the one the same link draws: the same titles and texts in the same places
    # (the live drawing once added lines of its own to the titles, which ran into the next panel)
    pipeline = '[data-panel="pipeline"].js-plotly-plot'  # the walk chart below is drawn when scrolled to
    drawn = figure_geometry(tab, pipeline)
    tab.open(tab.page.url.removeprefix(tab.base_url).lstrip("/"), charts=1)
    assert figure_geometry(tab, pipeline) == drawn
    assert tab.exceptions() == []
    assert tab.errors == []
