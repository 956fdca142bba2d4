"""Evaluate a MemN2N model: ``python -m memviz.evaluate memn2n-babi --data DIR [--write-card]``.

Prints the per-task error (%) beside the paper's numbers for the same setting, the mean
error and the failed tasks (error > 5%), for any folder of bAbI v1.2 files. By default it
scores the validation split the model was selected on (the last 10% of each training
file); ``--split test`` scores ``qaN_*_test.txt`` files, ``--split all`` whole files.

It also measures generator fidelity: the model's accuracy on generated questions
(``memviz.tasks.babi_generator``) beside its accuracy on the real data of the same task.
``--write-card`` stores both tables in ``pretrained/NAME.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memviz.memn2n.model import MemN2N, UnknownWordsError
from memviz.memn2n.train import FAIL_THRESHOLD, encode_examples, predict, resolve_task_files, summarise
from memviz.registry import PRETRAINED_DIR, load_pretrained, write_card
from memviz.tasks.babi import TASK_NAMES, BabiExample, find_task_file, load_babi_file, split_validation, tokenize
from memviz.tasks.babi_generator import GENERATED_TASKS, generate_examples


def _errors_from_accuracy(acc: list[float]) -> dict[int, float]:
    return {t + 1: round(100 * (1 - a), 1) for t, a in enumerate(acc)}


# Test error (%) reported for MemN2N, per task. The 1k joint columns are Table 1 of
# Sukhbaatar et al. 2015 (3 hops PE LS RN joint; 2 hops and 1 hop PE LS joint); the 10k
# joint column is the MemN2N result quoted in Graves et al. 2016 (DNC, Nature), Extended
# Data Table 1. Values were transcribed from public copies of those tables.
PAPER: dict[str, dict[int, float]] = {
    "1k joint 3 hops PE LS RN": _errors_from_accuracy(
        [
            1.0,
            0.886,
            0.781,
            0.866,
            0.856,
            0.972,
            0.817,
            0.907,
            0.981,
            0.935,
            0.997,
            0.999,
            0.998,
            0.931,
            1.0,
            0.973,
            0.596,
            0.906,
            0.12,
            1.0,
        ]
    ),
    "1k joint 2 hops PE LS": _errors_from_accuracy(
        [
            1.0,
            0.844,
            0.684,
            0.978,
            0.866,
            0.977,
            0.746,
            0.883,
            0.98,
            0.95,
            0.988,
            1.0,
            0.998,
            0.919,
            0.995,
            0.487,
            0.588,
            0.897,
            0.101,
            0.999,
        ]
    ),
    "1k joint 1 hop PE LS": _errors_from_accuracy(
        [
            0.992,
            0.38,
            0.231,
            0.772,
            0.89,
            0.928,
            0.841,
            0.868,
            0.949,
            0.894,
            0.916,
            0.996,
            0.937,
            0.631,
            0.536,
            0.526,
            0.556,
            0.904,
            0.093,
            1.0,
        ]
    ),
    "10k joint (DNC paper)": dict(
        enumerate(
            [0.0, 1.0, 6.8, 0.0, 6.1, 0.1, 6.6, 2.7, 0.0, 0.5, 0.0, 0.1, 0.0, 0.0, 0.2, 0.2, 41.8, 8.0, 75.7, 0.0], 1
        )
    ),
}
PAPER_FOR_HOPS = {1: "1k joint 1 hop PE LS", 2: "1k joint 2 hops PE LS", 3: "1k joint 3 hops PE LS RN"}
PAPER_ANCHORS = (
    "Paper anchors: 1k joint PE LS RN 3 hops 12.4% mean / 11 failed (Sukhbaatar et al. 2015, Table 1); "
    "10k joint MemN2N 7.5% / 6 failed (quoted by Graves et al. 2016); best MemN2N 10k result quoted "
    "4.2% / 3 failed (per-task models, not joint)."
)


def check_vocabulary(model: MemN2N, examples: list[BabiExample], source: str) -> list[BabiExample]:
    """Raise UnknownWordsError naming the file when a story or question uses unknown words."""
    tokens = {t for e in examples for text in (*e.story, e.question) for t in tokenize(text)}
    unknown = sorted(tokens - set(model.vocab.index))
    if unknown:
        raise UnknownWordsError(unknown, {w: model.vocab.suggest(w) for w in unknown}, where=source)
    return examples


def task_error(model: MemN2N, examples: list[BabiExample]) -> float:
    """Error (%) of the model on examples; answers it cannot produce count as wrong."""
    known = [e for e in examples if e.answer.lower() in model.vocab.answer_pos]
    if not known:
        return 100.0
    data = encode_examples(known, model.vocab, model.config.memory_size)
    correct = int((predict(model, data) == data.answers).sum())
    return 100.0 * (1 - correct / len(examples))


def load_split(data: str | Path, split: str) -> tuple[dict[int, list[BabiExample]], dict[int, str]]:
    """task -> examples of the chosen split, and task -> source file."""
    if split in ("valid", "all"):
        files = resolve_task_files(data)
    else:
        root = Path(data)
        folders = [root, root / "en-10k", root / "en"]
        files = {}
        for task in range(1, 21):
            for folder in folders:
                path = find_task_file(folder, task, split) if folder.is_dir() else None
                if path is not None:
                    files[task] = path
                    break
        if not files:
            raise FileNotFoundError(f"no qaN_*_{split}.txt files in {root}")
    out = {}
    for task, path in files.items():
        examples = load_babi_file(path)
        out[task] = split_validation(examples)[1] if split == "valid" else examples
    return out, {t: f"{p.parent.name}/{p.name}" for t, p in files.items()}


def evaluate_real(model: MemN2N, data: str | Path, split: str) -> dict[str, Any]:
    splits, sources = load_split(data, split)
    errors = {}
    for task, examples in sorted(splits.items()):
        check_vocabulary(model, examples, sources[task])
        errors[task] = task_error(model, examples)
    result = summarise(errors)
    result.update({"split": split, "sources": sources, "questions": {str(t): len(e) for t, e in splits.items()}})
    return result


def generator_fidelity(model: MemN2N, real: dict[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """Accuracy on ``n`` generated questions per task beside accuracy on the real split."""
    rows = []
    for task in GENERATED_TASKS:
        examples = generate_examples(task, n, seed)
        gen_acc = 100.0 - task_error(model, examples)
        real_err = real["per_task_error"].get(str(task))
        real_acc = None if real_err is None else 100.0 - real_err
        gap = None if real_acc is None else round(gen_acc - real_acc, 2)
        rows.append(
            {
                "task": task,
                "name": TASK_NAMES[task],
                "generated_accuracy": round(gen_acc, 2),
                "real_accuracy": None if real_acc is None else round(real_acc, 2),
                "gap": gap,
                "within_5_points": None if gap is None else abs(gap) <= 5.0,
            }
        )
    return rows


def format_table(model: MemN2N, result: dict[str, Any]) -> str:
    hop_col = PAPER_FOR_HOPS.get(model.config.hops, PAPER_FOR_HOPS[3])
    cols = ["10k joint (DNC paper)", hop_col]
    lines = [f"{'task':<28} {'ours':>7} " + " ".join(f"{c:>26}" for c in cols)]
    for key, err in result["per_task_error"].items():
        t = int(key)
        paper = " ".join(f"{PAPER[c].get(t, float('nan')):>26.1f}" for c in cols)
        flag = " *" if err > FAIL_THRESHOLD else ""
        lines.append(f"{t:>2} {TASK_NAMES.get(t, '?'):<25} {err:>7.1f} {paper}{flag}")
    means = " ".join(f"{np.mean([PAPER[c][t] for t in range(1, 21)]):>26.1f}" for c in cols)
    fails = " ".join(f"{sum(PAPER[c][t] > FAIL_THRESHOLD for t in range(1, 21)):>26d}" for c in cols)
    lines.append(f"{'mean error':<28} {result['mean_error']:>7.2f} {means}")
    lines.append(f"{'failed (> 5%)':<28} {result['n_failed']:>7d} {fails}")
    lines.append(f"failed tasks: {result['failed_tasks']}   (* = failed)")
    lines.append(PAPER_ANCHORS)
    return "\n".join(lines)


def format_fidelity(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'task':<28} {'generated acc':>14} {'real acc':>9} {'gap':>7} {'within 5':>9}"]
    for r in rows:
        real = "n/a" if r["real_accuracy"] is None else f"{r['real_accuracy']:.1f}"
        gap = "n/a" if r["gap"] is None else f"{r['gap']:+.1f}"
        lines.append(
            f"{r['task']:>2} {r['name']:<25} {r['generated_accuracy']:>14.1f} {real:>9} {gap:>7} "
            f"{'yes' if r['within_5_points'] else 'NO':>9}"
        )
    return "\n".join(lines)


def parse_args(name: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m memviz.evaluate {name}", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/babi"))
    parser.add_argument("--split", choices=["valid", "test", "train", "all"], default="valid")
    parser.add_argument("--generated", type=int, default=1000, help="generated questions per task (0: skip)")
    parser.add_argument("--generator-seed", type=int, default=2015)
    parser.add_argument("--dir", default=str(PRETRAINED_DIR), help="folder holding NAME.json and NAME.safetensors")
    parser.add_argument("--write-card", action="store_true")
    return parser.parse_args(argv)


def main(name: str, argv: list[str]) -> int:
    args = parse_args(name, argv)
    torch.set_num_threads(1)
    start = time.time()
    model = load_pretrained(name, Path(args.dir))
    try:
        result = evaluate_real(model, args.data, args.split)
    except UnknownWordsError as exc:
        print(f"cannot evaluate {name} on {args.data}: {exc}")
        return 1
    print(f"{name}: {model.config.hops} hops, d = {model.config.embed_dim}; {args.split} split of {args.data}")
    print(format_table(model, result))
    rows = []
    if args.generated > 0:
        rows = generator_fidelity(model, result, args.generated, args.generator_seed)
        print(f"\ngenerator fidelity ({args.generated} generated questions per task, seed {args.generator_seed}):")
        print(format_fidelity(rows))
    print(f"\nevaluated in {time.time() - start:.1f}s")
    if args.write_card:
        card = model.card
        card.metrics = {
            "command": f"python -m memviz.evaluate {name} " + " ".join(argv),
            **result,
            "paper": {
                c: {str(t): e for t, e in PAPER[c].items()}
                for c in ("10k joint (DNC paper)", PAPER_FOR_HOPS.get(model.config.hops, PAPER_FOR_HOPS[3]))
            },
            "paper_anchors": PAPER_ANCHORS,
        }
        if rows:
            card.metrics["generator_fidelity"] = {
                "questions_per_task": args.generated,
                "seed": args.generator_seed,
                "rows": rows,
            }
        path = write_card(card, Path(args.dir))
        print(f"wrote {path}")
    return 0
