"""Benchmark the DNC engine (not a test): traced-run time against the NTM's, load time, weight sizes.

    .venv/bin/python bench/bench_dnc.py [--repeats 30]

The baseline is measured in the same run, interleaved with the DNC so that
other jobs on the machine slow both alike: the NTM's traced length-20 copy run
(``ntm-copy``, 41 steps). Issue 17 asks the DNC's traced length-20 copy run to
take no longer than the NTM's. Also: an intervention re-run (free gates 0 at
every step), the torch reference trace, loading, and the DNC weights against
their 5 MB budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

import memviz
from memviz.dnc.model import load, no_freeing
from memviz.registry import PRETRAINED_DIR
from memviz.tasks.copy import CopyTask

DNC_NAMES = ("dnc-copy", "dnc-reverse-copy", "dnc-multi-copy")


def interleaved(fns: dict[str, callable], repeats: int) -> dict[str, float]:
    """Median seconds per call of each function, calls interleaved (after one warm-up call each).

    The fastest call of each is kept too, under ``NAME_min`` (less sensitive to other jobs).
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {**{k: statistics.median(v) for k, v in times.items()}, **{f"{k}_min": min(v) for k, v in times.items()}}


def row(name: str, value: str, baseline: str, ok: bool | None) -> str:
    mark = "" if ok is None else ("ok" if ok else "OVER")
    return f"| {name:<46} | {value:>10} | {baseline:<34} | {mark:>4} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    dnc = load("dnc-copy")
    load_s = time.perf_counter() - start
    ntm = memviz.load_pretrained("ntm-copy")
    dnc_x = dnc.task.sample(np.random.default_rng(20), 1, 20).x[0]
    ntm_x = CopyTask().sample(np.random.default_rng(20), 1, 20).x[0]
    frees = no_freeing(dnc.config.read_heads)
    t = interleaved(
        {
            "ntm": lambda: ntm.run(ntm_x),
            "dnc": lambda: dnc.run(dnc_x),
            "dnc_free0": lambda: dnc.run(dnc_x, frees),
            "dnc_torch": lambda: dnc.run_torch(dnc_x),
        },
        args.repeats,
    )
    lines = [
        row("measure", "value", "baseline (same run)", None),
        "|" + "-" * 48 + "|" + "-" * 12 + "|" + "-" * 36 + "|------|",
    ]
    lines.append(
        row(
            "dnc-copy traced run, length 20 (41 steps)",
            f"{1000 * t['dnc']:.2f} ms",
            f"ntm-copy {1000 * t['ntm']:.2f} ms ({t['dnc'] / t['ntm']:.3f}x)",
            t["dnc"] <= t["ntm"],
        )
    )
    lines.append(
        row(
            "  fastest of the runs",
            f"{1000 * t['dnc_min']:.2f} ms",
            f"ntm-copy fastest {1000 * t['ntm_min']:.2f} ms ({t['dnc_min'] / t['ntm_min']:.3f}x)",
            t["dnc_min"] <= t["ntm_min"],
        )
    )
    lines.append(row("  with free gates 0 at every step", f"{1000 * t['dnc_free0']:.1f} ms", "", None))
    lines.append(row("  torch reference trace (run_torch)", f"{1000 * t['dnc_torch']:.1f} ms", "", None))
    lines.append(row("load dnc-copy (first call)", f"{1000 * load_s:.1f} ms", "", None))
    total = 0
    for name in DNC_NAMES:
        path = PRETRAINED_DIR / f"{name}.safetensors"
        size = path.stat().st_size if path.is_file() else 0
        total += size
        lines.append(row(f"  {path.name}", f"{size / 1e3:.1f} kB", "" if size else "missing", None))
    lines.append(row("DNC weights, total", f"{total / 1e6:.3f} MB", "budget 5 MB", total <= 5e6))
    if (PRETRAINED_DIR / "dnc-multi-copy.json").is_file():
        multi = load("dnc-multi-copy")
        x = multi.task.sample(np.random.default_rng(1), 1, (multi.task.count, multi.task.max_length)).x[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tm = interleaved({"multi": lambda: multi.run(x)}, args.repeats)["multi"]
        lines.append(row(f"dnc-multi-copy traced run ({x.shape[0]} steps)", f"{1000 * tm:.1f} ms", "", None))
    load_avg = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"memviz DNC bench: torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} cores, "
        f"load average {load_avg} (other jobs slow every figure), median of {args.repeats} interleaved runs"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
