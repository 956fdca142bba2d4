"""A real `streamlit run app.py` on a free loopback port, driven by Playwright in Debian's chromium."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("MEMVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Opened on a deep link such as /playground, Streamlit's frontend first probes
# /playground/_stcore/health and /playground/_stcore/host-config to discover its
# base path, gets 404, and then uses /. Those two probes are Streamlit's own and
# harmless; every other failed request or console error fails the test.
BASE_PATH_PROBE = re.compile(r"^https?://[^/]+/[^_][^/]*/_stcore/(health|host-config)$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url} within {timeout} s")


@pytest.fixture(scope="session")
def server_url():
    port = _free_port()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    log = open(SERVER_LOG, "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    # Each test reads what the server logged while it ran; this reads the whole run, gaps between tests included.
    problems = log_problems(SERVER_LOG.read_text(errors="replace"))
    assert not problems, f"the server logged during the browser test run: {problems[:5]}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bash setup.sh --test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# Polled until the step player has drawn every chart (it draws one when it comes into view: each is brought
# into view in turn) and at least `n` plotly SVG layers are on the page.
DRAW_CHARTS = """
(n) => {
  // (a chart in a closed expander is drawn when it is opened: not brought into view here)
  const pending = [...document.querySelectorAll('.mvs-panel[data-pending]')].find((p) => p.getClientRects().length);
  if (pending) {
    pending.scrollIntoView({ block: 'center' });
    return false;
  }
  return document.querySelectorAll('.js-plotly-plot .main-svg').length >= n;
}
"""

SCROLL_TO_TOP = """
() => {
  const containers = document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], section');
  for (const el of [document.scrollingElement, ...containers]) {
    if (el && el.scrollTop > 0) el.scrollTop = 0;
  }
}
"""


class PageSession:
    """A browser tab that records console errors and page exceptions."""

    def __init__(self, browser, base_url: str):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if message.type == "error" and not BASE_PATH_PROBE.match(message.location.get("url", "")):
            self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def _on_response(self, response) -> None:
        if response.status >= 400 and not BASE_PATH_PROBE.match(response.url):
            self.errors.append(f"HTTP {response.status} {response.url}")

    def open(self, path: str, charts: int = 0) -> None:
        """Go to a page and wait until it has run and drawn at least ``charts`` plotly charts.

        The step player draws a chart below the fold when it comes into view: this scrolls each such
        chart into view in turn, as a reader scrolling down would, then back to the top of the page.
        """
        self.page.goto(f"{self.base_url}/{path}", wait_until="domcontentloaded")
        self.wait_idle()
        if charts:
            self.page.wait_for_function(DRAW_CHARTS, arg=charts, timeout=60_000, polling=100)
            self.page.evaluate(SCROLL_TO_TOP)

    def wait_idle(self, timeout: float = 60_000) -> None:
        """Wait until the app is rendered and no script run is in progress."""
        self.page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
        self.page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return app && app.getAttribute('data-test-script-state') !== 'running'
                    && document.querySelector('[data-testid="stMain"]') !== null;
            }""",
            timeout=timeout,
        )
        self.page.wait_for_timeout(800)

    def url_shows(self, fragment: str, timeout: float = 5_000) -> bool:
        """Whether the address bar comes to hold ``fragment`` (the step player writes a step once steps pause)."""
        try:
            self.page.wait_for_function("(f) => window.location.href.includes(f)", arg=fragment, timeout=timeout)
        except PlaywrightTimeoutError:
            return False
        return True

    def exceptions(self) -> list[str]:
        return self.page.locator('[data-testid="stException"]').all_inner_texts()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, server_url):
    session = PageSession(browser, server_url)
    yield session
    session.close()


@pytest.fixture
def tabs(browser, server_url):
    """A maker of browser tabs on the app (for tests that keep several pages loading at once); all closed after."""
    sessions: list[PageSession] = []

    def make() -> PageSession:
        sessions.append(PageSession(browser, server_url))
        return sessions[-1]

    yield make
    for session in sessions:
        session.close()


SERVER_LOG = ROOT / "artifacts" / "streamlit.log"
LOG_PROBLEMS = re.compile(r"Traceback|Uncaught app execution|Failed to apply edit")


def log_problems(text: str) -> list[str]:
    """Lines of a server log that show a traceback, an uncaught app exception or a failed data-editor edit."""
    return [line for line in text.splitlines() if LOG_PROBLEMS.search(line)]


@pytest.fixture(autouse=True)
def server_log_stays_clean(server_url):
    """Every browser test leaves the server log free of tracebacks (issue 15): the test reads it."""
    start = SERVER_LOG.stat().st_size if SERVER_LOG.is_file() else 0
    yield
    with SERVER_LOG.open(errors="replace") as log:
        log.seek(start)
        added = log.read()
    problems = log_problems(added)
    assert not problems, f"the server logged during this test: {problems[:5]}\n{added[-3000:]}"


@pytest.fixture(scope="module")
def stepper_server(tmp_path_factory):
    """``streamlit run tests/browser/stepper_page.py`` with a run log; yields (url, log path)."""
    run_log = tmp_path_factory.mktemp("stepper") / "runs.log"
    run_log.write_text("")
    port = _free_port()
    env = {**os.environ, "MEMVIZ_RUN_LOG": str(run_log)}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with open(ROOT / "artifacts" / "stepper_page.log", "w") as log:
        script = ROOT / "tests" / "browser" / "stepper_page.py"
        flags = ["--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), *flags, "--browser.gatherUsageStats", "false"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            yield url, run_log
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def stepper_tab(browser, stepper_server):
    url, run_log = stepper_server
    session = PageSession(browser, url)
    session.context.set_default_timeout(30_000)
    session.page.set_viewport_size({"width": 1280, "height": 720})
    session.run_log = run_log
    yield session
    session.close()


FIGURE_GEOMETRY_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map((gd) => {
  const origin = gd.getBoundingClientRect();
  const texts = Array.from(gd.querySelectorAll('svg text'))
    .filter((t) => t.textContent.trim() && t.getClientRects().length);
  return texts.map((t) => {
    const r = t.getBoundingClientRect();
    return `${t.textContent.trim()}@${Math.round((r.x - origin.x) / 4)},${Math.round((r.y - origin.y) / 4)}`;
  }).sort().join('|');
})"""
"""Every text drawn in each chart and where (to 4 px): a chart Plotly.react left half-updated had them piled up."""


def figure_geometry(tab, selector: str = ".js-plotly-plot") -> list[str]:
    """:data:`FIGURE_GEOMETRY_JS` of the charts ``selector`` finds."""
    tab.page.wait_for_timeout(400)  # the player draws the new step's figure after the rerun's data arrives
    return tab.page.evaluate(FIGURE_GEOMETRY_JS, selector)
