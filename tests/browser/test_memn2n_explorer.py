"""MemN2N Explorer in a real browser: step through three hops, mask a sentence, no exception, no console error."""

from __future__ import annotations

import pytest
from conftest import SCROLL_TO_TOP

import memviz
from memviz.registry import SHIPPED_MODELS

pytestmark = pytest.mark.browser
MODELS = [n for n, family in SHIPPED_MODELS.items() if family == "memn2n"]


def tall_screenshot(tab, name: str) -> None:
    """The whole page at once (Streamlit scrolls inside its main block, so grow the viewport)."""
    tab.page.set_viewport_size({"width": 1600, "height": 2600})
    tab.page.wait_for_timeout(800)
    tab.screenshot(name)
    tab.page.set_viewport_size({"width": 1600, "height": 1000})


PLAYER = '[data-testid="memvizStepper"]'


def hop_caption(tab) -> str:
    return tab.page.locator(f"{PLAYER} .mvs-label").inner_text()


def created(tab) -> list[str | None]:
    return [p.get_attribute("data-created") for p in tab.page.locator(f"{PLAYER} .mvs-panel").all()]


def test_step_three_hops_then_mask_a_sentence(tab):
    sent = [0]
    tab.page.on("websocket", lambda ws: ws.on("framesent", lambda _payload: sent.__setitem__(0, sent[0] + 1)))
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("memn2n?task=2+two-supporting-facts&seed=1", charts=3)
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    assert tab.page.locator("h1").first.inner_text().strip() == "MemN2N Explorer"
    tab.screenshot("memn2n-all-hops")
    before = sent[0]
    tab.page.locator(f'{PLAYER} .mvs-btn[aria-label^="First"]').click()
    assert hop_caption(tab).startswith("Hop 0")
    assert "Before hop 1" in tab.page.locator(f"{PLAYER} .mvs-html").inner_text()
    hops = max(memviz.load_pretrained(n).config.hops for n in MODELS)
    for hop in range(1, min(hops, 3) + 1):
        tab.page.locator(f'{PLAYER} .mvs-btn[aria-label^="Next"]').click()
        assert hop_caption(tab).startswith(f"Hop {hop}")
        assert tab.url_shows(f"hop={hop}")
    tab.page.wait_for_timeout(300)
    assert sent[0] == before, "hops change in the browser: nothing sent to the server"
    assert created(tab) == ["1", "1", None, "1"]
    tab.screenshot("memn2n-stepped")
    tab.page.locator("[class*='st-key-mask_'] button").first.click()
    tab.wait_idle()
    tab.page.wait_for_function("document.querySelector('.js-plotly-plot').textContent.includes('(masked)')")
    assert "mask=1" in tab.page.url
    assert created(tab) == ["1", "1", None, "1"], "a mask re-runs the model once and updates the charts in place"
    assert tab.exceptions() == []
    tab.screenshot("memn2n-masked")
    tall_screenshot(tab, "memn2n-masked-full-page")
    assert tab.errors == []


def test_typed_story_with_unknown_word_shows_the_error_and_keeps_the_view(tab):
    tab.open("memn2n?src=Typed", charts=3)
    box = tab.page.locator(".st-key-story_text textarea")
    box.fill("Mary went to the kitchn.\nJohn moved to the office.")
    box.press("Control+Enter")
    tab.wait_idle()
    error = tab.page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    assert "kitchn" in error and "kitchen" in error
    assert tab.page.locator(".js-plotly-plot").count() >= 3  # the last good view stays
    assert tab.exceptions() == []
    tall_screenshot(tab, "memn2n-typed-unknown-word")
    assert tab.errors == []


def test_export_panel_animation_and_accuracy(tab):
    tab.open("memn2n?export=true&anim=true&accuracy=true&hop=1", charts=5)
    assert tab.exceptions() == []
    tall_screenshot(tab, "memn2n-export-accuracy")
    assert tab.errors == []


PILLS_OVERFLOW = """() => {
    const root = document.querySelector("[class*='st-key-mask_']");
    const right = root.getBoundingClientRect().right;
    const buttons = [...root.querySelectorAll('button')];
    const scrolling = [root, ...root.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1);
    return {buttons: buttons.length, past_edge: buttons.filter(b => b.getBoundingClientRect().right > right + 1).length,
            scrolling: scrolling.length};
}"""


def test_fifty_mask_buttons_wrap_inside_the_panel_at_1280x720(tab):
    """Issue 15: mask buttons past about 19 scrolled sideways with no cue; they wrap onto more rows instead."""
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("memn2n?task=3+three-supporting-facts&seed=2", charts=3)  # a 50-sentence memory
    pills = tab.page.locator("[class*='st-key-mask_']").first
    pills.scroll_into_view_if_needed()
    assert tab.page.evaluate(PILLS_OVERFLOW) == {"buttons": 50, "past_edge": 0, "scrolling": 0}
    assert pills.bounding_box()["height"] > 80, "more than one row of buttons"
    tab.screenshot("memn2n-mask-buttons-1280x720")
    assert tab.errors == []


def covers_up(tab, panel: str) -> int:
    return tab.page.locator(f'{PLAYER} [data-panel="{panel}"] .mvs-curtain:not([hidden])').count()


def test_a_hop_change_lifts_covers_and_redraws_no_chart(tab):
    """Every hop's cells and bars are drawn once; the hops not reached are covered, and a hop lifts a cover."""
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("memn2n?task=2+two-supporting-facts&seed=1&hop=0", charts=3)
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    hops = int(tab.page.locator(f"{PLAYER} .mvs-slider").get_attribute("max"))
    assert covers_up(tab, "attention") == hops and covers_up(tab, "readout") == hops
    assert "not yet" in tab.page.locator(f'{PLAYER} [data-panel="readout"]').inner_text()
    # a covered column takes the pointer: no hover label shows what hop 1 will look at
    box = tab.page.locator(f'{PLAYER} [data-panel="attention"] .mvs-curtain').first.bounding_box()
    tab.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.page.wait_for_timeout(300)
    assert tab.page.locator(f'{PLAYER} [data-panel="attention"] .hovertext').count() == 0
    tab.page.evaluate(
        "() => { window.__reacts = 0; const r = Plotly.react;"
        " Plotly.react = function () { window.__reacts += 1; return r.apply(this, arguments); }; }"
    )
    for hop in range(1, hops + 1):
        tab.page.locator(f'{PLAYER} .mvs-btn[aria-label^="Next"]').click()
        assert covers_up(tab, "attention") == hops - hop and covers_up(tab, "readout") == hops - hop
    assert tab.page.evaluate("window.__reacts") == 0, "a hop change moves covers and the cursor, never redraws a chart"
    tab.page.locator(f'{PLAYER} .mvs-btn[aria-label^="Previous"]').click()
    assert covers_up(tab, "attention") == 1
    assert tab.errors == []


def test_the_answer_leads_when_the_columns_stack_and_sits_beside_the_hops_when_they_fit(tab):
    """At 1024x768 the question and the model's answer come above the hop view (on the first screen), the
    what-ifs below it; at 1280x720 all three sit side by side as before."""
    tab.page.set_viewport_size({"width": 1024, "height": 768})
    tab.open("memn2n?task=1+single-supporting-fact&seed=0", charts=1)
    tab.page.evaluate(SCROLL_TO_TOP)
    answer = tab.page.locator(".st-key-hop_headline").bounding_box()
    player = tab.page.locator(".st-key-hop_player").bounding_box()
    what_if = tab.page.locator(".st-key-tau1").bounding_box()
    assert answer["y"] + answer["height"] <= player["y"], "the answer is not above the hop view"
    assert answer["y"] >= 0 and answer["y"] + answer["height"] <= 768, "the answer is not on the first screen"
    assert what_if["y"] >= player["y"] + player["height"], "the what-ifs do not follow the hop view"
    assert "model:" in tab.page.locator(".st-key-hop_headline").inner_text()
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.page.wait_for_timeout(500)
    answer = tab.page.locator(".st-key-hop_headline").bounding_box()
    player = tab.page.locator(".st-key-hop_player").bounding_box()
    assert answer["x"] >= player["x"] + player["width"], "at 1280 px the answer should sit beside the hop view"
    assert tab.exceptions() == [] and tab.errors == []


def test_a_new_hop_count_opens_on_all_hops(tab):
    """From the 1-hop model's last hop to the 3-hop model: the player shows all three hops (it kept hop 1)."""
    tab.page.set_viewport_size({"width": 1280, "height": 720})
    tab.open("memn2n?hops=1&task=2+two-supporting-facts&seed=1", charts=3)
    tab.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    assert hop_caption(tab).startswith("Hop 1 of 1")
    tab.page.locator(".st-key-hops").get_by_text("3", exact=True).click()
    tab.wait_idle()
    tab.page.wait_for_function(
        "document.querySelector('[data-testid=memvizStepper] .mvs-label').textContent.includes('of 3')"
    )
    assert hop_caption(tab).startswith("Hop 3 of 3"), hop_caption(tab)
    tab.page.wait_for_timeout(1500)
    assert hop_caption(tab).startswith("Hop 3 of 3"), "and it stays there"
    assert tab.exceptions() == []
    assert tab.errors == []
