"""Presenter mode, the classroom link and the copy-link panel in a real browser, with bad links (issue 14)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def visible(tab, selector: str) -> bool:
    locator = tab.page.locator(selector)
    return locator.count() > 0 and locator.first.is_visible()


def sidebar_open(tab) -> bool:
    """Whether the sidebar is on screen (a collapsed one is removed or moved off the left edge)."""
    sidebar = tab.page.locator('[data-testid="stSidebar"]')
    box = sidebar.first.bounding_box() if sidebar.count() else None
    return box is not None and box["width"] > 50 and box["x"] >= 0


@pytest.mark.parametrize("path", ["", "playground", "ntm", "memn2n?task=1+single-supporting-fact"])
def test_every_page_has_the_copy_link_panel(tab, path):
    tab.open(path)
    button = tab.page.locator("button", has_text="Copy link · classroom link")
    button.first.wait_for(timeout=30_000)  # the sidebar may be drawn after the main block
    assert button.count() == 1
    button.click()
    tab.page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').first.wait_for(timeout=10_000)
    link = tab.page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').first.inner_text()
    assert link.startswith(tab.base_url)
    assert tab.exceptions() == [] and tab.errors == []


def test_classroom_link_shows_only_the_ticked_controls_in_presenter_mode(tab):
    tab.open("playground?beta=50&g=0.5&show=beta,steps&present=1", charts=1)
    assert sidebar_open(tab), "the ticked knob (beta) lives in the sidebar: a closed one hid it from the class"
    assert visible(tab, ".st-key-beta")
    assert visible(tab, ".st-key-pipeline_view")
    assert visible(tab, ".st-key-step_next")
    assert tab.page.locator(".st-key-g").count() == 1 and not visible(tab, ".st-key-g")  # hidden, kept at 0.5
    assert not visible(tab, ".st-key-walk")  # a secondary panel, left out in presenter mode
    assert "g=0.5" in tab.page.url
    tab.screenshot("classroom-playground")
    assert tab.exceptions() == [] and tab.errors == []


def test_presenter_mode_without_a_classroom_list_starts_with_the_sidebar_closed(tab):
    tab.open("playground?present=1", charts=1)
    assert not sidebar_open(tab)
    assert tab.exceptions() == [] and tab.errors == []


def test_a_link_hiding_every_control_still_shows_the_figure(tab):
    tab.open("playground?show=none", charts=1)
    tab.page.locator(".st-key-pipeline_view .mvs-panel").first.wait_for(state="visible", timeout=30_000)
    for key in ("beta", "g", "gamma", "step_next", "scenario"):
        assert not visible(tab, f".st-key-{key}")
    assert tab.exceptions() == [] and tab.errors == []


@pytest.mark.parametrize(
    ("link", "notice"),
    [
        ("playground?present=maybe", "Some settings in the link were ignored"),
        ("playground?show=beta,bogus", "The classroom link was not used"),
        ("ntm?show=%3Cscript%3E", "The classroom link was not used"),
    ],
)
def test_a_malformed_link_gives_the_ordinary_view_with_a_notice(tab, link, notice):
    tab.open(link, charts=1)
    assert tab.page.locator('[data-testid="stAlert"]').filter(has_text=notice).count() == 1
    assert sidebar_open(tab)
    assert visible(tab, ".st-key-model" if link.startswith("ntm") else ".st-key-g")
    assert tab.exceptions() == [] and tab.errors == []
