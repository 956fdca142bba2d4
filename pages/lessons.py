"""Lessons: narrated tours of the live views (``/lessons?lesson=ID&step=N``).

The page's layout; the pieces are in :mod:`memviz.ui.lessons`, the lessons, their
checks and the live quantities in :mod:`memviz.lessons`, the figures in
:mod:`memviz.figures.lessons`.
"""

from memviz.ui import lessons as page
from memviz.ui import urlstate

urlstate.open_page("lessons", page.URL_PARAMS)
page.projector_layout()
library = page.library_with_notices()
lesson = page.chosen_lesson(library)
if lesson is None:
    page.lesson_list(library)
else:
    page.show_step(lesson, page.chosen_step(lesson))
urlstate.show_notices(page.URL_PARAMS)
