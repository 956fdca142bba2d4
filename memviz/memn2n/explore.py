"""The MemN2N Explorer's logic, without Streamlit: story sources, typed stories, links, exports.

The page (``pages/memn2n.py``) shows how an End-to-End Memory Network
(Sukhbaatar, Szlam, Weston and Fergus 2015, arXiv:1503.08895) answers a question about
a story: on each hop k it attends over the sentences in memory (p_k, eq. 1), reads
o_k = sum_i p_k(i) c_i (eq. 2) and adds it to its state, u_{k+1} = u_k + o_k (sec. 2.2;
the shipped models pass the sum through a ReLU, see ``memviz.memn2n.hop_update``).
Everything here is plain Python/numpy so it is tested without a browser:

- story sources: the seeded generator (``memviz.tasks.babi_generator``), a typed story,
  or a bAbI v1.2 file from a folder or an upload, grouped into stories and questions;
- the memory (50 sentences in the paper, sec. 4.2; the model card's ``memory_size``): :func:`fit_memory`
  keeps the most recent ones and says so;
- links: a typed story travels compressed in one query parameter (:func:`encode_typed`);
- exports: the trace as JSON, an animated GIF drawn with PIL (no browser), and a
  self-contained HTML page of the Plotly animation.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from memviz.memn2n.model import EmptyInputError, MemN2NTrace
from memviz.registry import ModelCard
from memviz.tasks.babi import (
    TASK_NAMES,
    BabiExample,
    BabiFormatError,
    parse_babi_lines,
    split_sentences,
    task_of_file,
    tokenize,
)
from memviz.tasks.babi_generator import GENERATORS, QUESTIONS_PER_STORY, generate_examples

LINK_LIMIT = 1800
"""Longest encoded typed story carried in a link (whole URLs stay under ~2000 characters)."""

DEFAULT_TYPED_STORY = (
    "Mary moved to the bathroom.\nJohn went to the hallway.\nMary travelled to the office.\nSandra went to the garden."
)
DEFAULT_TYPED_QUESTION = "Where is Mary?"
DEFAULT_TYPED_ANSWER = "office"


class ExplorerInputError(ValueError):
    """Input the explorer cannot use; the message is shown to the user as is."""


@dataclass(frozen=True)
class Example:
    """One question about one story, as the page shows it.

    ``supporting`` holds indices into ``sentences`` (0-based) of the supporting facts
    when the source knows them (generator, bAbI files); ``answer`` is the true answer
    or None for a typed story without one.
    """

    sentences: tuple[str, ...]
    question: str
    answer: str | None = None
    supporting: tuple[int, ...] = ()
    task: int = 0
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def signature(self) -> str:
        """A short stable id of the story and question (masks belong to one story)."""
        text = "\n".join((*self.sentences, self.question))
        return f"{zlib.crc32(text.encode()):08x}"


# ---------------------------------------------------------------------------- sources


def task_options() -> dict[int, tuple[str, str]]:
    """Generated tasks: number -> (name, one-line description), in task order."""
    return {task: (name, description) for task, (name, description, _) in sorted(GENERATORS.items())}


def task_label(task: int) -> str:
    """``1 single-supporting-fact``: how a task is named in menus and links (``?task=1+single-supporting-fact``)."""
    return f"{task} {TASK_NAMES.get(task, 'unknown task')}"


def from_babi(example: BabiExample, source: str) -> Example:
    """An explorer example from a parsed bAbI question (supporting facts as story indices)."""
    return Example(
        sentences=tuple(example.story),
        question=example.question,
        answer=example.answer,
        supporting=tuple(example.supporting_indices),
        task=example.task,
        source=source,
    )


def generated_example(task: int, seed: int) -> Example:
    """The last question asked about the generator's story ``seed`` for ``task`` (same seed, same story).

    The last question sees the whole story, so there is more for attention to choose from
    than in the story's first, two-sentence question.
    """
    if task not in GENERATORS:
        raise ExplorerInputError(f"task {task} has no generator; choose one of {sorted(GENERATORS)}")
    first_story = group_stories(generate_examples(task, QUESTIONS_PER_STORY, seed))[0]
    return from_babi(first_story.questions[-1], f"generated task {task}, seed {seed}")


def fit_memory(example: Example, limit: int) -> Example:
    """Keep the last ``limit`` sentences (sec. 4.2), shifting supporting facts and saying what was dropped."""
    dropped = len(example.sentences) - limit
    if dropped <= 0:
        return example
    kept_support = tuple(i - dropped for i in example.supporting if i >= dropped)
    note = (
        f"The story has {len(example.sentences)} sentences; the memory holds the last {limit}, "
        f"so the first {dropped} were left out."
    )
    if len(kept_support) < len(example.supporting):
        note += " Some supporting facts were among them."
    return replace(
        example, sentences=example.sentences[dropped:], supporting=kept_support, notes=(*example.notes, note)
    )


def typed_example(story_text: str, question: str, answer: str = "") -> Example:
    """A typed story and question; raises :class:`EmptyInputError` when either is empty."""
    sentences = split_sentences(story_text)
    if not sentences:
        raise EmptyInputError("The story is empty: type at least one sentence, e.g. 'Mary went to the kitchen.'")
    if not tokenize(question or ""):
        raise EmptyInputError("The question is empty: ask e.g. 'Where is Mary?'")
    answer_words = ",".join(tokenize(answer or ""))
    return Example(
        sentences=tuple(sentences),
        question=question.strip(),
        answer=answer_words or None,
        source="typed story",
    )


# ---------------------------------------------------------------------------- bAbI files


@dataclass(frozen=True)
class BabiStory:
    """The questions asked about one story of a bAbI file, in file order."""

    questions: tuple[BabiExample, ...]

    @property
    def length(self) -> int:
        return len(self.questions[-1].story)


def parse_babi_bytes(data: bytes, name: str) -> list[BabiExample]:
    """Parse an uploaded bAbI file; a non-UTF-8 or malformed file raises :class:`BabiFormatError` naming the line."""
    lines = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BabiFormatError(name, number, "not UTF-8 text, so not a bAbI file") from exc
    examples = parse_babi_lines(lines, name, task_of_file(name))
    if not examples:
        raise BabiFormatError(name, len(lines), "no question lines ('ID question?<TAB>answer<TAB>IDs') found")
    return examples


def group_stories(examples: Sequence[BabiExample]) -> list[BabiStory]:
    """Group consecutive questions of one story: a question starts a new story when its story is not an extension."""
    stories: list[list[BabiExample]] = []
    for example in examples:
        previous = stories[-1][-1] if stories else None
        continues = (
            previous is not None
            and len(example.story_ids) >= len(previous.story_ids)
            and example.story_ids[: len(previous.story_ids)] == previous.story_ids
            and example.story[: len(previous.story)] == previous.story
            and (not example.story_ids or example.story_ids[0] == 1)
        )
        if continues:
            stories[-1].append(example)
        else:
            stories.append([example])
    return [BabiStory(tuple(s)) for s in stories]


BABI_ROOT_VARIABLE = "MEMVIZ_BABI_ROOT"
"""Environment variable naming the folder below which the explorer may browse bAbI files."""


def babi_root() -> Path:
    """The folder below which bAbI folders may be browsed: ``$MEMVIZ_BABI_ROOT``, else where memviz was started."""
    return Path(os.environ.get(BABI_ROOT_VARIABLE) or Path.cwd()).resolve()


def babi_files(folder: str | Path, root: Path | None = None) -> list[Path]:
    """bAbI files (``qaN_*.txt``) in a folder, or in its ``en/`` or ``en-10k/`` subfolder, by task then split.

    Only folders below ``root`` (:func:`babi_root`) are browsed; a relative path is
    taken from there. Anything else, missing or unreadable is "not found", with no
    system error text, so the field tells nobody which server paths exist.
    """
    root = (root or babi_root()).resolve()
    shown = str(folder)[:80]
    try:
        path = (root / Path(folder)).resolve()
        if not path.is_relative_to(root) or not path.is_dir():
            raise ExplorerInputError(f"folder {shown!r} not found (only folders below {BABI_ROOT_VARIABLE})")
        for candidate in (path, path / "en", path / "en-10k"):
            files = sorted(candidate.glob("qa*_*.txt")) if candidate.is_dir() else []
            if files:
                return sorted(files, key=lambda p: (task_of_file(p), p.name))
    except (OSError, ValueError) as exc:
        raise ExplorerInputError(f"folder {shown!r} not found") from exc
    raise ExplorerInputError(f"no bAbI files (qaN_<task>_<split>.txt) found in {shown!r}")


# ---------------------------------------------------------------------------- links


def encode_typed(story_text: str, question: str, answer: str = "") -> str:
    """A typed story, question and answer as one URL-safe token (zlib + base64url)."""
    payload = json.dumps([story_text, question, answer], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode().rstrip("=")


def decode_typed(token: str) -> tuple[str, str, str]:
    """Inverse of :func:`encode_typed`; a damaged token raises :class:`ExplorerInputError`."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(zlib.decompress(base64.urlsafe_b64decode(padded.encode()), bufsize=1 << 16))
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError) as exc:
        raise ExplorerInputError("the typed story in the link is damaged (it may have been cut short)") from exc
    if not (isinstance(payload, list) and len(payload) == 3 and all(isinstance(p, str) for p in payload)):
        raise ExplorerInputError("the typed story in the link is not a story, question and answer")
    return payload[0], payload[1], payload[2]


def parse_masks(text: str, n_sentences: int) -> tuple[list[int], list[str]]:
    """``"2,5"`` -> sentence numbers [2, 5] (1-based) and the parts that were not valid numbers in 1..n."""
    good, bad = [], []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if part.isdigit() and 1 <= int(part) <= n_sentences:
            good.append(int(part))
        else:
            bad.append(part)
    return sorted(set(good)), bad


# ---------------------------------------------------------------------------- reading a trace


def strongest_sentence(trace: MemN2NTrace, hop: int) -> tuple[int, float]:
    """(sentence index, weight) of the sentence that dominates o_hop = sum_i p_hop(i) c_i (eq. 2); hop is 1-based."""
    weights = trace.attention[hop - 1]
    index = int(np.argmax(weights))
    return index, float(weights[index])


def answer_rank(trace: MemN2NTrace, hop: int, answer: str | None) -> tuple[int, float] | None:
    """(1-based rank, probability) of ``answer`` in hop ``hop``'s readout, or None if the model cannot say it."""
    if not answer or answer not in trace.answers:
        return None
    probs = trace.hop_probs[hop - 1]
    position = trace.answers.index(answer)
    rank = int((probs > probs[position]).sum()) + 1
    return rank, float(probs[position])


def hop_summary(trace: MemN2NTrace, hop: int, example: Example) -> str:
    """One line for hop ``hop``: which sentence o_k mostly carried and what the readout says."""
    index, weight = strongest_sentence(trace, hop)
    word, prob = trace.hop_top5[hop - 1][0]
    if float(trace.attention[hop - 1].sum()) == 0.0:
        carried = "reads nothing (every sentence is masked)"
    else:
        carried = f"mostly carried sentence {index + 1}, “{trace.sentences[index]}” (p = {weight:.2f})"
    return f"o{_sub(hop)} {carried}; stopping here it would answer **{word}** ({prob:.0%})."


def early_readout_note(trace: MemN2NTrace, upto: int) -> str | None:
    """Why a hop before the last (hops 1..``upto``) would answer differently from the final answer; None if none does.

    Training scores only the answer after the last hop (softmax(W u_{K+1})), so an
    earlier hop's readout, softmax(W u_{k+1}), is the output layer applied to a state
    it was never trained to answer from: it may contradict the sentence that hop read.
    """
    differing = [k for k in range(1, min(upto, trace.hops - 1) + 1) if trace.hop_top5[k - 1][0][0] != trace.answer]
    if not differing:
        return None
    names = [str(k) for k in differing]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    which = f"Hop {listed} answers" if len(names) == 1 else f"Hops {listed} answer"
    return (
        f"{which} differently from the final answer **{trace.answer}**: an earlier hop's readout is what the output "
        f"layer would say from that hop's state, and the model was only trained to answer after hop {trace.hops}."
    )


MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def plain_markdown(text: str) -> str:
    """``text`` escaped so Markdown shows it as typed (a question ``~~Mary~~`` is not struck through)."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)


def error_text(problem: str) -> str:
    """A problem as a sentence: first letter capitalised, unless it starts with a file name (``qa1_x.txt:5``)."""
    first = problem.split(" ", 1)[0]
    return problem if not first.isalpha() else problem[:1].upper() + problem[1:]


def _sub(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# ---------------------------------------------------------------------------- model cards


def model_hops(card: ModelCard) -> int:
    """Hop count of a MemN2N from its card's config."""
    return int(card.config.get("hops", 0))


SPLIT_NAMES = {"valid": "validation split (last 10% of each training file)", "test": "test files", "all": "whole files"}
PAPER_10K = "10k joint (DNC paper)"


def accuracy_rows(card: ModelCard) -> tuple[list[dict[str, Any]], str]:
    """Per-task error (%) of a model beside the paper's, from its card; and a caption naming every source.

    Ours: the card's ``metrics`` (``python -m memviz.evaluate``) when present, else the
    validation error recorded in training (``training.validation``). Paper: Sukhbaatar et al. 2015, Table 1, the 1k
    joint column with the model's hop count (sec. 4.2), and the 10k joint MemN2N column
    quoted by Graves et al. 2016 (the shipped models train mostly on the 10k files).
    """
    from memviz.memn2n.evaluate import PAPER, PAPER_FOR_HOPS

    hops = model_hops(card) or 3
    evaluation = card.metrics
    ours = evaluation.get("per_task_error") or (card.training.get("validation") or {}).get("per_task_error") or {}
    split = SPLIT_NAMES.get(evaluation.get("split", "valid"), str(evaluation.get("split")))
    column = PAPER_FOR_HOPS.get(hops, PAPER_FOR_HOPS[3])
    series = [(f"paper, {column}", PAPER[column]), ("paper, 10k joint", PAPER[PAPER_10K])]
    rows = []
    for task in range(1, 21):
        name = TASK_NAMES[task]
        if str(task) in ours:
            rows.append({"task": task, "name": name, "model": "this model", "error": float(ours[str(task)])})
        for label, errors in series:
            rows.append({"task": task, "name": name, "model": label, "error": float(errors[task])})
    caption = (
        f"This model: {split}, as recorded in its card. Paper: Sukhbaatar et al. 2015, Table 1 "
        f"(“{column}”), and the 10k joint MemN2N errors quoted by Graves et al. 2016. "
        "Lower is better; a task fails above 5% (dashed line)."
    )
    return rows, caption


# ---------------------------------------------------------------------------- exports


def trace_record(trace: MemN2NTrace, example: Example, model_name: str) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-ready data (numbers rounded to 5 decimals)."""

    def floats(array: np.ndarray) -> list:
        return np.round(array.astype(float), 5).tolist()

    return {
        "model": model_name,
        "paper": "Sukhbaatar, Szlam, Weston, Fergus 2015, End-To-End Memory Networks, arXiv:1503.08895",
        "source": example.source,
        "task": example.task,
        "sentences": trace.sentences,
        "question": trace.question,
        "true_answer": example.answer,
        "supporting_facts": [i + 1 for i in example.supporting],
        "masked_sentences": [i + 1 for i in trace.masked],
        "temperature": floats(trace.temperature),
        "answer": trace.answer,
        "top5": [{"answer": w, "p": round(p, 5)} for w, p in trace.top5],
        "hops": [
            {
                "hop": k + 1,
                "attention": floats(trace.attention[k]),
                "scores": floats(trace.scores[k]),
                "readout_top5": [{"answer": w, "p": round(p, 5)} for w, p in trace.hop_top5[k]],
                "o": floats(trace.o[k]),
                "u_next": floats(trace.u[k + 1]),
            }
            for k in range(trace.hops)
        ],
        "u1": floats(trace.u[0]),
        "notes": list(trace.notes) + list(example.notes),
    }


def trace_json(trace: MemN2NTrace, example: Example, model_name: str) -> str:
    """:func:`trace_record` as indented JSON text."""
    return json.dumps(trace_record(trace, example, model_name), indent=1, ensure_ascii=False)


def count_of(n: int, noun: str) -> str:
    """``"1 sentence"``, ``"3 sentences"``: a number with its noun, plural when it is not 1."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
