"""Evaluate a shipped DNC: ``python -m memviz.dnc.evaluate NAME [options]`` (``python -m memviz.evaluate NAME``).

For every size of the task's training range and beyond it, up to twice the
range (copy and reverse copy: lengths up to 2 x max; multi-copy: twice as many
sequences, 6 instead of 3), it runs ``--episodes`` fresh random episodes
(default 500, seeded apart from training and validation) and records bit
errors per episode and the share of perfect episodes. The table goes into the
card's ``metrics`` (``--no-write`` to only print it).

For multi-copy it also measures memory reuse (Graves et al. 2016, Methods,
"Dynamic memory allocation") on traced episodes of the longest training size:

* ``reused_slot_share``: of the slots a sequence (not the last) was written
  into, the share whose usage fell below 0.5 after that sequence was read back
  and rose above 0.5 again when a later sequence was written there;
* ``free_gates_zero``: bit errors when every read head's free gate is
  overridden to 0 at every step (nothing is ever freed), beside the plain run.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memviz.dnc.model import DNC, load, no_freeing
from memviz.dnc.train import long_sizes
from memviz.registry import PRETRAINED_DIR

EVAL_SEED = 20_161_012
"""Seed of the evaluation data (the DNC paper's publication date; distinct from training and validation seeds)."""

REUSE_EPISODES = 100
THRESHOLD = 0.5


def size_label(size: int | tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, tuple) else str(size)


def parse_size(text: str) -> int | tuple[int, int]:
    """``"20"`` -> 20, ``"6x8"`` -> (6, 8)."""
    text = text.strip().lower()
    if "x" in text:
        a, b = text.split("x", 1)
        return int(a), int(b)
    return int(text)


def default_sizes(task: Any) -> list[Any]:
    """The training range, then beyond it up to twice the range."""
    return [*task.train_sizes(), *long_sizes(task)]


def evaluate_size(model: DNC, task: Any, size: Any, episodes: int, seed: int, batch: int = 250) -> dict[str, Any]:
    """Bit errors per episode over ``episodes`` fresh episodes of one size."""
    rng = np.random.default_rng([seed, *np.atleast_1d(size).tolist()])
    errors, left = [], episodes
    while left > 0:
        b = task.sample(rng, min(batch, left), size)
        errors.append(task.score(model.predict(b.x), b.y, b.mask))
        left -= b.x.shape[0]
    e = np.concatenate(errors)
    return {
        "in_training_range": size in task.train_sizes(),
        "episodes": int(e.size),
        "mean_bit_errors": round(float(e.mean()), 4),
        "perfect_share": round(float((e == 0).mean()), 4),
        "max_bit_errors": int(e.max()),
    }


def summarise(per_size: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Worst perfect share and mean bit errors inside and beyond the training range."""
    out: dict[str, Any] = {}
    for label, inside in (("train_range", True), ("beyond_range", False)):
        rows = {k: r for k, r in per_size.items() if r["in_training_range"] == inside}
        if rows:
            out[f"{label}_min_perfect_share"] = min(r["perfect_share"] for r in rows.values())
            out[f"{label}_mean_bit_errors"] = round(float(np.mean([r["mean_bit_errors"] for r in rows.values()])), 4)
            out[f"{label}_worst_size"] = max(rows, key=lambda k: rows[k]["mean_bit_errors"])
    return out


# --------------------------------------------------------------------------- multi-copy reuse


def reused_slots(trace: Any, task: Any, size: tuple[int, int]) -> tuple[int, int]:
    """(reused, written) slot counts of one multi-copy episode (see the module docstring)."""
    count, length = size
    starts = task.block_starts(size)
    ww, usage = trace.write_weights, trace.usage
    written = [ww[s : s + length].sum(axis=0) > THRESHOLD for s in starts]  # [count][N]: slots a sequence wrote
    reused = total = 0
    for k in range(count - 1):
        read_end = starts[k] + 2 * length  # the last step of block k's copy
        for slot in np.flatnonzero(written[k]):
            total += 1
            later = [j for j in range(k + 1, count) if written[j][slot]]
            if not later:
                continue
            rewrite = starts[later[0]] + int(np.argmax(ww[starts[later[0]] : starts[later[0]] + length, slot]))
            fell = usage[read_end:rewrite, slot].min(initial=1.0) < THRESHOLD
            rose = usage[rewrite:, slot].max(initial=0.0) > THRESHOLD
            reused += int(fell and rose)
    return reused, total


def reuse_metrics(model: DNC, task: Any, episodes: int = REUSE_EPISODES, seed: int = EVAL_SEED) -> dict[str, Any]:
    """Reuse share on traced episodes of the longest training size, and bit errors with free gates at 0."""
    size = (task.count, task.max_length)
    rng = np.random.default_rng([seed, 7])
    b = task.sample(rng, episodes, size)
    reused = total = 0
    plain, frozen = [], []
    frees = no_freeing(model.config.read_heads)
    for i in range(episodes):
        with warnings.catch_warnings():  # more vectors than slots is the point of the task
            warnings.simplefilter("ignore")
            trace = model.run(b.x[i])
            frozen_outputs = model.run(b.x[i], frees).outputs
        r, t = reused_slots(trace, task, size)
        reused, total = reused + r, total + t
        plain.append(int(task.score(trace.outputs, b.y[i], b.mask[i])))
        frozen.append(int(task.score(frozen_outputs, b.y[i], b.mask[i])))
    plain_a, frozen_a = np.array(plain), np.array(frozen)
    return {
        "size": size_label(size),
        "episodes": episodes,
        "memory_slots": model.config.memory_n,
        "vectors_per_episode": size[0] * size[1],
        "reused_slot_share": round(reused / max(total, 1), 4),
        "slots_written_before_last_sequence": total,
        "plain": {"mean_bit_errors": round(float(plain_a.mean()), 3), "perfect_share": float((plain_a == 0).mean())},
        "free_gates_zero": {
            "mean_bit_errors": round(float(frozen_a.mean()), 3),
            "perfect_share": float((frozen_a == 0).mean()),
            "bits_scored_per_episode": int(b.mask[0].sum() * task.bits),
        },
    }


# --------------------------------------------------------------------------- CLI


def main(name: str, argv: list[str]) -> int:
    """``python -m memviz.evaluate NAME [--sizes ...] [--episodes 500] [--no-write]``."""
    parser = argparse.ArgumentParser(prog=f"python -m memviz.evaluate {name}", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated sizes, e.g. 5,10,20 or 3x8,6x8 (default: range and beyond)")
    parser.add_argument("--episodes", type=int, default=500, help="fresh episodes per size (default 500)")
    parser.add_argument("--seed", type=int, default=EVAL_SEED, help="seed of the evaluation data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the card as it is")
    parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR, help="folder of the pretrained files")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    model = load(name, args.dir)
    task = model.task
    sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else default_sizes(task)
    start = time.perf_counter()
    per_size = {size_label(s): evaluate_size(model, task, s, args.episodes, args.seed) for s in sizes}
    print(f"{name}: bit errors per episode over {args.episodes} fresh episodes per size (seed {args.seed})")
    print(f"{'size':>6} {'train?':>6} {'mean bit errors':>16} {'perfect':>8} {'max':>4}")
    for label, r in per_size.items():
        print(
            f"{label:>6} {('yes' if r['in_training_range'] else 'no'):>6} {r['mean_bit_errors']:>16.4f} "
            f"{100 * r['perfect_share']:>7.1f}% {r['max_bit_errors']:>4}"
        )
    metrics: dict[str, Any] = {
        "command": f"python -m memviz.evaluate {name}",
        "episodes_per_size": args.episodes,
        "seed": args.seed,
        **summarise(per_size),
        "per_size": per_size,
    }
    if task.name == "multi_copy":
        metrics["reuse"] = reuse_metrics(model, task)
        print("reuse:", json.dumps(metrics["reuse"]))
    metrics["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    metrics["eval_seconds"] = round(time.perf_counter() - start, 1)
    for key in ("train_range_min_perfect_share", "train_range_mean_bit_errors", "beyond_range_min_perfect_share"):
        if key in metrics:
            print(f"{key}: {metrics[key]}")
    if not args.no_write:
        card_file = Path(args.dir) / f"{name}.json"
        card = json.loads(card_file.read_text())
        card["metrics"] = metrics
        card_file.write_text(json.dumps(card, indent=2) + "\n")
        print(f"wrote metrics into {card_file}")
    return 0


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print("usage: python -m memviz.dnc.evaluate NAME [options]")
        raise SystemExit(2)
    raise SystemExit(main(sys.argv[1], sys.argv[2:]))
