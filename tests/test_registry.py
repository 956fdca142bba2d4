"""The registry (DESIGN.md sections 1 and 3): one card schema, the families table, the shipped models.

Every shipped model's files must exist: a missing one fails (never skips), naming the
file and the command that regenerates it.
"""

from __future__ import annotations

import importlib
import json
import shutil

import pytest

import memviz
from memviz import registry
from memviz.registry import (
    FAMILIES,
    SHIPPED_MODELS,
    ModelCard,
    PretrainedError,
    card_path,
    family_of,
    load_pretrained,
    read_card,
    run_family_command,
    weights_path,
)


@pytest.mark.parametrize("name", sorted(SHIPPED_MODELS))
def test_every_shipped_model_has_its_files(name):
    for path in (card_path(name), weights_path(name)):
        assert path.is_file(), f"{path} is missing: regenerate it with `python -m memviz.train {name}`"


@pytest.mark.parametrize("name", sorted(SHIPPED_MODELS))
def test_every_shipped_card_reads_and_names_its_family_and_commands(name):
    card = read_card(name)
    assert card.name == name and card.family == SHIPPED_MODELS[name] == family_of(name)
    assert card.description and card.task["name"] and card.config
    assert card.recipe["command"] and "seed" in card.recipe
    assert card.training["parameters"] > 0 and card.training["weights"]["bytes"] > 0
    assert card.metrics["command"].startswith(f"python -m memviz.evaluate {name}")


def test_list_pretrained_is_the_shipped_list():
    assert set(SHIPPED_MODELS) <= set(memviz.list_pretrained())


def test_lstm_baseline_is_its_own_family_with_the_ntm_code():
    assert family_of("lstm-copy") == "lstm"
    assert FAMILIES["lstm"].trainer == FAMILIES["ntm"].trainer == "memviz.ntm.train"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_row_points_at_real_code(family):
    row = FAMILIES[family]
    module, function = row.loader.split(":")
    assert callable(getattr(importlib.import_module(module), function))
    for module in (row.trainer, row.evaluator):
        assert callable(importlib.import_module(module).main)
    assert (registry.PRETRAINED_DIR.parent / row.page).is_file()


def _copy(name, tmp_path):
    for path in (card_path(name), weights_path(name)):
        shutil.copy(path, tmp_path / path.name)
    return json.loads(card_path(name, tmp_path).read_text())


def _write(data, name, tmp_path):
    card_path(name, tmp_path).write_text(json.dumps(data))


@pytest.mark.parametrize("field", ["family", "task", "metrics", "extra"])
def test_a_card_missing_a_field_names_file_field_and_command(tmp_path, field):
    data = _copy("ntm-copy", tmp_path)
    del data[field]
    _write(data, "ntm-copy", tmp_path)
    with pytest.raises(PretrainedError, match=rf"ntm-copy\.json.*{field}.*python -m memviz\.train ntm-copy"):
        load_pretrained("ntm-copy", tmp_path)


def test_a_card_with_an_unknown_family_says_so(tmp_path):
    data = _copy("ntm-copy", tmp_path)
    data["family"] = "hopfield"
    _write(data, "ntm-copy", tmp_path)
    with pytest.raises(PretrainedError, match=r"ntm-copy\.json.*family.*'hopfield'.*python -m memviz\.train ntm-copy"):
        read_card("ntm-copy", tmp_path)


def test_memn2n_weights_are_checked_against_the_card(tmp_path):
    data = _copy("memn2n-babi-1hop", tmp_path)
    data["config"]["embed_dim"] = 32
    _write(data, "memn2n-babi-1hop", tmp_path)
    with pytest.raises(PretrainedError, match=r"memn2n-babi-1hop\.safetensors.*shape.*python -m memviz\.train"):
        load_pretrained("memn2n-babi-1hop", tmp_path)


def test_memn2n_missing_weights_name_the_file(tmp_path):
    _copy("memn2n-babi-1hop", tmp_path)
    weights_path("memn2n-babi-1hop", tmp_path).unlink()
    with pytest.raises(PretrainedError, match=r"memn2n-babi-1hop\.safetensors.*python -m memviz\.train"):
        load_pretrained("memn2n-babi-1hop", tmp_path)


def test_a_card_round_trips_unchanged(tmp_path):
    card = read_card("memn2n-babi")
    registry.write_card(card, tmp_path)
    assert read_card("memn2n-babi", tmp_path) == card
    assert card_path("memn2n-babi", tmp_path).read_text() == card_path("memn2n-babi").read_text()


def test_dispatch_of_an_unknown_name_asks_for_a_family(capsys):
    assert run_family_command("training", ["hopfield-copy"]) == 2
    assert "--family" in capsys.readouterr().out


def test_dispatch_reads_the_family_from_the_card(tmp_path, monkeypatch, capsys):
    _copy("lstm-copy", tmp_path)
    monkeypatch.setattr(registry, "PRETRAINED_DIR", tmp_path)
    args = ["lstm-copy", "--sizes", "1", "--sequences", "2", "--dir", str(tmp_path)]
    assert run_family_command("evaluation", args) == 0
    assert "mean bit errors" in capsys.readouterr().out


def test_model_card_fields_are_the_schema():
    assert [f for f in ModelCard.__dataclass_fields__] == [
        "name", "family", "description", "task", "config", "recipe", "training", "metrics", "extra"
    ]  # fmt: skip
