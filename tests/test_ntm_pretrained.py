"""Every shipped NTM/LSTM model loads from its card and scores as its card says (timm-style registry test)."""

from __future__ import annotations

import numpy as np
import pytest

import memviz
from memviz.ntm.model import NTMTrace, make_task
from memviz.registry import SHIPPED_MODELS

NAMES = [n for n, family in SHIPPED_MODELS.items() if family in ("ntm", "lstm")]


def fresh_in_range_errors(model, task, count: int = 20, seed: int = 2026) -> np.ndarray:
    """Bit errors of ``count`` fresh episodes, sizes drawn from the training range, run through ``run``."""
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(count):
        batch = task.sample(rng, 1)
        trace = model.run(batch.x[0])
        errors.append(task.score(trace.outputs, batch.y[0], batch.mask[0]))
    return np.array(errors)


@pytest.mark.parametrize("name", NAMES)
def test_pretrained_model_loads_and_scores_its_card_figure(name):
    model = memviz.load_pretrained(name)
    card = model.card
    assert card.family == SHIPPED_MODELS[name] and card.name == name
    task = make_task(card.task)
    errors = fresh_in_range_errors(model, task)
    metrics = card.metrics
    if name == "ntm-copy":
        assert errors.sum() == 0, errors
    else:
        # the card's figure over 500 sequences per size, with room for 20-sample noise
        assert errors.mean() <= 2 * metrics["train_range_mean_bit_errors"] + 0.5, errors
    assert card.training["sequences_seen"] > 0 and card.training["wall_time_s"] > 0


@pytest.mark.parametrize("name", [n for n in NAMES if SHIPPED_MODELS[n] == "ntm"])
def test_pretrained_ntm_trace_is_complete(name):
    model = memviz.load_pretrained(name)
    task = make_task(model.card.task)
    batch = task.sample(np.random.default_rng(0), 1)
    trace = model.run(batch.x[0])
    assert isinstance(trace, NTMTrace)
    np.testing.assert_allclose(trace.write[0].w.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(model.predict(batch.x)[0], trace.outputs, atol=1e-5)
