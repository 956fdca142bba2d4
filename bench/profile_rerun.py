"""Where a rerun's server CPU goes, per page: one ``memviz.ui.worker`` with ``MEMVIZ_PROFILE``, replayed seed changes.

For each page (NTM, MemN2N, Playground) a fresh worker is started, opened
with the browser recording of ``bench_class.py`` (``--recording``; recorded
anew if missing) and driven through ``--moves`` seed changes, one at a time.
Printed per page: the worker's CPU per rerun measured from ``/proc`` without
the profiler (the number to compare), then with the profiler on: the script
thread's CPU split by where the time is spent (page code, figures, the model,
Streamlit's element and widget code, protobuf, JSON, the post-run garbage
collection), the event loop's serialisation of messages, and the top
functions. ``--streamlit-arg`` passes worker options (e.g.
``--runner.postScriptGC=false``) to compare settings.

    python bench/profile_rerun.py --moves 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_class as bc

ROOT = bc.ROOT
GROUPS = [
    ("gc after the run", ("{built-in method gc.collect}",)),
    ("model (memviz.ntm / memn2n, torch)", ("memviz/ntm/", "memviz/memn2n/", "memviz/tasks/", "torch/")),
    ("figures (memviz.figures)", ("memviz/figures/",)),
    ("page code (memviz.ui, pages)", ("memviz/ui/", "/pages/", "memviz/playground.py", "memviz/addressing.py")),
    ("plotly", ("plotly/",)),
    ("protobuf", ("google/protobuf", "_pb2", "SerializeToString", "MergeFrom", "CopyFrom")),
    ("JSON", ("json/", "orjson", "{built-in method orjson")),
    ("numpy / pandas", ("numpy/", "pandas/")),
    ("streamlit widgets", ("streamlit/elements/widgets/", "streamlit/runtime/state/")),
    ("streamlit elements, layout", ("streamlit/elements/", "streamlit/delta_generator")),
    ("streamlit runtime, other", ("streamlit/",)),
]


def start_worker(port: int, profile: Path | None, extra: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if profile:
        env["MEMVIZ_PROFILE"] = str(profile)
    cmd = [sys.executable, "-m", "memviz.ui.worker", "run", str(ROOT / "app.py"), "--server.headless=true"]
    cmd += ["--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


async def drive(url: str, rec: bc.Recording, moves: int) -> tuple[int, list[float]]:
    """Open once, then ``moves`` seed changes back to back (one student, no think time)."""
    cookie, _ = await asyncio.to_thread(bc.get_cookies, url)
    ws = await bc.connect(url, cookie)
    await bc.rerun(ws, bc.open_message(rec, 1))
    await bc.rerun(ws, bc.move_message(rec, 2))  # warm: first trace, first figures
    times = []
    for k in range(moves):
        reply = await bc.rerun(ws, bc.move_message(rec, 1000 + k))
        if reply.seeds_shown != [1000 + k]:
            raise RuntimeError(f"wrong state: {reply.seeds_shown}")
        times.append(reply.seconds)
    await ws.close()
    return moves, times


def cpu_per_rerun(page: str, rec: bc.Recording, moves: int, extra: list[str], profile: Path | None) -> tuple:
    port = bc.free_port_block(1)
    proc = start_worker(port, profile, extra)
    url = f"http://127.0.0.1:{port}"
    try:
        bc.wait_health(url, proc)
        asyncio.run(drive(url, rec, 1))  # warm-up, outside the measurement
        cpu0 = bc.cpu_seconds([proc.pid])
        n, times = asyncio.run(drive(url, rec, moves))
        cpu = bc.cpu_seconds([proc.pid]) - cpu0
        return cpu / (n + 2), sorted(times)[len(times) // 2]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def group_of(key: tuple[str, int, str]) -> str:
    text = f"{key[0]}:{key[2]}"
    for name, needles in GROUPS:
        if any(n in text for n in needles):
            return name
    return "other (python, stdlib)"


def report_profile(path: Path) -> None:
    summary = json.loads(Path(str(path) + ".json").read_text())
    stats = pstats.Stats(str(path))
    runs = summary["runs"]
    groups: dict[str, float] = {}
    for key, (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        groups[group_of(key)] = groups.get(group_of(key), 0.0) + tottime
    total = sum(groups.values())
    print(
        f"  profiled: {runs} script runs, "
        f"script thread {1000 * summary['script_cpu_s'] / runs:.0f} ms/run (profiler on)"
    )
    for name, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"    {name:38s} {1000 * seconds / runs:6.1f} ms/run  {100 * seconds / total:4.0f}%")
    msgs = max(summary["messages"], 1)
    print(
        f"  event loop: serialising {summary['messages'] / runs:.0f} messages/run, "
        f"{summary['serialize_bytes'] / runs / 1024:.0f} KB/run, {1000 * summary['serialize_s'] / runs:.1f} ms/run "
        f"({1e6 * summary['serialize_s'] / msgs:.0f} us/message)"
    )
    print("  top functions by own time:")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
    for (file, line, func), (_cc, nc, tottime, _cumtime, _callers) in rows:
        short = "/".join(file.split("/")[-2:])
        print(f"    {1000 * tottime / runs:6.1f} ms/run  {nc // runs:6d} calls/run  {func} ({short}:{line})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--pages", default=",".join(bc.PAGES))
    parser.add_argument("--recording", type=Path, default=ROOT / "artifacts" / "bench_class_recording.json")
    parser.add_argument("--streamlit-arg", action="append", default=[], help="a worker option, e.g. --runner.x=y")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per rerun, without the profiler")
    args = parser.parse_args()
    print(
        f"# profile_rerun: {time.strftime('%H:%M:%S')}, load {bc.load_average()}, worker options {args.streamlit_arg}"
    )
    if args.recording.exists():
        recordings = bc.load_recordings(args.recording)
    else:
        port = bc.free_port_block(1)
        proc = start_worker(port, None, [])
        try:
            bc.wait_health(f"http://127.0.0.1:{port}", proc)
            recordings = bc.record_pages(f"http://127.0.0.1:{port}")
            args.recording.parent.mkdir(exist_ok=True)
            bc.save_recordings(recordings, args.recording)
        finally:
            proc.terminate()
    tmp = Path(tempfile.mkdtemp(prefix="profile-rerun-"))
    for page in args.pages.split(","):
        cpu, p50 = cpu_per_rerun(page, recordings[page], args.moves, args.streamlit_arg, None)
        print(
            f"\n## {page}: {1000 * cpu:.0f} ms CPU per rerun (worker process, no profiler), "
            f"reply p50 {1000 * p50:.0f} ms"
        )
        if not args.no_profile:
            profile = tmp / f"{page}.pstats"
            cpu_per_rerun(page, recordings[page], args.moves, args.streamlit_arg, profile)
            report_profile(profile)
    print(f"\nload {bc.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
