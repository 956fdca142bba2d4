"""The named quantities a lesson's narration and claims may use, per page, read from the live run.

A narration says ``the write head puts {write_peak:.2f} of its weight on location
{write_slot}``; a claim says ``bit_errors > 10``. Both name quantities from the tables
below, and each quantity is a small function of the step's live run
(:mod:`memviz.lessons.live`): the trace the page would draw, never a typed number.
Quantities are computed only when a step names them.

Locations and sentences are numbered as the pages number them: NTM locations from 0,
story sentences from 1 (the MemN2N Explorer's row labels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Quantity:
    """A named number or word of the live view: its type (for checking templates), meaning and how to read it."""

    kind: str  # "float", "int" or "str"
    doc: str
    read: Callable[[Any], Any]


def entropy_bits(w: np.ndarray) -> float:
    """Shannon entropy of a weighting in bits (0: all weight on one location)."""
    p = np.asarray(w, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def circular_move(a: int, b: int, n: int) -> int:
    """Signed move from location a to b on a ring of n, in -n/2..n/2 (offset +1: from i to i + 1)."""
    return int((b - a + n // 2) % n - n // 2)


# --------------------------------------------------------------------------- Playground


def _stage(stage: str, what: str) -> Callable[[Any], Any]:
    def read(run: Any) -> Any:
        w = run.result.trace[stage]
        if what == "peak":
            return float(w.max())
        if what == "slot":
            return int(w.argmax())
        return entropy_bits(w)

    return read


def _playground() -> dict[str, Quantity]:
    table = {
        "beta": Quantity("float", "key strength beta of the view", lambda r: float(r.knobs["beta"])),
        "g": Quantity("float", "gate g of the view", lambda r: float(r.knobs["g"])),
        "gamma": Quantity("float", "sharpening gamma of the view", lambda r: float(r.knobs["gamma"])),
        "steps": Quantity("int", "steps already carried forward", lambda r: int(r.knobs["steps"])),
        "step_now": Quantity(
            "int", "the step in view when carrying w forward (steps + 1)", lambda r: int(r.knobs["steps"]) + 1
        ),
        "n_locations": Quantity("int", "memory locations N", lambda r: int(r.memory.shape[0])),
        "key_row": Quantity("int", "the row the key was copied from", lambda r: int(r.knobs["key_row"])),
        "twin_row": Quantity(
            "int", "the row holding the same numbers as the key row (duplicated preset)", lambda r: r.twin_row
        ),
        "prev_slot": Quantity("int", "location of w_prev's peak", lambda r: int(r.result.w_prev.argmax())),
        "prev_peak": Quantity("float", "w_prev's peak weight", lambda r: float(r.result.w_prev.max())),
        "similarity_max": Quantity("float", "largest cosine similarity K", _stage("similarity", "peak")),
        "similarity_slot": Quantity("int", "location of the largest similarity", _stage("similarity", "slot")),
        "w_c_on_key_row": Quantity("float", "w_c's weight on the key row", lambda r: r.weight_at("w_c", r.key_row)),
        "w_c_on_twin": Quantity("float", "w_c's weight on the twin row", lambda r: r.weight_at("w_c", r.twin_row)),
        "w_g_on_prev": Quantity("float", "w_g's weight on w_prev's peak", lambda r: r.weight_at("w_g", r.prev_slot)),
        "w_g_on_key_row": Quantity("float", "w_g's weight on the key row", lambda r: r.weight_at("w_g", r.key_row)),
        "move": Quantity(
            "int", "signed move of the peak from w_g to w", lambda r: circular_move(r.slot("w_g"), r.slot("w"), r.n)
        ),
        "w_s_support": Quantity(
            "int", "locations where w_s >= 0.05", lambda r: int((r.result.trace["w_s"] >= 0.05).sum())
        ),
        "w_support": Quantity("int", "locations where w >= 0.05", lambda r: int((r.result.trace["w"] >= 0.05).sum())),
    }
    for stage in ("w_c", "w_g", "w_s", "w"):
        table[f"{stage}_peak"] = Quantity("float", f"largest weight of {stage}", _stage(stage, "peak"))
        table[f"{stage}_slot"] = Quantity("int", f"location of {stage}'s peak", _stage(stage, "slot"))
        table[f"{stage}_entropy"] = Quantity("float", f"entropy of {stage} in bits", _stage(stage, "entropy"))
    return table


# --------------------------------------------------------------------------- NTM Explorer


def _head(kind: str, what: str, at: str = "t") -> Callable[[Any], Any]:
    """A head quantity at step t (or t - 1, or the step length steps before t)."""

    def read(run: Any) -> Any:
        head = run.head(kind)
        t = run.at(at)
        if what == "slot":
            return int(head.w[t].argmax())
        if what == "peak":
            return float(head.w[t].max())
        if what == "entropy":
            return entropy_bits(head.w[t])
        if what in ("wc_peak", "ws_peak"):
            return float((head.w_c if what == "wc_peak" else head.w_s)[t].max())
        if what in ("s_minus", "s_zero", "s_plus"):
            return float(head.shift[t][len(head.shift[t]) // 2 + ("s_minus", "s_zero", "s_plus").index(what) - 1])
        if what == "move":
            return 0 if t == 0 else circular_move(int(head.w[t - 1].argmax()), int(head.w[t].argmax()), run.n)
        return float(getattr(head, what)[t])

    return read


def _ntm() -> dict[str, Quantity]:
    table = {
        "t": Quantity("int", "the step shown", lambda r: r.t),
        "steps": Quantity("int", "steps in the episode", lambda r: r.episode.steps),
        "length": Quantity("int", "sequence length", lambda r: int(r.episode.size.get("length", 0))),
        "phase": Quantity(
            "str", "name of step t (input 3/10, delimiter, output 2/10...)", lambda r: r.episode.phases[r.t]
        ),
        "n_locations": Quantity("int", "memory locations N", lambda r: r.n),
        "bit_errors": Quantity(
            "int", "wrong bits of the run shown (with the override, if any)", lambda r: r.errors(r.trace)
        ),
        "bit_errors_untouched": Quantity("int", "wrong bits of the run without override", lambda r: r.errors(r.base)),
        "baseline_bit_errors": Quantity(
            "int", "wrong bits of the LSTM baseline on the same input", lambda r: r.errors(r.lstm)
        ),
        "scored_bits": Quantity(
            "int", "bits the task scores in this episode", lambda r: int(r.episode.mask.sum()) * r.bits
        ),
        "written_locations": Quantity(
            "int", "locations the write head has weighted >= 0.1 up to step t", lambda r: r.written_locations
        ),
        "memory_change_slot": Quantity("int", "location whose row changed most at step t", lambda r: r.change_slot),
        "memory_change": Quantity("float", "largest change of one memory value at step t", lambda r: r.change_peak),
        "write_slot_length_ago": Quantity(
            "int", "location the write head used `length` steps before t", _head("write", "slot", "length_ago")
        ),
        "write_slot_prev": Quantity(
            "int", "location of the write head's peak at t - 1", _head("write", "slot", "prev")
        ),
        "read_slot_prev": Quantity("int", "location of the read head's peak at t - 1", _head("read", "slot", "prev")),
    }
    for kind in ("write", "read"):
        for what, kind_of, doc in (
            ("slot", "int", "location of the {}'s peak weight at t"),
            ("peak", "float", "the {}'s peak weight at t"),
            ("entropy", "float", "entropy of the {}'s weighting at t, bits"),
            ("wc_peak", "float", "peak of the {}'s content weighting w_c at t"),
            ("ws_peak", "float", "peak of the {}'s shifted weighting w_s at t (before sharpening)"),
            ("move", "int", "signed move of the {}'s peak from t - 1 to t"),
            ("beta", "float", "the {}'s key strength beta at t"),
            ("g", "float", "the {}'s gate g at t"),
            ("gamma", "float", "the {}'s sharpening gamma at t"),
            ("s_minus", "float", "the {}'s shift weight on offset -1 at t"),
            ("s_zero", "float", "the {}'s shift weight on offset 0 at t"),
            ("s_plus", "float", "the {}'s shift weight on offset +1 at t"),
        ):
            table[f"{kind}_{what}"] = Quantity(kind_of, doc.format(kind + " head"), _head(kind, what))
    return table


# --------------------------------------------------------------------------- MemN2N Explorer


def _hop(k: int, what: str) -> Callable[[Any], Any]:
    def read(run: Any) -> Any:
        return run.hop_value(k, what)

    return read


def _memn2n() -> dict[str, Quantity]:
    table = {
        "question": Quantity("str", "the question", lambda r: r.trace.question),
        "true_answer": Quantity("str", "the story's true answer", lambda r: r.example.answer or ""),
        "answer": Quantity("str", "the model's answer", lambda r: r.trace.answer),
        "answer_p": Quantity("float", "the model's probability for its answer", lambda r: float(r.trace.top5[0][1])),
        "true_answer_p": Quantity("float", "the final probability of the true answer", lambda r: r.true_p(r.trace)),
        "correct": Quantity("int", "1 if the model's answer is the true one, else 0", lambda r: r.is_right(r.trace)),
        "answer_unmasked": Quantity("str", "the answer with no sentence masked", lambda r: r.plain.answer),
        "hard_answer": Quantity(
            "str", "the answer with a hard argmax read (tau = 0.01, every hop)", lambda r: r.hard.answer
        ),
        "hard_correct": Quantity("int", "1 if the hard read answers right", lambda r: r.is_right(r.hard)),
        "n_sentences": Quantity("int", "sentences in memory", lambda r: len(r.trace.sentences)),
        "hops": Quantity("int", "hops of the model", lambda r: r.trace.hops),
        "task_error": Quantity(
            "float", "this model's recorded error on this task, % (its card)", lambda r: r.card_error(None)
        ),
        "sample_accuracy": Quantity(
            "float", "accuracy on 50 generated stories of this task, %", lambda r: r.sample("soft")
        ),
        "sample_hard_accuracy": Quantity(
            "float", "accuracy on the same 50 stories with a hard argmax read, %", lambda r: r.sample("hard")
        ),
        "sample_support_found": Quantity(
            "float",
            "% of those 50 questions where every supporting fact is some hop's argmax",
            lambda r: r.sample("support"),
        ),
    }
    for hops in (1, 2, 3):
        table[f"task_error_{hops}hop"] = Quantity(
            "float", f"the {hops}-hop model's recorded error on this task, %", lambda r, h=hops: r.card_error(h)
        )
    for i in (1, 2, 3):
        table[f"support{i}"] = Quantity("int", f"supporting fact {i} (sentence number)", lambda r, i=i: r.support(i))
        table[f"support{i}_text"] = Quantity("str", f"supporting fact {i}'s sentence", lambda r, i=i: r.support_text(i))
        table[f"masked{i}_text"] = Quantity("str", f"masked sentence {i}'s text", lambda r, i=i: r.masked_text(i))
    for k in (1, 2, 3):
        for what, kind, doc in (
            ("sentence", "int", "the sentence hop {} attends to most (number)"),
            ("text", "str", "that sentence's text at hop {}"),
            ("weight", "float", "hop {}'s attention on that sentence"),
            ("on_support", "float", "hop {}'s attention on the supporting facts, summed"),
            ("entropy", "float", "entropy of hop {}'s attention, bits"),
            ("guess", "str", "the answer if it stopped after hop {}"),
            ("guess_p", "float", "that answer's probability after hop {}"),
            ("true_p", "float", "the true answer's probability after hop {}"),
            ("hard_sentence", "int", "the sentence a hard argmax read takes at hop {}"),
            ("second", "int", "the sentence with hop {}'s second-largest attention (number)"),
            ("second_text", "str", "that sentence's text"),
            ("second_weight", "float", "hop {}'s attention on it"),
        ):
            table[f"hop{k}_{what}"] = Quantity(kind, doc.format(k), _hop(k, what))
    return table


QUANTITIES: dict[str, dict[str, Quantity]] = {"playground": _playground(), "ntm": _ntm(), "memn2n": _memn2n()}


def quantity_problem(page: str, name: str, hops: int | None = None) -> str | None:
    """Why ``name`` cannot be read on ``page`` (unknown, or a hop the model does not have), else None."""
    table = QUANTITIES.get(page, {})
    if name not in table:
        close = [q for q in table if q.split("_")[0] == name.split("_")[0]][:6]
        hint = f"; did you mean one of {', '.join(close)}?" if close else f"; see the {page} quantities in the README"
        return f"no quantity `{name}` on page {page}{hint}"
    if page == "memn2n" and hops is not None and name.startswith("hop") and int(name[3]) > hops:
        return f"`{name}` needs hop {name[3]}, and this model has {hops} hop{'s' if hops != 1 else ''}"
    return None
