"""Evaluate a shipped NTM/LSTM model: ``python -m memviz.evaluate NAME [options]``.

For each size (copy: sequence length; repeat copy: ``LxN`` = length x repeats;
associative recall: number of items) it runs ``--sequences`` fresh random
episodes (default 500, from a seed apart from training and validation) and
prints the mean bit errors per sequence and the share of perfect sequences.
``--write`` stores the table in the model's card under ``metrics``.

Examples::

    python -m memviz.evaluate ntm-copy --lengths 10,20,40,80,120
    python -m memviz.evaluate ntm-repeat-copy --sizes 10x10,20x10,10x20
    python -m memviz.evaluate ntm-associative-recall --sizes 2,6,12 --write
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memviz.registry import PRETRAINED_DIR, load_pretrained, write_card

EVAL_SEED = 20_141_020
"""Seed of the evaluation data (distinct from every training and validation seed)."""


def parse_size(text: str) -> int | tuple[int, int]:
    """``"20"`` -> 20, ``"10x5"`` -> (10, 5)."""
    text = text.strip().lower()
    if "x" in text:
        a, b = text.split("x", 1)
        return int(a), int(b)
    return int(text)


def size_label(size: int | tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, tuple) else str(size)


def in_training_range(task: Any, size: int | tuple[int, int]) -> bool:
    return size in task.train_sizes()


def evaluate_size(
    model: torch.nn.Module, task: Any, size: int | tuple[int, int], sequences: int, seed: int, batch: int = 250
) -> dict[str, Any]:
    """Bit errors per sequence over ``sequences`` fresh episodes of one size."""
    rng = np.random.default_rng([seed, *np.atleast_1d(size).tolist()])
    errors = []
    left = sequences
    while left > 0:
        b = task.sample(rng, min(batch, left), size)
        errors.append(task.score(model.predict(b.x), b.y, b.mask))
        left -= b.x.shape[0]
    e = np.concatenate(errors)
    return {
        "size": size_label(size),
        "in_training_range": in_training_range(task, size),
        "sequences": int(e.size),
        "mean_bit_errors": round(float(e.mean()), 4),
        "perfect_share": round(float((e == 0).mean()), 4),
        "max_bit_errors": int(e.max()),
    }


def evaluate(
    model: torch.nn.Module, task: Any, sizes: list[Any], sequences: int = 500, seed: int = EVAL_SEED
) -> list[dict[str, Any]]:
    """One row per size (see :func:`evaluate_size`)."""
    return [evaluate_size(model, task, size, sequences, seed) for size in sizes]


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregates over the training range: mean bit errors and the worst perfect share."""
    inside = [r for r in rows if r["in_training_range"]]
    if not inside:
        return {}
    return {
        "train_range_mean_bit_errors": round(float(np.mean([r["mean_bit_errors"] for r in inside])), 4),
        "train_range_min_perfect_share": min(r["perfect_share"] for r in inside),
        "train_range_worst_size": max(inside, key=lambda r: r["mean_bit_errors"])["size"],
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of the rows."""
    lines = [f"{'size':>8} {'train?':>6} {'seqs':>5} {'mean bit errors':>16} {'perfect':>8} {'max':>5}"]
    for r in rows:
        lines.append(
            f"{r['size']:>8} {('yes' if r['in_training_range'] else 'no'):>6} {r['sequences']:>5} "
            f"{r['mean_bit_errors']:>16.4f} {100 * r['perfect_share']:>7.1f}% {r['max_bit_errors']:>5}"
        )
    return "\n".join(lines)


def main(name: str, argv: list[str]) -> int:
    """``python -m memviz.evaluate NAME [--lengths ...|--sizes ...] [--sequences 500] [--write]``."""
    parser = argparse.ArgumentParser(prog=f"python -m memviz.evaluate {name}", description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", "--sizes", dest="sizes", help="comma-separated sizes, e.g. 10,20,40 or 10x10")
    parser.add_argument("--sequences", type=int, default=500, help="fresh sequences per size (default 500)")
    parser.add_argument("--seed", type=int, default=EVAL_SEED, help="seed of the evaluation data")
    parser.add_argument("--write", action="store_true", help="write the table into the model's card")
    parser.add_argument("--dir", type=Path, default=PRETRAINED_DIR, help="folder of the pretrained files")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    model = load_pretrained(name, args.dir)
    card, task = model.card, model.task
    sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else task.eval_sizes()
    start = time.perf_counter()
    rows = evaluate(model, task, sizes, args.sequences, args.seed)
    print(f"{name}: bit errors per sequence over {args.sequences} fresh sequences per size (seed {args.seed})")
    print(format_table(rows))
    summary = summarise(rows)
    for key, value in summary.items():
        print(f"{key}: {value}")
    if args.write:
        card.metrics = {
            "command": f"python -m memviz.evaluate {name} --sequences {args.sequences} --seed {args.seed}",
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "eval_seconds": round(time.perf_counter() - start, 1),
            **summary,
            "by_size": rows,
        }
        path = write_card(card, args.dir)
        print(f"wrote metrics into {path}")
    return 0
