"""Train the NTM and LSTM models: ``python -m memviz.train NAME [options]``.

Names (see :data:`RECIPES`): ``ntm-copy``, ``ntm-repeat-copy``,
``ntm-associative-recall`` and the baseline ``lstm-copy``. Training is
deterministic by seed (one CPU thread, a seeded numpy Generator for the data,
``torch.manual_seed`` for the weights), batched (every episode in a batch has
the same size, so no padding), with gradient-norm clipping and Adam. It prints a
progress bar with the loss and bit errors per sequence, checks a fixed
validation set every ``check_every`` sequences, keeps the best checkpoint, and
writes beside each other in ``pretrained/``:

* ``NAME.safetensors``: weights only (no pickle);
* ``NAME.json``: the card (family, architecture, task, recipe, seed, sequences
  seen, wall time, machine, and the metrics of ``python -m memviz.evaluate``);
* ``NAME.curve.csv``: the learning curve.

Stopping is by sequence count (reproducible), by the time budget ``--minutes``
(a safety net: set ``--minutes 0`` and ``--max-sequences`` to the card's
``sequences_seen`` to reproduce a run exactly), or ``--polish`` sequences after
the validation error first reached the target.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memviz.ntm.model import architecture_of, build_model, flush_denormals, save_state
from memviz.registry import (
    PRETRAINED_DIR,
    ModelCard,
    card_path,
    load_weights,
    machine_info,
    weights_path,
    write_card,
)
from memviz.tasks import make_task
from memviz.training import as_tensors, bits_per_sequence, masked_bce, progress_bar, write_curve


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run; written into the card.

    ``lr`` (Adam) drops to ``lr_after_target`` once the validation error first
    reaches ``target_bits`` bits per sequence; training then goes on for
    ``polish`` sequences. ``clip_norm`` clips the global gradient norm (typical
    norms are 0.02-0.07 with the per-bit loss, so 10 never triggers and 0.5
    only cuts spikes). ``zero_share`` is a training-only augmentation (see
    :func:`memviz.tasks.copy.random_bits`). ``check_every`` sequences, the model
    is scored on a fixed validation set of ``val_per_size`` episodes for up to
    ``val_sizes`` sizes of the training range (the best checkpoint by validation
    bits, then loss, is kept) and on ``long_val_sizes`` beyond it (logged only).
    """

    family: str
    task: dict[str, Any]
    architecture: dict[str, Any]
    description: str = ""
    optimizer: str = "adam"
    lr: float = 1e-3
    batch: int = 16
    clip_norm: float = 10.0
    max_sequences: int = 1_000_000
    minutes: float = 20.0
    polish: int = 0
    lr_after_target: float | None = None
    zero_share: float = 0.0
    init_from: str | None = None
    target_bits: float = 0.1
    check_every: int = 1600
    val_per_size: int = 16
    val_sizes: int = 20
    seed: int = 1
    storage_dtype: str = "float32"
    long_val_sizes: list[Any] = field(default_factory=list)


COPY = {"name": "copy", "bits": 8, "min_length": 1, "max_length": 20}
REPEAT_COPY = {
    "name": "repeat_copy",
    "bits": 8,
    "min_length": 1,
    "max_length": 10,
    "min_repeats": 1,
    "max_repeats": 10,
    "repeat_scale": 20,
}
RECALL = {"name": "associative_recall", "bits": 6, "item_length": 3, "min_items": 2, "max_items": 6}

RECIPES: dict[str, Recipe] = {
    "ntm-copy": Recipe(
        family="ntm",
        task=COPY,
        architecture={"input_width": 9, "output_width": 8},
        description="NTM (LSTM controller 100, memory 128 x 20, 1 read + 1 write head) on copy, lengths 1-20",
        lr=1e-3,
        batch=16,
        minutes=25.0,
        polish=60_000,
        lr_after_target=2e-4,
        zero_share=0.05,
        long_val_sizes=[40, 80],
    ),
    "lstm-copy": Recipe(
        family="lstm",
        task=COPY,
        architecture={"input_width": 9, "output_width": 8, "hidden_size": 256, "layers": 2},
        description="LSTM baseline (2 x 256) on copy, lengths 1-20, with the NTM's budget",
        lr=1e-3,
        batch=16,
        minutes=20.0,
        storage_dtype="float16",
        long_val_sizes=[40, 80],
    ),
    "ntm-repeat-copy": Recipe(
        family="ntm",
        task=REPEAT_COPY,
        architecture={"input_width": 10, "output_width": 9},
        description="NTM (LSTM controller 100, memory 128 x 20, 1 read + 1 write head) on repeat copy",
        lr=1e-3,
        batch=16,
        minutes=30.0,
        polish=30_000,
        check_every=3200,
        clip_norm=0.5,
        lr_after_target=2e-4,
        zero_share=0.05,
        long_val_sizes=[(15, 10), (10, 15)],
    ),
    "ntm-associative-recall": Recipe(
        family="ntm",
        task=RECALL,
        architecture={"input_width": 8, "output_width": 6},
        description="NTM (LSTM controller 100, memory 128 x 20, 1 read + 1 write head) on associative recall",
        lr=1e-3,
        batch=16,
        minutes=30.0,
        polish=30_000,
        check_every=3200,
        clip_norm=0.5,
        lr_after_target=2e-4,
        long_val_sizes=[9, 12],
    ),
}


# --------------------------------------------------------------------------- loss and scoring


def validation_set(task: Any, recipe: Recipe) -> list[Any]:
    """A fixed validation set over the training range, seeded apart from the training data."""
    rng = np.random.default_rng(recipe.seed + 10_000)
    sizes = task.train_sizes()
    if len(sizes) > recipe.val_sizes:
        sizes = [sizes[i] for i in sorted(rng.choice(len(sizes), recipe.val_sizes, replace=False))]
    return [task.sample(rng, recipe.val_per_size, size) for size in sizes]


def validate(model: torch.nn.Module, batches: list[Any]) -> tuple[float, float]:
    """Mean loss and mean bit errors per sequence over the validation batches."""
    model.eval()
    losses, bits = [], []
    with torch.no_grad():
        for b in batches:
            x, y, mask = as_tensors(b)
            logits = model(x)
            losses.append(float(masked_bce(logits, y, mask)))
            bits.append(bits_per_sequence(logits, y, mask))
    model.train()
    return float(np.mean(losses)), float(np.mean(bits))


# --------------------------------------------------------------------------- training loop


@dataclass
class TrainResult:
    """What a run did: the model (best checkpoint loaded), its curve and its counters."""

    model: torch.nn.Module
    curve: list[dict[str, float]]
    sequences_seen: int
    batches: int
    wall_time_s: float
    time_to_target_s: float | None
    sequences_to_target: int | None
    best_val_bits: float
    best_val_loss: float
    stopped_because: str


def train(recipe: Recipe, progress: bool = True, log: Any = print) -> TrainResult:
    """Train a model by ``recipe`` and return it with its learning curve (no files written).

    Denormal floats count as zero throughout (:func:`memviz.ntm.model.flush_denormals`), as in inference.
    """
    with flush_denormals():
        return _train(recipe, progress, log)


def _train(recipe: Recipe, progress: bool, log: Any) -> TrainResult:
    torch.set_num_threads(1)
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    task = make_task(recipe.task)
    model = build_model(recipe.family, recipe.architecture)
    if recipe.init_from:
        load_weights(model, Path(recipe.init_from), Path(recipe.init_from).stem)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    val = validation_set(task, recipe)

    start = time.perf_counter()
    seen = batches = 0
    next_check = recipe.check_every
    run_loss, run_bits, run_n = 0.0, 0.0, 0
    curve: list[dict[str, float]] = []
    best = (math.inf, math.inf)
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    time_to_target = seq_to_target = None
    stop = ""
    long_rng = np.random.default_rng(recipe.seed + 20_000)
    long_val = [task.sample(long_rng, recipe.val_per_size, size) for size in recipe.long_val_sizes]
    val_loss, val_bits = validate(model, val)
    curve.append(_curve_row(0, 0.0, math.nan, math.nan, val_loss, val_bits, _long_bits(model, long_val)))
    bar = progress_bar(recipe.max_sequences, progress)
    while not stop:
        extra = {"zero_share": recipe.zero_share} if recipe.zero_share else {}
        x, y, mask = as_tensors(task.sample(rng, recipe.batch, **extra))
        logits = model(x)
        loss = masked_bce(logits, y, mask)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_norm)
        optimizer.step()
        seen += recipe.batch
        batches += 1
        run_loss += loss.item()
        run_bits += bits_per_sequence(logits.detach(), y, mask)
        run_n += 1
        if bar is not None:
            bar.update(recipe.batch)
            bar.set_postfix(loss=f"{run_loss / run_n:.4f}", bits=f"{run_bits / run_n:.2f}", refresh=False)
        if seen >= next_check:
            next_check += recipe.check_every
            val_loss, val_bits = validate(model, val)
            elapsed = time.perf_counter() - start
            long_bits = _long_bits(model, long_val)
            curve.append(_curve_row(seen, elapsed, run_loss / run_n, run_bits / run_n, val_loss, val_bits, long_bits))
            run_loss, run_bits, run_n = 0.0, 0.0, 0
            log(
                f"[{elapsed:7.1f}s] {seen:8d} seqs  train loss {curve[-1]['train_loss']:.4f} "
                f"bits {curve[-1]['train_bits_per_sequence']:.2f}  val loss {val_loss:.4f} bits {val_bits:.3f}"
                + "".join(f"  {k} {v:.2f}" for k, v in long_bits.items())
            )
            if not math.isfinite(val_loss):
                stop = "loss became NaN"
                break
            if (val_bits, val_loss) < best:
                best = (val_bits, val_loss)
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            if time_to_target is None and val_bits <= recipe.target_bits:
                time_to_target, seq_to_target = elapsed, seen
                log(f"reached {val_bits:.3f} <= {recipe.target_bits} bits/sequence after {seen} sequences")
                if recipe.lr_after_target:
                    for group in optimizer.param_groups:
                        group["lr"] = min(group["lr"], recipe.lr_after_target)
                    log(f"learning rate now {optimizer.param_groups[0]['lr']} for polishing")
            if seq_to_target is not None and seen >= seq_to_target + recipe.polish:
                stop = f"target reached, then {recipe.polish} polishing sequences"
        if seen >= recipe.max_sequences:
            stop = stop or f"max_sequences {recipe.max_sequences}"
        if recipe.minutes and time.perf_counter() - start > recipe.minutes * 60:
            stop = stop or f"time budget {recipe.minutes} min"
    if bar is not None:
        bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(
        model=model,
        curve=curve,
        sequences_seen=seen,
        batches=batches,
        wall_time_s=round(time.perf_counter() - start, 1),
        time_to_target_s=None if time_to_target is None else round(time_to_target, 1),
        sequences_to_target=seq_to_target,
        best_val_bits=best[0],
        best_val_loss=best[1],
        stopped_because=stop,
    )


def _curve_row(
    seen: int, elapsed: float, loss: float, bits: float, val_loss: float, val_bits: float, long_bits: dict[str, float]
) -> dict:
    return {
        "sequences": seen,
        "seconds": round(elapsed, 2),
        "train_loss": loss,
        "train_bits_per_sequence": bits,
        "val_loss": val_loss,
        "val_bits_per_sequence": val_bits,
        **long_bits,
    }


def _long_bits(model: torch.nn.Module, batches: list[Any]) -> dict[str, float]:
    """Bit errors per sequence on sizes beyond the training range (logged only, never used to pick a checkpoint)."""
    return {f"bits_at_{_label(b.size)}": validate(model, [b])[1] for b in batches}


def _label(size: Any) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, tuple) else str(size)


# --------------------------------------------------------------------------- files


def build_card(name: str, recipe: Recipe, result: TrainResult, weights: Path) -> ModelCard:
    """The card of a freshly trained model (metrics are added by evaluation)."""
    model = result.model
    command = f"python -m memviz.train {name} --seed {recipe.seed} --minutes 0 --max-sequences {result.sequences_seen}"
    training = {
        "sequences_seen": result.sequences_seen,
        "batches": result.batches,
        "wall_time_s": result.wall_time_s,
        "time_to_target_s": result.time_to_target_s,
        "sequences_to_target": result.sequences_to_target,
        "target_bits_per_sequence": recipe.target_bits,
        "best_val_bits_per_sequence": result.best_val_bits,
        "best_val_loss": result.best_val_loss,
        "stopped_because": result.stopped_because,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights": {"file": weights.name, "dtype": recipe.storage_dtype, "bytes": weights.stat().st_size},
    }
    if recipe.init_from:
        training["previous_stage"] = previous_stage(Path(recipe.init_from))
        command = (
            f"first reproduce previous_stage, then: {command}"
            f" --init-from {recipe.init_from} --lr {recipe.lr} --polish {recipe.polish} --batch {recipe.batch}"
            f" --lr-after-target {recipe.lr_after_target} --check-every {recipe.check_every}"
            f" --val-per-size {recipe.val_per_size}"
        )
    settings = {k: v for k, v in asdict(recipe).items() if k not in ("family", "task", "architecture", "seed")}
    return ModelCard(
        name=name,
        family=recipe.family,
        description=recipe.description,
        task=recipe.task,
        config=architecture_of(model),
        recipe={**settings, "seed": recipe.seed, "command": command},
        training=training,
    )


def previous_stage(weights: Path) -> dict[str, Any]:
    """The training record of the checkpoint a run started from (its card sits beside it)."""
    card_file = weights.with_suffix(".json")
    if not card_file.is_file():
        return {"weights": str(weights), "card": "missing"}
    card = json.loads(card_file.read_text())
    recipe = card.get("recipe") or {}
    seed = recipe.get("seed", card.get("seed"))
    return {"weights": str(weights), "seed": seed, "recipe": recipe, **card.get("training", {})}


def save_run(name: str, recipe: Recipe, result: TrainResult, out_dir: Path) -> Path:
    """Write NAME.safetensors, NAME.json and NAME.curve.csv into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = weights_path(name, out_dir)
    dtype = {"float32": torch.float32, "float16": torch.float16}[recipe.storage_dtype]
    save_state(result.model, weights, dtype)
    write_curve(out_dir / f"{name}.curve.csv", result.curve)
    write_card(build_card(name, recipe, result, weights), out_dir)
    return card_path(name, out_dir)


# --------------------------------------------------------------------------- CLI


def parse_args(name: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m memviz.train {name}", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, help="random seed (data and initial weights)")
    parser.add_argument("--minutes", type=float, help="time budget in minutes (0 = none)")
    parser.add_argument("--max-sequences", type=int, help="stop after this many training sequences")
    parser.add_argument("--polish", type=int, help="sequences to keep training after reaching the target")
    parser.add_argument("--batch", type=int, help="batch size")
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--lr-after-target", type=float, help="Adam learning rate once the target is reached")
    parser.add_argument("--check-every", type=int, help="sequences between validation checks")
    parser.add_argument("--val-per-size", type=int, help="validation episodes per size (more: a steadier choice)")
    parser.add_argument("--init-from", help="start from these weights (a .safetensors with its card beside it)")
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR, help="output folder (default: pretrained/)")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    parser.add_argument("--eval-sequences", type=int, default=500, help="fresh sequences per size in evaluation")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def recipe_for(name: str, args: argparse.Namespace) -> Recipe:
    if name not in RECIPES:
        raise SystemExit(f"no training recipe for {name!r}; known: {', '.join(sorted(RECIPES))}")
    overrides = {
        "seed": args.seed,
        "minutes": args.minutes,
        "max_sequences": args.max_sequences,
        "polish": args.polish,
        "batch": args.batch,
        "lr": args.lr,
        "lr_after_target": args.lr_after_target,
        "check_every": args.check_every,
        "val_per_size": args.val_per_size,
        "init_from": args.init_from,
    }
    return replace(RECIPES[name], **{k: v for k, v in overrides.items() if v is not None})


def main(name: str, argv: list[str]) -> int:
    """``python -m memviz.train NAME``: train, save, then evaluate into the card."""
    args = parse_args(name, argv)
    recipe = recipe_for(name, args)
    print(f"training {name}: {recipe}", flush=True)
    result = train(recipe, progress=not args.quiet, log=lambda s: print(s, flush=True))
    path = save_run(name, recipe, result, args.out)
    print(
        f"wrote {path} ({result.sequences_seen} sequences, {result.wall_time_s} s, "
        f"target reached after {result.time_to_target_s} s; stopped: {result.stopped_because})",
        flush=True,
    )
    if not args.no_eval:
        from memviz.ntm.evaluate import main as evaluate_main

        eval_argv = ["--write", "--sequences", str(args.eval_sequences), "--dir", str(args.out)]
        return evaluate_main(name, eval_argv)
    return 0


__all__ = ["RECIPES", "Recipe", "TrainResult", "main", "save_run", "train"]
