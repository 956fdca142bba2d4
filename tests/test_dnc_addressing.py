"""DNC addressing (memviz.dnc.addressing): exact hand-computed cases and properties over the full ranges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from memviz.dnc import addressing as dnca

T = torch.tensor


def close(a: torch.Tensor, b: list | torch.Tensor, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), atol=tol, rtol=0)


# --------------------------------------------------------------------------- hand-computed cases


def test_allocation_of_the_issue_example() -> None:
    weights, free_list = dnca.allocation(T([0.4, 0.1, 0.9]))
    assert free_list.tolist() == [1, 0, 2]
    close(weights, [0.06, 0.9, 0.004])


def test_full_memory_allocates_nothing() -> None:
    weights, _ = dnca.allocation(torch.ones(5))
    close(weights, torch.zeros(5), 1e-12)


def test_empty_memory_allocates_the_first_slot_and_ties_keep_slot_order() -> None:
    weights, free_list = dnca.allocation(torch.zeros(4))
    assert free_list.tolist() == [0, 1, 2, 3]
    close(weights, [1, 0, 0, 0], 1e-5)


def test_allocation_batched_equals_unbatched() -> None:
    u = torch.rand(3, 7)
    w, phi = dnca.allocation(u)
    for i in range(3):
        wi, phii = dnca.allocation(u[i])
        close(w[i], wi, 0)
        assert phi[i].tolist() == phii.tolist()


def test_retention_and_usage() -> None:
    read_prev = T([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    psi = dnca.retention(T([1.0, 0.5]), read_prev)
    close(psi, [0.0, 0.75, 0.75])
    u = dnca.usage(T([0.5, 0.5, 0.0]), T([0.0, 1.0, 0.2]), psi)
    close(u, [0.0, 0.75, 0.15])
    # free gates 0: nothing is freed
    close(dnca.retention(T([0.0, 0.0]), read_prev), [1, 1, 1])


def test_write_weighting_gates() -> None:
    c, a = T([0.7, 0.3, 0.0]), T([0.0, 0.0, 1.0])
    close(dnca.write_weighting(c, a, 1.0, 1.0), a)
    close(dnca.write_weighting(c, a, 0.0, 1.0), c)
    close(dnca.write_weighting(c, a, 0.5, 0.5), [0.175, 0.075, 0.25])
    close(dnca.write_weighting(c, a, 0.3, 0.0), [0, 0, 0])


def test_link_of_two_writes_reads_forward_and_backward() -> None:
    n = 3
    p, link = torch.zeros(n), torch.zeros(n, n)
    w0, w1 = T([1.0, 0.0, 0.0]), T([0.0, 1.0, 0.0])
    link = dnca.link(link, p, w0)
    p = dnca.precedence(p, w0)
    close(p, w0)
    link = dnca.link(link, p, w1)
    p = dnca.precedence(p, w1)
    close(p, w1)
    expected = torch.zeros(n, n)
    expected[1, 0] = 1.0  # slot 1 was written right after slot 0
    close(link, expected)
    forward, backward = dnca.directional(link, w0[None])
    close(forward[0], [0, 1, 0])  # forward from 0 reaches 1
    forward, backward = dnca.directional(link, w1[None])
    close(backward[0], [1, 0, 0])  # backward from 1 reaches 0
    close(forward[0], [0, 0, 0])


def test_read_weighting_modes_order_is_backward_content_forward() -> None:
    b, c, f = T([[1.0, 0, 0]]), T([[0, 1.0, 0]]), T([[0, 0, 1.0]])
    close(dnca.read_weighting(b, c, f, T([[1.0, 0, 0]])), b)
    close(dnca.read_weighting(b, c, f, T([[0, 1.0, 0]])), c)
    close(dnca.read_weighting(b, c, f, T([[0, 0, 1.0]])), f)
    assert dnca.READ_MODES == ("backward", "content", "forward")


def test_content_weighting_uses_the_ntm_content_focus() -> None:
    memory = T([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w = dnca.content_weighting(memory, T([[1.0, 0.0]]), T([1000.0]))
    close(w[0], [1, 0, 0])
    close(dnca.content_weighting(memory, T([[1.0, 0.0]]), T([0.0]))[0], [1 / 3] * 3)


def test_allocation_is_differentiable_through_sorted_values() -> None:
    u = T([0.4, 0.1, 0.9], requires_grad=True)
    w, _ = dnca.allocation(u)
    w.sum().backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()


# --------------------------------------------------------------------------- properties

N = 6
R = 2
unit = st.floats(0.0, 1.0, allow_nan=False)
edge_unit = st.one_of(st.sampled_from([0.0, 1.0]), unit)


@st.composite
def weighting(draw: st.DrawFn, n: int = N) -> torch.Tensor:
    """A weighting with sum <= 1: zero, one-hot, or random scaled."""
    kind = draw(st.sampled_from(["zero", "onehot", "random"]))
    if kind == "zero":
        return torch.zeros(n)
    if kind == "onehot":
        w = torch.zeros(n)
        w[draw(st.integers(0, n - 1))] = 1.0
        return w
    raw = torch.tensor(draw(st.lists(unit, min_size=n, max_size=n)))
    total = float(raw.sum())
    return raw / total * draw(unit) if total > 0 else raw


def check_weighting(w: torch.Tensor) -> None:
    assert torch.isfinite(w).all()
    assert (w >= -1e-6).all()  # float32 rounding (eps 1.2e-7) of products near 1; hypothesis found -1.02e-7
    assert (w.sum(-1) <= 1 + 1e-5).all()


@settings(max_examples=20, deadline=None)
@given(
    usage0=st.lists(edge_unit, min_size=N, max_size=N),
    steps=st.lists(
        st.tuples(
            st.lists(edge_unit, min_size=R, max_size=R),  # free gates
            edge_unit,  # allocation gate
            edge_unit,  # write gate
            st.floats(1.0, 1e3),  # write strength
            st.lists(st.floats(1.0, 1e3), min_size=R, max_size=R),  # read strengths
            st.lists(st.floats(-30.0, 30.0), min_size=3 * R, max_size=3 * R),  # read mode logits
            weighting(),  # a content weighting option
        ),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 2**16),
)
def test_rollouts_stay_finite_and_bounded(usage0: list[float], steps: list[tuple], seed: int) -> None:
    """100-step rollouts with extreme gates, strengths, usage at 0 and 1, zero and one-hot weightings."""
    gen = torch.Generator().manual_seed(seed)
    memory = torch.randn(N, 4, generator=gen)
    memory[0] = 0.0  # a zero row
    u = torch.tensor(usage0)
    w_w = torch.zeros(N)
    w_r = torch.stack([torch.zeros(N), torch.nn.functional.one_hot(torch.tensor(1), N).float()])
    p, link = torch.zeros(N), torch.zeros(N, N)
    for t in range(100):
        free, g_a, g_w, beta_w, beta_r, mode_logits, extra = steps[t % len(steps)]
        psi = dnca.retention(torch.tensor(free), w_r)
        u = dnca.usage(u, w_w, psi)
        assert torch.isfinite(u).all() and (u >= 0).all() and (u <= 1 + 1e-6).all()
        a, phi = dnca.allocation(u)
        check_weighting(a)
        assert sorted(phi.tolist()) == list(range(N))
        c_w = dnca.content_weighting(memory, torch.randn(1, 4, generator=gen), torch.tensor([beta_w]))[0]
        c_w = 0.5 * c_w + 0.5 * extra if t % 3 == 0 else c_w
        w_w = dnca.write_weighting(c_w, a, g_a, g_w)
        check_weighting(w_w)
        memory = memory * (1 - w_w[:, None] * 0.5) + w_w[:, None] * torch.randn(4, generator=gen)
        link = dnca.link(link, p, w_w)
        p = dnca.precedence(p, w_w)
        check_weighting(p)
        assert torch.isfinite(link).all()
        assert (link >= -1e-6).all() and (link <= 1 + 1e-6).all()
        assert torch.allclose(torch.diagonal(link), torch.zeros(N))
        assert (link.sum(0) <= 1 + 1e-5).all() and (link.sum(1) <= 1 + 1e-5).all()
        f, b = dnca.directional(link, w_r)
        check_weighting(f)
        check_weighting(b)
        c_r = dnca.content_weighting(memory, torch.randn(R, 4, generator=gen), torch.tensor(beta_r))
        check_weighting(c_r)
        modes = torch.softmax(torch.tensor(mode_logits).view(R, 3), -1)
        w_r = dnca.read_weighting(b, c_r, f, modes)
        check_weighting(w_r)


@settings(max_examples=80, deadline=None)
@given(usage=st.lists(edge_unit, min_size=1, max_size=12))
def test_allocation_properties(usage: list[float]) -> None:
    u = torch.tensor(usage)
    a, phi = dnca.allocation(u)
    check_weighting(a)
    # the least-used slot gets at least as much as any other
    assert a[phi[0]] >= a.max() - 1e-6
    if all(v == 1.0 for v in usage):
        assert float(a.sum()) < 1e-5


@pytest.mark.parametrize("batch_shape", [(), (2,), (2, 3)])
def test_functions_work_batched(batch_shape: tuple[int, ...]) -> None:
    n, r = 5, 2
    u = torch.rand(*batch_shape, n)
    w_r = torch.softmax(torch.randn(*batch_shape, r, n), -1)
    psi = dnca.retention(torch.rand(*batch_shape, r), w_r)
    assert psi.shape == (*batch_shape, n)
    u = dnca.usage(u, torch.softmax(torch.randn(*batch_shape, n), -1), psi)
    a, phi = dnca.allocation(u)
    assert a.shape == phi.shape == (*batch_shape, n)
    g = torch.rand(batch_shape) if batch_shape else 0.5
    w = dnca.write_weighting(torch.softmax(torch.randn(*batch_shape, n), -1), a, g, g)
    link = dnca.link(torch.zeros(*batch_shape, n, n), torch.zeros(*batch_shape, n), w)
    assert link.shape == (*batch_shape, n, n)
    f, b = dnca.directional(link, w_r)
    assert f.shape == b.shape == (*batch_shape, r, n)
    modes = torch.softmax(torch.randn(*batch_shape, r, 3), -1)
    assert dnca.read_weighting(b, w_r, f, modes).shape == (*batch_shape, r, n)
