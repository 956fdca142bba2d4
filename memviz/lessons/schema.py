"""What a lesson file may say: pages, their knobs and views, highlights, claims; and the checks.

A lesson step names a *page* (the live view it borrows: ``playground``, ``ntm`` or
``memn2n``), a *view* (which of that page's figures to draw), the *knobs* that set the
view (model, seed, step, overrides, masks...), an optional *highlight* (what to
outline on the figure), a *narration* template and *claims*. This module holds the
tables that say which names are allowed, and :func:`check_step`, which turns a step's
raw TOML table into a :class:`Step` or a list of :class:`LessonProblem` naming the file,
the step and the field. The quantities that narration and claims may name live in
:mod:`memviz.lessons.quantities`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from memviz.lessons.quantities import QUANTITIES, quantity_problem

# --------------------------------------------------------------------------- knobs


@dataclass(frozen=True)
class Knob:
    """One setting a step may give: its type, its range or choices, its default and what it does."""

    kind: str  # "int", "float", "str", "bool", "floats", "ints"
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()


KNOBS: dict[str, dict[str, Knob]] = {
    "playground": {
        "n": Knob("int", 8, "memory locations N", 2, 64),
        "m": Knob("int", 8, "memory width M", 2, 32),
        "preset": Knob("str", "random", "memory preset", choices=("random", "identity", "duplicated", "zeros")),
        "seed": Knob("int", 0, "seed of the random memory", 0, 99_999),
        "key_mode": Knob("str", "copy", "the key: a copy of a row or a noisy copy", choices=("copy", "noisy")),
        "key_row": Knob("int", 3, "the row the key is copied from", 0, 63),
        "noise": Knob("float", 0.3, "noise sigma of a noisy key", 0.0, 1.0),
        "prev": Knob("str", "one-hot", "previous weighting w_prev", choices=("one-hot", "uniform", "carry")),
        "prev_row": Knob("int", 0, "row of a one-hot w_prev (start row when carrying)", 0, 63),
        "beta": Knob("float", 10.0, "key strength beta", 0.0, 100.0),
        "g": Knob("float", 1.0, "interpolation gate g", 0.0, 1.0),
        "shift": Knob("floats", (0.0, 1.0, 0.0), "shift weights over offsets -1, 0, +1 (or -2..+2)", 0.0, 1.0),
        "gamma": Knob("float", 1.0, "sharpening gamma", 1.0, 50.0),
        "steps": Knob("int", 0, "steps already taken when carrying w forward", 0, 256),
    },
    "ntm": {
        "model": Knob("str", "ntm-copy", "an NTM or LSTM model of the registry"),
        "seed": Knob("int", 0, "seed of the random episode", 0, 99_999),
        "length": Knob("int", 10, "sequence length (copy, repeat copy)", 1, 120),
        "repeats": Knob("int", 3, "repeats (repeat copy)", 1, 20),
        "items": Knob("int", 4, "items (associative recall)", 2, 12),
        "t": Knob("int", 0, "the time step shown", 0, 10_000),
        "head": Knob("str", "write0", "the head whose addressing pipeline is drawn"),
        "ov_head": Knob("str", "write0", "the head an override fixes"),
        "ov_beta": Knob("float", None, "override: key strength beta", 0.0, 1e4),
        "ov_g": Knob("float", None, "override: gate g", 0.0, 1.0),
        "ov_shift": Knob(
            "str", None, "override: shift offset '-1', '0', '1' or 'blur'", choices=("-1", "0", "1", "blur")
        ),
        "ov_gamma": Knob("float", None, "override: sharpening gamma", 1.0, 1e4),
        "ov_every": Knob("bool", True, "override at every step (true) or only at ov_step"),
        "ov_step": Knob("int", 0, "the step of a one-step override", 0, 10_000),
        "baseline": Knob("str", "lstm-copy", "the LSTM the vs_lstm view compares with"),
    },
    "memn2n": {
        "model": Knob("str", "memn2n-babi", "a MemN2N model of the registry"),
        "task": Knob("int", 1, "bAbI task of the built-in story generator", 1, 20),
        "seed": Knob("int", 0, "story seed", 0, 99_999),
        "hop": Knob("int", None, "hops shown (0 = the question alone; default: all)", 0, 3),
        "tau": Knob("float", 1.0, "attention temperature of every hop (0.01: a hard argmax read)", 0.01, 10.0),
        "mask": Knob("ints", (), "sentences masked out of memory (1-based)", 1, 50),
    },
}
"""Every knob a step may set, per page. A knob not given takes the lesson's ``[defaults.PAGE]`` or this default."""

VIEWS: dict[str, dict[str, str]] = {
    "playground": {
        "pipeline": "memory, key and the five addressing stages, row-aligned (the Playground's main figure)",
        "walk": "the weighting after each step of a carried walk (locations x steps)",
    },
    "ntm": {
        "memory": "memory M_t beside the write and read weightings over time (Fig. 6 of Graves et al.)",
        "pipeline": "one head's five addressing stages at step t",
        "bits": "input, target and output bits over the episode, wrong bits crossed",
        "compare": "outputs of the untouched run against the run with the override",
        "vs_lstm": "outputs of the NTM against its LSTM baseline on the same input",
    },
    "memn2n": {
        "attention": "the story as rows, attention per hop as columns, supporting facts starred",
        "readout": "the answer if it stopped after each hop",
    },
}

HIGHLIGHT_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "playground": {"pipeline": ("stage", "row"), "walk": ("step", "row")},
    "ntm": {
        "memory": ("panel", "row"),
        "pipeline": ("stage", "row"),
        "bits": ("panel", "step"),
        "compare": ("panel", "step"),
        "vs_lstm": ("panel", "step"),
    },
    "memn2n": {"attention": ("sentence", "hop"), "readout": ("hop",)},
}
"""Which highlight fields each view understands (besides ``label``). Numbers may name a quantity."""

STAGES = ("memory", "similarity", "w_c", "w_g", "w_s", "w")
PANELS = {
    "memory": ("memory", "write", "read"),
    "bits": ("input", "target", "output"),
    "compare": ("first", "second", "change"),
    "vs_lstm": ("first", "second", "change"),
}
STEP_FIELDS = {"title", "page", "view", "knobs", "highlight", "narration", "claims"}
LESSON_FIELDS = {"id", "title", "summary", "order", "defaults", "steps"}

# --------------------------------------------------------------------------- parsed form


@dataclass(frozen=True)
class Claim:
    """A checkable statement about the live view: ``quantity op value`` (value: a number, 'text' or a quantity)."""

    text: str
    quantity: str
    op: str
    value: float | str
    value_is_quantity: bool = False


@dataclass(frozen=True)
class Highlight:
    """What to outline on the figure: view-specific fields (numbers or quantity names) and a label template."""

    fields: dict[str, Any]
    label: str = ""


@dataclass(frozen=True)
class Step:
    """One step of a lesson: the live view it sets, what to look at, the words and the claims."""

    title: str
    page: str
    view: str
    knobs: dict[str, Any]
    narration: str
    highlight: Highlight | None = None
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class Lesson:
    """A lesson: an id (the file name unless given), a title, a summary and its steps (``.steps``, a list)."""

    id: str
    title: str
    summary: str
    steps: list[Step]
    source: str
    order: int = 100
    builtin: bool = True


@dataclass(frozen=True)
class LessonProblem:
    """What is wrong, where: the file, the step (1-based; 0 for the lesson itself) and the field."""

    source: str
    step: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"step {self.step}" if self.step else "lesson"
        return f"{self.source}, {where}, field `{self.field}`: {self.message}"


class LessonError(ValueError):
    """A lesson that cannot be used; ``problems`` lists every reason, each naming file, step and field."""

    def __init__(self, problems: list[LessonProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class Checker:
    """Collects problems for one file while a lesson is checked."""

    source: str
    problems: list[LessonProblem] = field(default_factory=list)

    def add(self, step: int, field_name: str, message: str) -> None:
        self.problems.append(LessonProblem(self.source, step, field_name, message))


# --------------------------------------------------------------------------- claims and templates

CLAIM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_claim(text: str) -> Claim:
    """``"bit_errors > 10"`` -> :class:`Claim`; a ValueError says what is malformed."""
    match = CLAIM.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not `quantity op value` (op one of < <= > >= == !=)")
    name, op, raw = match.groups()
    if NUMBER.match(raw):
        return Claim(text, name, op, float(raw))
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return Claim(text, name, op, raw[1:-1])
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
        return Claim(text, name, op, raw, value_is_quantity=True)
    raise ValueError(f"in {text!r}, {raw!r} is neither a number, a 'quoted text' nor a quantity name")


def template_fields(template: str) -> list[tuple[str, str]]:
    """The ``{name:spec}`` fields of a narration or label template; ValueError if it does not parse."""
    out = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or conversion:
            raise ValueError(f"{{{name}}} is not a quantity field (write {{name}} or {{name:.2f}})")
        out.append((name, spec or ""))
    return out


# --------------------------------------------------------------------------- checking a lesson

SAMPLES = {"float": 0.5, "int": 3, "str": "word"}


def _typed(knob: Knob, value: Any) -> Any:
    """``value`` in the knob's type, or a ValueError saying what was expected."""
    if knob.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if knob.kind in ("floats", "ints"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"expected a list of numbers, e.g. [0, 1, 0], got {value!r}")
        single = Knob(knob.kind[:-1], None, "", knob.low, knob.high)
        return tuple(_typed(single, v) for v in value)
    if knob.kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected a text, got {value!r}")
        if knob.choices and value not in knob.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(repr, knob.choices))}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    if knob.kind == "int" and value != int(value):
        raise ValueError(f"expected a whole number, got {value!r}")
    if (knob.low is not None and value < knob.low) or (knob.high is not None and value > knob.high):
        raise ValueError(f"{value!r} is outside {knob.low:g}..{knob.high:g}")
    return int(value) if knob.kind == "int" else float(value)


def check_knobs(page: str, raw: Any, where: str, step: int, checker: Checker) -> dict[str, Any]:
    """A knob table typed and range-checked; unknown names and bad values are reported."""
    if not isinstance(raw, dict):
        checker.add(step, where, f"expected a table of knobs, got {raw!r}")
        return {}
    out = {}
    for name, value in raw.items():
        knob = KNOBS[page].get(name)
        if knob is None:
            known = ", ".join(KNOBS[page])
            checker.add(step, f"{where}.{name}", f"unknown knob for page {page!r}; its knobs are {known}")
            continue
        try:
            out[name] = _typed(knob, value)
        except ValueError as exc:
            checker.add(step, f"{where}.{name}", str(exc))
    return out


def resolve_knobs(page: str, defaults: dict[str, dict[str, Any]], knobs: dict[str, Any]) -> dict[str, Any]:
    """Every knob of the page: the built-in default, then the lesson's ``[defaults.PAGE]``, then the step's."""
    return {**{k: v.default for k, v in KNOBS[page].items()}, **defaults.get(page, {}), **knobs}


def check_template(page: str, template: Any, where: str, step: int, checker: Checker, hops: int | None) -> None:
    """Every ``{field}`` of a narration or label names a quantity of the page and its format suits its type."""
    if not isinstance(template, str):
        checker.add(step, where, f"expected a text, got {template!r}")
        return
    try:
        names = template_fields(template)
    except ValueError as exc:
        checker.add(step, where, str(exc))
        return
    for name, spec in names:
        problem = quantity_problem(page, name, hops)
        if problem:
            checker.add(step, where, problem)
            continue
        try:
            format(SAMPLES[QUANTITIES[page][name].kind], spec)
        except (ValueError, TypeError):
            kind = QUANTITIES[page][name].kind
            checker.add(step, where, f"format `{{{name}:{spec}}}` does not suit `{name}`, which is a {kind}")


def check_claims(page: str, raw: Any, step: int, checker: Checker, hops: int | None) -> tuple[Claim, ...]:
    if not isinstance(raw, list):
        checker.add(step, "claims", f'expected a list of texts such as "bit_errors > 10", got {raw!r}')
        return ()
    claims = []
    for i, text in enumerate(raw, start=1):
        try:
            claim = parse_claim(text)
        except ValueError as exc:
            checker.add(step, f"claims[{i}]", str(exc))
            continue
        names = [claim.quantity] + ([claim.value] if claim.value_is_quantity else [])
        problems = [p for p in (quantity_problem(page, str(n), hops) for n in names) if p]
        for problem in problems:
            checker.add(step, f"claims[{i}]", problem)
        if not problems:
            claims.append(claim)
    return tuple(claims)


def check_highlight(page: str, view: str, raw: Any, step: int, checker: Checker, hops: int | None) -> Highlight | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        checker.add(step, "highlight", f'expected a table such as {{ row = 3, label = "..." }}, got {raw!r}')
        return None
    allowed = HIGHLIGHT_FIELDS[page].get(view, ())
    fields = {}
    for name, value in raw.items():
        where = f"highlight.{name}"
        if name == "label":
            check_template(page, value, where, step, checker, hops)
        elif name not in allowed:
            checker.add(step, where, f"view {view!r} highlights by {', '.join(allowed) or 'label only'}, not {name!r}")
        elif name in ("stage", "panel"):
            choices = STAGES if name == "stage" else PANELS.get(view, ())
            if value not in choices:
                checker.add(step, where, f"{value!r} is not one of {', '.join(choices)}")
            fields[name] = value
        elif isinstance(value, str):
            problem = quantity_problem(page, value, hops)
            if problem:
                checker.add(step, where, problem)
            fields[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            fields[name] = value
        else:
            checker.add(step, where, f"expected a number or a quantity name, got {value!r}")
    return Highlight(fields, str(raw.get("label", "")))
