"""Guided lessons: narrated tours that drive memviz's live views, with the model's own numbers in the words.

A lesson is a sequence of steps. Each step sets a live view (a page, a figure and the
knobs that set it: model, seed, step or hop, overrides, masks), says 2-4 sentences
about it from a template filled with quantities of the live trace, outlines what to
look at, and states claims that a test checks against the shipped models.

**Format: TOML, one file per lesson.** TOML is read by the standard library
(``tomllib``, Python 3.11+), so lessons add no dependency; it is plain text a teacher
writes in any editor, with comments, multi-line strings for narration and tables for
knobs, and none of YAML's surprises (``no`` read as false, indentation that changes
meaning). Python dataclasses would have made every lesson a program to import, and a
teacher's folder a place to run code from; a TOML lesson is data that is checked, never
executed. Files live in ``memviz/lessons/builtin/`` and in the folder named by
``MEMVIZ_LESSONS_DIR``. See README ("Lessons") for a worked example, and
:mod:`memviz.lessons.schema` / :mod:`memviz.lessons.quantities` for every knob, view and
quantity a step may name. The figures of a step are drawn by :mod:`memviz.figures.lessons`
(the figure layer), its explorer link made by :mod:`memviz.lessons.links`.

Python API (DESIGN.md section 3)::

    from memviz import lessons
    lessons.list_lessons()                        # ids; /lessons?lesson=ID&step=N opens one
    lesson = lessons.load_lesson("ntm-copy")      # .title, .steps (a list), .summary
    live = lessons.LiveStep(lesson.steps[0])      # the step's view, computed
    live.narration(), [str(c) for c in live.claims()]
"""

from memviz.lessons.live import ClaimResult, LessonValueError, LiveStep
from memviz.lessons.loader import ENV_VAR, LessonLibrary, list_lessons, load_lesson, load_library
from memviz.lessons.schema import Lesson, LessonError, LessonProblem, Step

__all__ = [
    "ENV_VAR",
    "ClaimResult",
    "Lesson",
    "LessonError",
    "LessonLibrary",
    "LessonProblem",
    "LessonValueError",
    "LiveStep",
    "Step",
    "list_lessons",
    "load_lesson",
    "load_library",
]
