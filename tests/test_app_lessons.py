"""The Lessons page through AppTest: every step of every lesson renders with live narration and a figure;
previous/next move through a lesson; bad links give a notice; each step's explorer link opens cleanly."""

from __future__ import annotations

import re

import pytest
from apptest_helpers import figure_keys, no_exception, open_page

from memviz import lessons
from memviz.lessons.links import explorer_query

STEPS = [
    (lesson_id, number)
    for lesson_id in lessons.list_lessons()
    for number in range(1, len(lessons.load_lesson(lesson_id).steps) + 1)
]


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize(("lesson_id", "number"), STEPS)
def test_every_step_renders_narration_and_a_figure(lesson_id, number):
    at = open_page("lessons", {"lesson": lesson_id, "step": str(number)})
    no_exception(at)
    lesson = lessons.load_lesson(lesson_id)
    step = lesson.steps[number - 1]
    assert f"{number}. {step.title}" in texts(at)
    narration = lessons.LiveStep(step).narration().strip()
    assert all(line in texts(at) for line in narration.split("\n")), "the live narration is on the page"
    assert re.search(r"\d", narration), "the narration carries live numbers"
    assert figure_keys(at), "the step draws a figure"
    assert not at.warning, [w.value for w in at.warning]  # claims hold, link was fine
    assert at.query_params["step"] == [str(number)] or at.query_params["step"] == str(number)


def test_presenter_mode_link_is_taken_by_a_lesson():
    """``?present=1`` works on a lesson as on every page: no notice, chart text raised to presenter size."""
    at = open_page("lessons", {"lesson": "addressing", "step": "4", "present": "1"})
    no_exception(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.session_state["_presenting"]
    plain = open_page("lessons", {"lesson": "addressing", "step": "4"})
    assert not plain.session_state["_presenting"]


def test_lesson_list_when_no_lesson_is_named():
    at = open_page("lessons")
    no_exception(at)
    for lesson_id in lessons.list_lessons():
        assert f"**{lessons.load_lesson(lesson_id).title}**" in texts(at)


def test_next_and_previous_walk_through_a_lesson():
    at = open_page("lessons", {"lesson": "three-hops", "step": "1"})
    count = len(lessons.load_lesson("three-hops").steps)
    for number in range(2, count + 1):
        at.button(key="lesson_next").click().run()
        no_exception(at)
        assert f"{number}. " in at.markdown[0].value
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_prev").click().run()
    assert f"{count - 1}. " in at.markdown[0].value


def test_unknown_lesson_shows_the_list_with_a_notice():
    at = open_page("lessons", {"lesson": "no-such-lesson", "step": "2"})
    no_exception(at)
    assert "There is no lesson `no-such-lesson`" in at.warning[0].value
    assert "**How an NTM copies**" in texts(at)


@pytest.mark.parametrize(
    ("step", "shown", "notice"),
    [("99", 9, "past the end"), ("0", 1, "not in this lesson"), ("two", 1, "not a step number")],
)
def test_step_out_of_range_shows_a_step_with_a_notice(step, shown, notice):
    at = open_page("lessons", {"lesson": "ntm-copy", "step": step})
    no_exception(at)
    assert notice in at.warning[0].value
    assert f"· {shown}. " in at.markdown[0].value


def test_missing_teacher_folder_gives_a_notice(monkeypatch, tmp_path):
    monkeypatch.setenv(lessons.ENV_VAR, str(tmp_path / "gone"))
    at = open_page("lessons")
    no_exception(at)
    assert "is not a folder" in at.info[0].value
    assert "**The four stages of addressing**" in texts(at)


def test_malformed_teacher_lesson_is_reported_on_the_page(monkeypatch, tmp_path):
    (tmp_path / "broken.toml").write_text('title = "x"\n[[steps]]\npage = "nowhere"\nnarration = "hi"\n')
    monkeypatch.setenv(lessons.ENV_VAR, str(tmp_path))
    at = open_page("lessons", {"lesson": "broken"})
    no_exception(at)
    assert "unknown page 'nowhere'" in at.warning[0].value


FIRST_STEP_OF_EACH_PAGE = {}
for _lesson_id, _number in STEPS:
    _step = lessons.load_lesson(_lesson_id).steps[_number - 1]
    FIRST_STEP_OF_EACH_PAGE.setdefault((_step.page, _step.view), (_lesson_id, _number))


@pytest.mark.parametrize(("lesson_id", "number"), list(FIRST_STEP_OF_EACH_PAGE.values()))
def test_explorer_link_opens_without_ignored_settings(lesson_id, number):
    """The "open this view in the explorer" link carries only settings the explorer page takes."""
    page, query = explorer_query(lessons.LiveStep(lessons.load_lesson(lesson_id).steps[number - 1]))
    at = open_page(page, query)
    no_exception(at)
    ignored = [w.value for w in at.warning if "ignored" in w.value]
    assert not ignored, ignored


GARBAGE = ["", "nan", "inf", "1e309", "-1", "9" * 30, "x" * 10_000, "<script>alert(1)</script>", "../../etc/passwd"]


@pytest.mark.parametrize("value", [*GARBAGE, "\u202eevil\u202c"])
def test_garbage_links_give_a_notice_never_a_traceback(value):
    for query in ({"lesson": "ntm-copy", "step": value}, {"lesson": value, "step": "2"}):
        at = open_page("lessons", query)
        no_exception(at)
        words = " ".join(m.value for m in at.markdown)
        assert not re.search(r"\bnan\b", words, re.IGNORECASE), "never NaN on screen"
        assert sum(len(w.value) for w in at.warning) < 1_000, "a 10,000-character value is shortened in its notice"
        if query["lesson"] == "ntm-copy" and value not in ("", "2"):
            assert at.warning, f"step={value[:20]!r} gives a notice"


def test_unknown_key_in_a_lesson_link_is_named():
    at = open_page("lessons", {"lesson": "addressing", "step": "3", "bogus": "1"})
    no_exception(at)
    assert any("bogus" in w.value for w in at.warning)
    assert "3. When content is ambiguous" in at.markdown[0].value
