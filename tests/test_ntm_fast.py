"""The NumPy step that ``NTM.run`` traces computes what the torch step (training's) computes.

``model.run`` records an episode with :mod:`memviz.ntm.fast`; ``model.step``
(torch) is what the weights were trained through. Every field of the trace is
checked against the torch step, on small random models (one and two heads of
each kind) and on every shipped NTM, with and without overrides.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import memviz
from memviz.ntm.model import NTM, PARAMS, STAGES, NTMConfig, Override, _overrides_at, flush_denormals, make_task
from memviz.registry import SHIPPED_MODELS

ATOL = 2e-5
"""float32 with BLAS and torch kernels summing in different orders differ in the last bits, not more.

The overrides below keep the episode well conditioned. One that writes a
uniform weighting (beta 0, g 1) makes every memory row nearly equal, and
later content lookups then magnify last-bit differences to ~5e-4: that is
float32 rounding in a near tie, the same between torch on one thread and two.
"""

SHIPPED = [n for n, family in SHIPPED_MODELS.items() if family == "ntm"]
CONFIGS = {
    "small, one head each": NTMConfig(input_width=9, output_width=8, controller_size=32, memory_n=16, memory_m=6),
    "one read and two write heads": NTMConfig(
        input_width=4, output_width=3, controller_size=20, memory_n=10, memory_m=4, read_heads=1, write_heads=2
    ),
    "two read and two write heads, shift radius 2": NTMConfig(
        input_width=5,
        output_width=4,
        controller_size=24,
        memory_n=12,
        memory_m=5,
        read_heads=2,
        write_heads=2,
        shift_radius=2,
    ),
}


def torch_reference(model: NTM, x: np.ndarray, overrides: list[Override]) -> dict[str, np.ndarray]:
    """The episode stepped through ``model.step`` (torch), fields stacked over time as ``[T, ...]``."""
    fields: dict[str, list[np.ndarray]] = {}

    def keep(name: str, value: torch.Tensor) -> None:
        fields.setdefault(name, []).append(value[0].numpy().copy())

    with torch.inference_mode(), flush_denormals():
        state = model.initial_state(1)
        for t in range(x.shape[0]):
            record: dict = {}
            logits, state = model.step(torch.from_numpy(x[t : t + 1]), state, _overrides_at(overrides, t), record)
            keep("logits", logits)
            for name in ("h", "memory_before", "memory_after", "reads", "erase", "add", "w_prev"):
                keep(name, record[name])
            for name in PARAMS:
                keep(name, record["params"][name])
            for name in STAGES:
                keep(name, getattr(record["addr"], name))
    return {name: np.stack(values) for name, values in fields.items()}


def assert_trace_equals_torch(model: NTM, x: np.ndarray, overrides: list[Override]) -> None:
    trace = model.run(x, overrides)
    ref = torch_reference(model, x, overrides)
    np.testing.assert_allclose(trace.logits, ref["logits"], atol=5 * ATOL)
    np.testing.assert_allclose(trace.outputs, torch.sigmoid(torch.from_numpy(ref["logits"])).numpy(), atol=ATOL)
    np.testing.assert_allclose(trace.controller_output, ref["h"], atol=ATOL)
    for name in ("memory_before", "memory_after"):
        np.testing.assert_allclose(getattr(trace, name), ref[name], atol=ATOL, err_msg=name)
    np.testing.assert_allclose(trace.read_vectors, ref["reads"], atol=ATOL)
    for n, head in enumerate(trace.heads):
        for name in (*PARAMS, *STAGES, "w_prev"):
            tolerance = 10 * ATOL if name in ("key", "beta", "gamma") else ATOL  # unbounded, so larger numbers
            np.testing.assert_allclose(
                getattr(head, name), ref[name][:, n], atol=tolerance, err_msg=f"{head.name}.{name}"
            )
    for j, head in enumerate(trace.write):
        np.testing.assert_allclose(head.erase, ref["erase"][:, j], atol=ATOL)
        np.testing.assert_allclose(head.add, ref["add"][:, j], atol=ATOL)


def override_sets(model: NTM, steps: int) -> list[list[Override]]:
    c = model.config
    jump = tuple(1.0 if k == c.shift_width - 1 else 0.0 for k in range(c.shift_width))
    last_write, last_read = f"write{c.write_heads - 1}", f"read{c.read_heads - 1}"  # the head index matters
    return [
        [],
        [Override(head="write0", step=steps // 2, g=0.5, gamma=1.0)],
        [Override(head="read0", step=None, g=0.0, shift=jump, gamma=20.0)],
        [
            Override(head="write0", step=1, key=tuple(np.linspace(-1, 1, c.memory_m))),
            Override(head="read0", step=2, beta=50.0),
        ],
        [Override(head=last_write, step=3, beta=30.0, gamma=10.0), Override(head=last_read, step=4, g=0.2)],
    ]


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_random_models_trace_what_the_torch_step_computes(config):
    torch.manual_seed(1)
    model = NTM(config).eval()
    x = (np.random.default_rng(0).random((9, config.input_width)) > 0.5).astype(np.float32)
    for overrides in override_sets(model, x.shape[0]):
        assert_trace_equals_torch(model, x, overrides)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_trace_what_the_torch_step_computes(name):
    model = memviz.load_pretrained(name)
    batch = make_task(model.card.task).sample(np.random.default_rng(4), 1)
    x = batch.x[0].astype(np.float32)
    for overrides in override_sets(model, x.shape[0]):
        assert_trace_equals_torch(model, x, overrides)


def test_a_run_from_a_later_step_equals_the_same_steps_of_a_full_run():
    model = memviz.load_pretrained(SHIPPED[0])
    x = make_task(model.card.task).sample(np.random.default_rng(5), 1).x[0]
    overrides = [Override(head="write0", step=6, gamma=1.0, g=0.0)]
    full, states = model.run(x, overrides), model.states(x)
    tail = model.run_from(x, 6, states[6], overrides)
    np.testing.assert_array_equal(tail.outputs, full.outputs[6:])
    np.testing.assert_array_equal(tail.memory_after, full.memory_after[6:])
    np.testing.assert_array_equal(tail.write[0].w, full.write[0].w[6:])
    assert tail.write[0].overridden[0] and not tail.write[0].overridden[1:].any()


def test_the_numpy_copy_follows_weight_changes():
    """Training and loading change weights in place; the next run must use the new ones, not a stale copy."""
    torch.manual_seed(2)
    model = NTM(CONFIGS["small, one head each"]).eval()
    other = NTM(CONFIGS["small, one head each"]).eval()
    x = (np.random.default_rng(1).random((6, 9)) > 0.5).astype(np.float32)
    before = model.run(x).outputs
    assert model.run(x).outputs is not before and np.array_equal(model.run(x).outputs, before)
    with torch.no_grad():
        model.output.bias.add_(1.0)
    after = model.run(x).outputs
    assert np.all(after > before)
    np.testing.assert_allclose(after, model.predict(x[None])[0], atol=ATOL)

    model.load_state_dict(other.state_dict())
    np.testing.assert_allclose(model.run(x).outputs, other.run(x).outputs, atol=ATOL)

    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model(torch.from_numpy(x[None])).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(model.run(x).outputs, model.predict(x[None])[0], atol=ATOL)
    assert not np.allclose(model.run(x).outputs, other.run(x).outputs, atol=1e-3)


def test_a_model_built_in_inference_mode_runs():
    """Inference tensors have no version counter: the copy is rebuilt instead of cached."""
    with torch.inference_mode():
        model = NTM(CONFIGS["small, one head each"]).eval()
    x = np.zeros((3, 9), dtype=np.float32)
    np.testing.assert_allclose(model.run(x).outputs, model.predict(x[None])[0], atol=ATOL)


def test_run_from_refuses_an_override_that_starts_earlier():
    model = memviz.load_pretrained(SHIPPED[0])
    x = make_task(model.card.task).sample(np.random.default_rng(5), 1).x[0]
    states = model.states(x)
    with pytest.raises(ValueError, match="applies before step 6"):
        model.run_from(x, 6, states[6], [Override(head="write0", step=2, gamma=1.0)])
    with pytest.raises(ValueError, match="applies before step 6"):
        model.run_from(x, 6, states[6], [Override(head="write0", step=None, gamma=1.0)])
    with pytest.raises(ValueError, match="start must be a step"):
        model.run_from(x, len(x), states[0])


def test_cached_states_cannot_be_changed_by_accident():
    model = memviz.load_pretrained(SHIPPED[0])
    states = model.states(make_task(model.card.task).sample(np.random.default_rng(5), 1).x[0])
    with pytest.raises(ValueError, match="read-only"):
        states[3].memory[0, 0] = 1.0
