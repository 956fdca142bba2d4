"""Training and evaluation on tiny configs: the loss falls, files and cards are written, metrics are measured."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from memviz.ntm.evaluate import main as evaluate_main
from memviz.ntm.train import RECIPES, Recipe, save_run, train
from memviz.registry import SHIPPED_MODELS, list_pretrained, load_pretrained

TINY = Recipe(
    family="ntm",
    task={"name": "copy", "bits": 4, "min_length": 1, "max_length": 2},
    architecture={"input_width": 5, "output_width": 4, "controller_size": 24, "memory_n": 8, "memory_m": 6},
    lr=3e-3,
    batch=16,
    max_sequences=16 * 60,
    minutes=0,
    check_every=16 * 30,
    val_per_size=32,
    seed=3,
)


@pytest.fixture(scope="module")
def tiny_run():
    return train(TINY, progress=False, log=lambda s: None)


def test_training_lowers_the_loss_within_a_few_steps(tiny_run):
    losses = [row["val_loss"] for row in tiny_run.curve]
    assert tiny_run.curve[0]["sequences"] == 0
    assert losses[-1] < losses[0] - 0.03, losses
    assert tiny_run.sequences_seen == TINY.max_sequences


def test_training_is_deterministic_by_seed(tiny_run):
    again = train(TINY, progress=False, log=lambda s: None)
    assert [r["val_loss"] for r in again.curve] == [r["val_loss"] for r in tiny_run.curve]


def test_saved_run_loads_and_evaluates_into_its_card(tmp_path, tiny_run, capsys):
    save_run("ntm-tiny", TINY, tiny_run, tmp_path)
    assert list_pretrained(tmp_path) == ["ntm-tiny"]
    assert (tmp_path / "ntm-tiny.curve.csv").read_text().startswith("sequences,seconds,")
    model = load_pretrained("ntm-tiny", tmp_path)
    assert model.run(np.zeros((3, 5), dtype=np.float32)).outputs.shape == (3, 4)
    assert evaluate_main("ntm-tiny", ["--sizes", "1,2,4", "--sequences", "40", "--write", "--dir", str(tmp_path)]) == 0
    card = json.loads((tmp_path / "ntm-tiny.json").read_text())
    assert [r["size"] for r in card["metrics"]["by_size"]] == ["1", "2", "4"]
    assert [r["in_training_range"] for r in card["metrics"]["by_size"]] == [True, True, False]
    assert card["training"]["sequences_seen"] == TINY.max_sequences
    assert card["training"]["machine"]["cores"] >= 1
    assert "mean bit errors" in capsys.readouterr().out


def test_every_shipped_name_has_a_recipe():
    for name, family in SHIPPED_MODELS.items():
        if family in ("ntm", "lstm"):
            assert name in RECIPES


def test_training_can_continue_from_a_checkpoint(tmp_path, tiny_run):
    save_run("ntm-tiny", TINY, tiny_run, tmp_path)
    stage2 = replace(TINY, init_from=str(tmp_path / "ntm-tiny.safetensors"), max_sequences=16 * 30, seed=4)
    again = train(stage2, progress=False, log=lambda s: None)
    assert again.curve[0]["val_loss"] < tiny_run.curve[0]["val_loss"] - 0.03
    save_run("ntm-tiny2", stage2, again, tmp_path)
    card = json.loads((tmp_path / "ntm-tiny2.json").read_text())
    assert card["training"]["previous_stage"]["sequences_seen"] == TINY.max_sequences
    assert "--init-from" in card["recipe"]["command"]
