"""MemN2N Explorer through AppTest: hops step, what-ifs move the data, links restore views, bad input is kept out."""

from __future__ import annotations

import re

import numpy as np
import pytest
import streamlit as st
from apptest_helpers import array, figure, no_exception, open_page, set_step, stepper_data, stepper_html
from streamlit.testing.v1 import AppTest

import memviz
from memviz.registry import SHIPPED_MODELS
from memviz.tasks.babi_generator import write_task_file

MODELS = [n for n, family in SHIPPED_MODELS.items() if family == "memn2n"]  # a missing file fails, never skips


def default_model() -> str:
    """The model the page opens with: the most hops, memn2n-babi first among equals."""
    hops = {n: memviz.load_pretrained(n).config.hops for n in MODELS}
    return min(MODELS, key=lambda n: (-hops[n], n != "memn2n-babi", n))


def open_explorer(query: dict[str, str] | None = None) -> AppTest:
    """The explorer as a user opens it (through app.py's navigation), checked for exceptions."""
    at = open_page("memn2n", query)
    no_exception(at)
    return at


def covered_hops(at: AppTest, panel: str) -> set[int]:
    """Hops whose part of a hop view's panel the player covers at its step (a curtain not lifted yet)."""
    data = stepper_data(at, PLAYER)
    entry = next(p for p in data["panels"] if p["id"] == panel)
    return {c["until"] for c in entry.get("curtains", []) if data["step"] < c["until"]}


def attention(at: AppTest) -> np.ndarray:
    """Sentences x hops; NaN where a hop is not shown yet (not computed, or covered by the player)."""
    z = array(figure(at, "attention")["data"][0]["z"]).astype(float)
    for hop in covered_hops(at, "attention"):
        z[:, hop - 1] = np.nan
    return z


def shown_hops(at: AppTest) -> int:
    return int((~np.isnan(attention(at))).all(axis=0).sum())


def readout(at: AppTest) -> dict[int, dict[str, float]]:
    """Hop -> {answer word: probability} of the "answer if it stopped here" bars on screen."""
    out = {}
    covered = covered_hops(at, "readout")
    for trace in figure(at, "readout")["data"]:
        hop = int(trace["name"].split()[-1])
        if hop not in covered:
            out[hop] = dict(zip(trace["y"], array(trace["x"]).tolist(), strict=True))
    return out


PLAYER = "hop_player"


def text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [stepper_html(at, PLAYER, "summary")]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(parts)


def seed_where(model_answers_right: bool, task: int = 1) -> str:
    """A generated story of ``task`` the shipped 3-hop model answers right (or wrong)."""
    from memviz.memn2n import explore as xm

    model = memviz.load_pretrained(default_model())
    for seed in range(40):
        ex = xm.generated_example(task, seed)
        if (model.answer(list(ex.sentences), ex.question).answer == ex.answer) == model_answers_right:
            return str(seed)
    pytest.skip("no such story in 40 seeds")


@pytest.fixture(scope="module")
def fresh() -> AppTest:
    return open_explorer()


def test_opens_on_all_hops_with_story_readout_and_state(fresh):
    hops = memviz.load_pretrained(default_model()).config.hops
    assert fresh.title[0].value == "MemN2N Explorer"
    z = attention(fresh)
    assert z.shape[1] == hops and shown_hops(fresh) == hops
    np.testing.assert_allclose(z.sum(axis=0), 1.0, atol=1e-3)  # each hop's attention is a distribution
    assert sorted(readout(fresh)) == list(range(1, hops + 1))
    labels = " ".join(figure(fresh, "attention")["layout"]["yaxis"]["ticktext"])
    assert "★" in labels  # supporting facts are marked
    assert "model: **" in text(fresh) and not re.search(r"\bnan\b", text(fresh).lower())


def test_stepping_hops_changes_columns_and_readout():
    at = open_explorer({"hop": "0"})
    assert shown_hops(at) == 0 and readout(at) == {}
    assert "Before hop 1" in text(at)
    set_step(at, PLAYER, 1)  # what the browser reports after stepping, when another control is used
    assert shown_hops(at) == 1 and sorted(readout(at)) == [1]
    assert "o₁ mostly carried sentence" in text(at)
    last = stepper_data(at, PLAYER)["steps"] - 1
    set_step(at, PLAYER, last)
    assert shown_hops(at) == last
    assert at.query_params["hop"] in (str(last), [str(last)])


def test_temperature_changes_the_attention_of_its_hop():
    at = open_explorer()
    sharp_before = attention(at)[:, 0].max()
    at.select_slider(key="tau1").set_value(10.0).run()
    no_exception(at)
    spread = attention(at)[:, 0]
    assert spread.max() < sharp_before - 0.01
    np.testing.assert_allclose(spread.sum(), 1.0, atol=1e-3)
    assert "τ = 10" in " ".join(figure(at, "attention")["layout"]["xaxis"]["ticktext"])
    at.button(key="reset").click().run()
    assert at.select_slider(key="tau1").value == 1.0


def test_masking_the_supporting_fact_changes_the_answer_readout():
    at = open_explorer({"task": "1 single-supporting-fact", "seed": seed_where(True)})
    last = max(readout(at))
    truth_before = readout(at)[last]
    labels = figure(at, "attention")["layout"]["yaxis"]["ticktext"]
    fact = next(i for i, label in enumerate(labels) if "★" in label)
    pills = mask_pills(at)
    pills.set_value([fact + 1]).run()
    no_exception(at)
    z = attention(at)
    assert np.allclose(z[fact], 0.0)  # the masked sentence gets no attention on any hop
    assert "(masked)" in figure(at, "attention")["layout"]["yaxis"]["ticktext"][fact]
    assert readout(at)[last] != truth_before
    assert at.query_params["mask"] in (str(fact + 1), [str(fact + 1)])
    # the true answer is the whole story's: with its fact hidden, another answer is no longer called wrong
    headline = " ".join(m.value for m in at.markdown if "model:" in m.value)
    assert "the whole story's answer" in headline and "wrong" not in headline


def test_words_outside_ascii_are_named_as_typed_and_no_line_is_dropped():
    """'Zoë' and 'café' are unknown words as typed (they were cut into 'zo' and 'caf'); a line in another
    script is an unknown word too, not silently left out of memory."""
    at = open_explorer({"src": "Typed"})
    at.text_area(key="story_text").input("Zoë moved to the café.\n日本語の文です。").run()
    no_exception(at)
    message = " ".join(e.value for e in at.error)
    assert "zoë" in message and "café" in message and "日本語の文です" in message
    assert "'zo'" not in message and "'caf'" not in message


def test_a_typed_story_survives_a_switch_to_another_source_and_back():
    at = open_explorer({"src": "Typed"})
    at.text_area(key="story_text").input("Sandra went to the garden.\nJohn moved to the office.").run()
    at.text_input(key="question_text").input("Where is John?").run()
    at.radio(key="src").set_value("Generated").run()
    at.radio(key="src").set_value("Typed").run()
    no_exception(at)
    assert at.text_area(key="story_text").value == "Sandra went to the garden.\nJohn moved to the office."
    assert at.text_input(key="question_text").value == "Where is John?"
    assert not at.error


def test_a_hand_written_link_is_read_as_meant():
    """``tau1=10`` for the choice ``10.0`` and ``task=2`` for task 2: taken, respelled in the link, no notice."""
    at = open_explorer({"task": "2", "tau1": "10"})
    no_exception(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.query_params["tau1"] in ("10.0", ["10.0"])
    assert str(at.query_params["task"]).lstrip("['").startswith("2 two-supporting-facts")


def test_typed_story_with_unknown_word_shows_error_and_keeps_last_result():
    at = open_explorer({"src": "Typed"})
    assert not at.error
    good = attention(at).copy()
    at.text_area(key="story_text").input("Mary went to the kitchn.\nThe zebra went to the office.").run()
    no_exception(at)
    message = " ".join(e.value for e in at.error)
    assert "kitchn" in message and "kitchen" in message and "zebra" in message
    np.testing.assert_array_equal(attention(at), good)  # the previous view stays


def test_empty_question_and_long_story_give_messages():
    at = open_explorer({"src": "Typed"})
    at.text_input(key="question_text").input("").run()
    assert any("question is empty" in e.value for e in at.error)
    assert attention(at).shape[0] == 4
    long_story = "\n".join(f"Mary went to the {room}." for room in ["kitchen", "garden", "office"] * 20)
    at.text_input(key="question_text").input("Where is Mary?")
    at.text_area(key="story_text").input(long_story).run()
    no_exception(at)
    assert attention(at).shape[0] == 50
    assert "last 50" in text(at) and "first 10" in text(at)


def test_link_restores_the_view():
    query = {"task": "2 two-supporting-facts", "seed": "4", "hop": "1", "tau1": "0.5", "mask": "1"}
    at = open_explorer(query)
    assert not at.warning, [w.value for w in at.warning]
    assert at.selectbox(key="task").value == 2 and at.number_input(key="seed").value == 4
    assert at.select_slider(key="tau1").value == 0.5
    assert shown_hops(at) == 1
    assert np.allclose(attention(at)[0, :1], 0.0)  # sentence 1 masked
    assert "generated task 2, seed 4" in text(at)


def test_typed_story_travels_in_the_link():
    at = open_explorer({"src": "Typed"})
    at.text_area(key="story_text").input("John went to the garden.\nJohn moved to the office.").run()
    token = at.query_params["typed"]
    token = token[0] if isinstance(token, list) else token
    again = open_explorer({"src": "Typed", "typed": token})
    assert again.text_area(key="story_text").value == "John went to the garden.\nJohn moved to the office."
    assert attention(again).shape[0] == 2


def test_nonsense_link_values_fall_back_with_a_notice():
    at = open_explorer({"hop": "99", "tau1": "banana", "mask": "zz", "typed": "!!", "bogus": "1", "seed": "-5"})
    notice = " ".join(w.value for w in at.warning)
    assert "tau1" in notice and "bogus" in notice and "mask=zz" in notice and "seed" in notice
    assert at.select_slider(key="tau1").value == 1.0
    assert shown_hops(at) >= 1 and not re.search(r"\bnan\b", text(at).lower())


def test_babi_folder_browses_stories_and_names_bad_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMVIZ_BABI_ROOT", str(tmp_path))
    write_task_file(tmp_path / "qa1_single-supporting-fact_test.txt", task=1, n_stories=3, seed=7)
    at = open_explorer({"src": "bAbI file", "folder": str(tmp_path)})
    assert "story 1, question 1" in text(at)
    at.number_input(key="story").set_value(3).run()
    at.number_input(key="q").set_value(2).run()
    no_exception(at)
    assert "story 3, question 2" in text(at)
    good = attention(at).copy()
    (tmp_path / "qa2_broken_test.txt").write_text("1 Mary went to the kitchen.\nWhere is Mary?\tkitchen\t1\n")
    at.text_input(key="folder").input(str(tmp_path)).run()
    at.selectbox(key="file").set_value("qa2_broken_test.txt").run()
    no_exception(at)
    assert any(":2:" in e.value and "ID text" in e.value for e in at.error)
    np.testing.assert_array_equal(attention(at), good)


def test_hop_count_switches_to_the_matching_model():
    at = open_explorer()
    counts = at.radio(key="hops").options
    at.radio(key="hops").set_value(int(counts[0])).run()
    no_exception(at)
    assert attention(at).shape[1] == int(counts[0])
    assert f"({counts[0]} hop" in text(at)


def test_a_new_hop_count_opens_on_all_hops():
    """Issue 15: after stepping to hop 1, switching the hop count shows every hop of the new model."""
    at = open_explorer()
    counts = [int(c) for c in at.radio(key="hops").options]
    set_step(at, PLAYER, 1)
    at.radio(key="hops").set_value(counts[1]).run()
    no_exception(at)
    assert stepper_data(at, PLAYER)["step"] == counts[1]
    assert at.query_params.get("hop", str(counts[1])) in (str(counts[1]), [str(counts[1])])


def test_figure_data_per_rerun_is_small(fresh):
    sent = sum(len(chart.proto.spec) for chart in fresh.get("plotly_chart"))
    sent += sum(len(element.proto.json) for element in fresh.get("bidi_component"))  # every hop, sent once
    assert 0 < sent <= 200_000


def test_accuracy_chart_shows_model_and_paper_when_opened():
    at = open_explorer({"accuracy": "true"})
    bars = {t["name"]: t for t in figure(at, "accuracy_chart")["data"]}
    assert "this model" in bars and "paper, 10k joint" in bars and len(bars["paper, 10k joint"]["y"]) == 20
    assert any("Table 1" in c.value for c in at.caption)


def test_export_panel_offers_gif_html_json_and_the_animation():
    at = open_explorer({"export": "true", "anim": "true"})
    assert [b.proto.label for b in at.get("download_button")] == [
        "GIF (one frame per hop)",
        "HTML (interactive, offline)",
        "Trace (JSON)",
    ]
    frames = figure(at, "animation")["frames"]
    assert [f["name"] for f in frames] == [f"hop {k}" for k in range(1, len(frames) + 1)]
    closed = open_explorer()
    assert not closed.get("download_button")  # nothing is built while the panel is closed


def test_masking_every_sentence_says_so_and_shows_no_nan():
    at = open_explorer({"src": "Typed"})
    mask_pills(at).set_value([1, 2, 3, 4]).run()
    no_exception(at)
    assert np.allclose(attention(at), 0.0)
    assert "every sentence is masked" in text(at)
    assert not re.search(r"\bnan\b", text(at).lower())
    assert all(np.isfinite(p).all() for hop in readout(at).values() for p in hop.values())


def mask_pills(at):
    """The sentence-mask pills (the page's other button groups are the hop player's controls)."""
    return next(g for g in at.get("button_group") if (g.key or "").startswith("mask_"))


def test_a_four_hop_model_trained_with_the_cli_opens_steps_and_exports(tmp_path, monkeypatch):
    """Any hop count and memory size from the card (issue 12): a 4-hop, 20-sentence model from the CLI."""
    from memviz import registry
    from memviz.figures import export
    from memviz.memn2n import explore as xm
    from memviz.tasks.babi import TASK_NAMES

    data = tmp_path / "babi"
    data.mkdir()
    for task in (1, 2):
        write_task_file(data / f"qa{task}_{TASK_NAMES[task]}_train.txt", task, n_stories=60, seed=task)
    out = tmp_path / "pretrained"
    argv = ["memn2n-four-hops", "--family", "memn2n", "--data", str(data), "--hops", "4", "--memory", "20"]
    argv += ["--dim", "12", "--epochs", "2", "--restarts", "1", "--ls-epochs", "1", "--quiet", "--out", str(out)]
    assert registry.run_family_command("training", argv) == 0
    monkeypatch.setattr(registry, "PRETRAINED_DIR", out)
    st.cache_data.clear()  # the page's list of models is cached for a minute
    try:
        check_four_hops(open_explorer({"task": "2 two-supporting-facts", "seed": "3"}))
    finally:
        st.cache_data.clear()
    model = memviz.load_pretrained("memn2n-four-hops", out)
    assert model.config.memory_size == 20
    example = xm.fit_memory(xm.generated_example(2, 3), model.config.memory_size)
    trace = model.answer(list(example.sentences), example.question)
    assert export.memn2n_gif(trace, example)[:6] == b"GIF89a"
    assert "Plotly.newPlot" in export.figure_html({"data": [], "layout": {}}, "4 hops")


def check_four_hops(at: AppTest) -> None:
    assert at.radio(key="hops").value == 4
    assert len([s for s in at.select_slider if s.key.startswith("tau")]) == 4
    assert attention(at).shape[1] == 4 and shown_hops(at) == 4
    set_step(at, PLAYER, 0)
    for hop in range(1, 5):
        set_step(at, PLAYER, hop)
        no_exception(at)
        assert shown_hops(at) == hop
    at.select_slider(key="tau4").set_value(0.5).run()
    no_exception(at)


def test_a_typed_story_is_not_judged_against_the_sample_answer():
    """Issue 15: the sample's true answer (office) stayed after the story changed, marking a right answer wrong."""
    at = open_explorer({"src": "Typed"})
    assert at.text_input(key="answer_text").value == "office"
    at.text_area(key="story_text").input("Mary went to the kitchen.\nJohn moved to the office.").run()
    no_exception(at)
    assert at.text_input(key="answer_text").value == ""
    headline = next(m.value for m in at.markdown if m.value.startswith("#### "))
    assert "no true answer given" in headline and "wrong" not in headline
    at.text_input(key="answer_text").input("kitchen").run()
    at.text_input(key="question_text").input("Where is John?").run()
    assert at.text_input(key="answer_text").value == "", "a new question forgets the answer typed for the old one"


@pytest.mark.parametrize("seed", [2, 6])
def test_the_hop_summary_says_why_an_earlier_hop_answers_differently(seed):
    """Issue 15: an earlier hop's readout that differs from the final answer carries a one-line note; none otherwise."""
    from memviz.memn2n import explore as xm

    at = open_explorer({"task": "2 two-supporting-facts", "seed": str(seed)})
    example = xm.generated_example(2, seed)
    trace = memviz.load_pretrained(default_model()).answer(list(example.sentences), example.question)
    for step in range(trace.hops + 1):
        differing = [k for k in range(1, min(step, trace.hops - 1) + 1) if trace.hop_top5[k - 1][0][0] != trace.answer]
        html = stepper_html(at, PLAYER, "summary", step=step)
        assert ("differently from the final answer" in html) == bool(differing), (step, html)
        if differing:
            assert f"the model was only trained to answer after hop {trace.hops}" in html


def test_export_file_names_say_memn2n_once(monkeypatch):
    """Issue 15: the MemN2N GIF was named "memn2n-memn2n-babi-...": the model's name already says memn2n."""
    from memviz.ui import memn2n as ui_memn2n

    stems: list[str] = []
    monkeypatch.setattr(ui_memn2n, "download_buttons", lambda files, stem, key_prefix: stems.append(stem))
    open_explorer({"export": "true"})
    assert len(stems) == 1 and stems[0].startswith(f"{default_model()}-") and stems[0].count("memn2n") == 1
