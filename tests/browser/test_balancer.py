"""`memviz serve --workers 2` in a real browser: HAProxy in front, two sessions, a GIF, an upload, a killed worker.

Two browser contexts (two students, two cookie jars) go through the balancer to
the two workers (least connections, then the affinity cookie). Each keeps its
own step and seed across reruns; a GIF export downloads and a bAbI file
uploads through the balancer;
then the worker of the first student is killed (SIGKILL) and the student's page
must reconnect through the balancer and show the same view, rebuilt from the URL,
within 5 s, on the warm spare that took the dead worker's place (so the other
student's worker is not shared).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHARTS = 4  # the NTM Explorer's charts at a step (see test_ntm_explorer.py)
PLAYER = '[data-testid="memvizStepper"]'  # the step player's root; its data-step is the step on screen
# Issue 18: a killed worker's student is back within 5 s (the reconnect, then one whole-script run on the
# other worker). MEMVIZ_RECOVERY_LIMIT_S loosens it on a machine too loaded to time anything.
RECOVERY_LIMIT_S = float(os.environ.get("MEMVIZ_RECOVERY_LIMIT_S", "5"))
LOG_PROBLEMS = re.compile(r"Traceback|Uncaught app execution|Failed to apply edit")  # as conftest.py


def _free_ports(count: int) -> int:
    """A port p with p .. p + count - 1 free on loopback."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + count < 65535 and all(_bindable(port + i) for i in range(count)):
            return port
    raise RuntimeError(f"no {count} consecutive free ports on loopback")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_balancer(url: str, proc: subprocess.Popen, run_dir: Path, timeout: float = 120) -> dict:
    """Wait for `memviz serve` to write its state (after every worker and HAProxy are up), then for the balancer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"memviz serve exited with code {proc.returncode}; see {run_dir}")
        if (run_dir / "state.json").exists():
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return json.loads((run_dir / "state.json").read_text())
            except OSError:
                pass
        time.sleep(0.3)
    raise TimeoutError(f"memviz serve did not come up at {url} within {timeout} s")


@pytest.fixture(scope="module")
def served():
    """`python -m memviz.serve --workers 2` on free loopback ports; yields (balancer URL, run folder)."""
    port = _free_ports(3)
    run_dir = ROOT / "artifacts" / "serve"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "state.json").unlink(missing_ok=True)
    log = open(run_dir / "serve.log", "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [sys.executable, "-m", "memviz.serve", "--workers", "2", "--port", str(port), "--run-dir", str(run_dir)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_balancer(url, proc, run_dir)
        yield url, run_dir
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert proc.returncode == 0, f"memviz serve did not stop cleanly on SIGTERM (see {run_dir / 'serve.log'})"


@pytest.fixture
def server_url(served):
    """The conftest's `tab` fixture opens pages here: through the balancer."""
    return served[0]


@pytest.fixture(autouse=True)
def server_log_stays_clean(served):
    """As the conftest's check of the server log, over every worker's log (and memviz serve's own)."""
    _, run_dir = served
    logs = [*sorted(run_dir.glob("worker*.log")), *sorted(run_dir.glob("spare*.log")), run_dir / "serve.log"]
    start = {log: log.stat().st_size for log in logs if log.is_file()}
    yield
    problems = []
    for log in logs:
        with log.open(errors="replace") as f:
            f.seek(start.get(log, 0))
            problems += [f"{log.name}: {line}" for line in f.read().splitlines() if LOG_PROBLEMS.search(line)]
    assert not problems, f"a worker logged during this test: {problems[:5]}"


@pytest.fixture
def second_tab(tab, browser, server_url):
    """Another student: a tab in its own browser context (its own cookies, so possibly its own worker)."""
    other = type(tab)(browser, server_url)
    yield other
    other.close()


def wait_for_ready_spare(run_dir: Path, timeout: float = 120) -> dict:
    """``memviz serve``'s state once its spare is warm (it starts after the workers, at low priority)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = json.loads((run_dir / "state.json").read_text())
        if state["spares"] and state["spares"][0]["ready"]:
            return state
        time.sleep(0.3)
    raise TimeoutError(f"the spare worker was not ready within {timeout} s; see {run_dir}")


def _note_finished(frame: bytes | str, finished: list[float]) -> None:
    """Record the time of a ForwardMsg saying a whole script run ran to its end (Streamlit's protobuf).

    A run that ended early for a rerun (a page's first run on a session reruns once) drew nothing yet.
    """
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(frame, bytes):
        msg = ForwardMsg()
        msg.ParseFromString(frame)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            finished.append(time.monotonic())


def step_label(tab) -> str:
    return tab.page.locator(".st-key-t_player .mvs-label").first.inner_text()


def step_of(tab) -> int:
    return int(re.match(r"Step (\d+)", step_label(tab)).group(1))


def press_next(tab, times: int = 1) -> None:
    for _ in range(times):
        before = step_of(tab)
        tab.page.locator('.st-key-t_player .mvs-btn[aria-label^="Next"]').click()  # in the browser: no rerun
        label = ".st-key-t_player .mvs-label"
        tab.page.wait_for_function(f"!document.querySelector('{label}').innerText.startsWith('Step {before} ')")


def worker_of(tab) -> str:
    cookies = {c["name"]: c["value"] for c in tab.context.cookies()}
    return cookies.get("MEMVIZ_WORKER", "")


def seed_shown(tab) -> str:
    return tab.page.locator(".st-key-seed input").input_value()


def view_of(tab) -> tuple[int, str, str | None]:
    """The view on screen: the player's step (data-step), the seed box, and the step in the URL."""
    step = int(tab.page.get_attribute(PLAYER, "data-step"))
    tab.url_shows(f"t={step}", timeout=3_000)  # the player writes the URL once steps pause
    url_step = re.search(r"[?&]t=(\d+)", tab.page.url)
    return step, seed_shown(tab), url_step.group(1) if url_step else None


def type_seed(tab, seed: str) -> None:
    """Type a seed and press Enter: a whole-script run on the session's worker, which must take the new value.

    Focusing the box first makes the step player report its step (a fragment run); typing waits for that run,
    as a hand does, so the run cannot redraw the box between the typing and the Enter.
    """
    box = tab.page.locator(".st-key-seed input")
    box.focus()
    tab.wait_idle()
    box.fill(seed)
    box.press("Enter")
    tab.page.wait_for_function(f"location.search.includes('seed={seed}')", timeout=30_000)
    tab.wait_idle()


def watch_new_websockets(tab) -> list[float]:
    """From now on: the times (monotonic s, as the test sees them) of whole-script runs finished on new websockets."""
    finished: list[float] = []
    tab.page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: _note_finished(frame, finished)))
    return finished


def record_run_states(tab) -> None:
    """From now on, the page notes each change of Streamlit's script state ("running", "notRunning") with its time.

    Timed in the page (``Date.now()``, the clock ``time.time()`` reads): the websocket events the test
    receives from the browser arrive late and bunched when the machine is loaded.
    """
    tab.page.evaluate(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            window.__memvizRunStates = [];
            new MutationObserver(() => window.__memvizRunStates.push([app.getAttribute("data-test-script-state"),
                Date.now()])).observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
        }"""
    )


def run_states(tab, since: float) -> list[tuple[str, float]]:
    """The page's script states noted by :func:`record_run_states`, each with its time in s after ``since`` (epoch)."""
    return [(state, ms / 1000 - since) for state, ms in tab.page.evaluate("window.__memvizRunStates")]


def wait_for_first(tab, times: list[float], deadline: float) -> None:
    """Let the page run until ``times`` gets its first entry or the monotonic ``deadline`` passes."""
    while not times and time.monotonic() < deadline:
        tab.page.wait_for_timeout(50)


def test_gif_download_through_the_balancer(tab):
    tab.open("ntm?t=12&ov_g=0&ov_shift=1&ov_step=12&length=20&export=true", charts=CHARTS + 1)
    assert worker_of(tab) in ("w1", "w2")
    with tab.page.expect_download() as gif:
        tab.page.locator(".st-key-dl_gif button").first.click()
    assert Path(gif.value.path()).read_bytes()[:6] == b"GIF89a"  # a media file: served by the session's own worker
    assert tab.exceptions() == []
    assert tab.errors == []


BABI_STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary?\tbathroom\t1
4 Daniel went back to the kitchen.
5 Where is Daniel?\tkitchen\t4
"""


def test_babi_upload_through_the_balancer(tab, tmp_path):
    """An uploaded file goes to the session's own worker (Streamlit keeps uploads per worker: issue 4173)."""
    story = tmp_path / "qa1_single-supporting-fact_test.txt"
    story.write_text(BABI_STORY)
    tab.open("memn2n?src=bAbI+file")
    tab.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(story))
    tab.page.get_by_text("An uploaded file cannot travel in a link").wait_for(timeout=30_000)
    tab.wait_idle()
    assert tab.page.get_by_text("Q1: Where is Mary?").count() >= 1
    assert tab.exceptions() == []
    assert tab.errors == []  # no failed upload request (a 400 or 404 from another worker)


def test_sessions_keep_their_state_and_survive_a_killed_worker(tab, second_tab, served):
    _, run_dir = served
    a, b = tab, second_tab
    a.open("ntm?seed=11", charts=CHARTS)
    b.open("ntm?seed=22", charts=CHARTS)
    press_next(a, 2)
    press_next(b, 4)
    press_next(a, 1)
    assert view_of(a) == (3, "11", "3")
    assert view_of(b) == (4, "22", "4")
    state = wait_for_ready_spare(run_dir)
    workers = {w["name"]: w for w in state["workers"]}
    victim = worker_of(a)
    assert victim in workers, f"no affinity cookie for the first student: {a.context.cookies()}"
    other_pid = next(w["pid"] for name, w in workers.items() if name != victim)

    finished = watch_new_websockets(a)
    record_run_states(a)
    killed_at, kill_time = time.monotonic(), time.time()
    os.kill(workers[victim]["pid"], signal.SIGKILL)
    wait_for_first(a, finished, deadline=killed_at + max(RECOVERY_LIMIT_S, 30))
    assert finished, "no whole-script run finished on a new websocket after the worker was killed"
    a.wait_idle()
    assert view_of(a) == (3, "11", "3"), "the killed worker's student did not get the same view back"
    states = run_states(a, since=kill_time)
    started = next((t for state, t in states if state == "running"), float("nan"))
    back_after = max(t for state, t in states if state == "notRunning")
    timeline = f"its run started {started:.2f} s and ended {back_after:.2f} s after the kill (page clock)"
    assert back_after <= RECOVERY_LIMIT_S, (
        f"the killed worker's student was not back within {RECOVERY_LIMIT_S:g} s: {timeline}"
    )
    now = {w["name"]: w["pid"] for w in json.loads((run_dir / "state.json").read_text())["workers"]}
    assert now[victim] == state["spares"][0]["pid"], "the warm spare did not take the dead worker's place"
    assert worker_of(a) == victim, "the student was sent to the other worker, not to the spare in the dead one's place"
    assert other_pid in now.values(), "the other worker was replaced too"
    type_seed(a, "12")  # the new worker's session takes the student's next control (not reset from the URL)
    assert seed_shown(a) == "12" and "seed=12" in a.page.url
    press_next(b)
    assert view_of(b) == (5, "22", "5")
    assert a.exceptions() == [] and b.exceptions() == []
    print(f"killed {victim}: {timeline}; now on {worker_of(a) or '?'}")
