"""Lesson files: the loader, the checks on malformed files, and the claims of every built-in lesson.

The claims test is the one that keeps a lesson honest: every claim of every lesson is
evaluated against the shipped models, so a retrained model that breaks a lesson's story
fails here rather than misleading a class.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from memviz import lessons
from memviz.figures.lessons import step_figures
from memviz.lessons.links import explorer_link
from memviz.lessons.loader import BUILTIN_DIR, ENV_VAR, read_lesson_file
from memviz.lessons.schema import parse_claim, template_fields

BUILTIN = ["addressing", "ntm-copy", "three-hops", "memnn-to-memn2n"]

GOOD = """
title = "A teacher's lesson"
summary = "One step on the Playground."

[[steps]]
title = "Content focus"
page = "playground"
view = "pipeline"
knobs = { beta = 20, key_row = 2 }
highlight = { stage = "w_c", row = "w_c_slot", label = "peak {w_c_peak:.2f}" }
narration = "The key copies row {key_row}; w_c puts {w_c_peak:.2f} on location {w_c_slot}."
claims = ["w_c_slot == key_row"]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def teacher_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    return tmp_path


# --------------------------------------------------------------------------- the API and the built-in lessons


def test_builtin_lessons_are_listed_in_order():
    assert lessons.list_lessons()[:4] == BUILTIN


@pytest.mark.parametrize("lesson_id", BUILTIN)
def test_load_lesson_gives_title_and_steps(lesson_id):
    lesson = lessons.load_lesson(lesson_id)
    assert lesson.title and isinstance(lesson.steps, list) and len(lesson.steps) >= 5
    for step in lesson.steps:
        assert step.narration.strip() and step.highlight is not None and step.claims


def test_builtin_files_are_package_data():
    assert sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")) == sorted(BUILTIN)
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"memviz.lessons" = ["builtin/*.toml"]' in pyproject


def test_unknown_lesson_is_a_key_error():
    with pytest.raises(KeyError, match="no lesson 'nope'"):
        lessons.load_lesson("nope")


def knob_numbers(knobs: dict) -> set[str]:
    values = [v for value in knobs.values() for v in (value if isinstance(value, tuple) else (value,))]
    return {f"{v:g}" for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)}


def test_narration_carries_no_typed_numbers():
    """Numbers in the words come from the trace; typed ones are only the step's own knob settings and a few
    fixed facts of the set-up (years of the papers, 8-bit vectors, 3 bits for 8 locations, the 50 sample stories)."""
    fixed = {"0", "1", "2", "3", "4", "8", "20", "40", "50", "127", "2014", "2015"}
    for lesson_id in BUILTIN:
        for step in lessons.load_lesson(lesson_id).steps:
            text = re.sub(r"\{[^}]*\}", "", step.narration)
            for number in re.findall(r"\d+(?:\.\d+)?", text):
                assert number in fixed | knob_numbers(step.knobs), f"{lesson_id}, {step.title}: typed {number!r}"


# --------------------------------------------------------------------------- claims on the shipped models


def all_steps() -> list:
    return [
        pytest.param(step, id=f"{lesson_id}-{number}")
        for lesson_id in BUILTIN
        for number, step in enumerate(lessons.load_lesson(lesson_id).steps, start=1)
    ]


@pytest.mark.parametrize("step", all_steps())
def test_every_claim_holds_on_the_shipped_models(step):
    live = lessons.LiveStep(step)
    results = live.claims()
    assert results, "every built-in step states at least one claim"
    failing = [str(r) for r in results if not r.holds]
    assert not failing, failing
    narration = live.narration()
    assert re.search(r"\d", narration), "the narration carries live numbers"
    assert "{" not in narration and "nan" not in narration.lower()
    figures = step_figures(live)
    assert figures and all(spec["data"] for _, spec in figures)
    shapes = figures[0][1]["layout"]["shapes"]
    assert any(s.get("line", {}).get("color") == "#c2185b" for s in shapes), "the highlight outline is drawn"
    assert all(spec["layout"]["height"] <= 500 for _, spec in figures)
    assert explorer_link(live).startswith(f"/{step.page}?")


# --------------------------------------------------------------------------- a teacher's folder


def test_teacher_lesson_loads_after_the_builtin_ones(teacher_dir):
    write(teacher_dir, "my-course.toml", GOOD)
    ids = lessons.list_lessons()
    assert ids[:4] == BUILTIN and ids[-1] == "my-course"
    lesson = lessons.load_lesson("my-course")
    assert lesson.title == "A teacher's lesson" and not lesson.builtin
    live = lessons.LiveStep(lesson.steps[0])
    assert live.narration().startswith("The key copies row 2; w_c puts 1.00 on location 2")
    assert all(r.holds for r in live.claims())


def test_missing_teacher_folder_gives_builtins_and_a_notice(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    library = lessons.load_library()
    assert list(library.lessons)[:4] == BUILTIN
    assert library.notices and "is not a folder" in library.notices[0]


def test_unreadable_teacher_folder_gives_builtins_and_a_notice(tmp_path, monkeypatch):
    """A folder that exists but cannot be listed (chmod 0 does not stop root, so the listing is made to fail)."""
    from memviz.lessons import loader

    real = loader._files

    def refuse(folder: Path):
        if folder == tmp_path:
            raise PermissionError(13, "Permission denied", str(folder))
        return real(folder)

    monkeypatch.setattr(loader, "_files", refuse)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    library = lessons.load_library()
    assert list(library.lessons) == BUILTIN
    assert "cannot be read (Permission denied)" in library.notices[0]


def test_duplicate_id_is_refused(teacher_dir):
    write(teacher_dir, "ntm-copy.toml", GOOD)
    library = lessons.load_library()
    assert library.lessons["ntm-copy"].builtin
    assert any(p.field == "id" and "taken" in p.message for p in library.problems)


# --------------------------------------------------------------------------- malformed files: file, step, field


def problems_for(folder: Path, name: str, text: str) -> list[str]:
    path = write(folder, name, text)
    with pytest.raises(lessons.LessonError) as info:
        read_lesson_file(path, builtin=False)
    return [str(p) for p in info.value.problems]


MALFORMED = {
    "unknown page": (
        'page = "playground"',
        'page = "dnc-explorer"',
        "step 1, field `page`: unknown page 'dnc-explorer'",
    ),
    "unknown knob": (
        "knobs = { beta = 20, key_row = 2 }",
        "knobs = { beta = 20, gama = 3 }",
        "step 1, field `knobs.gama`: unknown knob for page 'playground'",
    ),
    "unknown quantity in a claim": (
        'claims = ["w_c_slot == key_row"]',
        'claims = ["bit_errors_gamma1 > 10"]',
        "step 1, field `claims[1]`: no quantity `bit_errors_gamma1` on page playground",
    ),
    "unknown quantity in the narration": (
        "on location {w_c_slot}",
        "on location {w_c_location}",
        "step 1, field `narration`: no quantity `w_c_location`",
    ),
    "format that does not suit the quantity": (
        "{w_c_peak:.2f} on",
        "{w_c_peak:d} on",
        "step 1, field `narration`: format `{w_c_peak:d}`",
    ),
    "knob out of range": (
        "knobs = { beta = 20, key_row = 2 }",
        "knobs = { beta = 500, key_row = 2 }",
        "step 1, field `knobs.beta`: 500 is outside 0..100",
    ),
    "unknown view": ('view = "pipeline"', 'view = "pipe"', "step 1, field `view`: unknown view 'pipe'"),
    "malformed claim": (
        'claims = ["w_c_slot == key_row"]',
        'claims = ["w_c_slot is 3"]',
        "step 1, field `claims[1]`: 'w_c_slot is 3' is not `quantity op value`",
    ),
    "highlight field the view lacks": (
        'highlight = { stage = "w_c"',
        'highlight = { sentence = 3, stage = "w_c"',
        "step 1, field `highlight.sentence`: view 'pipeline' highlights by stage, row",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_lesson_names_file_step_and_field(teacher_dir, case):
    old, new, expected = MALFORMED[case]
    assert old in GOOD
    messages = problems_for(teacher_dir, "broken.toml", GOOD.replace(old, new, 1))
    assert any(expected in m for m in messages), messages
    assert all(m.startswith(str(teacher_dir / "broken.toml")) for m in messages)


NTM_STEP = """
title = "NTM"
[[steps]]
page = "ntm"
view = "memory"
knobs = {{ model = "ntm-copy", length = 10, t = {t} }}
narration = "Step {{t}}."
"""

MEMN2N_STEP = """
title = "MemN2N"
[[steps]]
page = "memn2n"
knobs = {{ model = "{model}", task = 2, seed = 0, hop = {hop} }}
narration = "{narration}"
"""


def test_step_out_of_the_episode_is_named(teacher_dir):
    messages = problems_for(teacher_dir, "late.toml", NTM_STEP.format(t=21))
    assert any("step 1, field `knobs.t`: step 21 is out of range: this episode has steps 0..20" in m for m in messages)


def test_hop_beyond_the_model_is_named(teacher_dir):
    text = MEMN2N_STEP.format(model="memn2n-babi-1hop", hop=2, narration="Hop 2 reads {hop2_sentence}.")
    messages = problems_for(teacher_dir, "hops.toml", text)
    assert any("field `knobs.hop`: hop 2 is out of range: memn2n-babi-1hop has hops 0..1" in m for m in messages)
    assert any("field `narration`: `hop2_sentence` needs hop 2, and this model has 1 hop" in m for m in messages)


def test_unknown_model_is_named(teacher_dir):
    text = MEMN2N_STEP.format(model="memn2n-huge", hop=1, narration="Hi.")
    messages = problems_for(teacher_dir, "model.toml", text)
    assert any("field `knobs.model`: no shipped model 'memn2n-huge'" in m for m in messages)


def test_toml_syntax_error_names_the_file(teacher_dir):
    messages = problems_for(teacher_dir, "syntax.toml", 'title = "unclosed\n')
    assert messages and "lesson, field `file`: is not valid TOML" in messages[0]


def test_a_malformed_file_leaves_the_others_loading(teacher_dir):
    write(teacher_dir, "good.toml", GOOD)
    write(teacher_dir, "bad.toml", GOOD.replace('page = "playground"', 'page = "nowhere"'))
    library = lessons.load_library()
    assert "good" in library.lessons and "bad" not in library.lessons
    assert set(BUILTIN) <= set(library.lessons)
    assert [p.source for p in library.problems] == [str(teacher_dir / "bad.toml")]
    with pytest.raises(lessons.LessonError, match="unknown page 'nowhere'"):
        lessons.load_lesson("bad")


# --------------------------------------------------------------------------- small parsers


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("bit_errors > 10", ("bit_errors", ">", 10.0, False)),
        ("answer == 'bathroom'", ("answer", "==", "bathroom", False)),
        ("read_slot == write_slot_length_ago", ("read_slot", "==", "write_slot_length_ago", True)),
        ("x<=-0.5", ("x", "<=", -0.5, False)),
    ],
)
def test_parse_claim(text, parsed):
    claim = parse_claim(text)
    assert (claim.quantity, claim.op, claim.value, claim.value_is_quantity) == parsed


def test_template_fields_refuse_attribute_access():
    assert template_fields("{a:.2f} and {b}") == [("a", ".2f"), ("b", "")]
    with pytest.raises(ValueError):
        template_fields("{trace.outputs}")


def test_the_readme_example_lesson_loads_and_its_claims_hold(teacher_dir):
    """The documented example for teachers is a working lesson (README, "Writing a lesson for your course")."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# ~/my-lessons/sharpening\.toml.*?)```", readme, re.S)
    assert block, "README has the example lesson"
    write(teacher_dir, "sharpening.toml", block.group(1))
    lesson = lessons.load_lesson("sharpening")
    assert len(lesson.steps) == 2
    for step in lesson.steps:
        live = lessons.LiveStep(step)
        assert all(r.holds for r in live.claims()), [str(r) for r in live.claims()]
        assert re.search(r"\d", live.narration())
