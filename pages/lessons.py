"""Lessons: narrated tours of the live views (``/lessons?lesson=ID&step=N``).

Layout only; the page is :func:`memviz.ui.lessons.render`, the lessons and their
checks are in :mod:`memviz.lessons`.
"""

from memviz.ui import use_app_navigation

use_app_navigation()

from memviz.ui.lessons import render  # noqa: E402 (after the navigation check, which may rerun)

render()
