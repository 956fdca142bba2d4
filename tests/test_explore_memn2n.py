"""The MemN2N Explorer's core logic and figures, on a tiny untrained model (no pretrained weights needed)."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from memviz.figures import export
from memviz.figures import memn2n as figs
from memviz.figures.theme import sub, to_plotly
from memviz.memn2n import explore as xm
from memviz.memn2n.model import MemN2N, MemN2NConfig, Vocabulary, unknown_words_message
from memviz.registry import ModelCard
from memviz.tasks.babi import BabiFormatError
from memviz.tasks.babi_generator import GENERATED_TASKS, generate_examples, generate_lines


@pytest.fixture(scope="module")
def model() -> MemN2N:
    torch.manual_seed(0)
    examples = [e for t in GENERATED_TASKS for e in generate_examples(t, 20, seed=1)]
    texts = [s for e in examples for s in (*e.story, e.question)]
    vocab = Vocabulary.build(texts, [e.answer for e in examples])
    return MemN2N(MemN2NConfig(vocab_size=len(vocab), embed_dim=12, hops=3), vocab).eval()


@pytest.fixture(scope="module")
def example() -> xm.Example:
    return xm.generated_example(2, 1)


@pytest.fixture(scope="module")
def trace(model, example):
    return model.answer(list(example.sentences), example.question, masked=[0])


def test_generated_example_is_the_whole_first_story_with_supporting_facts():
    ex = xm.generated_example(2, 1)
    assert ex.task == 2 and ex.answer and len(ex.supporting) == 2
    assert all(0 <= i < len(ex.sentences) for i in ex.supporting)
    assert ex == xm.generated_example(2, 1)  # seeded
    assert xm.generated_example(2, 2) != ex
    with pytest.raises(xm.ExplorerInputError):
        xm.generated_example(99, 0)


def test_fit_memory_keeps_last_50_and_shifts_supporting_facts():
    ex = xm.Example(sentences=tuple(f"s{i}" for i in range(60)), question="q", supporting=(3, 55))
    fitted = xm.fit_memory(ex, 50)
    assert fitted.sentences[0] == "s10" and len(fitted.sentences) == 50
    assert fitted.supporting == (45,)
    assert "last 50" in fitted.notes[0] and "first 10" in fitted.notes[0] and "supporting" in fitted.notes[0]
    assert xm.fit_memory(fitted, 50) == fitted


def test_typed_story_splits_sentences_and_rejects_empty_input():
    ex = xm.typed_example(
        "1 Mary went to the kitchen. John moved to the office!\n\n  Sandra went to the garden.", "Where?"
    )
    assert ex.sentences == ("Mary went to the kitchen.", "John moved to the office!", "Sandra went to the garden.")
    assert ex.answer is None and ex.supporting == ()
    assert xm.typed_example("Mary went.", "Where is Mary?", " Kitchen ").answer == "kitchen"
    with pytest.raises(xm.EmptyInputError, match="story is empty"):
        xm.typed_example(" \n. ", "Where is Mary?")
    with pytest.raises(xm.EmptyInputError, match="question is empty"):
        xm.typed_example("Mary went to the kitchen.", "?")


def test_typed_story_round_trips_through_a_link_token():
    story = "Mary went to the kitchen.\nJohn went to the hallway & back?"
    token = xm.encode_typed(story, "Where is Mary?", "kitchen")
    assert token.replace("-", "").replace("_", "").isalnum()  # URL-safe
    assert xm.decode_typed(token) == (story, "Where is Mary?", "kitchen")
    with pytest.raises(xm.ExplorerInputError, match="damaged"):
        xm.decode_typed(token[:-6])
    with pytest.raises(xm.ExplorerInputError):
        xm.decode_typed(xm.encode_typed("a", "b", "c").replace("e", "f") + "!!")


def test_mask_text_parses_numbers_in_range_and_lists_the_rest():
    assert xm.parse_masks("3, 1,3,,x,9,0", 5) == ([1, 3], ["x", "9", "0"])
    assert xm.parse_masks("", 5) == ([], [])


def test_babi_upload_groups_stories_and_names_a_bad_line():
    lines = generate_lines(1, n_stories=3, seed=0)
    stories = xm.group_stories(xm.parse_babi_bytes("\n".join(lines).encode(), "qa1_x_test.txt"))
    assert len(stories) == 3
    assert all(q.story[: len(s.questions[0].story)] == s.questions[0].story for s in stories for q in s.questions)
    with pytest.raises(BabiFormatError, match=":2:"):
        xm.parse_babi_bytes(b"1 Mary went to the kitchen.\nWhere is Mary?\tkitchen\t1\n", "bad.txt")
    with pytest.raises(BabiFormatError, match="UTF-8"):
        xm.parse_babi_bytes(b"1 Mary\xff went.\n", "bin.txt")
    with pytest.raises(BabiFormatError, match="no question"):
        xm.parse_babi_bytes(b"1 Mary went to the kitchen.\n", "story_only.txt")


def test_babi_files_finds_files_in_a_folder_or_its_en_subfolder(tmp_path):
    with pytest.raises(xm.ExplorerInputError, match="not found"):
        xm.babi_files(tmp_path / "missing", tmp_path)
    for outside in ("/etc", "../..", str(tmp_path.parent)):
        with pytest.raises(xm.ExplorerInputError, match="not found") as caught:
            xm.babi_files(outside, tmp_path)
        assert "Errno" not in str(caught.value)
    with pytest.raises(xm.ExplorerInputError, match="no bAbI files"):
        xm.babi_files(tmp_path, tmp_path)
    (tmp_path / "en").mkdir()
    for name in ("qa10_indefinite-knowledge_train.txt", "qa2_two-supporting-facts_test.txt"):
        (tmp_path / "en" / name).write_text("")
    assert next(p.name for p in xm.babi_files(tmp_path, tmp_path)).startswith("qa2_")
    assert next(p.name for p in xm.babi_files(".", tmp_path)).startswith("qa2_")  # relative to the root


def test_hop_summary_names_the_sentence_o_k_carried(trace, example):
    index, weight = xm.strongest_sentence(trace, 2)
    assert weight == pytest.approx(trace.attention[1].max())
    line = xm.hop_summary(trace, 2, example)
    assert line.startswith("o₂ mostly carried sentence") and trace.sentences[index] in line


def test_early_readout_note_only_when_an_earlier_hop_disagrees_with_the_final_answer(trace):
    final = trace.answer
    other = next(w for w in trace.answers if w != final)
    agree = dataclasses.replace(trace, hop_top5=[[(final, 0.9)]] * trace.hops)
    assert all(xm.early_readout_note(agree, step) is None for step in range(trace.hops + 1))
    one_off = dataclasses.replace(trace, hop_top5=[[(other, 0.9)], [(final, 0.9)], [(final, 0.9)]])
    assert xm.early_readout_note(one_off, 0) is None  # before hop 1 nothing is read out yet
    note = xm.early_readout_note(one_off, 3)
    assert note.startswith(f"Hop 1 answers differently from the final answer **{final}**")
    assert "only trained to answer after hop 3" in note
    both = dataclasses.replace(trace, hop_top5=[[(other, 0.9)], [(other, 0.9)], [(final, 0.9)]])
    assert xm.early_readout_note(both, 2).startswith("Hops 1 and 2 answer")
    last_only = dataclasses.replace(trace, hop_top5=[[(final, 0.9)], [(final, 0.9)], [(other, 0.9)]])
    assert xm.early_readout_note(last_only, 3) is None  # the last hop's readout is the answer itself


def test_trace_json_holds_every_hop(trace, example):
    record = json.loads(xm.trace_json(trace, example, "tiny"))
    assert len(record["hops"]) == 3 and record["masked_sentences"] == [1]
    assert record["hops"][0]["attention"][0] == 0.0
    assert record["supporting_facts"] == [i + 1 for i in example.supporting]
    assert abs(sum(record["hops"][1]["attention"]) - 1) < 1e-3


def test_gif_has_one_frame_per_hop_drawn_without_a_browser(trace, example):
    data = export.memn2n_gif(trace, example)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == 3
    assert image.size[0] == 1200 and image.size[1] > 30 * len(trace.sentences)


def test_gif_frame_marks_a_true_answer_outside_the_top_five(trace, example):
    from dataclasses import replace

    worst = trace.answers[int(np.argmin(trace.hop_probs[0]))]
    assert xm.answer_rank(trace, 1, worst)[0] == len(trace.answers)
    frame = export.memn2n_gif_frame(trace, replace(example, answer=worst), 1)
    orange = np.all(np.asarray(frame)[:, :, :3] == (230, 97, 0), axis=-1)  # HIGHLIGHT_COLOR
    assert orange[-60:].any()  # the sixth bar, at the bottom, is the true answer


def test_html_export_is_self_contained(trace, example):
    html = export.figure_html(figs.animation_figure(trace, example.supporting), "test")
    assert "<html>" in html and "Plotly.newPlot" in html and "cdn" not in html.split("<body>")[0].lower()


def tiny_card(hops: int, validation_errors: dict[str, float]) -> ModelCard:
    """A card with only a hop count and the validation errors training recorded."""
    training = {"validation": {"per_task_error": validation_errors}}
    return ModelCard("memn2n-test", "memn2n", "", {"name": "babi"}, {"hops": hops}, training=training)


def test_accuracy_rows_pair_model_and_paper_per_task():
    card = tiny_card(2, {"1": 0.5, "2": 40.0})
    rows, caption = xm.accuracy_rows(card)
    assert [r for r in rows if r["model"] == "this model"] == [
        {"task": 1, "name": "single-supporting-fact", "model": "this model", "error": 0.5},
        {"task": 2, "name": "two-supporting-facts", "model": "this model", "error": 40.0},
    ]
    paper_1k = [r for r in rows if r["model"] == "paper, 1k joint 2 hops PE LS"]
    assert len(paper_1k) == 20 and paper_1k[1]["error"] == pytest.approx(15.6)  # Table 1: 84.4% on task 2
    assert len([r for r in rows if r["model"] == "paper, 10k joint"]) == 20
    assert "2 hops" in caption and "validation" in caption


@pytest.mark.parametrize("hop", [0, 1, 3])
def test_figures_are_valid_plotly_and_show_hops_up_to_the_current_one(trace, example, hop):
    story = figs.story_attention_figure(trace, hop, example.supporting)
    to_plotly(story)
    z = np.array(story["data"][0]["z"], dtype=float)
    assert z.shape == (len(trace.sentences), 3)
    assert (~np.isnan(z)).all(axis=0).sum() == hop
    labels = story["layout"]["yaxis"]["ticktext"]
    assert "(masked)" in labels[0] and all("★" in labels[i] for i in example.supporting)
    readout = figs.readout_figure(trace, hop, example.answer)
    to_plotly(readout)
    assert len(readout["data"]) == hop
    controller = figs.controller_figure(trace, hop)
    to_plotly(controller)
    rows = np.array(controller["data"][0]["z"], dtype=float)
    assert (~np.isnan(rows)).all(axis=1).sum() == 1 + 2 * hop
    plain = f"u{sub(1)} + o{sub(1)}"
    update = f"ReLU({plain})" if trace.nonlinearity == "relu" else plain
    assert controller["layout"]["yaxis"]["ticktext"][2] == f"u{sub(2)} = {update}"


def test_readout_marks_the_true_answer_even_outside_the_top_five(trace):
    truth = trace.answers[int(np.argmin(trace.hop_probs[0]))]
    words, _probs, colours = figs.readout_rows(trace, 1, truth)
    assert len(words) == 6 and words[-1].startswith(f"{truth} (rank")
    assert colours[-1] == figs.HIGHLIGHT_COLOR and colours.count(figs.HIGHLIGHT_COLOR) == 1


def test_animation_has_one_frame_per_hop(trace, example):
    spec = figs.animation_figure(trace, example.supporting)
    to_plotly(spec)
    assert [f["name"] for f in spec["frames"]] == ["hop 1", "hop 2", "hop 3"]


def test_accuracy_figure_pairs_model_and_paper_bars():
    rows, _ = xm.accuracy_rows(tiny_card(3, {"1": 0.0}))
    spec = figs.accuracy_figure(rows)
    to_plotly(spec)
    ours, paper_1k, paper_10k = spec["data"]
    assert ours["name"] == "this model" and ours["x"][0] == 0.0 and ours["x"][1] is None
    assert len(paper_1k["y"]) == 20 and paper_1k["y"][0] == "1 single-supporting-fact"
    assert paper_10k["name"] == "paper, 10k joint" and paper_10k["x"][18] == pytest.approx(75.7)


def test_unknown_words_message_keeps_only_close_suggestions():
    message = unknown_words_message(["kitchn", "zebra"], {"kitchn": ["kitchen", "then", "than"], "zebra": []})
    assert "'kitchn' (did you mean kitchen?)" in message and "then" not in message
    assert "'zebra'" in message and message.startswith("Unknown words:")


def test_typed_text_is_shown_as_typed_and_errors_keep_file_names():
    """Issue 15: a typed question is not Markdown; an upload error keeps its file name's case."""
    assert xm.plain_markdown("~~Mary~~ *is*") == r"\~\~Mary\~\~ \*is\*"
    assert xm.error_text("qa1_badline_test.txt:5: no ID") == "qa1_badline_test.txt:5: no ID"
    assert xm.error_text("unknown words: 'x'") == "Unknown words: 'x'"
