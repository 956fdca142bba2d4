"""Train a DNC: ``python -m memviz.dnc.train NAME [options]`` (``python -m memviz.train NAME`` dispatches here).

Names (see :data:`RECIPES`): ``dnc-copy``, ``dnc-reverse-copy``, ``dnc-multi-copy``.
Training is deterministic by seed (one CPU thread, a seeded numpy Generator
for the data, ``torch.manual_seed`` for the weights), batched (every episode
of a batch has the same size, so no padding), Adam with gradient-norm clipping
and a per-bit masked cross-entropy loss.

Learning rate: constant ``lr`` (lowered to ``lr_after_target`` once validation
reaches ``target_bits``), or, with ``lr_end``, a cosine from ``lr`` down to
``lr_end`` over ``lr_decay_episodes`` (default ``max_episodes``; by episode count, so a run is deterministic).
Sizes are drawn uniformly from the enabled ones, or (``size_weighting="length"``)
in proportion to their number of vectors, so long episodes, where the errors
are, come up more often.

A warm start (``init_from``) may come from a smaller model: more read heads or
a wider controller than the weights have are added function-preservingly
(:func:`widen_state`: the new head's free gate starts shut and its read vector
is not yet read by anyone; new controller units start from small random weights
into them and zero weights out of them).

Curriculum over size: the sizes of the task's training range are ordered
(copy: lengths 1..max; multi-copy: (count, length) by length); sampling starts
over the first ``curriculum_start`` of them and one more size is added each
time the training bit errors per sequence since the last check fall below
``curriculum_bits``. The best checkpoint (validation bits, then loss, over the
whole training range) is kept once every size is enabled.

Writes into ``--out`` (default ``pretrained/``): ``NAME.safetensors``
(weights only), ``NAME.json`` (the model card) and ``NAME.curve.csv`` (the
learning curve), then runs :mod:`memviz.dnc.evaluate` to fill the card's metrics.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memviz.dnc.model import (
    DNC,
    DNCConfig,
    config_dict,
    flush_denormals,
    load_weights,
    make_task,
    save_state,
)
from memviz.registry import PRETRAINED_DIR
from memviz.registry import machine_info as registry_machine_info
from memviz.training import as_tensors, bits_per_sequence, masked_bce, progress_bar, write_curve


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run; written into the card's ``recipe``."""

    task: dict[str, Any]
    config: dict[str, Any]
    description: str = ""
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_after_target: float | None = 3e-4
    batch: int = 16
    clip_norm: float = 10.0
    curriculum_start: int = 3
    curriculum_bits: float = 0.5
    max_episodes: int = 2_000_000
    minutes: float = 20.0
    polish: int = 300_000
    target_bits: float = 0.02
    check_every: int = 3200
    val_per_size: int = 32
    seed: int = 1
    init_from: str | None = None
    lr_end: float | None = None
    lr_decay_episodes: int | None = None
    size_weighting: str = "uniform"
    train_memory_min: int | None = None
    """Each training batch runs on a memory of between this many and ``memory_n`` slots (drawn uniformly;
    validation and the shipped model use ``memory_n``): a smaller memory must be freed and reused sooner,
    so freeing a slot too early or too little costs more often."""


DNC_DEFAULTS = {"controller_size": DNCConfig().controller_size, "read_heads": DNCConfig().read_heads}

COPY_TASK = {"name": "copy", "bits": 6, "min_length": 1, "max_length": 10}
REVERSE_TASK = {"name": "reverse_copy", "bits": 6, "min_length": 1, "max_length": 10}
MULTI_TASK = {"name": "multi_copy", "bits": 6, "min_length": 1, "max_length": 8, "count": 3}

RECIPES: dict[str, Recipe] = {
    "dnc-copy": Recipe(
        task=COPY_TASK,
        config={"input_width": 7, "output_width": 6, "controller_size": 64, "memory_n": 24, "memory_w": 16},
        description="DNC (LSTM controller 64, memory 24 x 16, 1 read head) on copy, 6 bits, lengths 1-10",
    ),
    "dnc-reverse-copy": Recipe(
        task=REVERSE_TASK,
        config={"input_width": 7, "output_width": 6, "controller_size": 64, "memory_n": 24, "memory_w": 16},
        description="DNC (LSTM controller 64, memory 24 x 16, 1 read head) on reverse copy, 6 bits, lengths 1-10",
    ),
    "dnc-multi-copy": Recipe(
        task=MULTI_TASK,
        config={
            "input_width": 7,
            "output_width": 6,
            "controller_size": 128,
            "memory_n": 16,
            "memory_w": 16,
            "read_heads": 2,
            "deallocate": True,
        },
        description="DNC (LSTM controller 128, memory 16 x 16, 2 read heads, freeing erases) on multi-copy: "
        "3 sequences of 1-8 6-bit vectors through 16 slots (from length 6 on they cannot all be held at once)",
        batch=32,
        curriculum_start=3,
        minutes=45.0,
        seed=7,
        check_every=6400,
        val_per_size=128,
    ),
}


# --------------------------------------------------------------------------- schedule, sampling, warm starts


def cosine_lr(recipe: Recipe, episodes: int) -> float:
    """The learning rate after ``episodes``: a cosine from ``lr`` to ``lr_end`` over ``max_episodes``."""
    end = recipe.lr if recipe.lr_end is None else recipe.lr_end
    frac = min(1.0, episodes / max(1, recipe.lr_decay_episodes or recipe.max_episodes))
    return end + (recipe.lr - end) * 0.5 * (1.0 + math.cos(math.pi * frac))


def training_memory(recipe: Recipe, rng: np.random.Generator) -> int | None:
    """The memory size of the next training batch (None: the config's; see ``Recipe.train_memory_min``)."""
    if recipe.train_memory_min is None:
        return None
    return int(rng.integers(recipe.train_memory_min, recipe.config["memory_n"] + 1))


def size_weight(task: Any, size: Any, weighting: str) -> float:
    """How often a size is drawn: 1 each (``"uniform"``) or its number of vectors (``"length"``)."""
    if weighting == "uniform":
        return 1.0
    if weighting == "length":
        return float(np.prod(np.atleast_1d(size)))
    raise ValueError(f"size_weighting must be 'uniform' or 'length', got {weighting!r}")


def widen_state(old: dict[str, torch.Tensor], old_cfg: DNCConfig, new: DNC, seed: int = 0) -> dict[str, torch.Tensor]:
    """Weights of ``old_cfg``'s model placed into ``new`` (more read heads, a wider controller or the same).

    The result computes the same outputs as the old model up to the new head's
    free gate (sigmoid(-12), about 6e-6) and the new units' small random input
    weights: old read heads and controller units keep their weights, the new
    read head's read vector enters the controller and the output with zero
    weights, its free gate bias is -12, and new controller units have zero
    outgoing weights (into the LSTM, the interface and the output).
    """
    c = new.config
    r0, r1, w = old_cfg.read_heads, c.read_heads, c.memory_w
    h0, h1 = old_cfg.controller_size, c.controller_size
    if (
        r1 < r0
        or h1 < h0
        or (old_cfg.memory_w, old_cfg.input_width, old_cfg.output_width)
        != (
            w,
            c.input_width,
            c.output_width,
        )
    ):
        raise ValueError(f"cannot widen {old_cfg} into {c}: only more read heads or controller units")
    gen = torch.Generator().manual_seed(seed)
    state = {k: v.clone() for k, v in new.state_dict().items()}
    scale = 0.01

    def small(shape: tuple[int, ...]) -> torch.Tensor:
        return scale * torch.randn(shape, generator=gen)

    # LSTM: gates i, f, g, o each h units; input = [x, reads of r heads]
    x_w = c.input_width
    old_in_cols = list(range(x_w + r0 * w))
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        key = f"controller.{name}"
        src, dst = old[key], state[key]
        out = torch.zeros_like(dst) if name.startswith("bias") else small(tuple(dst.shape))
        for g in range(4):
            rows_new = slice(g * h1, g * h1 + h0)
            rows_old = slice(g * h0, (g + 1) * h0)
            if name == "weight_ih":
                out[rows_new, :] = 0.0
                out[rows_new, old_in_cols] = src[rows_old]
            elif name == "weight_hh":
                out[rows_new, :] = 0.0  # old units do not listen to new ones
                out[rows_new, :h0] = src[rows_old]
            else:
                out[rows_new] = src[rows_old]
        if name == "weight_ih":
            out[:, x_w + r0 * w :] = 0.0  # the new heads' reads: nobody listens yet
        state[key] = out
    # interface: rows by part; columns = controller units (new ones: 0)
    parts0 = interface_rows(old_cfg)
    parts1 = interface_rows(c)
    iw, ib = torch.zeros_like(state["interface.weight"]), torch.zeros_like(state["interface.bias"])
    iw[:, :] = small(tuple(iw.shape))
    iw[:, h0:] = 0.0
    for part, (rows0, per0) in parts0.items():
        rows1, per1 = parts1[part]
        if per0:  # per read head: copy the old heads; new heads copy head 0's bias (same initial behaviour)
            for head in range(r1):
                src_head = head if head < r0 else 0
                dst = rows1[head * per1 : (head + 1) * per1]
                srcr = rows0[src_head * per0 : (src_head + 1) * per0]
                if head < r0:
                    iw[dst, :h0] = old["interface.weight"][srcr]
                ib[dst] = old["interface.bias"][srcr]
        else:
            iw[rows1, :h0] = old["interface.weight"][rows0]
            ib[rows1] = old["interface.bias"][rows0]
    free_rows, _ = parts1["free"]
    ib[free_rows[r0:]] = -12.0
    state["interface.weight"], state["interface.bias"] = iw, ib
    # output: columns [h units, reads]
    ow = torch.zeros_like(state["output.weight"])
    ow[:, :h0] = old["output.weight"][:, :h0]
    ow[:, h1 : h1 + r0 * w] = old["output.weight"][:, h0 : h0 + r0 * w]
    state["output.weight"], state["output.bias"] = ow, old["output.bias"].clone()
    return state


def interface_rows(c: DNCConfig) -> dict[str, tuple[list[int], int]]:
    """The interface vector's rows by part (the order of :func:`memviz.dnc.model.split_interface`);
    with the rows per read head (0 for the write head's parts)."""
    r, w = c.read_heads, c.memory_w
    layout = [("keys", r * w, w), ("strengths", r, 1), ("wkey", w, 0), ("wstrength", 1, 0), ("erase", w, 0)]
    layout += [("vector", w, 0), ("free", r, 1), ("alloc", 1, 0), ("wgate", 1, 0), ("modes", 3 * r, 3)]
    out, start = {}, 0
    for name, size, per in layout:
        out[name] = (list(range(start, start + size)), per)
        start += size
    return out


def warm_start(model: DNC, weights: Path) -> None:
    """Load a previous stage's weights into ``model``, widening them (:func:`widen_state`) if its card's
    model had fewer read heads or controller units."""
    card_file = weights.parent / f"{weights.stem}.json"
    old_cfg = model.config
    if card_file.is_file():
        cfg = json.loads(card_file.read_text()).get("config", {})
        fields = {
            k: cfg[k] for k in ("input_width", "output_width", "controller_size", "memory_w", "read_heads") if k in cfg
        }
        old_cfg = replace(model.config, **fields)
    if old_cfg == model.config:
        load_weights(model, weights, weights.stem)
        return
    old_model = DNC(old_cfg)
    load_weights(old_model, weights, weights.stem)
    model.load_state_dict(widen_state(old_model.state_dict(), old_cfg, model))


# --------------------------------------------------------------------------- loss and scoring


def validate(model: DNC, batches: list[Any]) -> tuple[float, float, float]:
    """Mean loss, mean bit errors per sequence and the worst size's bit errors over the validation batches."""
    model.eval()
    losses, bits = [], []
    with torch.no_grad():
        for b in batches:
            x, y, mask = as_tensors(b)
            logits = model(x)
            losses.append(float(masked_bce(logits, y, mask)))
            bits.append(bits_per_sequence(logits, y, mask))
    model.train()
    return float(np.mean(losses)), float(np.mean(bits)), float(np.max(bits))


def long_sizes(task: Any) -> list[Any]:
    """Sizes beyond the training range, up to twice it (logged in training, reported by evaluation)."""
    if task.name == "multi_copy":
        return [(2 * task.count, length) for length in range(task.min_length, task.max_length + 1)]
    return list(range(task.max_length + 1, 2 * task.max_length + 1))


# --------------------------------------------------------------------------- training loop


@dataclass
class TrainResult:
    """What a run did: the model (best checkpoint loaded), its curve and counters."""

    model: DNC
    curve: list[dict[str, Any]]
    episodes: int
    batches: int
    wall_time_s: float
    curriculum_done_at: int | None
    episodes_to_target: int | None
    best_val_bits: float
    best_val_loss: float
    stopped_because: str


def train(recipe: Recipe, progress: bool = True, log: Any = print) -> TrainResult:
    """Train a DNC by ``recipe`` and return it with its learning curve (no files written)."""
    with flush_denormals():
        return _train(recipe, progress, log)


def _train(recipe: Recipe, progress: bool, log: Any) -> TrainResult:
    torch.set_num_threads(1)
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    task = make_task(recipe.task)
    model = DNC(DNCConfig(**recipe.config))
    if recipe.init_from:  # a previous stage (its weights; the shapes do not depend on the number of slots)
        warm_start(model, Path(recipe.init_from))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    sizes = task.train_sizes()
    val_rng = np.random.default_rng(recipe.seed + 10_000)
    val = [task.sample(val_rng, recipe.val_per_size, s) for s in sizes]
    long_val = [task.sample(val_rng, recipe.val_per_size, s) for s in long_sizes(task)[1::3]]

    enabled = min(max(1, recipe.curriculum_start), len(sizes))
    weights = np.array([size_weight(task, s, recipe.size_weighting) for s in sizes], dtype=np.float64)
    start = time.perf_counter()
    episodes = batches = 0
    next_check = recipe.check_every
    run_loss = run_bits = 0.0
    run_n = 0
    curve: list[dict[str, Any]] = []
    best = (math.inf, math.inf)
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    curriculum_done_at = None if enabled < len(sizes) else 0
    to_target: int | None = None
    stop = ""
    bar = progress_bar(recipe.max_episodes, progress, unit="ep")
    while not stop:
        if recipe.size_weighting == "uniform":
            size = sizes[int(rng.integers(0, enabled))]
        else:
            size = sizes[int(rng.choice(enabled, p=weights[:enabled] / weights[:enabled].sum()))]
        if recipe.lr_end is not None:
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(recipe, episodes)
        x, y, mask = as_tensors(task.sample(rng, recipe.batch, size))
        logits = model(x, training_memory(recipe, rng))
        loss = masked_bce(logits, y, mask)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_norm)
        optimizer.step()
        episodes += recipe.batch
        batches += 1
        run_loss += loss.item()
        run_bits += bits_per_sequence(logits.detach(), y, mask)
        run_n += 1
        if bar is not None:
            bar.update(recipe.batch)
            bar.set_postfix(
                loss=f"{run_loss / run_n:.4f}", bits=f"{run_bits / run_n:.2f}", sizes=enabled, refresh=False
            )
        if episodes >= next_check:
            next_check += recipe.check_every
            train_loss, train_bits = run_loss / run_n, run_bits / run_n
            run_loss = run_bits = 0.0
            run_n = 0
            val_loss, val_bits, val_worst = validate(model, val)
            long_bits = validate(model, long_val)[1] if long_val else math.nan
            elapsed = time.perf_counter() - start
            curve.append(
                {
                    "episodes": episodes,
                    "seconds": round(elapsed, 1),
                    "sizes_enabled": enabled,
                    "train_loss": train_loss,
                    "train_bits_per_sequence": train_bits,
                    "val_loss": val_loss,
                    "val_bits_per_sequence": val_bits,
                    "val_worst_size_bits": val_worst,
                    "beyond_range_bits_per_sequence": long_bits,
                }
            )
            log(
                f"[{elapsed:7.1f}s] {episodes:8d} eps  sizes {enabled}/{len(sizes)}  train loss {train_loss:.4f} "
                f"bits {train_bits:.3f}  val loss {val_loss:.4f} bits {val_bits:.3f} worst {val_worst:.3f}  "
                f"beyond {long_bits:.2f}"
            )
            if not math.isfinite(val_loss):
                stop = "loss became NaN"
                break
            if enabled < len(sizes) and train_bits < recipe.curriculum_bits:
                enabled += 1
                if enabled == len(sizes):
                    curriculum_done_at = episodes
                log(f"curriculum: {enabled} sizes now (up to {sizes[enabled - 1]})")
            elif enabled == len(sizes):
                if (val_bits, val_loss) < best:
                    best = (val_bits, val_loss)
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
                if to_target is None and val_bits <= recipe.target_bits:
                    to_target = episodes
                    log(f"reached {val_bits:.3f} <= {recipe.target_bits} bits/sequence after {episodes} episodes")
                    if recipe.lr_after_target and recipe.lr_end is None:
                        for group in optimizer.param_groups:
                            group["lr"] = min(group["lr"], recipe.lr_after_target)
                if to_target is not None and episodes >= to_target + recipe.polish:
                    stop = f"target reached, then {recipe.polish} polishing episodes"
        if episodes >= recipe.max_episodes:
            stop = stop or f"max_episodes {recipe.max_episodes}"
        if recipe.minutes and time.perf_counter() - start > recipe.minutes * 60:
            stop = stop or f"time budget {recipe.minutes} min"
    if bar is not None:
        bar.close()
    if math.isfinite(best[0]):
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(
        model=model,
        curve=curve,
        episodes=episodes,
        batches=batches,
        wall_time_s=round(time.perf_counter() - start, 1),
        curriculum_done_at=curriculum_done_at,
        episodes_to_target=to_target,
        best_val_bits=best[0],
        best_val_loss=best[1],
        stopped_because=stop,
    )


# --------------------------------------------------------------------------- files


def reproduce_command(name: str, recipe: Recipe, episodes: int) -> str:
    """The command that repeats a run exactly (stopping by episode count, not by the clock)."""
    return (
        f"python -m memviz.train {name} --seed {recipe.seed} --minutes 0 --max-episodes {episodes} "
        f"--batch {recipe.batch} --lr {recipe.lr} --curriculum-start {recipe.curriculum_start} "
        f"--polish {recipe.polish} --check-every {recipe.check_every} --val-per-size {recipe.val_per_size}"
        + (f" --init-from {recipe.init_from}" if recipe.init_from else "")
        + (f" --lr-end {recipe.lr_end}" if recipe.lr_end is not None else "")
        + (f" --lr-decay-episodes {recipe.lr_decay_episodes}" if recipe.lr_decay_episodes else "")
        + (f" --size-weighting {recipe.size_weighting}" if recipe.size_weighting != "uniform" else "")
        + (f" --train-memory-min {recipe.train_memory_min}" if recipe.train_memory_min is not None else "")
        + "".join(
            f" --{k.replace('_', '-')} {recipe.config[k]}"
            for k in ("controller_size", "read_heads")
            if k in recipe.config and recipe.config[k] != RECIPES.get(name, recipe).config.get(k, DNC_DEFAULTS[k])
        )
        + (" --deallocate" if recipe.config.get("deallocate") else "")
    )


def build_card(name: str, recipe: Recipe, result: TrainResult, weights: Path) -> dict[str, Any]:
    """The model card (the shared ModelCard keys); ``metrics`` is filled by evaluation."""
    model = result.model
    recipe_dict = {k: v for k, v in asdict(recipe).items() if k not in ("task", "config", "description")}
    recipe_dict["curriculum"] = (
        f"sizes of the training range in order; start with the first {recipe.curriculum_start}, add one whenever "
        f"training bit errors per sequence since the last check < {recipe.curriculum_bits}"
    )
    recipe_dict["loss"] = "per-bit binary cross-entropy on the scored steps"
    recipe_dict["command"] = reproduce_command(name, recipe, result.episodes)
    extra: dict[str, Any] = {}
    if recipe.init_from:
        extra["previous_stage"] = previous_stage(Path(recipe.init_from))
    return {
        "name": name,
        "family": "dnc",
        "description": recipe.description,
        "task": recipe.task,
        "config": config_dict(model),
        "recipe": recipe_dict,
        "training": {
            "wall_time_s": result.wall_time_s,
            "episodes": result.episodes,
            "batches": result.batches,
            "parameters": sum(p.numel() for p in model.parameters()),
            "weights": {"file": weights.name, "dtype": "float32", "bytes": weights.stat().st_size},
            "weight_bytes": weights.stat().st_size,
            "weights_dtype": "float32",
            "machine": registry_machine_info(),
            "curriculum_complete_after_episodes": result.curriculum_done_at,
            "episodes_to_target": result.episodes_to_target,
            "target_bits_per_sequence": recipe.target_bits,
            "best_val_bits_per_sequence": result.best_val_bits,
            "best_val_loss": result.best_val_loss,
            "stopped_because": result.stopped_because,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        "metrics": {},
        "extra": extra,
    }


def previous_stage(weights: Path) -> dict[str, Any]:
    """What a warm start began from: the name, recipe and training record of that model's card."""
    card_file = weights.parent / f"{weights.stem}.json"
    if not card_file.is_file():
        return {"weights": str(weights), "card": "missing"}
    card = json.loads(card_file.read_text())
    training = {k: card.get("training", {}).get(k) for k in ("wall_time_s", "episodes", "batches")}
    return {"weights": str(weights), "name": card.get("name"), "recipe": card.get("recipe"), "training": training}


def save_run(name: str, recipe: Recipe, result: TrainResult, out_dir: Path) -> Path:
    """Write NAME.safetensors, NAME.json and NAME.curve.csv into ``out_dir``; return the card's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{name}.safetensors"
    save_state(result.model, weights)
    write_curve(out_dir / f"{name}.curve.csv", result.curve)
    card_file = out_dir / f"{name}.json"
    card_file.write_text(json.dumps(build_card(name, recipe, result, weights), indent=2) + "\n")
    return card_file


# --------------------------------------------------------------------------- CLI


def parse_args(name: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m memviz.train {name}", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, help="random seed (data and initial weights)")
    parser.add_argument("--minutes", type=float, help="time budget in minutes (0 = none)")
    parser.add_argument("--max-episodes", type=int, help="stop after this many training episodes")
    parser.add_argument("--polish", type=int, help="episodes to keep training after reaching the target")
    parser.add_argument("--batch", type=int, help="batch size")
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--check-every", type=int, help="episodes between validation checks")
    parser.add_argument("--curriculum-start", type=int, help="sizes enabled at the start of the curriculum")
    parser.add_argument("--init-from", help="start from these weights (a .safetensors with its card beside it)")
    parser.add_argument("--val-per-size", type=int, help="validation episodes per size")
    parser.add_argument("--controller-size", type=int, help="LSTM controller size (a smaller or larger model)")
    parser.add_argument("--read-heads", type=int, help="read heads")
    parser.add_argument("--lr-end", type=float, help="cosine learning rate schedule from --lr down to this")
    parser.add_argument("--lr-decay-episodes", type=int, help="episodes of the cosine schedule (default: max)")
    parser.add_argument("--size-weighting", choices=("uniform", "length"), help="how often each size is drawn")
    parser.add_argument("--memory-n", type=int, help="memory slots")
    parser.add_argument(
        "--train-memory-min", type=int, help="train each batch on between this many and --memory-n slots"
    )
    parser.add_argument("--memory-w", type=int, help="memory width")
    parser.add_argument(
        "--deallocate",
        action=argparse.BooleanOptionalAction,
        help="freeing a slot also erases it (Csordás & Schmidhuber 2019; default: the recipe's)",
    )
    parser.add_argument("--max-length", type=int, help="longest sequence of the training range")
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR, help="output folder (default: pretrained/)")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    parser.add_argument("--eval-episodes", type=int, default=500, help="fresh episodes per size in evaluation")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def recipe_for(name: str, args: argparse.Namespace) -> Recipe:
    if name not in RECIPES:
        raise SystemExit(f"no DNC training recipe for {name!r}; known: {', '.join(sorted(RECIPES))}")
    r = RECIPES[name]
    overrides = {
        "seed": args.seed,
        "minutes": args.minutes,
        "max_episodes": args.max_episodes,
        "polish": args.polish,
        "batch": args.batch,
        "lr": args.lr,
        "check_every": args.check_every,
        "val_per_size": args.val_per_size,
        "curriculum_start": args.curriculum_start,
        "init_from": args.init_from,
        "lr_end": args.lr_end,
        "lr_decay_episodes": args.lr_decay_episodes,
        "size_weighting": args.size_weighting,
        "train_memory_min": args.train_memory_min,
    }
    r = replace(r, **{k: v for k, v in overrides.items() if v is not None})
    config = dict(r.config)
    for key in ("controller_size", "memory_n", "memory_w", "read_heads", "deallocate"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    task = dict(r.task)
    if args.max_length is not None:
        task["max_length"] = args.max_length
    return replace(r, config=config, task=task)


def main(name: str, argv: list[str]) -> int:
    """``python -m memviz.train NAME``: train, save, then evaluate into the card."""
    args = parse_args(name, argv)
    recipe = recipe_for(name, args)
    print(f"training {name}: {recipe}", flush=True)
    result = train(recipe, progress=not args.quiet, log=lambda s: print(s, flush=True))
    path = save_run(name, recipe, result, args.out)
    print(f"wrote {path} ({result.episodes} episodes, {result.wall_time_s} s; stopped: {result.stopped_because})")
    if not args.no_eval:
        from memviz.dnc.evaluate import main as evaluate_main

        return evaluate_main(name, ["--episodes", str(args.eval_episodes), "--dir", str(args.out)])
    return 0


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print("usage: python -m memviz.dnc.train NAME [options]   (NAME: " + ", ".join(RECIPES) + ")")
        raise SystemExit(2)
    raise SystemExit(main(sys.argv[1], sys.argv[2:]))
