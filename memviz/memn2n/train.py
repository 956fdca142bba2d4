"""Train a joint MemN2N on the 20 bAbI tasks: ``python -m memviz.train memn2n-babi --data DIR``.

Recipe (Sukhbaatar et al. 2015, sec. 4.2, with Adam in place of plain SGD for speed):
one vocabulary and one model for all 20 tasks; the last 10% of each training file is
the validation split; linear start (LS) for the first epochs, then the attention softmax;
random noise (RN) adds ~10% empty time slots; gradients clipped to norm 40; several short
restarts from different seeds, the best on validation is trained on; the best epoch on
validation is kept. Data are padded to fixed tensors once and batches are bucketed by
story length, so an epoch over 172k questions takes seconds on one CPU thread.

``--data`` may be a folder of ``qaN_*_train.txt`` files or a bAbI root holding
``en-10k/`` and ``en/``: a task missing from ``en-10k`` (task 3 in the shared copy) is
read from ``en/`` and the card says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from memviz.memn2n.model import (
    NONLINEARITIES,
    MemN2N,
    MemN2NConfig,
    Vocabulary,
    config_dict,
    noisy_time_index,
    save_weights,
    sentence_bags,
)
from memviz.registry import (
    PRETRAINED_DIR,
    ModelCard,
    PretrainedError,
    machine_info,
    read_card,
    weights_path,
    write_card,
)
from memviz.tasks.babi import BabiExample, available_tasks, find_task_file, load_babi_file, split_validation, tokenize
from memviz.tasks.babi_generator import OBJECTS, ROOMS

BABI_TASK = "bAbI v1.2, 20 tasks, one joint model (answers as single tokens)"
PAPER_REFERENCE = "Sukhbaatar, Szlam, Weston, Fergus 2015, End-To-End Memory Networks, arXiv:1503.08895"
DEFAULT_HOPS = {"memn2n-babi": 3, "memn2n-babi-1hop": 1, "memn2n-babi-2hop": 2}
FAIL_THRESHOLD = 5.0  # a task "fails" above 5% error (paper, Table 1)


# ---------------------------------------------------------------------------- data


def resolve_task_files(data: str | Path) -> dict[int, Path]:
    """Task -> training file; a root with en-10k/ falls back to en/ for missing tasks."""
    root = Path(data)
    if available_tasks(root):
        folders = [root]
    elif (root / "en-10k").is_dir():
        folders = [root / "en-10k", root / "en"]
    elif (root / "en").is_dir():
        folders = [root / "en"]
    else:
        raise FileNotFoundError(f"no bAbI training files (qaN_*_train.txt) in {root}, {root}/en-10k or {root}/en")
    files: dict[int, Path] = {}
    for task in range(1, 21):
        for folder in folders:
            path = find_task_file(folder, task, "train")
            if path is not None:
                files[task] = path
                break
    return files


def load_splits(files: dict[int, Path]) -> tuple[dict[int, list[BabiExample]], dict[int, list[BabiExample]]]:
    train, valid = {}, {}
    for task, path in files.items():
        train[task], valid[task] = split_validation(load_babi_file(path))
    return train, valid


@dataclass
class Encoded:
    """A split padded once into fixed tensors (stories as indices into a sentence table)."""

    sentences: torch.Tensor  # [S, 2, V] position-encoded bags; row 0 is the empty sentence
    slots: torch.Tensor  # [N, memory] sentence-table rows, slot 0 = most recent, 0 = empty
    n_mem: torch.Tensor  # [N] sentences in memory
    questions: torch.Tensor  # [Q, 2, V] bags of the distinct questions
    query_ids: torch.Tensor  # [N] row of each example's question
    answers: torch.Tensor  # [N] index into vocab.answers
    tasks: torch.Tensor  # [N]


RENAMEABLE: tuple[tuple[str, ...], ...] = (("Mary", "Sandra"), ("John", "Daniel"), tuple(ROOMS), tuple(OBJECTS))
"""Words a renamed copy may swap, each only within its group (people within a pronoun's gender)."""

_RENAME_PATTERN = re.compile(r"\b(" + "|".join(w for group in RENAMEABLE for w in group) + r")\b")


def rename_entities(example: BabiExample, rng: random.Random) -> BabiExample:
    """The example with its people, rooms and objects renamed, one random bijection per group.

    Data augmentation for a task with few stories (task 3 has only the 1k file):
    a renamed copy tells the same story about other names, so repeating the task's
    questions per epoch shows new stories instead of the same ones again. Story,
    question and answer are renamed alike, so the supporting facts still hold.
    """
    mapping: dict[str, str] = {}
    for group in RENAMEABLE:
        mapping.update(zip(group, rng.sample(group, len(group)), strict=True))

    def rename(text: str) -> str:
        return _RENAME_PATTERN.sub(lambda m: mapping[m.group(0)], text)

    return dataclasses.replace(
        example,
        story=tuple(rename(sentence) for sentence in example.story),
        question=rename(example.question),
        answer=",".join(mapping.get(part, part) for part in example.answer.split(",")),
    )


def training_questions(
    train: dict[int, list[BabiExample]], repeats: dict[int, int], renamed: set[int], seed: int
) -> list[BabiExample]:
    """Each task's questions ``repeats[task]`` times; for ``renamed`` tasks every repeat but the first is renamed."""
    rng = random.Random(seed)
    return [
        rename_entities(e, rng) if r > 0 and t in renamed else e
        for t in sorted(train)
        for r in range(repeats[t])
        for e in train[t]
    ]


def encode_examples(examples: list[BabiExample], vocab: Vocabulary, memory: int) -> Encoded:
    table: dict[str, int] = {"": 0}
    rows: list[list[int]] = [[]]
    slots = np.zeros((len(examples), memory), dtype=np.int64)
    n_mem = np.zeros(len(examples), dtype=np.int64)
    q_table: dict[str, int] = {}
    q_rows: list[list[int]] = []
    query_ids, answers, tasks = [], [], []
    for n, ex in enumerate(examples):
        kept = ex.story[-memory:]
        for slot, sentence in enumerate(reversed(kept)):
            if sentence not in table:
                table[sentence] = len(rows)
                rows.append(vocab.encode(tokenize(sentence)))
            slots[n, slot] = table[sentence]
        n_mem[n] = len(kept)
        q_key = " ".join(tokenize(ex.question))
        if q_key not in q_table:
            q_table[q_key] = len(q_rows)
            q_rows.append(vocab.encode(q_key.split()))
        query_ids.append(q_table[q_key])
        answers.append(vocab.answer_pos[ex.answer.lower()])
        tasks.append(ex.task)
    return Encoded(
        sentences=sentence_bags(_pad(rows), len(vocab)),
        slots=torch.from_numpy(slots),
        n_mem=torch.from_numpy(n_mem),
        questions=sentence_bags(_pad(q_rows), len(vocab)),
        query_ids=torch.tensor(query_ids, dtype=torch.long),
        answers=torch.tensor(answers),
        tasks=torch.tensor(tasks),
    )


def _pad(rows: list[list[int]]) -> torch.Tensor:
    out = torch.zeros(len(rows), max(1, max(len(r) for r in rows)), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


def batches(data: Encoded, size: int, shuffle: bool, rng: random.Random) -> list[torch.Tensor]:
    """Index batches of similar story length (bucketing), in random order when shuffling."""
    n_mem = data.n_mem.numpy().astype(np.float64)
    if shuffle:
        n_mem = n_mem + np.array([rng.random() for _ in range(len(n_mem))])
    order = np.argsort(n_mem, kind="stable")
    chunks = [torch.from_numpy(order[i : i + size].copy()) for i in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(chunks)
    return chunks


def gather(data: Encoded, idx: torch.Tensor) -> dict[str, torch.Tensor]:
    """Forward arguments for a batch, trimmed to its longest story.

    The batch's distinct sentences and questions are embedded once (``story_index`` and
    ``query_index`` pick them per slot): bAbI reuses a few thousand sentences, so this
    is ~5x less work than embedding every slot.
    """
    width = int(data.n_mem[idx].max().clamp(min=1))
    sentence_rows, story_index = torch.unique(data.slots[idx, :width], return_inverse=True)
    question_rows, query_index = torch.unique(data.query_ids[idx], return_inverse=True)
    return {
        "stories": data.sentences[sentence_rows],
        "queries": data.questions[question_rows],
        "memory_mask": torch.arange(width)[None, :] < data.n_mem[idx][:, None],
        "story_index": story_index,
        "query_index": query_index,
    }


# ---------------------------------------------------------------------------- train / evaluate


@torch.no_grad()
def predict(model: MemN2N, data: Encoded, batch_size: int = 512) -> torch.Tensor:
    """Predicted answer indices for every example of ``data``."""
    model.eval()
    out = torch.empty(len(data.answers), dtype=torch.long)
    for idx in batches(data, batch_size, False, random.Random(0)):
        out[idx] = model(**gather(data, idx)).logits.argmax(-1)
    return out


def task_errors(model: MemN2N, data: Encoded) -> dict[int, float]:
    """Error (%) per task."""
    wrong = (predict(model, data) != data.answers).float()
    return {int(t): 100.0 * float(wrong[data.tasks == t].mean()) for t in torch.unique(data.tasks)}


def summarise(errors: dict[int, float]) -> dict[str, Any]:
    failed = sorted(t for t, e in errors.items() if e > FAIL_THRESHOLD)
    return {
        "per_task_error": {str(t): round(e, 2) for t, e in sorted(errors.items())},
        "mean_error": round(float(np.mean(list(errors.values()))), 2),
        "failed_tasks": failed,
        "n_failed": len(failed),
    }


def train_epoch(
    model: MemN2N, data: Encoded, opt: torch.optim.Optimizer, args, linear: bool, rng: random.Random, gen
) -> float:
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    total, count = 0.0, 0
    chunks = batches(data, args.batch_size, True, rng)
    bar = tqdm(chunks, desc="LS" if linear else "train", unit="batch", mininterval=20, leave=False, disable=args.quiet)
    for idx in bar:
        inputs = gather(data, idx)
        slots = inputs["memory_mask"].shape[1]
        time_index = noisy_time_index(slots, len(idx), args.random_noise, model.config.memory_size, gen)
        state = model(**inputs, time_index=time_index, linear=linear)
        loss = loss_fn(state.logits, data.answers[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        with torch.no_grad():
            model.embeddings[:, 0].zero_()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
    return total / max(count, 1)


def new_model(vocab: Vocabulary, args, seed: int) -> tuple[MemN2N, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    cfg = MemN2NConfig(
        vocab_size=len(vocab),
        embed_dim=args.dim,
        hops=args.hops,
        memory_size=args.memory,
        nonlinearity=args.nonlinearity,
    )
    model = MemN2N(cfg, vocab)
    with torch.no_grad():
        model.embeddings[:, 0].zero_()
    return model, torch.optim.Adam(model.parameters(), lr=args.lr)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def lr_at(epoch: int, args) -> float:
    """Constant, then halved every ``anneal_every`` epochs after ``anneal_start`` (paper-style annealing)."""
    if epoch < args.anneal_start:
        return args.lr
    return args.lr * 0.5 ** ((epoch - args.anneal_start) // args.anneal_every + 1)


def run_training(args, log=print) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    start = time.time()
    files = resolve_task_files(args.data)
    train_ex, valid_ex = load_splits(files)
    largest = max(len(v) for v in train_ex.values())
    repeats = {t: max(1, round(largest / len(v))) if args.balance else 1 for t, v in train_ex.items()}
    for task, factor in args.oversample.items():
        if task in repeats:
            repeats[task] *= factor
    all_train = training_questions(train_ex, repeats, set(args.rename), args.seed)
    if any(r > 1 for r in repeats.values()):
        shown = ", ".join(
            f"task {t} x{r}" + (" renamed" if t in args.rename else "") for t, r in repeats.items() if r > 1
        )
        log(f"balanced sampling: repeating training questions per epoch ({shown})")
    all_valid = [e for t in sorted(valid_ex) for e in valid_ex[t]]
    everything = all_train + all_valid
    vocab = Vocabulary.build(
        (text for e in everything for text in (*e.story, e.question)), (e.answer for e in everything)
    )
    train = encode_examples(all_train, vocab, args.memory)
    valid = encode_examples(all_valid, vocab, args.memory)
    log(
        f"{len(all_train)} training / {len(all_valid)} validation questions, vocabulary {len(vocab)}, "
        f"{len(vocab.answers)} answers; data ready in {time.time() - start:.1f}s"
    )
    budget = args.time_budget * 60.0

    # Restarts: short linear-start runs from different seeds; train on the best (sec. 4.2).
    candidates = []
    for r in range(args.restarts):
        seed = args.seed + r
        rng, gen = random.Random(seed), torch.Generator().manual_seed(seed)
        model, opt = new_model(vocab, args, seed)
        set_lr(opt, args.ls_lr)
        for _ in range(args.restart_epochs):
            train_epoch(model, train, opt, args, True, rng, gen)
        err = summarise(task_errors(model, valid))["mean_error"]
        log(f"restart {r} (seed {seed}): validation mean error after {args.restart_epochs} LS epochs {err:.2f}%")
        candidates.append((err, seed, model, opt, rng, gen))
    candidates.sort(key=lambda c: c[0])
    _, seed, model, opt, rng, gen = candidates[0]
    del candidates[1:]
    log(f"continuing restart with seed {seed}")

    best = (math.inf, None, -1)
    history = []
    epoch = args.restart_epochs
    ls_best, ls_stale, ls_end = math.inf, 0, args.ls_epochs
    while epoch < args.epochs and time.time() - start < budget:
        linear = epoch < ls_end
        set_lr(opt, args.ls_lr if linear else lr_at(epoch, args))
        loss = train_epoch(model, train, opt, args, linear, rng, gen)
        errors = task_errors(model, valid)
        summary = summarise(errors)
        history.append({"epoch": epoch + 1, "loss": round(loss, 4), "valid_mean_error": summary["mean_error"]})
        if linear:  # linear start ends when validation stops improving (sec. 4.2)
            ls_best, ls_stale = (
                (summary["mean_error"], 0) if summary["mean_error"] < ls_best else (ls_best, ls_stale + 1)
            )
            if ls_stale >= args.ls_patience:
                ls_end = epoch + 1
        elif summary["mean_error"] < best[0]:
            best = (summary["mean_error"], {k: v.detach().clone() for k, v in model.state_dict().items()}, epoch + 1)
        worst = ", ".join(f"{t}: {e:.1f}" for t, e in sorted(errors.items(), key=lambda kv: -kv[1])[:6])
        log(
            f"epoch {epoch + 1:3d} {'LS' if linear else 'SM'} lr {opt.param_groups[0]['lr']:.5f} loss {loss:.4f} "
            f"valid mean {summary['mean_error']:.2f}% failed {summary['n_failed']} worst {worst} "
            f"[{time.time() - start:.0f}s]"
        )
        epoch += 1
    if best[1] is not None:
        model.load_state_dict(best[1])
    wall = time.time() - start
    summary = summarise(task_errors(model, valid))
    log(
        f"best epoch {best[2]}: validation mean error {summary['mean_error']:.2f}%, failed {summary['failed_tasks']}; "
        f"wall time {wall / 60:.1f} min"
    )
    return {
        "model": model,
        "vocab": vocab,
        "files": files,
        "summary": summary,
        "wall": wall,
        "best_epoch": best[2],
        "linear_start_end": ls_end,
        "epochs_run": epoch,
        "history": history,
        "seed": seed,
        "n_train": sum(len(v) for v in train_ex.values()),
        "repeats": {str(t): r for t, r in repeats.items() if r > 1},
        "n_valid": len(all_valid),
    }


def build_card(name: str, args, result: dict[str, Any]) -> ModelCard:
    model: MemN2N = result["model"]
    files: dict[int, Path] = result["files"]
    sources = {str(t): f"{p.parent.name}/{p.name}" for t, p in sorted(files.items())}
    fallback = [
        t for t, p in files.items() if p.parent.name == "en" and any(q.parent.name == "en-10k" for q in files.values())
    ]
    note = (
        f"tasks {fallback} read from en/ (1k) because en-10k lacks their training file"
        if fallback
        else "all tasks from one folder"
    )
    try:
        previous = read_card(name, Path(args.out))
    except PretrainedError:
        previous = None
    config = config_dict(model)
    weights = weights_path(name, Path(args.out))
    card = ModelCard(
        name=name,
        family="memn2n",
        description=f"MemN2N ({config['hops']} hops, d = {config['embed_dim']}, memory {config['memory_size']}) "
        f"on {BABI_TASK}",
        task={"name": "babi", "description": BABI_TASK},
        config=config,
        recipe={
            "optimizer": "Adam",
            "lr": args.lr,
            "anneal": f"halve every {args.anneal_every} epochs from epoch {args.anneal_start}",
            "batch_size": args.batch_size,
            "epochs_max": args.epochs,
            "epochs_run": result["epochs_run"],
            "best_epoch": result["best_epoch"],
            "linear_start_epochs_max": args.ls_epochs,
            "linear_start_patience": args.ls_patience,
            "linear_start_ended_after_epoch": result["linear_start_end"],
            "linear_start_lr": args.ls_lr,
            "random_noise": args.random_noise,
            "balanced_sampling": result["repeats"] or "off",
            "renamed_repeats": sorted(args.rename) or "off",
            "grad_clip_norm": args.clip,
            "restarts": args.restarts,
            "restart_epochs": args.restart_epochs,
            "time_budget_min": args.time_budget,
            "threads": args.threads,
            "weights_dtype": "float16",
            "command": f"python -m memviz.train {name} " + " ".join(args.argv),
            "seed": args.seed,
            "chosen_restart_seed": result["seed"],
        },
        training={
            "wall_time_s": round(result["wall"], 1),
            "data": {
                "sources": sources,
                "note": note,
                "train_questions": result["n_train"],
                "validation_questions": result["n_valid"],
                "validation": "last 10% of each training file",
            },
            "validation": result["summary"],
            "history": result["history"],
            "parameters": sum(p.numel() for p in model.parameters()),
            "weights": {"file": weights.name, "dtype": "float16", "bytes": weights.stat().st_size},
            "machine": machine_info(),
        },
        extra={"paper": PAPER_REFERENCE, "vocabulary": model.vocab.words, "answers": model.vocab.answers},
    )
    if previous is not None and previous.config == card.config:
        card.metrics = previous.metrics  # still measures these weights' architecture; re-run evaluate to refresh
    return card


def parse_oversample(text: str) -> dict[int, int]:
    """``"17:2,19:3"`` -> {17: 2, 19: 3}: task -> how many times its questions appear per epoch."""
    out = {}
    for part in filter(None, text.split(",")):
        task, _, factor = part.partition(":")
        try:
            out[int(task)] = int(factor)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected TASK:FACTOR, e.g. 19:3, got {part!r}") from None
        if not 1 <= out[int(task)] <= 20:
            raise argparse.ArgumentTypeError(f"oversampling factor must be 1..20, got {part!r}")
    return out


def parse_tasks(text: str) -> list[int]:
    """``"3,19"`` -> [3, 19]: bAbI task numbers 1..20."""
    try:
        tasks = sorted({int(part) for part in filter(None, text.split(","))})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected task numbers like 3 or 3,19, got {text!r}") from None
    if not tasks or not all(1 <= t <= 20 for t in tasks):
        raise argparse.ArgumentTypeError(f"task numbers must lie in 1..20, got {text!r}")
    return tasks


def parse_args(name: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m memviz.train {name}", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/babi"))
    parser.add_argument("--hops", type=int, default=DEFAULT_HOPS.get(name, 3))
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--memory", type=int, default=50)
    parser.add_argument(
        "--nonlinearity", default="none", choices=NONLINEARITIES, help="ReLU after each hop's u + o (see hop_update)"
    )
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--anneal-start", type=int, default=35)
    parser.add_argument("--anneal-every", type=int, default=10)
    parser.add_argument("--ls-epochs", type=int, default=20)
    parser.add_argument("--ls-patience", type=int, default=2, help="end LS after this many epochs without gain")
    parser.add_argument("--ls-lr", type=float, default=0.002, help="learning rate while attention is linear")
    parser.add_argument("--random-noise", type=float, default=0.1)
    parser.add_argument("--clip", type=float, default=40.0)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--restart-epochs", type=int, default=1)
    parser.add_argument("--time-budget", type=float, default=28.0, help="minutes of wall time, all included")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(PRETRAINED_DIR))
    parser.add_argument(
        "--no-balance", dest="balance", action="store_false", help="do not repeat small tasks (task 3 from en/)"
    )
    parser.add_argument(
        "--oversample",
        type=parse_oversample,
        default={},
        help="repeat some tasks' training questions per epoch, e.g. 19:3 or 17:2,19:3",
    )
    parser.add_argument(
        "--rename",
        type=parse_tasks,
        default=[],
        help="tasks whose repeated questions are renamed copies (people, rooms, objects), e.g. 3",
    )
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    args.argv = argv
    return args


def main(name: str, argv: list[str]) -> int:
    args = parse_args(name, argv)
    result = run_training(args, log=lambda s: print(s, flush=True))
    if args.no_save:
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(result["model"], weights_path(name, out))
    path = write_card(build_card(name, args, result), out)
    print(f"wrote {weights_path(name, out)} and {path}")
    return 0
