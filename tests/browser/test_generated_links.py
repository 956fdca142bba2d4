"""A sample of the generated links (issue 15) in the real browser against the real server.

The links come from the same hypothesis strategies as the AppTest generative test
(``tests/test_links.py``: each page's ``URL_PARAMS`` mixed with garbage),
derandomized, ``LINKS_PER_PAGE`` per page (30 in all over the five pages). Each one is opened as a class
would open it (a fresh page load, so a fresh session that reads the link) and must
show no Streamlit exception, log no console error or failed request, show no NaN or
inf outside the "link ignored" notice (which quotes what it ignored), and draw its
figures. One tab per page keeps the pages loading side by side. The server log is read after the test by
``server_log_stays_clean`` (tests/browser/conftest.py).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from test_links import MIN_CHARTS, TABLES, links

pytestmark = pytest.mark.browser

LINKS_PER_PAGE = 6  # five pages: 30 links
NOT_FINITE = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)

# Text a learner reads: the page's own text (the link notice left out, as it quotes
# the ignored value; typed inputs left out) and every chart's SVG text, item by item.
SHOWN_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]').cloneNode(true);
    main.querySelectorAll('[data-testid="stAlertContentWarning"], svg, textarea, input').forEach(e => e.remove());
    const svgText = [...document.querySelectorAll('[data-testid="stMain"] svg text')].map(t => t.textContent);
    return [main.innerText, ...svgText];
}"""
FINISHED = """(charts) => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null && app.getAttribute('data-test-script-state') !== 'running'
        && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]') !== null
        && document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot .main-svg').length >= charts;
}"""


ADDRESS = {"home": ""}  # the home page is the app's root; the others are at /PAGE


def link_path(page: str, query: dict[str, list[str]]) -> str:
    """``page?key=value&...`` with every value of a repeated key, percent-encoded."""
    pairs = [(key, value) for key, values in query.items() for value in values]
    address = ADDRESS.get(page, page)
    return f"{address}?{urlencode(pairs)}" if pairs else address


def sample_links(page: str, count: int) -> list[str]:
    """The first ``count`` distinct links hypothesis generates for ``page`` (derandomized: the same every run)."""
    found: list[str] = []

    @settings(
        max_examples=count * 3,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(links(page))
    def collect(query: dict[str, list[str]]) -> None:
        path = link_path(page, query)
        if path not in found and len(found) < count:
            found.append(path)

    collect()
    return found


def problems_on_screen(tab) -> list[str]:
    """Exceptions and non-finite numbers a class would see, and console errors."""
    found = [f"exception: {text[:200]}" for text in tab.exceptions()]
    found += [f"not finite: {text[:200]!r}" for text in tab.page.evaluate(SHOWN_TEXT) if NOT_FINITE.search(text)]
    return found + tab.errors


def test_a_sample_of_generated_links_in_the_browser(tabs):
    started = time.monotonic()
    samples = {page: sample_links(page, LINKS_PER_PAGE) for page in TABLES}
    sessions = {page: tabs() for page in TABLES}
    for session in sessions.values():
        session.page.set_viewport_size({"width": 1280, "height": 720})
    opened = 0
    for round_ in range(LINKS_PER_PAGE):
        batch = {page: paths[round_] for page, paths in samples.items() if round_ < len(paths)}
        for page, path in batch.items():  # all pages of the round load at once
            sessions[page].page.goto(f"{sessions[page].base_url}/{path}", wait_until="commit")
        for page, path in batch.items():
            tab = sessions[page]
            tab.page.wait_for_function(FINISHED, arg=MIN_CHARTS[page], timeout=60_000)
            tab.page.wait_for_timeout(200)  # a late console error or last paint
            assert problems_on_screen(tab) == [], path[:300]
            opened += 1
    took = time.monotonic() - started
    print(f"{opened} generated links opened in the browser in {took:.1f} s")
    assert opened == LINKS_PER_PAGE * len(TABLES)
