"""``python -m memviz.lessons``: check lessons, or list what a lesson may name.

    python -m memviz.lessons                  # every lesson: problems, each step's narration and claims
    python -m memviz.lessons --reference      # pages, views, knobs, highlight fields and quantities

Set ``MEMVIZ_LESSONS_DIR`` to check a teacher's folder with the built-in lessons. The exit
status is 1 when a file does not load or a claim does not hold.
"""

from __future__ import annotations

import sys

from memviz.lessons.live import LessonValueError, LiveStep
from memviz.lessons.loader import load_library
from memviz.lessons.quantities import QUANTITIES
from memviz.lessons.schema import HIGHLIGHT_FIELDS, KNOBS, VIEWS


def reference() -> None:
    """Print every page's views, knobs and quantities (what a lesson file may name)."""
    for page in KNOBS:
        print(f"== page {page}")
        for view, doc in VIEWS[page].items():
            fields = ", ".join(HIGHLIGHT_FIELDS[page][view])
            print(f"  view {view}: {doc} (highlight: {fields}, label)")
        for name, knob in KNOBS[page].items():
            print(f"  knob {name} ({knob.kind}, default {knob.default!r}): {knob.doc}")
        for name, quantity in QUANTITIES[page].items():
            print(f"  quantity {name} ({quantity.kind}): {quantity.doc}")


def check() -> int:
    """Load every lesson, print its steps with narration and claims; 1 if anything is wrong."""
    library = load_library()
    status = 0
    for notice in library.notices:
        print(f"NOTICE {notice}")
    for problem in library.problems:
        print(f"PROBLEM {problem}")
        status = 1
    for lesson in library.lessons.values():
        print(f"== {lesson.id}: {lesson.title} ({len(lesson.steps)} steps, {lesson.source})")
        for number, step in enumerate(lesson.steps, start=1):
            try:
                live = LiveStep(step)
                print(f"-- {number}. {step.title}\n{live.narration().strip()}")
                results = live.claims()
            except (LessonValueError, ValueError, OSError) as exc:
                print(f"-- {number}. {step.title}: FAILS: {exc}")
                status = 1
                continue
            for result in results:
                print(f"   claim {result}")
                status |= int(not result.holds)
    return status


if __name__ == "__main__":
    if "--reference" in sys.argv[1:]:
        reference()
        sys.exit(0)
    sys.exit(check())
