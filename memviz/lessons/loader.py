"""Finding, reading and checking lesson files: the built-in ones and a teacher's folder.

Built-in lessons are the ``*.toml`` files in ``memviz/lessons/builtin/``; a teacher's
lessons are the ``*.toml`` files of the folder named by the ``MEMVIZ_LESSONS_DIR``
environment variable. Every file is checked on its own: a malformed one is reported
(file, step and field) and left out, and the others still load. A missing or unreadable
teacher folder gives a notice and the built-in lessons.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from memviz.lessons.schema import (
    KNOBS,
    LESSON_FIELDS,
    STEP_FIELDS,
    VIEWS,
    Checker,
    Lesson,
    LessonError,
    LessonProblem,
    Step,
    check_claims,
    check_highlight,
    check_knobs,
    check_template,
    resolve_knobs,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover (Python 3.10)
    import tomli as tomllib

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
ENV_VAR = "MEMVIZ_LESSONS_DIR"


# --------------------------------------------------------------------------- model-dependent checks


def _model_problem(page: str, name: str) -> str | None:
    """Why ``name`` cannot serve ``page`` (not shipped, or another family), else None."""
    from memviz.registry import PretrainedError, family_of, list_pretrained

    shipped = list_pretrained()
    if name not in shipped:
        return f"no shipped model {name!r}; shipped: {', '.join(shipped) or 'none'}"
    try:
        family = family_of(name)
    except PretrainedError as exc:
        return str(exc)
    wanted = {"ntm": ("ntm", "lstm"), "memn2n": ("memn2n",)}[page]
    if family not in wanted and name.split("-")[0] not in wanted:
        return f"{name!r} is a {family} model; page {page!r} shows {' or '.join(wanted)} models"
    return None


@lru_cache(maxsize=64)
def _card(name: str) -> Any:
    from memviz.registry import read_card

    return read_card(name)


def ntm_episode_steps(knobs: dict[str, Any]) -> int:
    """Steps of the episode the knobs describe (copy: 2L + 1), from the model's card alone."""
    from memviz.ntm import explore as ex
    from memviz.tasks import make_task

    task = make_task(_card(knobs["model"]).task)
    return len(task.phase_labels(ex.clamp_size(task, knobs))[0])


def _check_ntm(knobs: dict[str, Any], view: str, step: int, checker: Checker) -> None:
    steps = ntm_episode_steps(knobs)
    if knobs["t"] >= steps:
        checker.add(step, "knobs.t", f"step {knobs['t']} is out of range: this episode has steps 0..{steps - 1}")
    if not knobs["ov_every"] and knobs["ov_step"] >= steps:
        checker.add(step, "knobs.ov_step", f"step {knobs['ov_step']} is out of range: 0..{steps - 1}")
    card = _card(knobs["model"])
    if card.family != "ntm":
        overridden = any(knobs[f"ov_{k}"] is not None for k in ("beta", "g", "shift", "gamma"))
        if view in ("memory", "pipeline", "compare") or overridden:
            checker.add(step, "view", f"{knobs['model']} has no memory or heads: use view 'bits' or 'vs_lstm'")
        return
    arch = card.config
    heads = [f"write{j}" for j in range(arch["write_heads"])] + [f"read{i}" for i in range(arch["read_heads"])]
    for name in ("head", "ov_head"):
        if knobs[name] not in heads:
            checker.add(step, f"knobs.{name}", f"{knobs[name]!r} is not a head of {knobs['model']}: {', '.join(heads)}")
    if view == "vs_lstm" and _model_problem("ntm", knobs["baseline"]):
        checker.add(step, "knobs.baseline", _model_problem("ntm", knobs["baseline"]) or "")


def _check_memn2n(knobs: dict[str, Any], step: int, checker: Checker) -> int:
    from memviz.memn2n import explore as xm

    hops = xm.model_hops(_card(knobs["model"]))
    if knobs["hop"] is not None and knobs["hop"] > hops:
        checker.add(step, "knobs.hop", f"hop {knobs['hop']} is out of range: {knobs['model']} has hops 0..{hops}")
    if knobs["task"] not in xm.task_options():
        checker.add(
            step, "knobs.task", f"task {knobs['task']} has no story generator; use one of {sorted(xm.task_options())}"
        )
        return hops
    card = _card(knobs["model"])
    story = xm.fit_memory(xm.generated_example(knobs["task"], knobs["seed"]), int(card.config["memory_size"]))
    sentences = len(story.sentences)
    for i in knobs["mask"]:
        if i > sentences:
            checker.add(step, "knobs.mask", f"sentence {i} is out of range: this story has sentences 1..{sentences}")
    return hops


# --------------------------------------------------------------------------- steps and lessons


def check_step(raw: Any, number: int, defaults: dict[str, dict[str, Any]], checker: Checker) -> Step | None:
    """One ``[[steps]]`` table as a :class:`Step`, or None with the problems added to ``checker``."""
    before = len(checker.problems)
    if not isinstance(raw, dict):
        checker.add(number, "steps", f"expected a table, got {raw!r}")
        return None
    for name in set(raw) - STEP_FIELDS:
        checker.add(number, name, f"unknown field; a step has {', '.join(sorted(STEP_FIELDS))}")
    page = raw.get("page")
    if page not in KNOBS:
        checker.add(number, "page", f"unknown page {page!r}; pages are {', '.join(KNOBS)}")
        return None
    view = raw.get("view", next(iter(VIEWS[page])))
    if view not in VIEWS[page]:
        checker.add(number, "view", f"unknown view {view!r} for page {page!r}; views are {', '.join(VIEWS[page])}")
    knobs = resolve_knobs(page, defaults, check_knobs(page, raw.get("knobs", {}), "knobs", number, checker))
    hops = None
    if page in ("ntm", "memn2n"):
        problem = _model_problem(page, knobs["model"])
        if problem:
            checker.add(number, "knobs.model", problem)
        elif len(checker.problems) == before:
            if page == "ntm":
                _check_ntm(knobs, view, number, checker)
            else:
                hops = _check_memn2n(knobs, number, checker)
    if "narration" not in raw:
        checker.add(number, "narration", "missing: every step says 2-4 sentences about its view")
    check_template(page, raw.get("narration", ""), "narration", number, checker, hops)
    highlight = check_highlight(page, view, raw.get("highlight"), number, checker, hops)
    claims = check_claims(page, raw.get("claims", []), number, checker, hops)
    title = raw.get("title", f"Step {number}")
    if not isinstance(title, str):
        checker.add(number, "title", f"expected a text, got {title!r}")
    if len(checker.problems) > before:
        return None
    return Step(str(title), page, view, knobs, raw["narration"], highlight, claims)


def check_lesson(data: dict[str, Any], source: str, lesson_id: str, builtin: bool) -> Lesson:
    """A parsed TOML document as a :class:`Lesson`; raises :class:`LessonError` listing every problem."""
    checker = Checker(source)
    for name in set(data) - LESSON_FIELDS:
        checker.add(0, name, f"unknown field; a lesson has {', '.join(sorted(LESSON_FIELDS))}")
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        checker.add(0, "title", "missing: give the lesson a title")
    defaults: dict[str, dict[str, Any]] = {}
    for page, table in (data.get("defaults") or {}).items():
        if page not in KNOBS:
            checker.add(0, f"defaults.{page}", f"unknown page {page!r}; pages are {', '.join(KNOBS)}")
            continue
        defaults[page] = check_knobs(page, table, f"defaults.{page}", 0, checker)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        checker.add(0, "steps", "missing: a lesson has at least one [[steps]] table")
        raw_steps = []
    steps = [check_step(raw, i, defaults, checker) for i, raw in enumerate(raw_steps, start=1)]
    if checker.problems:
        raise LessonError(checker.problems)
    return Lesson(
        id=str(data.get("id", lesson_id)),
        title=data["title"].strip(),
        summary=str(data.get("summary", "")),
        steps=[s for s in steps if s is not None],
        source=source,
        order=int(data.get("order", 100)),
        builtin=builtin,
    )


def read_lesson_file(path: Path, builtin: bool) -> Lesson:
    """Read and check one lesson file; unreadable files and TOML syntax errors become a :class:`LessonError`."""
    source = path.name if builtin else str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError([LessonProblem(source, 0, "file", f"cannot be read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise LessonError([LessonProblem(source, 0, "file", f"is not valid TOML: {exc}")]) from None
    return check_lesson(data, source, path.stem, builtin)


# --------------------------------------------------------------------------- the library


@dataclass
class LessonLibrary:
    """Every lesson that loaded, by id in display order; what did not load; notices for the page."""

    lessons: dict[str, Lesson] = field(default_factory=dict)
    problems: list[LessonProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _files(folder: Path) -> tuple[tuple[str, float], ...]:
    return tuple((str(p), p.stat().st_mtime) for p in sorted(folder.glob("*.toml")))


def teacher_folder(library: LessonLibrary) -> Path | None:
    """The folder ``MEMVIZ_LESSONS_DIR`` names, or None (with a notice when it is missing or unreadable)."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return None
    folder = Path(text).expanduser()
    if not folder.is_dir():
        library.notices.append(f"{ENV_VAR}={text} is not a folder, so only the built-in lessons are shown.")
        return None
    try:
        _files(folder)
    except OSError as exc:
        library.notices.append(
            f"{ENV_VAR}={text} cannot be read ({exc.strerror}); only the built-in lessons are shown."
        )
        return None
    return folder


def load_library() -> LessonLibrary:
    """Built-in lessons, then the teacher's; a file is re-read only when it changed (cached by path and mtime)."""
    library = LessonLibrary()
    folders = [(BUILTIN_DIR, True)]
    teacher = teacher_folder(library)
    if teacher is not None:
        folders.append((teacher, False))
    found: list[Lesson] = []
    for folder, builtin in folders:
        for path, mtime in _files(folder):
            try:
                lesson = _cached_lesson(path, mtime, builtin)
            except LessonError as exc:
                library.problems.extend(exc.problems)
                continue
            if lesson.id in {x.id for x in found}:
                library.problems.append(
                    LessonProblem(
                        lesson.source, 0, "id", f"lesson id {lesson.id!r} is taken; rename the file or set id"
                    )
                )
                continue
            found.append(lesson)
    for lesson in sorted(found, key=lambda x: (not x.builtin, x.order, x.id)):
        library.lessons[lesson.id] = lesson
    return library


@lru_cache(maxsize=256)
def _cached_lesson(path: str, mtime: float, builtin: bool) -> Lesson:
    return read_lesson_file(Path(path), builtin)


def list_lessons() -> list[str]:
    """Ids of every lesson that loads, built-in first (in their order), then the teacher's."""
    return list(load_library().lessons)


def load_lesson(lesson_id: str) -> Lesson:
    """The lesson ``lesson_id`` (``.title``, ``.steps``); KeyError if unknown, LessonError if malformed."""
    library = load_library()
    if lesson_id in library.lessons:
        return library.lessons[lesson_id]
    mine = [p for p in library.problems if Path(p.source).stem == lesson_id]
    if mine:
        raise LessonError(mine)
    raise KeyError(f"no lesson {lesson_id!r}; lessons: {', '.join(library.lessons) or 'none'}")
