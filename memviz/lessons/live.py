"""A lesson step made live: run the view its knobs describe, read quantities, fill narration, check claims.

Each page has a small run class that computes exactly what the page itself would show
for those knobs, with the same core functions: the Playground's
:func:`memviz.playground.run_playground`, the NTM Explorer's episodes, overrides and
bit errors (:mod:`memviz.ntm.explore`), the MemN2N Explorer's generated stories and
traces (:mod:`memviz.memn2n.explore`, ``model.answer``). Quantities
(:mod:`memviz.lessons.quantities`) read these runs; nothing in a lesson's words is typed.
"""

from __future__ import annotations

import functools
import operator
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from memviz.lessons.quantities import QUANTITIES
from memviz.lessons.schema import Claim, Step

HARD_TAU = 0.01
"""A temperature this low makes each hop's softmax an argmax: a hard read, as in Weston et al.'s MemNN."""
SAMPLE_STORIES = 50
"""Generated stories (seeds 0..49) behind the sample_* quantities."""


class LessonValueError(ValueError):
    """A quantity cannot be read for this view (e.g. a third supporting fact in a two-fact story)."""


@functools.lru_cache(maxsize=16)
def default_loader(name: str) -> Any:
    """``memviz.load_pretrained`` once per process (the app passes its own shared cache instead)."""
    import memviz

    return memviz.load_pretrained(name)


# --------------------------------------------------------------------------- Playground


class PlaygroundRun:
    """The Addressing Playground's computation for a step's knobs (no model)."""

    def __init__(self, knobs: dict[str, Any], load: Callable[[str], Any] | None = None) -> None:
        from memviz import playground as pg

        self.knobs = knobs
        n, m = knobs["n"], knobs["m"]
        self.memory = pg.memory_preset(knobs["preset"], n, m, knobs["seed"])
        self.key_row = min(knobs["key_row"], n - 1)
        self.key = pg.make_key(self.memory, knobs["key_mode"], self.key_row, knobs["noise"], knobs["seed"])
        carry = knobs["prev"] == "carry"
        w_start = pg.previous_weighting("one-hot" if carry else knobs["prev"], n, knobs["prev_row"])
        head = pg.HeadKnobs(knobs["beta"], knobs["g"], tuple(knobs["shift"]), knobs["gamma"])
        self.result = pg.run_playground(self.memory, self.key, head, w_start, knobs["steps"] if carry else 0)
        self.n = n

    @property
    def twin_row(self) -> int:
        half = -(-self.n // 2)
        return (self.key_row + half) % self.n if self.key_row + half < self.n else self.key_row - half

    @property
    def prev_slot(self) -> int:
        return int(self.result.w_prev.argmax())

    def slot(self, stage: str) -> int:
        return int(self.result.trace[stage].argmax())

    def weight_at(self, stage: str, row: int) -> float:
        return float(self.result.trace[stage][row])


# --------------------------------------------------------------------------- NTM Explorer


@functools.lru_cache(maxsize=64)
def _ntm_trace(model: Any, x_bytes: bytes, shape: tuple[int, ...], overrides: tuple) -> Any:
    from memviz.ntm import explore as ex

    x = np.frombuffer(x_bytes, dtype=np.float32).reshape(shape)
    trace = ex.run_episode(model, x, overrides)
    ex.check_finite(trace)
    return trace


def ntm_overrides(knobs: dict[str, Any], shift_width: int) -> tuple:
    """The :class:`~memviz.ntm.model.Override` the ov_* knobs ask for (empty when none is set)."""
    from memviz.ntm import explore as ex
    from memviz.ntm.model import Override

    values = {k: knobs[f"ov_{k}"] for k in ("beta", "g", "gamma") if knobs[f"ov_{k}"] is not None}
    if knobs["ov_shift"] is not None:
        values["shift"] = ex.shift_vector(knobs["ov_shift"], shift_width)
    if not values:
        return ()
    return (Override(head=knobs["ov_head"], step=None if knobs["ov_every"] else knobs["ov_step"], **values),)


class NTMRun:
    """The NTM Explorer's episode, untouched and with the step's override, at step t."""

    def __init__(self, knobs: dict[str, Any], load: Callable[[str], Any] | None = None) -> None:
        from memviz.ntm import explore as ex

        self.knobs = knobs
        self.load = load or default_loader
        self.model = self.load(knobs["model"])
        self.task = self.model.task
        self.episode = ex.random_episode(self.task, knobs["seed"], ex.clamp_size(self.task, knobs))
        self.t = min(int(knobs["t"]), self.episode.steps - 1)
        self.bits = int(self.episode.y.shape[1])
        is_ntm = self.model.family == "ntm"
        self.overrides = ntm_overrides(knobs, self.model.config.shift_width) if is_ntm else ()
        self.base = self.run(self.model, ())
        self.trace = self.run(self.model, self.overrides) if self.overrides else self.base
        self.n = int(self.model.config.memory_n) if is_ntm else 0

    def run(self, model: Any, overrides: tuple) -> Any:
        x = np.ascontiguousarray(self.episode.x, dtype=np.float32)
        return _ntm_trace(model, x.tobytes(), x.shape, overrides)

    @cached_property
    def lstm(self) -> Any:
        return self.run(self.load(self.knobs["baseline"]), ())

    def errors(self, trace: Any) -> int:
        from memviz.ntm import explore as ex

        return ex.total_bit_errors(trace.outputs, self.episode.y, self.episode.mask)

    def head(self, kind: str) -> Any:
        if not hasattr(self.trace, "heads"):
            raise LessonValueError(f"{self.knobs['model']} has no {kind} head")
        return self.trace.head(f"{kind}0")

    def at(self, which: str) -> int:
        length = int(self.episode.size.get("length", 0))
        return {"t": self.t, "prev": max(self.t - 1, 0), "length_ago": max(self.t - length, 0)}[which]

    @property
    def written_locations(self) -> int:
        w = np.stack([h.w[: self.t + 1] for h in self.trace.write]).max(axis=(0, 1))
        return int((w >= 0.1).sum())

    @property
    def change(self) -> np.ndarray:
        return self.trace.memory_after[self.t] - self.trace.memory_before[self.t]

    @property
    def change_slot(self) -> int:
        return int(np.abs(self.change).sum(axis=1).argmax())

    @property
    def change_peak(self) -> float:
        return float(np.abs(self.change).max())


# --------------------------------------------------------------------------- MemN2N Explorer


@functools.lru_cache(maxsize=512)
def _answer(model: Any, sentences: tuple[str, ...], question: str, taus: tuple[float, ...], masked: tuple[int, ...]):
    return model.answer(list(sentences), question, temperature=list(taus), masked=masked)


@functools.lru_cache(maxsize=256)
def _generated(task: int, seed: int, memory_size: int) -> Any:
    """The generator's story for (task, seed), cut to a model's memory (its last ``memory_size`` sentences)."""
    from memviz.memn2n import explore as xm

    return xm.fit_memory(xm.generated_example(task, seed), memory_size)


class MemN2NRun:
    """The MemN2N Explorer's generated story and hop trace, with the step's temperature and masks."""

    def __init__(self, knobs: dict[str, Any], load: Callable[[str], Any] | None = None) -> None:
        self.knobs = knobs
        self.load = load or default_loader
        self.model = self.load(knobs["model"])
        self.example = _generated(knobs["task"], knobs["seed"], int(self.model.config.memory_size))
        self.masked = tuple(sorted(i - 1 for i in knobs["mask"]))
        self.hops = int(self.model.config.hops)
        self.hop = self.hops if knobs["hop"] is None else min(int(knobs["hop"]), self.hops)
        self.trace = self.answer(self.model, knobs["tau"], self.masked)

    def answer(self, model: Any, tau: float, masked: tuple[int, ...], example: Any = None) -> Any:
        ex = example or self.example
        taus = (float(tau),) * int(model.config.hops)
        return _answer(model, tuple(ex.sentences), ex.question, taus, masked)

    @cached_property
    def plain(self) -> Any:
        return self.answer(self.model, self.knobs["tau"], ())

    @cached_property
    def hard(self) -> Any:
        return self.answer(self.model, HARD_TAU, self.masked)

    def is_right(self, trace: Any) -> int:
        return int(trace.answer == self.example.answer)

    def true_p(self, trace: Any, hop: int | None = None) -> float:
        if self.example.answer not in trace.answers:
            return 0.0
        probs = trace.probs if hop is None else trace.hop_probs[hop - 1]
        return float(probs[trace.answers.index(self.example.answer)])

    def support(self, i: int) -> int:
        if i > len(self.example.supporting):
            raise LessonValueError(f"this story has {len(self.example.supporting)} supporting facts, not {i}")
        return int(self.example.supporting[i - 1]) + 1

    def support_text(self, i: int) -> str:
        return self.example.sentences[self.support(i) - 1]

    def masked_text(self, i: int) -> str:
        if i > len(self.masked):
            raise LessonValueError(f"{len(self.masked)} sentences are masked, not {i}")
        return self.example.sentences[self.masked[i - 1]]

    def hop_value(self, k: int, what: str) -> Any:
        if k > self.hops:
            raise LessonValueError(f"{self.knobs['model']} has {self.hops} hops, not {k}")
        p = self.trace.attention[k - 1]
        values = {
            "sentence": lambda: int(p.argmax()) + 1,
            "text": lambda: self.trace.sentences[int(p.argmax())],
            "weight": lambda: float(p.max()),
            "on_support": lambda: float(sum(p[i] for i in self.example.supporting)),
            "entropy": lambda: float(-(p[p > 0] * np.log2(p[p > 0])).sum()),
            "guess": lambda: self.trace.hop_top5[k - 1][0][0],
            "guess_p": lambda: float(self.trace.hop_top5[k - 1][0][1]),
            "true_p": lambda: self.true_p(self.trace, k),
            "hard_sentence": lambda: int(self.hard.attention[k - 1].argmax()) + 1,
            "second": lambda: int(np.argsort(p)[-2]) + 1,
            "second_text": lambda: self.trace.sentences[int(np.argsort(p)[-2])],
            "second_weight": lambda: float(np.sort(p)[-2]),
        }
        return values[what]()

    def card_error(self, hops: int | None) -> float:
        name = self.knobs["model"] if hops is None else model_with_hops(hops)
        return task_error(name, self.knobs["task"])

    def sample(self, kind: str) -> float:
        return sample_rate(self.model, self.knobs["task"], kind)


def model_with_hops(hops: int) -> str:
    """The shipped MemN2N with ``hops`` hops (``memn2n-babi`` preferred for its own hop count)."""
    from memviz.memn2n import explore as xm
    from memviz.registry import list_pretrained, read_card

    names = sorted((n for n in list_pretrained() if n.startswith("memn2n")), key=len)
    for name in names:
        if xm.model_hops(read_card(name)) == hops:
            return name
    raise LessonValueError(f"no shipped MemN2N model has {hops} hops")


def task_error(name: str, task: int) -> float:
    """A model's recorded error (%) on a bAbI task, from its card (metrics, else the validation in training)."""
    from memviz.registry import read_card

    card = read_card(name)
    table = card.metrics.get("per_task_error") or (card.training.get("validation") or {}).get("per_task_error", {})
    if str(task) not in table:
        raise LessonValueError(f"{name}'s card records no error for task {task}")
    return float(table[str(task)])


@functools.lru_cache(maxsize=64)
def sample_rate(model: Any, task: int, kind: str) -> float:
    """% of the generated stories 0..49 of ``task`` answered right (soft or hard read) or with support found."""
    hits = 0
    for seed in range(SAMPLE_STORIES):
        example = _generated(task, seed, int(model.config.memory_size))
        taus = (HARD_TAU if kind == "hard" else 1.0,) * int(model.config.hops)
        trace = _answer(model, tuple(example.sentences), example.question, taus, ())
        if kind == "support":
            argmaxes = {int(a.argmax()) for a in trace.attention}
            hits += all(i in argmaxes for i in example.supporting)
        else:
            hits += trace.answer == example.answer
    return 100.0 * hits / SAMPLE_STORIES


# --------------------------------------------------------------------------- a live step

RUNS = {"playground": PlaygroundRun, "ntm": NTMRun, "memn2n": MemN2NRun}
OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class ClaimResult:
    """A claim checked against the live view: the value found and whether the claim holds."""

    claim: Claim
    actual: Any
    expected: Any
    holds: bool

    def __str__(self) -> str:
        mark = "holds" if self.holds else "FAILS"
        return f"{self.claim.text}: {mark} ({self.claim.quantity} = {self.actual!r}, compared with {self.expected!r})"


class _Values(Mapping):
    """Quantities read on demand, for ``str.format_map``-style filling."""

    def __init__(self, live: LiveStep) -> None:
        self.live = live

    def __getitem__(self, name: str) -> Any:
        return self.live.value(name)

    def __iter__(self):
        return iter(QUANTITIES[self.live.step.page])

    def __len__(self) -> int:
        return len(QUANTITIES[self.live.step.page])


class LiveStep:
    """A step with its view computed: quantities, narration and claims read from the live run."""

    def __init__(self, step: Step, load: Callable[[str], Any] | None = None) -> None:
        self.step = step
        self.run = RUNS[step.page](step.knobs, load)
        self._values: dict[str, Any] = {}

    def value(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = QUANTITIES[self.step.page][name].read(self.run)
        return self._values[name]

    def fill(self, template: str) -> str:
        return string.Formatter().vformat(template, (), _Values(self))

    def narration(self) -> str:
        return self.fill(self.step.narration)

    def label(self) -> str:
        return self.fill(self.step.highlight.label) if self.step.highlight else ""

    def highlight_at(self, name: str) -> Any:
        """A highlight field's value: a number as written, or the quantity it names."""
        value = self.step.highlight.fields.get(name) if self.step.highlight else None
        return self.value(value) if isinstance(value, str) and name not in ("stage", "panel") else value

    def check(self, claim: Claim) -> ClaimResult:
        actual = self.value(claim.quantity)
        expected = self.value(str(claim.value)) if claim.value_is_quantity else claim.value
        try:
            holds = bool(OPS[claim.op](actual, expected))
        except TypeError:
            holds = False
        return ClaimResult(claim, actual, expected, holds)

    def claims(self) -> list[ClaimResult]:
        return [self.check(c) for c in self.step.claims]
