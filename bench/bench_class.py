"""A class of simulated students against memviz: one plain server vs ``memviz serve --workers 2`` (HAProxy).

Each student speaks Streamlit's websocket protocol (``streamlit.proto``
BackMsg / ForwardMsg). The messages are not written by hand: at the start of a
run, headless Chromium opens each page (``/ntm``, ``/memn2n``, ``/playground``)
and changes its ``Seed`` input while this script records the frames the real
frontend sends, so the replay follows the app as it changes. A student then
replays them on its own page with its own values: it opens the page with
``?seed=S``, and every move (after 1-2 s of thinking) sends the recorded
"seed changed" rerun with its next own seed: a new episode, story or memory,
which re-runs the model (the load a class makes; stepping happens in the
browser). Every reply is checked: the run must finish, show no exception, and
the server must set the page's seed input to the student's own seed (a move
carries the seed in its URL, as a link does, so the server sends the input
back with that value; see :func:`move_message`).

Measured per class size (1, 10, 30, 60 students, all in one run, the same
seeds for both set-ups): reply p50 / p95 / max, opening a page p50, reruns per
second, server CPU (cores used, CPU per rerun), RSS before / at the end of each
level / after; through the balancer also HAProxy's failed health checks. Then
(balancer only) 200 sessions in all and RSS after them, an oversized query
string, and, with ``--kill``, a worker killed in the middle of a 30-student
class: how soon its students get their view back (reconnect through the
balancer, reopen with their URL), and the others' p95.

Bounded: every student makes a fixed number of moves, every wait has a
timeout, the whole run has a deadline; loopback only. Run::

    python bench/bench_class.py                      # both set-ups, 1/10/30/60 students
    python bench/bench_class.py --levels 1,10 --moves 4 --setups balancer --kill
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("ntm", "memn2n", "playground")
REPLY_TIMEOUT = 60.0
SOLO_MOVES = 30
"""Moves of a student alone in class: the p95 every class size is compared with needs more than a few replies."""
RUN_DEADLINE = 15 * 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
STREAMLIT_RUN = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true"]
SERVE = [sys.executable, "-m", "memviz.serve"]


# ------------------------------------------------------------------ recording
@dataclass
class Recording:
    """The frames a real browser sent on one page: opening it, and a changed ``Seed``."""

    page: str
    open_frame: bytes
    move_frame: bytes
    seed_widget_id: str


def record_pages(base_url: str, pages: tuple[str, ...] = PAGES) -> dict[str, Recording]:
    """Open each page in headless Chromium, change its seed, and keep the rerun messages it sent."""
    from playwright.sync_api import sync_playwright
    from streamlit.proto.BackMsg_pb2 import BackMsg

    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from conftest import CHROMIUM, CHROMIUM_ARGS, PageSession  # the browser tests' own set-up

    recordings = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for page in pages:
            tab = PageSession(browser, base_url)
            sent: list[bytes] = []
            tab.page.on("websocket", lambda ws, sent=sent: ws.on("framesent", lambda frame: sent.append(frame)))
            tab.open(f"{page}?seed=1")
            seed = tab.page.locator(".st-key-seed input").first
            seed.wait_for(timeout=120_000)  # a busy machine: the first run of a page on a fresh worker is slow
            tab.wait_idle()
            opened = len(sent)
            seed.fill("2")
            seed.press("Enter")
            tab.wait_idle()
            tab.close()
            reruns = [(i, m) for i, m in enumerate(_parse_all(sent, BackMsg)) if m.WhichOneof("type") == "rerun_script"]
            first = next(m for i, m in reruns if i < opened)
            move = [m for i, m in reruns if i >= opened][-1]
            seed_ids = [w.id for w in move.rerun_script.widget_states.widgets if w.id.endswith("-seed")]
            if not seed_ids:
                raise RuntimeError(f"the recorded {page} rerun carries no seed widget: has the page changed?")
            recordings[page] = Recording(page, first.SerializeToString(), move.SerializeToString(), seed_ids[0])
        browser.close()
    return recordings


def save_recordings(recordings: dict[str, Recording], path: Path) -> None:
    """Keep a recording (base64 frames) to replay it later without a browser."""
    import base64

    doc = {
        page: {
            "open": base64.b64encode(r.open_frame).decode(),
            "move": base64.b64encode(r.move_frame).decode(),
            "seed_widget_id": r.seed_widget_id,
        }
        for page, r in recordings.items()
    }
    path.write_text(json.dumps(doc, indent=1))


def load_recordings(path: Path) -> dict[str, Recording]:
    import base64

    doc = json.loads(path.read_text())
    return {
        page: Recording(page, base64.b64decode(d["open"]), base64.b64decode(d["move"]), d["seed_widget_id"])
        for page, d in doc.items()
    }


def _parse_all(frames: list[bytes], cls: type) -> list:
    out = []
    for frame in frames:
        if isinstance(frame, bytes):
            msg = cls()
            msg.ParseFromString(frame)
            out.append(msg)
    return out


def open_message(rec: Recording, seed: int) -> bytes:
    """The recorded page open, with the student's own link (``?seed=S``)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(rec.open_frame)
    msg.rerun_script.query_string = f"seed={seed}"
    msg.rerun_script.ClearField("cached_message_hashes")
    return msg.SerializeToString()


def move_message(rec: Recording, seed: int) -> bytes:
    """The recorded seed change, carrying the student's own seed in its URL (as a link or history step does).

    The recorded message's other widget values are kept; its seed value is
    left out, so the seed comes from the URL and the server must send the
    number input back with that value (``set_value``): the check that the
    reply shows this student's own state. (With the value in the widget state
    as well, Streamlit sends nothing back that names the seed.)
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(rec.move_frame)
    kept = [w for w in msg.rerun_script.widget_states.widgets if w.id != rec.seed_widget_id]
    del msg.rerun_script.widget_states.widgets[:]
    msg.rerun_script.widget_states.widgets.extend(kept)
    msg.rerun_script.query_string = f"seed={seed}"
    msg.rerun_script.ClearField("cached_message_hashes")
    return msg.SerializeToString()


# ------------------------------------------------------------------ one student
@dataclass
class Result:
    """What one student saw."""

    page: str
    open_s: float | None = None
    replies: list[float] = field(default_factory=list)
    wrong_state: int = 0
    exceptions: int = 0
    errors: list[str] = field(default_factory=list)
    reconnect_s: list[float] = field(default_factory=list)
    back_at: list[float] = field(default_factory=list)  # monotonic time each reconnect had the view back
    worker: str = ""


@dataclass
class Reply:
    seconds: float
    seeds_shown: list[float]  # the values the server set on the page's seed input
    exceptions: int


async def connect(base_url: str, cookie: str):
    """A websocket to ``/_stcore/stream`` as Streamlit's frontend opens it (subprotocol, Origin, cookies)."""
    import websockets

    headers = {"Origin": base_url}
    if cookie:
        headers["Cookie"] = cookie
    return await websockets.connect(
        base_url.replace("http://", "ws://") + "/_stcore/stream",
        subprotocols=["streamlit"],
        additional_headers=headers,
        max_size=None,
        open_timeout=REPLY_TIMEOUT,
        ping_interval=None,
    )


def get_cookies(base_url: str, attempts: int = 5) -> tuple[str, str]:
    """The cookies a browser gets before its websocket (the balancer's affinity cookie, Streamlit's XSRF one).

    Like the frontend's health ping, it tries again (a few times) after an error.
    """
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(base_url + "/_stcore/health", timeout=REPLY_TIMEOUT) as response:
                jar = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
            break
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.25 * (attempt + 1))
    worker = next((c.split("=", 1)[1] for c in jar if c.startswith("MEMVIZ_WORKER=")), "")
    return "; ".join(jar), worker


async def rerun(ws, frame: bytes) -> Reply:
    """Send one BackMsg and read ForwardMsgs until the run finishes."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    start = time.monotonic()
    await ws.send(frame)
    seeds: list[float] = []
    exceptions = 0
    while True:
        data = await asyncio.wait_for(ws.recv(), timeout=REPLY_TIMEOUT)
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            exceptions += element.WhichOneof("type") == "exception"
            number = element.number_input if element.WhichOneof("type") == "number_input" else None
            if number is not None and number.id.endswith("-seed") and number.set_value:
                seeds.append(number.value)
        elif kind == "script_finished" and msg.script_finished != msg.FINISHED_EARLY_FOR_RERUN:
            return Reply(time.monotonic() - start, seeds, exceptions)


async def student(
    index: int, base_url: str, rec: Recording, moves: int, think: tuple[float, float], start_delay: float
) -> Result:
    """Open the page with an own seed, then ``moves`` times: think, change the seed, check the reply."""
    import websockets

    rng = random.Random(index)
    result = Result(rec.page)
    seeds = [(index * 100 + k + 1) % 99_999 for k in range(moves + 1)]
    await asyncio.sleep(start_delay)
    cookie, result.worker = await asyncio.to_thread(get_cookies, base_url)
    ws = await connect(base_url, cookie)
    current = seeds[0]

    async def send(frame: bytes, opening: bool = False) -> Reply:
        """One rerun; if the worker is gone, reconnect through the balancer (as the browser does) and send it again.

        The reconnection itself reopens the page from the URL; an interrupted opening is not sent twice.
        """
        nonlocal ws
        try:
            return await rerun(ws, frame)
        except websockets.ConnectionClosed:
            ws, took, reopened = await reconnect(base_url, rec, current)
            result.reconnect_s.append(took)
            result.back_at.append(time.monotonic())
            return reopened if opening else await rerun(ws, frame)

    try:
        reply = await send(open_message(rec, seeds[0]), opening=True)
        result.open_s, result.exceptions = reply.seconds, reply.exceptions
        check(result, seeds[0], reply)
        for seed in seeds[1:]:
            await asyncio.sleep(rng.uniform(*think))
            reply = await send(move_message(rec, seed))
            result.replies.append(reply.seconds)
            result.exceptions += reply.exceptions
            check(result, seed, reply)
            current = seed
    except (TimeoutError, OSError, websockets.WebSocketException) as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await ws.close()
    return result


def check(result: Result, seed: int, reply: Reply) -> None:
    """Count a reply that does not show exactly this student's seed as a wrong-state reply."""
    if reply.seeds_shown != [seed]:
        result.wrong_state += 1
        result.errors.append(f"seed {seed}: the server set the seed input to {reply.seeds_shown}")


async def reconnect(base_url: str, rec: Recording, seed: int, deadline: float = 30.0):
    """Reconnect through the balancer after the websocket dropped and reopen the view from the URL.

    Returns the new websocket, the seconds it took and the reopened page's reply.
    """
    start = time.monotonic()
    delay = 0.2
    while time.monotonic() - start < deadline:
        try:
            cookie, _ = await asyncio.to_thread(get_cookies, base_url)
            ws = await connect(base_url, cookie)
            reply = await rerun(ws, open_message(rec, seed))
            if reply.seeds_shown != [seed]:
                raise RuntimeError(f"reopened with seed {seed}, the server showed {reply.seeds_shown}")
            return ws, time.monotonic() - start, reply
        except (OSError, TimeoutError, Exception):
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise TimeoutError(f"no reconnect within {deadline} s")


async def run_class(
    base_url: str, recordings: dict[str, Recording], students: int, moves: int, first_index: int, on_start=None
) -> list[Result]:
    """``students`` students at once, round-robin over the pages, starting within the first second."""
    from concurrent.futures import ThreadPoolExecutor

    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=students + 8))
    tasks = []
    for i in range(students):
        rec = recordings[PAGES[i % len(PAGES)]]
        tasks.append(student(first_index + i, base_url, rec, moves, (1.0, 2.0), random.Random(i).uniform(0, 1.0)))
    if on_start:
        tasks.append(on_start())
    out = await asyncio.gather(*tasks)
    return [r for r in out if isinstance(r, Result)]


# ------------------------------------------------------------------ servers
def free_port_block(count: int) -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + count < 65535:
            ok = True
            for i in range(count):
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", port + i))
                    except OSError:
                        ok = False
            if ok:
                return port
    raise RuntimeError("no free ports")


@dataclass
class Setup:
    """A running server set-up: its URL, the pids whose CPU and memory count, and how to stop it."""

    name: str
    url: str
    proc: subprocess.Popen
    run_dir: Path
    pids: list[int]
    stats_socket: Path | None = None

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_health(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def start_plain(run_dir: Path) -> Setup:
    """One plain ``streamlit run app.py`` (no balancer, no memviz limits): the set-up of the issue's table."""
    port = free_port_block(1)
    log = open(run_dir / "plain.log", "w")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(
        [*STREAMLIT_RUN, "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_health(url, proc)
    return Setup("plain, 1 server", url, proc, run_dir, [proc.pid])


def start_balanced(run_dir: Path, workers: int) -> Setup:
    """``memviz serve --workers N``: HAProxy in front of N workers."""
    port = free_port_block(workers + 1)
    serve_dir = run_dir / "serve"
    serve_dir.mkdir(exist_ok=True)
    (serve_dir / "state.json").unlink(missing_ok=True)
    log = open(run_dir / "serve.log", "w")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(
        [*SERVE, "--workers", str(workers), "--port", str(port), "--run-dir", str(serve_dir)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while not (serve_dir / "state.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"memviz serve did not start; see {run_dir / 'serve.log'}")
        time.sleep(0.3)
    wait_health(url, proc)
    state = json.loads((serve_dir / "state.json").read_text())
    while not all(spare["ready"] for spare in state.get("spares", [])):  # a spare warming up is no idle server
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"memviz serve's spare did not get ready; see {run_dir / 'serve.log'}")
        time.sleep(0.3)
        state = json.loads((serve_dir / "state.json").read_text())
    pids = [w["pid"] for w in state["workers"]]
    return Setup(f"balancer, {workers} workers", url, proc, run_dir, pids, Path(state["stats_socket"]))


def worker_pids(setup: Setup, spares: bool = False) -> list[int]:
    """The current worker pids (a killed worker is replaced by a spare or restarted, under a new pid).

    ``spares``: also the idle warm spares (their CPU is the server's; their memory is not a session's).
    """
    if setup.stats_socket is None:
        return setup.pids
    state = json.loads((setup.run_dir / "serve" / "state.json").read_text())
    return [w["pid"] for w in [*state["workers"], *(state.get("spares", []) if spares else [])] if w["pid"]]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError):
            pass
    return total


def rss_mib(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def health_check_failures(setup: Setup) -> dict[str, int]:
    """HAProxy's ``chkfail`` per worker (failed health checks), from its stats socket."""
    if setup.stats_socket is None:
        return {}
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(setup.stats_socket))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "streamlit" and row.get("svname", "").startswith(("w", "b")):
            out[row["svname"]] = int(row.get("chkfail") or 0)
    return out


# ------------------------------------------------------------------ levels and report
@dataclass
class Level:
    setup: str
    students: int
    p50: float
    p95: float
    max: float
    open_p50: float
    reruns_per_s: float
    cores: float
    cpu_ms_per_rerun: float
    rss_end: float
    wrong: int
    exceptions: int
    errors: int
    uptime: str
    notes: str = ""
    client_cores: float = 0.0
    balancer_cores: float = 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def summarise(setup: Setup, students: int, run: Run, results: list[Result] | None = None) -> Level:
    """A level's row; ``results``: only these students' (default: all of the run's)."""
    results = run.results if results is None else results
    wall, cpu = run.wall, run.server_cpu
    replies = [r for res in results for r in res.replies]
    opens = [res.open_s for res in results if res.open_s is not None]
    reruns = len(replies) + len(opens)
    return Level(
        setup.name,
        students,
        statistics.median(replies) if replies else float("nan"),
        percentile(replies, 0.95),
        max(replies, default=float("nan")),
        statistics.median(opens) if opens else float("nan"),
        reruns / wall,
        cpu / wall,
        1000 * cpu / max(reruns, 1),
        rss_mib(worker_pids(setup)),
        sum(res.wrong_state for res in results),
        sum(res.exceptions for res in results),
        sum(len(res.errors) for res in results),
        load_average(),
        client_cores=run.client_cpu / wall,
        balancer_cores=run.balancer_cpu / wall,
    )


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__().replace("'", "")


@dataclass
class Run:
    """One class run: the students' results, its wall time, and the CPU seconds each side used meanwhile."""

    results: list[Result]
    wall: float
    server_cpu: float
    client_cpu: float
    balancer_cpu: float


def run_level(setup: Setup, recordings, students: int, moves: int, first_index: int, on_start=None) -> Run:
    pids = worker_pids(setup, spares=True)
    balancer = [balancer_pid(setup)] if setup.stats_socket is not None else []
    cpu0, t0 = {pid: cpu_seconds([pid]) for pid in pids}, time.monotonic()
    client0, balancer0 = time.process_time(), cpu_seconds(balancer)
    results = asyncio.run(run_class(setup.url, recordings, students, moves, first_index, on_start))
    wall = time.monotonic() - t0
    # a worker killed during the level takes its CPU with it: count the pids alive at both ends, plus new ones
    # (a spare started during the level counts with its warm-up)
    now = worker_pids(setup, spares=True)
    cpu = sum(cpu_seconds([pid]) - cpu0.get(pid, 0.0) for pid in now if Path(f"/proc/{pid}").exists())
    return Run(results, wall, cpu, time.process_time() - client0, cpu_seconds(balancer) - balancer0)


def balancer_pid(setup: Setup) -> int:
    return json.loads((setup.run_dir / "serve" / "state.json").read_text())["balancer_pid"]


def oversized_query(setup: Setup, rec: Recording) -> tuple[int, int]:
    """Open a page with a 98 KB query value; the bytes the server sends back, and whether the run finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    async def go() -> int:
        cookie, _ = await asyncio.to_thread(get_cookies, setup.url)
        ws = await connect(setup.url, cookie)
        msg = BackMsg()
        msg.ParseFromString(rec.open_frame)
        msg.rerun_script.query_string = "seed=3&junk=" + "x" * 98_000
        total = 0
        await ws.send(msg.SerializeToString())
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            data = await asyncio.wait_for(ws.recv(), timeout=REPLY_TIMEOUT)
            total += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if fwd.WhichOneof("type") == "script_finished" and fwd.script_finished != fwd.FINISHED_EARLY_FOR_RERUN:
                await ws.close()
                return total

    return asyncio.run(go())


def print_table(levels: list[Level]) -> None:
    print(
        "\n| set-up | students | p50 | p95 | max | open p50 | reruns/s | cores | CPU ms/rerun | RSS MiB "
        "| wrong | exc | errors | students' cores | balancer cores | load (1/5/15 min) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for lv in levels:
        print(
            f"| {lv.setup} | {lv.students} | {lv.p50 * 1000:.0f} ms | {lv.p95 * 1000:.0f} ms | {lv.max * 1000:.0f} ms "
            f"| {lv.open_p50 * 1000:.0f} ms | {lv.reruns_per_s:.1f} | {lv.cores:.2f} | {lv.cpu_ms_per_rerun:.0f} "
            f"| {lv.rss_end:.0f} | {lv.wrong} | {lv.exceptions} | {lv.errors} | {lv.client_cores:.2f} "
            f"| {lv.balancer_cores:.2f} | {lv.uptime} |{lv.notes}"
        )


def bench_setup(setup: Setup, recordings, levels: list[int], moves: int, args) -> list[Level]:
    """Every class size on one set-up, then (balancer) the extras; prints as it goes."""
    out = []
    rss0 = rss_mib(worker_pids(setup))
    print(f"\n## {setup.name} at {setup.url}: RSS before {rss0:.0f} MiB, load {load_average()}", flush=True)
    run_level(setup, recordings, 4 * len(PAGES), 1, 90_000)  # warm-up, not counted: every page on every worker
    print(f"after warm-up ({4 * len(PAGES)} sessions, not counted): RSS {rss_mib(worker_pids(setup)):.0f} MiB")
    spares = set(worker_pids(setup, spares=True)) - set(worker_pids(setup))
    if spares:
        print(f"idle warm spares (outside the balancer until a worker dies): RSS {rss_mib(list(spares)):.0f} MiB")
    index = 0
    warm_rss = None
    first_p95 = None
    for students in levels:
        # one student's p95 is the yardstick of every level: from 30 replies, not from the 6 of one student's moves
        run = run_level(setup, recordings, students, max(moves, SOLO_MOVES) if students == 1 else moves, index)
        results = run.results
        index += students
        level = summarise(setup, students, run)
        if first_p95 is None:
            first_p95 = level.p95
            warm_rss = level.rss_end
        level.notes = f" p95 = {level.p95 / first_p95:.2f}x one student's"
        out.append(level)
        print_table([level])
        for res in results:
            for err in res.errors[:2]:
                print(f"    {res.page}: {err}")
    print(f"RSS after the levels: {rss_mib(worker_pids(setup)):.0f} MiB (after warm-up, 1 student: {warm_rss:.0f} MiB)")
    if setup.stats_socket is not None:
        print(f"HAProxy failed health checks: {health_check_failures(setup)}")
        if args.sessions > index:
            extra = args.sessions - index
            for batch_start in range(0, extra, 20):
                n = min(20, extra - batch_start)
                run_level(setup, recordings, n, 1, index)
                index += n
            time.sleep(2)
            rss = rss_mib(worker_pids(setup))
            print(f"RSS after {index} sessions: {rss:.0f} MiB = {rss / warm_rss:.2f}x after warm-up (target <= 1.5x)")
        reply_bytes = oversized_query(setup, recordings["ntm"])
        print(f"oversized query (one 98 KB value): the reply is {reply_bytes / 1024:.0f} KB")
        if args.kill:
            out.append(kill_run(setup, recordings, moves, index))
            print(f"HAProxy failed health checks: {health_check_failures(setup)}")
    return out


def kill_run(setup: Setup, recordings, moves: int, first_index: int) -> Level:
    """30 students; one worker is killed (SIGKILL) 4 s in. Its students reconnect; report how soon, and the others."""
    victim = worker_pids(setup)[0]
    killed_at: list[float] = []

    async def killer() -> None:
        await asyncio.sleep(4.0)
        os.kill(victim, signal.SIGKILL)
        killed_at.append(time.monotonic())

    run = run_level(setup, recordings, 30, moves, first_index, on_start=killer)
    results = run.results
    moved = [res for res in results if res.reconnect_s]
    others = [res for res in results if not res.reconnect_s]
    back = [t for res in moved for t in res.reconnect_s]
    since_kill = [t - killed_at[0] for res in moved for t in res.back_at] if killed_at else []
    level = summarise(setup, 30, run, others)
    level.setup += " (kill)"
    level.notes = (
        f" worker killed: {len(moved)} students reconnected; reconnect and reopen took "
        f"max {max(back, default=0):.2f} s "
        f"(p50 {statistics.median(back) if back else 0:.2f} s) from the moment each noticed; view back "
        f"{max(since_kill, default=0):.2f} s after the kill at the latest (a student thinking at the kill notices at "
        f"its next move; a browser reconnects at once); the row is the other {len(others)} students"
    )
    print_table([level])
    for res in results:
        for err in res.errors[:2]:
            print(f"    {res.page}: {err}")
    return level


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,10,30,60", help="class sizes, in order (default 1,10,30,60)")
    parser.add_argument("--moves", type=int, default=6, help="moves per student (default 6)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--setups", default="balancer,plain", help="balancer and/or plain (default both)")
    parser.add_argument("--sessions", type=int, default=200, help="sessions in all before the RSS check (balancer)")
    parser.add_argument("--kill", action="store_true", help="also kill a worker during a 30-student class")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument(
        "--recording", type=Path, help="reuse the browser recording in this file if it exists, else save it there"
    )
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    started = time.monotonic()
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("bench deadline")))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs the finally blocks: servers are stopped
    signal.alarm(int(RUN_DEADLINE))
    run_dir = Path(tempfile.mkdtemp(prefix="bench-class-"))
    print(f"# bench_class: {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores, load {load_average()}")
    rows: list[Level] = []
    recordings = None
    for name in args.setups.split(","):
        setup = start_balanced(run_dir, args.workers) if name == "balancer" else start_plain(run_dir)
        try:
            if recordings is None and args.recording and args.recording.exists():
                recordings = load_recordings(args.recording)
                print(f"reusing the browser recording {args.recording}")
            if recordings is None:
                recordings = record_pages(setup.url)
                print(f"recorded {', '.join(recordings)} in headless Chromium ({time.monotonic() - started:.0f} s)")
                if args.recording:
                    save_recordings(recordings, args.recording)
            rows += bench_setup(setup, recordings, levels, args.moves, args)
        finally:
            setup.stop()
    print("\n## all rows")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([lv.__dict__ for lv in rows], indent=1))
    print(f"\ntotal {time.monotonic() - started:.0f} s; load {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
