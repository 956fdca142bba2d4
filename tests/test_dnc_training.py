"""DNC training (memviz.dnc.train): the loss falls on a tiny config; the CLI writes a loadable model."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from memviz.dnc import evaluate as dnc_evaluate
from memviz.dnc import train as dnc_train
from memviz.dnc.model import load

TINY = dnc_train.Recipe(
    task={"name": "copy", "bits": 3, "min_length": 1, "max_length": 3},
    config={"input_width": 4, "output_width": 3, "controller_size": 16, "memory_n": 6, "memory_w": 6},
    lr=3e-3,
    batch=8,
    check_every=160,
    val_per_size=8,
    max_episodes=1600,
    minutes=0,
    curriculum_start=3,
    seed=3,
)


@pytest.mark.parametrize("deallocate", [False, True])
def test_training_lowers_the_loss_on_a_tiny_config(deallocate: bool) -> None:
    recipe = replace(TINY, config={**TINY.config, "deallocate": deallocate})
    result = dnc_train.train(recipe, progress=False, log=lambda s: None)
    losses = [row["val_loss"] for row in result.curve]
    assert len(losses) == 10
    assert min(losses[-3:]) < 0.8 * losses[0]
    assert result.episodes == 1600 and result.batches == 200
    assert np.isfinite(result.best_val_loss)


def test_training_is_deterministic_by_seed() -> None:
    recipe = replace(TINY, max_episodes=160)
    a = dnc_train.train(recipe, progress=False, log=lambda s: None)
    b = dnc_train.train(recipe, progress=False, log=lambda s: None)
    for key, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[key]), key


def test_cli_writes_a_loadable_model_and_card(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(dnc_train.RECIPES, "dnc-tiny", TINY)
    argv = ["--out", str(tmp_path), "--max-episodes", "320", "--quiet", "--eval-episodes", "5"]
    assert dnc_train.main("dnc-tiny", argv) == 0
    for suffix in (".safetensors", ".json", ".curve.csv"):
        assert (tmp_path / f"dnc-tiny{suffix}").is_file(), suffix
    card = json.loads((tmp_path / "dnc-tiny.json").read_text())
    assert list(card) == ["name", "family", "description", "task", "config", "recipe", "training", "metrics", "extra"]
    assert card["family"] == "dnc" and card["task"]["name"] == "copy"
    assert card["recipe"]["command"].startswith("python -m memviz.train dnc-tiny --seed 3")
    assert card["training"]["episodes"] == 320
    assert card["training"]["weight_bytes"] == (tmp_path / "dnc-tiny.safetensors").stat().st_size
    metrics = card["metrics"]
    assert metrics["command"] == "python -m memviz.evaluate dnc-tiny"
    assert metrics["episodes_per_size"] == 5
    assert set(metrics["per_size"]) == {str(n) for n in range(1, 7)}  # the range and up to twice it
    model = load("dnc-tiny", tmp_path)
    x = model.task.sample(np.random.default_rng(0), 1, 2).x[0]
    assert model.run(x).outputs.shape == (5, 3)
    # evaluate again without writing: same table (fresh episodes are seeded)
    assert dnc_evaluate.main("dnc-tiny", ["--dir", str(tmp_path), "--episodes", "5", "--no-write"]) == 0
    assert json.loads((tmp_path / "dnc-tiny.json").read_text())["metrics"] == metrics
    # a warm start from it records where it began
    stage2 = tmp_path / "stage2"
    argv = ["--out", str(stage2), "--max-episodes", "160", "--quiet", "--no-eval", "--curriculum-start", "3"]
    assert dnc_train.main("dnc-tiny", [*argv, "--init-from", str(tmp_path / "dnc-tiny.safetensors")]) == 0
    card2 = json.loads((stage2 / "dnc-tiny.json").read_text())
    assert card2["extra"]["previous_stage"]["training"]["episodes"] == 320
    assert "--init-from" in card2["recipe"]["command"]


def test_cli_deallocate_flag_reaches_the_card_the_command_and_the_loaded_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(dnc_train.RECIPES, "dnc-tiny", TINY)
    argv = ["--out", str(tmp_path), "--max-episodes", "80", "--quiet", "--no-eval", "--deallocate"]
    assert dnc_train.main("dnc-tiny", argv) == 0
    card = json.loads((tmp_path / "dnc-tiny.json").read_text())
    assert card["config"]["deallocate"] is True
    assert card["recipe"]["command"].endswith(" --deallocate")
    assert load("dnc-tiny", tmp_path).config.deallocate


def test_multi_copy_reuse_metrics_run_on_a_tiny_model() -> None:
    from memviz.dnc.model import DNC, DNCConfig
    from memviz.tasks.multi_copy import MultiCopyTask

    torch.manual_seed(0)
    model = DNC(DNCConfig(input_width=4, output_width=3, controller_size=16, memory_n=4, memory_w=6)).eval()
    task = MultiCopyTask(bits=3, max_length=2, count=2)
    m = dnc_evaluate.reuse_metrics(model, task, episodes=3)
    assert 0.0 <= m["reused_slot_share"] <= 1.0
    assert m["size"] == "2x2" and m["free_gates_zero"]["bits_scored_per_episode"] == 12


def test_widening_a_warm_start_keeps_what_the_model_computes() -> None:
    """More read heads and controller units (widen_state) leave the outputs as they were."""
    from memviz.dnc.model import DNC, DNCConfig

    torch.manual_seed(1)
    small = DNCConfig(input_width=4, output_width=3, controller_size=12, memory_n=5, memory_w=6)
    old = DNC(small).eval()
    x = torch.as_tensor(tiny_copy_inputs(), dtype=torch.float32)
    for heads, units in ((1, 12), (2, 12), (2, 20), (3, 16)):
        new = DNC(replace(small, read_heads=heads, controller_size=units)).eval()
        new.load_state_dict(dnc_train.widen_state(old.state_dict(), small, new))
        with torch.no_grad():
            np.testing.assert_allclose(new(x).numpy(), old(x).numpy(), atol=1e-4)
    try:
        dnc_train.widen_state(old.state_dict(), small, DNC(replace(small, controller_size=8)))
    except ValueError as exc:
        assert "only more read heads or controller units" in str(exc)
    else:
        raise AssertionError("narrowing must fail")


def tiny_copy_inputs() -> np.ndarray:
    from memviz.tasks.copy import CopyTask

    return CopyTask(bits=3, min_length=1, max_length=3).sample(np.random.default_rng(0), 4, 3).x


def test_cosine_schedule_and_length_weighting() -> None:
    recipe = replace(TINY, lr=1e-3, lr_end=1e-5, lr_decay_episodes=1000)
    assert dnc_train.cosine_lr(recipe, 0) == 1e-3
    assert abs(dnc_train.cosine_lr(recipe, 500) - (1e-5 + (1e-3 - 1e-5) / 2)) < 1e-12
    assert dnc_train.cosine_lr(recipe, 1000) == dnc_train.cosine_lr(recipe, 5000) == 1e-5
    assert dnc_train.cosine_lr(TINY, 700) == TINY.lr  # no lr_end: constant
    assert dnc_train.size_weight(None, (3, 8), "length") == 24.0
    assert dnc_train.size_weight(None, 5, "uniform") == 1.0
    result = dnc_train.train(
        replace(recipe, size_weighting="length", max_episodes=160), progress=False, log=lambda s: None
    )
    assert result.episodes == 160
