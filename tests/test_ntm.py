"""The NTM model: trace invariants, overrides, bad input, weight files, training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from memviz import addressing
from memviz.ntm.model import (
    NTM,
    LSTMBaseline,
    LSTMConfig,
    NTMConfig,
    Override,
    architecture_of,
    save_state,
)
from memviz.registry import ModelCard, PretrainedError, load_pretrained, write_card
from memviz.tasks.copy import CopyTask

SMALL = NTMConfig(input_width=9, output_width=8, controller_size=32, memory_n=16, memory_m=6)


@pytest.fixture(scope="module")
def model() -> NTM:
    torch.manual_seed(0)
    m = NTM(SMALL)
    m.eval()
    return m


@pytest.fixture(scope="module")
def episode() -> np.ndarray:
    x, _, _ = CopyTask().encode(np.random.default_rng(3).integers(0, 2, (5, 8)))
    return x


@pytest.fixture(scope="module")
def trace(model, episode):
    return model.run(episode)


def test_trace_shapes_are_time_first_float32(trace, episode):
    T, c = episode.shape[0], SMALL
    assert trace.steps == T
    assert trace.outputs.shape == (T, 8) and trace.outputs.dtype == np.float32
    assert trace.controller_output.shape == (T, c.controller_size)
    assert trace.memory_before.shape == trace.memory_after.shape == (T, c.memory_n, c.memory_m)
    assert trace.read_vectors.shape == (T, c.read_heads, c.memory_m)
    for head in trace.heads:
        assert head.key.shape == (T, c.memory_m)
        assert head.beta.shape == head.g.shape == head.gamma.shape == (T,)
        assert head.shift.shape == (T, 2 * c.shift_radius + 1)
        for stage in ("w_prev", "similarity", "w_c", "w_g", "w_s", "w"):
            assert getattr(head, stage).shape == (T, c.memory_n)
            assert getattr(head, stage).dtype == np.float32
    assert trace.write[0].erase.shape == trace.write[0].add.shape == (T, c.memory_m)
    assert trace.head("write0") is trace.write[0] and trace.head(("read", 0)) is trace.read[0]
    assert np.all((trace.outputs >= 0) & (trace.outputs <= 1))


def test_every_weighting_sums_to_one(trace):
    for head in trace.heads:
        for stage in ("w_prev", "w_c", "w_g", "w_s", "w", "shift"):
            np.testing.assert_allclose(getattr(head, stage).sum(axis=-1), 1.0, atol=1e-5, err_msg=stage)
        assert np.all(head.beta >= 0) and np.all((head.g >= 0) & (head.g <= 1)) and np.all(head.gamma >= 1)


def test_memory_after_is_the_write_equation_applied_to_memory_before(trace):
    w = trace.write[0]
    expected = addressing.write(
        torch.from_numpy(trace.memory_before), torch.from_numpy(w.w), torch.from_numpy(w.erase), torch.from_numpy(w.add)
    ).numpy()
    np.testing.assert_allclose(trace.memory_after, expected, atol=1e-6)
    np.testing.assert_array_equal(trace.memory_before[1:], trace.memory_after[:-1])
    np.testing.assert_allclose(trace.memory_before[0], SMALL.memory_init)


def test_reads_are_w_times_memory_before(trace):
    r = trace.read[0]
    expected = np.einsum("tn,tnm->tm", r.w, trace.memory_before)
    np.testing.assert_allclose(r.read_vector, expected, atol=1e-6)
    np.testing.assert_array_equal(trace.read_vectors[:, 0], r.read_vector)


def test_each_head_starts_from_its_last_weighting(trace):
    for head in trace.heads:
        np.testing.assert_array_equal(head.w_prev[1:], head.w[:-1])


def test_trace_matches_the_batched_training_path(model, episode, trace):
    np.testing.assert_allclose(model.predict(episode[None])[0], trace.outputs, atol=1e-5)


@pytest.mark.parametrize("head", ["write0", "read0"])
def test_override_at_step_t_keeps_earlier_steps_and_changes_step_t(model, episode, trace, head):
    t = 4
    o = Override(head=head, step=t, beta=0.0, g=1.0, shift=(0.0, 0.0, 1.0), gamma=1.0)
    new = model.run(episode, overrides=o)
    for name in ("outputs", "controller_output", "read_vectors", "memory_before", "memory_after"):
        np.testing.assert_array_equal(getattr(new, name)[:t], getattr(trace, name)[:t], err_msg=name)
    for old_head, new_head in zip(trace.heads, new.heads, strict=True):
        for f in dataclasses.fields(old_head):
            value = getattr(old_head, f.name)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(getattr(new_head, f.name)[:t], value[:t], err_msg=f.name)
    h = new.head(head)
    assert h.beta[t] == 0 and h.g[t] == 1 and h.gamma[t] == 1
    np.testing.assert_allclose(h.shift[t], [0, 0, 1])
    # beta = 0, g = 1: uniform content weighting, shifted: still uniform
    np.testing.assert_allclose(h.w[t], 1 / SMALL.memory_n, atol=1e-6)
    assert not np.allclose(h.w[t], trace.head(head).w[t])
    assert h.overridden[t] and h.overridden.sum() == 1
    changed = "memory_after" if head == "write0" else "read_vectors"
    assert not np.allclose(getattr(new, changed)[t], getattr(trace, changed)[t])


def test_override_every_step_moves_the_write_head_one_location_per_step(model, episode):
    o = Override(head=("write", 0), step=None, g=0.0, shift=(0, 0, 1), gamma=50.0)
    new = model.run(episode, overrides=[o])
    focus = new.write[0].w.argmax(axis=1)
    np.testing.assert_array_equal(focus, np.arange(1, episode.shape[0] + 1) % SMALL.memory_n)
    assert new.write[0].overridden.all()


def test_override_key_replaces_the_key(model, episode):
    key = tuple(float(v) for v in np.linspace(-1, 1, SMALL.memory_m))
    new = model.run(episode, overrides=Override(head="read0", step=2, key=key))
    np.testing.assert_allclose(new.read[0].key[2], key, rtol=1e-6)


def test_override_is_hashable_and_normalises_its_shift():
    o = Override(head="WRITE0", step=1, shift=[1, 1, 2])
    assert o.head == "write0" and o.shift == (0.25, 0.25, 0.5)
    assert hash(o) == hash(Override(head=("write", 0), step=1, shift=(1, 1, 2)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"head": "left0"}, "head must look like"),
        ({"head": "write0", "g": 1.5}, "g must lie in"),
        ({"head": "write0", "gamma": 0.5}, "gamma must be"),
        ({"head": "write0", "beta": -1.0}, "beta must be"),
        ({"head": "write0", "beta": 1e39}, "beta must be finite"),  # finite in float64, inf in float32
        ({"head": "write0", "gamma": 1e39}, "gamma must be finite"),
        ({"head": "write0", "key": (1e39, 0.0)}, "key must be finite"),
        ({"head": "write0", "shift": (1, 0)}, "odd number"),
        ({"head": "write0", "shift": (0, 0, 0)}, "not all 0"),
        ({"head": "write0", "step": -1}, "non-negative"),
    ],
)
def test_bad_overrides_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Override(**kwargs)


def test_overrides_that_do_not_fit_the_model_or_episode_raise(model, episode):
    with pytest.raises(ValueError, match="has 1 write head"):
        model.run(episode, overrides=Override(head="write1"))
    with pytest.raises(ValueError, match="past the episode"):
        model.run(episode, overrides=Override(head="write0", step=episode.shape[0]))
    with pytest.raises(ValueError, match="needs 3 weights"):
        model.run(episode, overrides=Override(head="write0", shift=(0, 0, 1, 0, 0)))
    with pytest.raises(ValueError, match="needs 6 numbers"):
        model.run(episode, overrides=Override(head="write0", key=(1.0, 2.0)))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((5, 7)), "width must be 9"),
        (np.full((5, 9), 2.0), r"must lie in \[0, 1\]"),
        (np.full((5, 9), -0.5), r"must lie in \[0, 1\]"),
        (np.zeros((0, 9)), "empty sequence"),
        (np.zeros(9), "one episode"),
        (np.full((3, 9), np.nan), "NaN"),
    ],
)
@pytest.mark.parametrize("family", ["ntm", "lstm"])
def test_bad_input_raises_a_clear_error(model, x, message, family):
    m = model if family == "ntm" else LSTMBaseline(LSTMConfig(hidden_size=8, layers=1))
    with pytest.raises(ValueError, match=message):
        m.run(x)


def test_more_data_than_memory_rows_warns_but_runs(model):
    x, _, _ = CopyTask().encode(np.ones((SMALL.memory_n + 4, 8)))
    with pytest.warns(UserWarning, match="wraps around"):
        trace = model.run(x)
    assert trace.steps == x.shape[0] and np.isfinite(trace.outputs).all()


def test_lstm_baseline_run_returns_outputs(episode):
    torch.manual_seed(0)
    m = LSTMBaseline(LSTMConfig(hidden_size=16, layers=2)).eval()
    trace = m.run(episode)
    assert trace.outputs.shape == (episode.shape[0], 8) and trace.hidden.shape == (episode.shape[0], 16)
    np.testing.assert_allclose(m.predict(episode[None])[0], trace.outputs, atol=1e-5)


# --------------------------------------------------------------------------- weight files


def _ship(tmp_path, model, name="ntm-test"):
    card = ModelCard(name, model.family, "", {"name": "copy"}, architecture_of(model))
    write_card(card, tmp_path)
    save_state(model, tmp_path / f"{name}.safetensors")
    return card


def test_saved_weights_load_back_identically(tmp_path, model, episode, trace):
    _ship(tmp_path, model)
    loaded = load_pretrained("ntm-test", tmp_path)
    np.testing.assert_array_equal(loaded.run(episode).outputs, trace.outputs)


def test_missing_weights_name_the_file_and_the_command(tmp_path, model):
    _ship(tmp_path, model)
    (tmp_path / "ntm-test.safetensors").unlink()
    with pytest.raises(PretrainedError, match=r"ntm-test\.safetensors.*python -m memviz\.train ntm-test"):
        load_pretrained("ntm-test", tmp_path)


def test_truncated_weights_name_the_file_and_the_command(tmp_path, model):
    _ship(tmp_path, model)
    path = tmp_path / "ntm-test.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(PretrainedError, match=r"ntm-test\.safetensors.*truncated.*python -m memviz\.train ntm-test"):
        load_pretrained("ntm-test", tmp_path)


def test_weights_that_do_not_match_the_card_say_which_tensor(tmp_path, model):
    card = _ship(tmp_path, model)
    card.config["controller_size"] = 33
    write_card(card, tmp_path)
    with pytest.raises(PretrainedError, match=r"controller.*shape.*python -m memviz\.train ntm-test"):
        load_pretrained("ntm-test", tmp_path)


def test_a_traced_run_leaves_denormal_floats_as_they_were(model, episode):
    """The run flushes denormals to zero for speed, then turns that off for the caller."""
    tiny = torch.tensor([1e-39])
    model.run(episode)
    assert (tiny * 1.0).item() != 0.0
    model.predict(episode[None])
    assert (tiny * 1.0).item() != 0.0


def test_training_works_after_an_inference_run_in_the_same_process():
    """Tables cached during ``predict`` (inference mode) must not break a later backward pass."""
    from memviz.addressing import _shift_sources

    _shift_sources.cache_clear()
    torch.manual_seed(5)
    m = NTM(SMALL)
    x = torch.from_numpy(CopyTask().encode(np.random.default_rng(1).integers(0, 2, (3, 8)))[0][None])
    m.predict(x)
    m(x).sum().backward()
    assert m.output.weight.grad is not None and torch.isfinite(m.output.weight.grad).all()
