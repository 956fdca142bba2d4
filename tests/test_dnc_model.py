"""The DNC model (memviz.dnc.model, memviz.dnc.fast): trace invariants, interventions, fast == torch, bad input."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch

from memviz.dnc.model import (
    DNC,
    DNCConfig,
    DNCTrace,
    Override,
    PretrainedError,
    check_input,
    load,
    load_from_card,
    no_freeing,
    save_state,
)
from memviz.registry import ModelCard
from memviz.tasks.copy import CopyTask
from memviz.tasks.multi_copy import MultiCopyTask
from memviz.tasks.reverse_copy import ReverseCopyTask

TOL = 2e-5


def random_model(read_heads: int = 2, seed: int = 0, **kw) -> DNC:
    torch.manual_seed(seed)
    config = DNCConfig(read_heads=read_heads, controller_size=32, memory_n=12, memory_w=8, **kw)
    model = DNC(config).eval()
    with torch.no_grad():  # livelier gates than the default init, so every path matters
        model.interface.weight.mul_(3.0)
    return model


def episode(length: int = 6, seed: int = 0) -> np.ndarray:
    return CopyTask(bits=6).sample(np.random.default_rng(seed), 1, length).x[0]


def max_diff(a: DNCTrace, b: DNCTrace, fields: tuple[str, ...] = DNCTrace.FIELDS) -> float:
    return max(float(np.abs(getattr(a, f).astype(np.float64) - getattr(b, f).astype(np.float64)).max()) for f in fields)


# --------------------------------------------------------------------------- trace


def test_trace_fields_are_float32_with_time_first() -> None:
    model = random_model(read_heads=2)
    x = episode(5)
    trace = model.run(x)
    c = model.config
    n, w, r = c.memory_n, c.memory_w, c.read_heads
    expected = {
        "usage_before": (n,),
        "retention": (n,),
        "usage": (n,),
        "free_list": (n,),
        "allocation": (n,),
        "write_content": (n,),
        "write_weights": (n,),
        "allocation_gate": (),
        "write_gate": (),
        "erase": (w,),
        "write_vector": (w,),
        "memory_before": (n, w),
        "memory_after": (n, w),
        "precedence": (n,),
        "link": (n, n),
        "free_gates": (r,),
        "read_modes": (r, 3),
        "forward": (r, n),
        "backward": (r, n),
        "read_content": (r, n),
        "read_weights": (r, n),
        "read_vectors": (r, w),
        "outputs": (c.output_width,),
    }
    for name, shape in expected.items():
        value = getattr(trace, name)
        assert value.shape == (x.shape[0], *shape), name
        assert value.dtype == np.float32, name
        assert np.isfinite(value).all(), name
    assert trace.overridden.shape == (x.shape[0], r + 1)


def test_trace_invariants() -> None:
    model = random_model(read_heads=2)
    trace = model.run(episode(8))
    # the write equation, applied to memory before, gives memory after
    w, e, v = trace.write_weights, trace.erase, trace.write_vector
    rebuilt = trace.memory_before * (1 - w[:, :, None] * e[:, None, :]) + w[:, :, None] * v[:, None, :]
    np.testing.assert_allclose(trace.memory_after, rebuilt, atol=1e-6)
    # steps chain: what a step ends with, the next starts from
    np.testing.assert_array_equal(trace.memory_before[1:], trace.memory_after[:-1])
    np.testing.assert_array_equal(trace.usage_before[1:], trace.usage[:-1])
    # reads are the read weightings over the memory after the write
    np.testing.assert_allclose(trace.read_vectors, trace.read_weights @ trace.memory_after, atol=1e-6)
    # usage follows retention and the previous write weighting
    u_prev, w_prev = trace.usage[:-1], trace.write_weights[:-1]
    np.testing.assert_allclose(trace.usage[1:], (u_prev + w_prev - u_prev * w_prev) * trace.retention[1:], atol=1e-6)
    # write weighting from the gates
    mix = trace.allocation_gate[:, None] * trace.allocation + (1 - trace.allocation_gate[:, None]) * trace.write_content
    np.testing.assert_allclose(trace.write_weights, trace.write_gate[:, None] * mix, atol=1e-6)
    # read weighting from the modes, in the order backward, content, forward
    m = trace.read_modes
    mixed = m[..., 0:1] * trace.backward + m[..., 1:2] * trace.read_content + m[..., 2:3] * trace.forward
    np.testing.assert_allclose(trace.read_weights, mixed, atol=1e-6)
    # links: zero diagonal, entries in [0, 1]; weightings are sub-distributions
    assert np.all(np.diagonal(trace.link, axis1=1, axis2=2) == 0)
    assert trace.link.min() >= 0 and trace.link.max() <= 1 + 1e-6
    for name in ("allocation", "write_weights", "precedence", "read_weights", "forward", "backward"):
        assert getattr(trace, name).sum(-1).max() <= 1 + 1e-5, name
    # the free list sorts usage
    for t in range(trace.steps):
        phi = trace.free_list[t].astype(int)
        assert sorted(phi.tolist()) == list(range(model.config.memory_n))
        assert np.all(np.diff(np.round(trace.usage[t][phi] * 1e5)) >= 0)
    assert trace.outputs.min() >= 0 and trace.outputs.max() <= 1


def test_memory_starts_small_not_zero() -> None:
    model = random_model()
    trace = model.run(episode(2))
    assert np.all(trace.memory_before[0] == np.float32(1e-6))
    assert np.all(trace.usage_before[0] == 0)


# --------------------------------------------------------------------------- fast == torch


OVERRIDE_SETS = [
    [],
    [Override("write0", step=3, allocation_gate=1.0)],
    [Override("write0", write_gate=0.2), Override("read1", step=2, modes=(0, 0, 1))],
    [*no_freeing(2), Override("read0", strength=30.0)],
    [Override("read1", modes=(1, 0, 0)), Override("write0", step=4, strength=0.0)],
]


@pytest.mark.parametrize("deallocate", [False, True])
@pytest.mark.parametrize("read_heads", [1, 2, 3])
@pytest.mark.parametrize("overrides", OVERRIDE_SETS[:1] + OVERRIDE_SETS[1:3])
def test_fast_step_equals_torch_step(read_heads: int, overrides: list[Override], deallocate: bool) -> None:
    overrides = [o for o in overrides if o.kind_index[0] == "write" or o.kind_index[1] < read_heads]
    for seed in range(3):
        model = random_model(read_heads=read_heads, seed=seed, deallocate=deallocate)
        x = episode(8, seed)
        assert max_diff(model.run(x, overrides), model.run_torch(x, overrides)) <= TOL


@pytest.mark.parametrize("overrides", OVERRIDE_SETS[3:])
def test_fast_step_equals_torch_step_more_overrides(overrides: list[Override]) -> None:
    model = random_model(read_heads=2, seed=5)
    x = episode(9, 5)
    assert max_diff(model.run(x, overrides), model.run_torch(x, overrides)) <= TOL


@pytest.mark.parametrize("deallocate", [False, True])
def test_freeing_erases_only_with_deallocation(deallocate: bool) -> None:
    """Nothing written at step 5 (write gate 0) and read head 0's slots freed (free gate 1): the paper's DNC
    keeps the freed contents (only usage falls); with deallocation each row is scaled by its retention psi."""
    model = random_model(read_heads=2, deallocate=deallocate)
    x = episode(8)
    trace = model.run(x, [Override("write0", step=5, write_gate=0.0), Override("read0", step=5, free_gate=1.0)])
    before, after, psi = (trace.memory_before[5].astype(np.float64), trace.memory_after[5], trace.retention[5])
    assert psi.min() < 0.97 and np.abs(before * psi[:, None] - before).max() > 1e-3  # something was freed
    expected = before * psi[:, None] if deallocate else before
    np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-7)
    torch_trace = model.run_torch(x, trace.overrides)
    assert max_diff(trace, torch_trace) <= TOL


def test_torch_step_matches_batched_forward() -> None:
    model = random_model(read_heads=2)
    x = np.stack([episode(5, 1), episode(5, 2)])
    probs = model.predict(x)
    for i in range(2):
        np.testing.assert_allclose(model.run(x[i]).outputs, probs[i], atol=TOL)


def test_traces_compute_in_float64_and_training_stays_float32() -> None:
    model = random_model(read_heads=2)
    x = episode(5)
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    reference = model.in_float64()  # built on the meta device: no random numbers drawn
    np.testing.assert_array_equal(torch.rand(3), expected)
    assert reference is model.in_float64()  # cached until a weight changes
    assert all(p.dtype == torch.float64 for p in reference.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model(torch.from_numpy(x)[None]).dtype == torch.float32
    assert model.run_torch(x).outputs.dtype == np.float32
    assert model.states(x)[1].memory.dtype == np.float64


def test_fast_copy_follows_weight_changes() -> None:
    model = random_model()
    x = episode(4)
    before = model.run(x).outputs
    with torch.no_grad():
        model.output.bias.add_(1.0)
    after = model.run(x).outputs
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, model.run_torch(x).outputs, atol=TOL)


# --------------------------------------------------------------------------- interventions


@pytest.mark.parametrize(
    "override",
    [
        Override("write0", step=4, allocation_gate=1.0),
        Override("write0", step=4, write_gate=0.0),
        Override("read0", step=4, free_gate=0.0),
        Override("read1", step=4, modes=(0, 0, 1)),
        Override("read0", step=4, strength=100.0),
        Override("write0", step=4, strength=0.0),
    ],
)
def test_override_at_t_leaves_earlier_steps_identical(override: Override) -> None:
    model = random_model(read_heads=2)
    x = episode(8)
    plain, changed = model.run(x), model.run(x, override)
    for name in DNCTrace.FIELDS:
        np.testing.assert_array_equal(getattr(plain, name)[:4], getattr(changed, name)[:4], err_msg=name)
    assert max_diff(plain, changed) > 0
    assert changed.overridden[4].any() and not changed.overridden[:4].any()


def test_override_values_take_effect() -> None:
    model = random_model(read_heads=2)
    x = episode(6)
    t = model.run(x, [Override("write0", write_gate=0.0)])
    np.testing.assert_array_equal(t.memory_after, t.memory_before)  # nothing is written
    t = model.run(x, [Override("write0", allocation_gate=1.0, write_gate=1.0)])
    np.testing.assert_allclose(t.write_weights, t.allocation, atol=1e-7)
    t = model.run(x, no_freeing(2))
    np.testing.assert_array_equal(t.retention, np.ones_like(t.retention))
    assert np.all(np.diff(t.usage, axis=0) >= -1e-7)  # usage never falls
    t = model.run(x, [Override("read1", modes=(0, 0, 1))])
    np.testing.assert_allclose(t.read_weights[:, 1], t.forward[:, 1], atol=1e-7)
    np.testing.assert_allclose(t.read_modes[:, 1], np.tile([0, 0, 1], (x.shape[0], 1)))
    t = model.run(x, [Override("read0", modes=(0, 2, 0), strength=7.0)])
    np.testing.assert_allclose(t.read_weights[:, 0], t.read_content[:, 0], atol=1e-7)
    np.testing.assert_allclose(t.read_strengths[:, 0], 7.0)
    assert t.overridden[:, 0].all() and not t.overridden[:, 1:].any()


def test_run_from_a_state_equals_the_full_run() -> None:
    model = random_model(read_heads=2)
    x = episode(7)
    states = model.states(x)
    override = [Override("write0", step=5, allocation_gate=0.0)]
    full = model.run(x, override)
    part = model.run_from(x, 5, states[5], override)
    for name in DNCTrace.FIELDS:
        np.testing.assert_array_equal(getattr(full, name)[5:], getattr(part, name), err_msg=name)
    with pytest.raises(ValueError, match="before step"):
        model.run_from(x, 6, states[6], override)


# --------------------------------------------------------------------------- tasks


def test_reverse_copy_and_multi_copy_encodings() -> None:
    seq = np.eye(3, 4, dtype=np.float32)
    x, y, mask = ReverseCopyTask(bits=4).encode(seq)
    assert x.shape == (7, 5) and y.shape == (7, 4)
    np.testing.assert_array_equal(y[4:], seq[::-1])
    assert mask.tolist() == [0, 0, 0, 0, 1, 1, 1]
    task = MultiCopyTask(bits=4, count=2, max_length=3)
    seqs = np.stack([seq, 1 - seq])
    x, y, mask = task.encode(seqs)
    assert x.shape == (14, 5)
    assert x[3, 4] == 1 and x[10, 4] == 1  # each block's delimiter
    np.testing.assert_array_equal(y[4:7], seq)
    np.testing.assert_array_equal(y[11:14], 1 - seq)
    assert mask.sum() == 6
    b = task.sample(np.random.default_rng(0), 4)
    assert b.size[0] == 2 and b.x.shape[1] == task.episode_length(b.size)
    assert task.score(b.y, b.y, b.mask).tolist() == [0, 0, 0, 0]


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_refused_clearly() -> None:
    model = random_model()
    with pytest.raises(ValueError, match="input width must be 7"):
        model.run(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.run(np.full((4, 7), 2.0))
    with pytest.raises(ValueError, match="empty"):
        model.run(np.zeros((0, 7)))
    with pytest.raises(ValueError, match="one episode"):
        model.run(np.zeros(7))
    with pytest.raises(ValueError, match="NaN"):
        model.run(np.full((3, 7), np.nan))


def test_a_sequence_longer_than_memory_warns_about_overwriting() -> None:
    model = random_model()  # 12 slots
    with pytest.warns(UserWarning, match="allocation will overwrite"):
        model.run(episode(14))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.run(episode(5))
    assert check_input(episode(3), 7).dtype == np.float32


def test_bad_overrides_are_refused() -> None:
    model = random_model(read_heads=2)
    x = episode(3)
    with pytest.raises(ValueError, match="read2"):
        model.run(x, Override("read2", free_gate=0.0))
    with pytest.raises(ValueError, match="past the episode"):
        model.run(x, Override("write0", step=50, write_gate=0.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Override("write0", allocation_gate=1.5)
    with pytest.raises(ValueError, match="write head"):
        Override("read0", write_gate=0.5)
    with pytest.raises(ValueError, match="read head"):
        Override("write0", modes=(0, 1, 0))
    with pytest.raises(ValueError, match="3 non-negative"):
        Override("read0", modes=(1, 1))
    with pytest.raises(ValueError, match="strength"):
        Override("read0", strength=float("inf"))
    with pytest.raises(ValueError, match="head must look like"):
        Override("middle0")
    with pytest.raises(TypeError):
        model.run(x, ["not an override"])


def make_card(model: DNC, name: str = "dnc-test") -> ModelCard:
    from dataclasses import asdict

    fields = {"name": name, "family": "dnc", "task": CopyTask(bits=6).spec(), "config": asdict(model.config)}
    return ModelCard.from_dict(
        {**fields, "description": "test", "recipe": {}, "training": {}, "metrics": {}, "extra": {}}
    )


def test_missing_or_mismatched_weights_name_the_file_and_the_command(tmp_path) -> None:
    model = random_model(read_heads=1)
    card = make_card(model)
    missing = tmp_path / "dnc-test.safetensors"
    with pytest.raises(PretrainedError, match=r"dnc-test\.safetensors is missing.*python -m memviz\.train dnc-test"):
        load_from_card(card, missing)
    save_state(random_model(read_heads=2), missing)
    with pytest.raises(PretrainedError, match=r"dnc-test\.safetensors.*python -m memviz\.train dnc-test"):
        load_from_card(card, missing)
    missing.write_bytes(b"not a safetensors file")
    with pytest.raises(PretrainedError, match="unreadable"):
        load_from_card(card, missing)
    save_state(model, missing)
    loaded = load_from_card(card, missing)
    assert loaded.task.name == "copy"
    x = episode(4)
    np.testing.assert_array_equal(loaded.run(x).outputs, model.run(x).outputs)
    bad = dataclasses.replace(card, config={"memory_n": "many"})
    with pytest.raises(PretrainedError, match=r"python -m memviz\.train"):
        load_from_card(bad, missing)


def test_load_by_name_names_a_missing_card(tmp_path) -> None:
    with pytest.raises(PretrainedError, match=r"dnc-nothing\.json is missing.*python -m memviz\.train dnc-nothing"):
        load("dnc-nothing", tmp_path)
    (tmp_path / "dnc-bad.json").write_text("{not json")
    with pytest.raises(PretrainedError, match="not valid JSON"):
        load("dnc-bad", tmp_path)
    model = random_model(read_heads=1)
    (tmp_path / "dnc-ok.json").write_text(json.dumps(make_card(model, "dnc-ok").to_dict()))
    with pytest.raises(PretrainedError, match=r"dnc-ok\.safetensors is missing"):
        load("dnc-ok", tmp_path)


def test_fast_content_lookup_survives_a_huge_strength_against_every_slot():
    """Strength 1000 and a key opposite to every slot: exp(strength x (cos - 1)) underflows everywhere, so the
    NumPy step's softmax (shifted by the strength, the scores' bound) must fall back to the maximum."""
    from memviz.dnc.fast import content_weighting, row_norms, write_content_weighting

    memory = np.tile(np.linspace(0.1, 1.0, 8), (5, 1)) * np.arange(1, 6)[:, None]  # 5 slots, all one direction
    key = -np.linspace(0.1, 1.0, 8)
    reads = content_weighting(memory, np.stack([key, -key]), np.array([1000.0, 1000.0]))
    written = write_content_weighting(memory, key, 1000.0, row_norms(memory), np.empty(5))
    for weights in (*reads, written):
        assert np.all(np.isfinite(weights)) and abs(weights.sum() - 1.0) < 1e-12
    assert np.allclose(reads[0], written)
