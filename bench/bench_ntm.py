"""Benchmark the NTM engine (not a test): load time, traced-run time, size of pretrained/.

    .venv/bin/python bench/bench_ntm.py [--repeats 20]

Each figure is printed beside a baseline measured in the same run: loading is
compared with reading the raw safetensors file, a traced run with the same
episode through the untraced batched path (``model.predict``) and through the
LSTM baseline, and the size of pretrained/ with the 10 MB budget (issue 3).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

t0 = time.perf_counter()
import torch  # noqa: E402

TORCH_IMPORT_S = time.perf_counter() - t0

import numpy as np  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

import memviz  # noqa: E402
from memviz.ntm.model import Override  # noqa: E402
from memviz.registry import PRETRAINED_DIR, weights_path  # noqa: E402
from memviz.tasks.copy import CopyTask  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, float]:
    """(first call, median of the next ``repeats`` calls) in seconds."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def row(name: str, value: str, baseline: str, budget: str, ok: bool | None) -> str:
    mark = "" if ok is None else ("ok" if ok else "OVER")
    return f"| {name:<44} | {value:>12} | {baseline:<40} | {budget:>9} | {mark:>4} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = memviz.list_pretrained()
    if "ntm-copy" not in names:
        raise SystemExit("pretrained/ntm-copy is missing: run `python -m memviz.train ntm-copy` first")

    lines = [
        row("measure", "value", "baseline (same run)", "budget", None),
        "|" + "-" * 46 + "|" + "-" * 14 + "|" + "-" * 42 + "|" + "-" * 11 + "|" + "-" * 6 + "|",
    ]
    lines.append(row("import torch", f"{1000 * TORCH_IMPORT_S:.0f} ms", "", "", None))

    first, load_s = timed(lambda: memviz.load_pretrained("ntm-copy"), args.repeats)
    _, raw_s = timed(lambda: load_file(str(weights_path("ntm-copy"))), args.repeats)
    lines.append(
        row(
            "load_pretrained('ntm-copy') (first/median)",
            f"{1000 * first:.1f}/{1000 * load_s:.1f} ms",
            f"raw safetensors read {1000 * raw_s:.2f} ms",
            "500 ms",
            max(first, load_s) <= 0.5,
        )
    )
    if "lstm-copy" in names:
        _, lstm_load = timed(lambda: memviz.load_pretrained("lstm-copy"), args.repeats)
        lines.append(
            row("load_pretrained('lstm-copy') (median)", f"{1000 * lstm_load:.1f} ms", "", "500 ms", lstm_load <= 0.5)
        )

    model = memviz.load_pretrained("ntm-copy")
    task = CopyTask()
    for length in (20, 80):
        x = task.sample(np.random.default_rng(length), 1, length).x
        _, traced = timed(lambda x=x: model.run(x[0]), args.repeats)
        _, plain = timed(lambda x=x: model.predict(x), args.repeats)
        budget = "50 ms" if length == 20 else ""
        ok = traced <= 0.05 if length == 20 else None
        lines.append(
            row(
                f"traced run, copy length {length} ({x.shape[1]} steps)",
                f"{1000 * traced:.1f} ms",
                f"untraced predict {1000 * plain:.1f} ms",
                budget,
                ok,
            )
        )
        if length == 20:
            o = Override(head="write0", step=10, g=0.0, shift=(0, 0, 1), gamma=20.0)
            _, over = timed(lambda x=x, o=o: model.run(x[0], overrides=o), args.repeats)
            lines.append(
                row(
                    "traced run with an override at step 10",
                    f"{1000 * over:.1f} ms",
                    f"plain traced run {1000 * traced:.1f} ms",
                    "50 ms",
                    over <= 0.05,
                )
            )
            if "lstm-copy" in names:
                lstm = memviz.load_pretrained("lstm-copy")
                _, lstm_run = timed(lambda x=x, lstm=lstm: lstm.run(x[0]), args.repeats)
                lines.append(row("lstm-copy run, copy length 20", f"{1000 * lstm_run:.1f} ms", "", "", None))

    files = sorted(p for p in PRETRAINED_DIR.iterdir() if p.is_file())
    total = sum(p.stat().st_size for p in files)
    ours = sum(p.stat().st_size for p in files if p.name.split("-", 1)[0] in ("ntm", "lstm"))
    lines.append(
        row("size of pretrained/ (all files)", f"{total / 1e6:.2f} MB", f"{len(files)} files", "10 MB", total <= 10e6)
    )
    lines.append(row("  of which ntm-*/lstm-*", f"{ours / 1e6:.2f} MB", "", "6 MB", ours <= 6e6))
    for p in files:
        if p.name.split("-", 1)[0] in ("ntm", "lstm"):
            lines.append(row(f"    {p.name}", f"{p.stat().st_size / 1e3:.1f} kB", "", "", None))
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"memviz NTM bench: torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} cores, "
        f"load average {load} (other jobs slow every figure), median of {args.repeats} runs after a first call"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
