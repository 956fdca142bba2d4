"""The browser benchmark of record: what a person at the keyboard waits for, page by page (issue 13).

Two real servers: ``streamlit run app.py`` and ``streamlit run bench/trivial_page.py`` (one
slider, one heatmap-free scatter chart), each on a free loopback port. Debian's chromium
(headless, the flags of tests/browser/conftest.py) opens one tab per page at 1280x720, and
every measurement of an app interaction is followed by one of the trivial page's slider,
so a busy machine slows both alike (``--reps`` pairs, 15 by default).

What one measurement is
    The *input event* is the first ``pointerdown``, ``keydown`` or ``input`` the page sees
    after the benchmark acts (a capturing listener records its ``event.timeStamp``). The app
    is *settled* when all of these hold at once: Streamlit's script state is not ``running``
    (``data-test-script-state`` on ``stApp``) and its status widget shows no running script;
    no DOM mutation anywhere in the document for a quiet period of 400 ms (a MutationObserver
    on the whole document, attributes and text included: plotly.js draws by mutating SVG, so
    a pending redraw keeps the page from being quiet); and two animation frames have passed.
    The time reported is from the input event to the *last* mutation or long task before the
    quiet period (so the quiet period itself is not counted). ``busy`` is the summed duration
    of main-thread long tasks (PerformanceObserver ``longtask``, tasks of 50 ms or more) from
    the input event to settled. ``re-created`` counts plotly charts whose root (``.js-plotly-plot``)
    or first ``.main-svg`` was replaced: both are tagged before the input, and an untagged one
    afterwards is a chart drawn from scratch (``Plotly.react`` on the same element keeps both).

Loads
    *Cold*: a fresh browser context (empty cache) opens the page; the time is from navigation
    start to settled with the page's charts drawn. *Warm*: the same page reloaded in a context
    that already loaded it (plotly.js and Streamlit's bundle from the cache).

Play
    The NTM Explorer plays at "4 steps per second" for 5 s; the step shown is sampled every
    animation frame, and the rate is the steps played over the time since the first sample.

Prints one markdown table, the machine load (``uptime``) before and after, and writes the raw
numbers to ``artifacts/bench_browser.json``. Numbers on a shared machine are noisy; the ratio
to the trivial page, measured in the same run, is the figure to compare.

    python bench/bench_browser.py [--reps 15] [--cold 3] [--only ntm_step,trivial]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
SERVER_FLAGS = ["--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
VIEWPORT = {"width": 1280, "height": 720}
QUIET_MS = 400
TIMEOUT_MS = 30_000

# Installed in every page before its scripts run: the input timestamp, mutations, long tasks, chart tags.
INSTRUMENT = """
(() => {
  const mv = (window.__mv = { t0: null, lastMutation: 0, longtasks: [], armed: false, tag: 0 });
  const onInput = (e) => { if (mv.armed && mv.t0 === null) mv.t0 = e.timeStamp; };
  for (const type of ['pointerdown', 'keydown', 'input']) window.addEventListener(type, onInput, true);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) mv.longtasks.push([entry.startTime, entry.duration]);
  }).observe({ type: 'longtask', buffered: true });
  const start = () => new MutationObserver(() => { mv.lastMutation = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
  mv.charts = () => Array.from(document.querySelectorAll('.js-plotly-plot'));
  mv.arm = () => {
    mv.t0 = null; mv.armed = true; mv.tag += 1;
    for (const gd of mv.charts()) {
      gd.__mvTag = mv.tag;
      const svg = gd.querySelector('.main-svg');
      if (svg) svg.__mvTag = mv.tag;
    }
  };
  mv.recreated = () => mv.charts().filter((gd) => {
    const svg = gd.querySelector('.main-svg');
    return gd.__mvTag !== mv.tag || (svg && svg.__mvTag !== mv.tag);
  }).length;
  mv.running = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') === 'running') return true;
    return document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]') !== null;
  };
  mv.busySince = (t) => mv.longtasks.filter(([s, d]) => s + d > t).reduce((a, [s, d]) => a + d - Math.max(0, t - s), 0);
  mv.lastLongTaskEnd = () => mv.longtasks.reduce((a, [s, d]) => Math.max(a, s + d), 0);
})();
"""

# Resolves when the page has been settled for QUIET_MS; returns timings relative to `since`.
SETTLE = """
async ([since, quiet, timeout, charts]) => {
  const mv = window.__mv;
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const deadline = performance.now() + timeout;
  while (performance.now() < deadline) {
    await frame();
    const now = performance.now();
    const drawn = mv.charts().filter((gd) => gd.querySelector('.main-svg')).length >= charts;
    const t0 = since === null ? mv.t0 : since;
    // Quiet since the later of the input and the last mutation: a button's rerun may start a few frames
    // after the click, with nothing on the page changed before it.
    if (!mv.running() && drawn && now - Math.max(mv.lastMutation, t0 || 0) >= quiet) {
      if (t0 === null) return { error: 'no input event seen' };
      const end = Math.max(mv.lastMutation, Math.min(mv.lastLongTaskEnd(), now - quiet));
      return { ms: Math.max(0, end - t0), busy: mv.busySince(t0), recreated: mv.recreated() };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { error: 'did not settle within ' + timeout + ' ms' };
}
"""

# The step on screen: the browser step player's attribute, else Streamlit's "Step N of M" caption.
CURRENT_STEP = """
() => {
  const player = document.querySelector('[data-testid="memvizStepper"]');
  if (player && player.dataset.step !== undefined) return Number(player.dataset.step);
  for (const el of document.querySelectorAll('strong, p, span')) {
    const m = /^(?:Step|Hop) (\\d+) of/.exec(el.textContent.trim());
    if (m) return Number(m[1]);
  }
  return null;
}
"""

# The browser step player's step and last step.
PLAYER_POSITION = """
() => {
  const player = document.querySelector('[data-testid="memvizStepper"]');
  const slider = player.querySelector('input[type="range"]');
  return { step: Number(player.dataset.step), last: Number(slider ? slider.max : 0) };
}
"""

SAMPLE_PLAY = """
async ([ms, step]) => {
  const read = new Function('return (' + step + ')()');
  const samples = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    samples.push([performance.now(), read()]);
    await new Promise((r) => requestAnimationFrame(r));
  }
  return samples;
}
"""


# ------------------------------------------------------------------ servers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(script: Path, log_name: str):
    """``streamlit run script`` on a free loopback port, run from its folder's project; yields its URL."""
    port = _free_port()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    project = script.parent if (script.parent / "app.py").exists() else ROOT
    env = {**os.environ, "PYTHONPATH": f"{project}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with open(ROOT / "artifacts" / log_name, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), *SERVER_FLAGS, "--server.port", str(port)],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{script} did not start (see artifacts/{log_name})") from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


# ------------------------------------------------------------------ interactions
@dataclass
class Interaction:
    """One thing a user does on a page, repeated: ``act(page, i)`` performs the i-th repetition."""

    name: str
    label: str
    path: str
    charts: int
    act: Callable
    times: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    recreated: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _has(page, selector: str) -> bool:
    return page.locator(selector).count() > 0


def step_move(prefix: str) -> Callable:
    """Next, then previous, alternately: the browser step player's buttons if present, else Streamlit's."""

    def act(page, i: int) -> None:
        forward = i % 2 == 0
        if _has(page, '[data-testid="memvizStepper"]'):
            at = page.evaluate(PLAYER_POSITION)  # a player opened at its last step goes back first
            forward = at["step"] < at["last"] if forward else at["step"] == 0
            label = "Next" if forward else "Previous"
            page.locator(f'[data-testid="memvizStepper"] .mvs-btn[aria-label^="{label}"]').first.click()
        else:
            icon = "chevron_right" if forward else "chevron_left"
            page.locator(f".st-key-{prefix}_nav button", has_text=icon).click()

    return act


def button_pair(forward_key: str, back_key: str) -> Callable:
    """A Streamlit button, then its opposite, alternately (a lesson's Next and Previous)."""

    def act(page, i: int) -> None:
        page.locator(f".st-key-{forward_key if i % 2 == 0 else back_key} button").click()

    return act


def slider_notch(key: str) -> Callable:
    """One notch right, then one left, alternately, with the keyboard on a Streamlit slider's thumb."""

    def act(page, i: int) -> None:
        thumb = page.locator(f'.st-key-{key} input[type="range"]').first
        if i == 0 or page.evaluate("document.activeElement && document.activeElement.type") != "range":
            thumb.focus()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")

    return act


FIRST_SCREEN = {"playground": 1, "ntm": 2, "memn2n": 2}
"""Charts on each page's first screen at 1280x720: drawn on opening (the player draws the others when they
come into view), so a page is loaded when these are drawn and it is idle."""


def interactions() -> list[Interaction]:
    return [
        Interaction("ntm_step", "NTM Explorer, next step", "ntm", FIRST_SCREEN["ntm"], step_move("t")),
        Interaction(
            "ntm_step_copy120",
            "NTM Explorer, next step, copy length 120",
            "ntm?length=120&t=60",
            1,  # the memory panel (a long episode's bit grids may sit lower)
            step_move("t"),
        ),
        Interaction(
            "ntm_step_repeat20x20",
            "NTM Explorer, next step, repeat copy 20 x 20",
            "ntm?model=ntm-repeat-copy&length=20&repeats=20&t=200",
            1,
            step_move("t"),
        ),
        Interaction(
            "ntm_override",
            "NTM Explorer, override knob",
            "ntm?ov_g=0.5&ov_step=5&t=5",
            FIRST_SCREEN["ntm"],
            slider_notch("ov_g"),
        ),
        Interaction(
            "playground_beta",
            "Playground, beta one notch",
            "playground",
            FIRST_SCREEN["playground"],
            slider_notch("beta"),
        ),
        Interaction(
            "memn2n_hop",
            "MemN2N Explorer, next hop",
            "memn2n?task=2+two-supporting-facts&seed=1",
            FIRST_SCREEN["memn2n"],
            step_move("hop"),
        ),
        Interaction(
            "memn2n_tau",
            "MemN2N Explorer, temperature notch",
            "memn2n?task=2+two-supporting-facts&seed=1",
            FIRST_SCREEN["memn2n"],
            slider_notch("tau1"),
        ),
        Interaction(
            "lesson_next",
            "Lessons, next step (a rerun: live narration and figures)",
            "lessons?lesson=ntm-copy&step=2",
            1,
            button_pair("lesson_next", "lesson_prev"),
        ),
    ]


TRIVIAL = Interaction("trivial", "trivial page, slider notch", "", 1, slider_notch("points"))


# ------------------------------------------------------------------ measuring
def open_tab(context, url: str, charts: int):
    """A tab on ``url``, settled; ``page.received`` holds the bytes the server sent over the websocket on opening."""
    log(f"open {url}")
    page = context.new_page()
    received = [0]
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload))),
    )
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    result = page.evaluate(SETTLE, [0, QUIET_MS, 60_000, charts])
    if "error" in result:
        raise RuntimeError(f"{url}: {result['error']}")
    page.received = received[0]
    return page


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure(page, item: Interaction, i: int) -> None:
    page.evaluate("window.__mv.arm()")
    try:
        item.act(page, i)
    except Exception as exc:  # a missing control: record, keep going
        log(f"{item.name} rep {i}: {type(exc).__name__}: {exc}")
        item.errors.append(f"rep {i}: {type(exc).__name__}: {exc}")
        return
    result = page.evaluate(SETTLE, [None, QUIET_MS, TIMEOUT_MS, 0])
    if "error" in result:
        log(f"{item.name} rep {i}: {result['error']}")
        item.errors.append(f"rep {i}: {result['error']}")
        return
    if result["ms"] == 0 and result["busy"] == 0:  # nothing on the page changed after the input: not a sample
        log(f"{item.name} rep {i}: the page did not change after the input")
        item.errors.append(f"rep {i}: the page did not change after the input")
        return
    log(f"{item.name} rep {i}: {result['ms']:.0f} ms, busy {result['busy']:.0f} ms, re-created {result['recreated']}")
    item.times.append(result["ms"])
    item.busy.append(result["busy"])
    item.recreated.append(result["recreated"])


def cold_load(browser, url: str, charts: int) -> tuple[float, float]:
    """(cold, warm) load to settled in ms: a fresh context (empty cache), then a reload in it; NaN on failure."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INSTRUMENT)
    times = []
    try:
        page = context.new_page()
        for load in (page.goto, lambda _url, **kw: page.reload(**kw)):
            load(url, wait_until="domcontentloaded", timeout=120_000)
            result = page.evaluate(SETTLE, [0, QUIET_MS, 120_000, charts])
            times.append(result.get("ms", float("nan")))
            log(f"load {url}: {result}")
    except Exception as exc:  # a timeout on a loaded machine: recorded as NaN
        log(f"load {url}: {type(exc).__name__}: {exc}")
    finally:
        context.close()
    times += [float("nan")] * (2 - len(times))
    return times[0], times[1]


def play_rate(page, speed_index: int = 4, seconds: float = 5.0) -> dict:
    """Play the NTM episode at its fastest labelled speed (4/s) and measure the rate shown."""
    if _has(page, '[data-testid="memvizStepper"]'):
        page.locator('[data-testid="memvizStepper"] .mvs-btn[aria-label^="First"]').first.click()
        page.locator('[data-testid="memvizStepper"] .mvs-speed').select_option("4")
        page.locator('[data-testid="memvizStepper"] .mvs-play').click()
    else:
        page.locator(".st-key-t_nav button", has_text="first_page").click()
        page.evaluate(SETTLE, [0, QUIET_MS, TIMEOUT_MS, 0])
        page.locator(".st-key-t_play button").nth(speed_index).click()
    start_busy = page.evaluate("performance.now()")
    samples = page.evaluate(SAMPLE_PLAY, [seconds * 1000, CURRENT_STEP.strip()])
    if samples:
        log(f"play: {len(samples)} samples, steps {samples[0][1]} -> {samples[-1][1]}")
    busy = page.evaluate("(t) => window.__mv.busySince(t)", start_busy)
    if _has(page, '[data-testid="memvizStepper"]'):
        page.locator('[data-testid="memvizStepper"] .mvs-play').click()
    else:
        page.locator(".st-key-t_play button", has_text="Pause").click()
    moves = [(t, s) for (t, s), (_, prev) in zip(samples[1:], samples[:-1], strict=True) if s != prev and s is not None]
    if len(moves) < 2:
        return {"rate": 0.0, "ticks": len(moves), "busy_per_tick": float("nan")}
    first_time, first_step = samples[0]  # sampled right after the click: steps played / time since then
    rate = (moves[-1][1] - first_step) / ((samples[-1][0] - first_time) / 1000)
    return {"rate": rate, "ticks": len(moves), "busy_per_tick": busy / max(len(moves), 1)}


# ------------------------------------------------------------------ report
def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))] if ordered else float("nan")


def _med(values: list[float]) -> float:
    values = [v for v in values if v == v]  # NaN: a load that timed out
    return statistics.median(values) if values else float("nan")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(items: list[Interaction], trivial: Interaction, loads: dict, play: dict | None, loads_before: str) -> str:
    base = _med(trivial.times)
    lines = [
        "| interaction | median | p90 | ratio to trivial | main-thread busy | charts re-created | n |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in [*items, trivial]:
        med = _med(item.times)
        lines.append(
            f"| {item.label} | {med:.0f} ms | {_p90(item.times):.0f} ms | {med / base:.2f}x "
            f"| {_med(item.busy):.0f} ms | {_med(item.recreated):.0f} | {len(item.times)} |"
        )
    lines.append("")
    trivial_cold = _med(loads.get("trivial", {}).get("cold", []))
    parts = []
    for name, entry in loads.items():
        cold, warm = _med(entry["cold"]), _med(entry["warm"])
        parts.append(f"{name} {cold / 1000:.1f} s ({cold / trivial_cold:.2f}x), warm {warm / 1000:.1f} s")
    lines.append("Cold load to idle (median): " + "; ".join(parts) + ".")
    if play:
        lines.append(
            f"Play at 4 steps/s (NTM): {play['rate']:.2f} steps/s over {play['ticks']} ticks, "
            f"main-thread busy {play['busy_per_tick']:.0f} ms per tick."
        )
    lines.append(f"Machine load before: {loads_before}")
    lines.append(f"Machine load after:  {uptime()}")
    for item in [*items, trivial]:
        for error in item.errors[:3]:
            lines.append(f"- {item.name}: {error}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--out", default="bench_browser.json", help="raw numbers, under artifacts/")
    parser.add_argument("--cold", type=int, default=3, help="cold loads per page")
    parser.add_argument("--only", default="", help="comma-separated interaction names (default: all)")
    parser.add_argument("--no-play", action="store_true")
    parser.add_argument("--app", default=str(ROOT / "app.py"), help="the app to measure (another checkout's app.py)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    items = [i for i in interactions() if not args.only or i.name in args.only.split(",")]
    before = uptime()
    with (
        streamlit_server(Path(args.app).resolve(), "bench_app.log") as app_url,
        streamlit_server(ROOT / "bench" / "trivial_page.py", "bench_trivial.log") as trivial_url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(INSTRUMENT)
        trivial_page = open_tab(context, trivial_url, TRIVIAL.charts)
        pages = {item.name: open_tab(context, f"{app_url}/{item.path}", item.charts) for item in items}
        opened = {item.label: pages[item.name].received for item in items}
        for item in items:  # one warm-up each, not counted
            measure(pages[item.name], item, -2)
            item.times.clear(), item.busy.clear(), item.recreated.clear()
        measure(trivial_page, TRIVIAL, -2)
        TRIVIAL.times.clear(), TRIVIAL.busy.clear(), TRIVIAL.recreated.clear()
        for rep in range(args.reps):
            for item in items:
                measure(pages[item.name], item, rep)
                measure(trivial_page, TRIVIAL, rep)
        play = None
        if not args.no_play and any(i.name == "ntm_step" for i in items):
            play = play_rate(pages["ntm_step"])
        loads: dict[str, dict[str, list[float]]] = {}
        targets = {"trivial": (trivial_url, 1)}
        for path, charts in FIRST_SCREEN.items():
            targets[path] = (f"{app_url}/{path}", charts)
        for _ in range(args.cold):
            for name, (url, charts) in targets.items():
                cold, warm = cold_load(browser, url, charts)
                loads.setdefault(name, {"cold": [], "warm": []})
                loads[name]["cold"].append(cold)
                loads[name]["warm"].append(warm)
        browser.close()
    text = report(items, TRIVIAL, loads, play, before)
    text += (
        "\nSent by the server on opening each page (websocket bytes: the page and every figure's data for the episode):"
    )
    for label, size in opened.items():
        text += f"\n- {label}: {size / 1e6:.2f} MB"
    print(text)
    raw = {
        "items": {i.name: {"times": i.times, "busy": i.busy, "recreated": i.recreated} for i in [*items, TRIVIAL]},
        "loads": loads,
        "play": play,
        "uptime_before": before,
        "report": text,
    }
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / args.out).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
