"""The classroom layout test (issue 14, DESIGN.md 4b): every page and key state at four screen sizes.

For each case: no two visible chart texts overlap, no chart text leaves its chart or
its column, no equation or markdown is wider than its column, no widget label is cut,
and the smallest chart text is at least 12 CSS px. At 1280x720 the page's main figure
and the control that changes it are both inside the first screen (no scrolling).

150% browser zoom is emulated as a CSS viewport of 1280/1.5 x 720/1.5 (853x480) drawn
at a device scale factor of 1.5: that is what Chromium's zoom does to the layout.
A device scale factor alone (a 1280x720 CSS viewport drawn on more pixels) would
change nothing the page lays out.

Each case leaves two screenshots in artifacts/screenshots/layout/ (the first screen,
and the whole page) and its measurements in artifacts/layout/ as JSON;
``python tests/browser/layout.py`` prints them as a table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pytest
from conftest import ARTIFACTS, BASE_PATH_PROBE, PageSession
from layout import MEASURE_JS, Report, analyse, inside_viewport

from memviz import lessons

pytestmark = pytest.mark.browser

MIN_TEXT_PX = 12.0
MIN_PRESENTER_TEXT_PX = 18.0
RESULTS = ARTIFACTS.parent / "layout"


@dataclass(frozen=True)
class Viewport:
    """A screen: CSS viewport size and device scale factor (zoom is emulated by both)."""

    width: int
    height: int
    scale: float = 1.0


VIEWPORTS = {
    "1024x768": Viewport(1024, 768),
    "1280x720": Viewport(1280, 720),
    "1920x1080": Viewport(1920, 1080),
    "1280x720-zoom150": Viewport(853, 480, 1.5),
    "800x600": Viewport(800, 600),  # a window narrower than 1024 px: one usable column (issue 14, bad input)
}
FIGURE_FIRST_VIEWPORT = "1280x720"


@dataclass(frozen=True)
class State:
    """A page in one state, reached by its link, with its main figure and the control that changes it."""

    page: str
    path: str
    charts: int
    figure: str | None = None
    control: str | None = None


STORY = "memn2n?task=2+two-supporting-facts&seed=1"
# the main figures are panels of the browser's step players (memviz/ui/static/stepper.js)
PIPELINE = '.mvs-panel[data-panel="pipeline"]'
MEMORY = '.mvs-panel[data-panel="memory"]'
ATTENTION = '.mvs-panel[data-panel="attention"]'
STEP_BAR = ".st-key-t_player .mvs-bar"
HOP_BAR = ".st-key-hop_player .mvs-bar"
STATES = {
    "home": State("Home", "", 0),
    "playground": State("Playground", "playground", 2, PIPELINE, ".st-key-beta"),
    "playground-3-steps": State("Playground", "playground?steps=3", 2, PIPELINE, ".st-key-step_next"),
    "ntm": State("NTM Explorer", "ntm", 4, MEMORY, STEP_BAR),
    "ntm-step-14": State("NTM Explorer", "ntm?t=14", 4, MEMORY, STEP_BAR),
    "ntm-intervene": State("NTM Explorer", "ntm?t=14&ov_g=0&ov_step=14", 5, ".st-key-compare", ".st-key-ov_g"),
    "memn2n": State("MemN2N Explorer", STORY, 3, ATTENTION, HOP_BAR),
    "memn2n-hop-1": State("MemN2N Explorer", f"{STORY}&hop=1", 3, ATTENTION, HOP_BAR),
    "memn2n-masked": State("MemN2N Explorer", f"{STORY}&hop=3&mask=1", 3, ATTENTION, "[class*='st-key-mask_']"),
}


LESSON_FIGURE = '[class*="st-key-lesson_"]:has(.js-plotly-plot)'
PRESENTER_STATES = {
    "home-present": State("Home", "?present=1", 0),
    "playground-present": State("Playground", "playground?present=1&steps=3", 2, PIPELINE, ".st-key-step_next"),
    "ntm-present": State("NTM Explorer", "ntm?t=14&present=1", 2, MEMORY, STEP_BAR),
    "ntm-intervene-present": State(
        "NTM Explorer", "ntm?t=14&ov_g=0&ov_step=14&present=1", 3, ".st-key-compare", ".st-key-ov_g"
    ),
    "lesson-present": State(
        "Lessons", "lessons?lesson=addressing&step=4&present=1", 1, LESSON_FIGURE, ".st-key-lesson_next"
    ),
    "memn2n-present": State(
        "MemN2N Explorer",
        f"{STORY}&hop=1&present=1",
        2,
        ATTENTION,
        ".st-key-hop_player .mvs-bar",
    ),
}
"""Presenter mode (``?present=1``), measured at 1280x720 against the 18 px minimum."""

LESSON_STATES = {
    f"lesson-{lesson_id}-{number}": State(
        "Lessons", f"lessons?lesson={lesson_id}&step={number}", 1, LESSON_FIGURE, ".st-key-lesson_next"
    )
    for lesson_id in lessons.list_lessons()
    for number in range(1, len(lessons.load_lesson(lesson_id).steps) + 1)
}
"""Every step of every lesson (issue 16): the step's figure and the Next button that moves on."""


class LayoutTab(PageSession):
    """A :class:`PageSession` at a given viewport and device scale factor."""

    def __init__(self, browser, base_url: str, viewport: Viewport):
        self.context = browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height}, device_scale_factor=viewport.scale
        )
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._on_response)
        assert BASE_PATH_PROBE  # the same probe filter as every browser test


def measure(tab: LayoutTab) -> Report:
    """Raw geometry from the browser, analysed."""
    tab.page.wait_for_timeout(400)  # plotly's second layout pass (automargin) settles
    return analyse(tab.page.evaluate(MEASURE_JS))


def figure_first(tab: LayoutTab, state: State, viewport: Viewport) -> dict[str, bool]:
    """Whether the main figure and its control are each wholly inside the first screen."""
    result = {}
    for name, selector in (("figure", state.figure), ("control", state.control)):
        if selector is None:
            continue
        box = tab.page.locator(selector).first.bounding_box() if tab.page.locator(selector).count() else None
        result[name] = inside_viewport(box, viewport.width, viewport.height)
    return result


def screenshots(tab: LayoutTab, name: str, viewport: Viewport) -> None:
    """The first screen as a projector shows it, then the whole page (the viewport grown to the page's height)."""
    folder = ARTIFACTS / "layout"
    folder.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(folder / f"{name}.png"))
    height = tab.page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0, window.innerHeight)"
    )
    tab.page.set_viewport_size({"width": viewport.width, "height": min(int(height) + 20, 12_000)})
    tab.page.wait_for_timeout(500)
    tab.page.screenshot(path=str(folder / f"{name}-full.png"))
    tab.page.set_viewport_size({"width": viewport.width, "height": viewport.height})


def save(
    name: str, state_name: str, viewport_name: str, report: Report, first: dict[str, bool], minimum: float
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "state": state_name,
        "viewport": viewport_name,
        "texts": report.texts,
        "overlaps": [str(p) for p in report.overlaps],
        "clipped": [str(p) for p in report.clipped],
        "overflows": [str(p) for p in report.overflows],
        "smallest": report.smallest,
        "small": [asdict(p) for p in report.small(minimum)],
        "figure_first": first,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False))


def problems_of(report: Report, first: dict[str, bool], minimum: float, need_first: bool) -> list[str]:
    found = [str(p) for p in [*report.overlaps, *report.clipped, *report.overflows, *report.small(minimum)]]
    if need_first:
        found += [f"figure first: the {what} is not inside the first screen" for what, ok in first.items() if not ok]
    return found


@pytest.mark.parametrize("viewport_name", list(VIEWPORTS))
@pytest.mark.parametrize("state_name", list(STATES))
def test_layout(browser, server_url, state_name: str, viewport_name: str):
    check_case(browser, server_url, state_name, STATES[state_name], viewport_name, MIN_TEXT_PX)


@pytest.mark.parametrize("viewport_name", [FIGURE_FIRST_VIEWPORT, "1280x720-zoom150"])
@pytest.mark.parametrize("state_name", list(PRESENTER_STATES))
def test_presenter_layout(browser, server_url, state_name: str, viewport_name: str):
    check_case(browser, server_url, state_name, PRESENTER_STATES[state_name], viewport_name, MIN_PRESENTER_TEXT_PX)


@pytest.mark.parametrize("state_name", list(LESSON_STATES))
def test_lesson_layout(browser, server_url, state_name: str):
    check_case(browser, server_url, state_name, LESSON_STATES[state_name], FIGURE_FIRST_VIEWPORT, MIN_TEXT_PX)


def check_case(browser, server_url, state_name: str, state: State, viewport_name: str, minimum: float) -> None:
    """Open one state at one viewport, measure it, keep its screenshots and numbers, and fail with every problem."""
    viewport = VIEWPORTS[viewport_name]
    name = f"{state_name}@{viewport_name}"
    tab = LayoutTab(browser, server_url, viewport)
    try:
        tab.open(state.path, charts=state.charts)
        assert tab.exceptions() == [], f"{state.page}, {state_name}, {viewport_name}: Streamlit exception"
        report = measure(tab)
        first = figure_first(tab, state, viewport)
        save(name, state_name, viewport_name, report, first, minimum)
        screenshots(tab, name, viewport)
        found = problems_of(report, first, minimum, need_first=viewport_name == FIGURE_FIRST_VIEWPORT)
        shown = "\n  ".join(found[:20]) + (f"\n  ... and {len(found) - 20} more" if len(found) > 20 else "")
        assert not found, f"{state.page}, state {state_name}, viewport {viewport_name}:\n  {shown}"
        assert tab.errors == []
    finally:
        tab.close()
