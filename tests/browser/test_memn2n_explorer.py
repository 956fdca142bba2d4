"""MemN2N Explorer in a real browser: step through three hops, mask a sentence, no exception, no console error."""

from __future__ import annotations

import pytest

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


def hop_caption(tab) -> str:
    return tab.page.locator("strong", has_text="of").filter(has_text="Hop").first.inner_text()


def test_step_three_hops_then_mask_a_sentence(tab):
    tab.open("memn2n?task=2+two-supporting-facts&seed=1", charts=3)
    assert tab.page.locator("h1").first.inner_text().strip() == "MemN2N Explorer"
    tab.screenshot("memn2n-all-hops")
    tab.page.locator(".st-key-hop_nav button", has_text="first_page").click()
    tab.wait_idle()
    assert hop_caption(tab).startswith("Hop 0")
    hops = max(memviz.load_pretrained(n).config.hops for n in MODELS)
    for hop in range(1, min(hops, 3) + 1):
        tab.page.locator(".st-key-hop_nav button", has_text="chevron_right").click()
        tab.wait_idle()
        # the fragment's rerun may start just after wait_idle looked (a busy machine): wait for the caption
        tab.page.wait_for_function(
            f"[...document.querySelectorAll('strong')].some(e => e.innerText.startsWith('Hop {hop} of'))",
            timeout=30_000,
        )
        assert hop_caption(tab).startswith(f"Hop {hop}")
        assert f"hop={hop}" in tab.page.url
    tab.screenshot("memn2n-stepped")
    tab.page.locator("[class*='st-key-mask_'] button").first.click()
    tab.wait_idle()
    assert "mask=1" in tab.page.url
    assert "(masked)" in tab.page.locator(".js-plotly-plot").first.inner_text()
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
