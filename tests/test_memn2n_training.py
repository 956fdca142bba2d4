"""MemN2N training on a small generated bAbI folder: the CLI trains, learns, and writes a card that loads."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from memviz.memn2n import train as memn2n_training
from memviz.registry import load_pretrained
from memviz.tasks.babi import TASK_NAMES, tokenize
from memviz.tasks.babi_generator import generate_examples, write_task_file


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data = tmp_path_factory.mktemp("babi")
    for task in (1, 6):
        write_task_file(data / f"qa{task}_{TASK_NAMES[task]}_train.txt", task, n_stories=300, seed=task)
    out = data / "out"
    argv = ["--data", str(data), "--dim", "24", "--epochs", "12", "--restarts", "1", "--ls-epochs", "2"]
    argv += ["--batch-size", "32", "--lr", "0.01", "--nonlinearity", "relu", "--oversample", "6:2", "--quiet"]
    argv += ["--rename", "6", "--out", str(out), "--seed", "3"]
    assert memn2n_training.main("memn2n-babi", argv) == 0
    return out


def test_training_writes_a_card_that_records_the_recipe(trained):
    card = json.loads((trained / "memn2n-babi.json").read_text())
    assert card["config"]["nonlinearity"] == "relu" and card["config"]["embed_dim"] == 24
    assert card["recipe"]["balanced_sampling"] == {"6": 2}  # --oversample 6:2
    assert set(card["training"]["validation"]["per_task_error"]) == {"1", "6"}
    assert card["recipe"]["renamed_repeats"] == [6]  # --rename 6
    assert "--nonlinearity relu" in card["recipe"]["command"]
    assert card["training"]["history"][-1]["loss"] < card["training"]["history"][0]["loss"]


def test_trained_model_loads_and_beats_chance(trained):
    model = load_pretrained("memn2n-babi", trained)
    examples = generate_examples(1, 60, seed=1234)
    correct = sum(model.answer(list(e.story), e.question).answer == e.answer for e in examples)
    assert correct / len(examples) > 0.5  # six places to choose from: chance is ~17%
    assert model.answer(list(examples[0].story), examples[0].question).nonlinearity == "relu"


@pytest.mark.parametrize("text", ["19", "x:2", "19:0", "19:50"])
def test_oversample_rejects_bad_values(text):
    with pytest.raises(argparse.ArgumentTypeError):
        memn2n_training.parse_oversample(text)
    assert memn2n_training.parse_oversample("17:2,19:3") == {17: 2, 19: 3}


def test_renamed_copies_tell_the_same_story_about_other_names():
    rng = random.Random(0)
    changed = 0
    for task in (1, 2, 3):
        for original in generate_examples(task, 40, seed=task):
            copy = memn2n_training.rename_entities(original, rng)
            assert copy.supporting == original.supporting and len(copy.story) == len(original.story)
            facts = tokenize(" ".join(copy.story[i] for i in copy.supporting_indices))
            assert all(word in facts for word in copy.answer.split(",")), (copy.story, copy.question, copy.answer)
            for before, after in zip(" ".join(original.story).split(), " ".join(copy.story).split(), strict=True):
                for group in memn2n_training.RENAMEABLE:  # a word moves only within its group (he/she still fit)
                    assert (before.strip(".") in group) == (after.strip(".") in group)
            changed += copy.story != original.story
    assert changed > 100


def test_train_with_renamed_questions_shows_each_repeat_once_renamed():
    examples = generate_examples(3, 20, seed=5)
    questions = memn2n_training.training_questions({3: examples}, {3: 4}, {3}, seed=0)
    assert len(questions) == 80 and questions[:20] == examples
    assert sum(q.story != e.story for q, e in zip(questions[20:], examples * 3, strict=True)) > 50
    assert memn2n_training.training_questions({3: examples}, {3: 2}, set(), seed=0) == examples * 2


@pytest.mark.parametrize("text", ["", "x", "0", "3,21"])
def test_rename_rejects_bad_task_lists(text):
    with pytest.raises(argparse.ArgumentTypeError):
        memn2n_training.parse_tasks(text)
    assert memn2n_training.parse_tasks("19,3") == [3, 19]
