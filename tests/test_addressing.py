"""NTM addressing: exact hand-checked cases and properties over the full slider ranges."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from memviz.addressing import (
    address,
    as_distribution,
    circular_shift,
    content_focus,
    cosine_similarity,
    entropy_bits,
    interpolate,
    read,
    sharpen,
    shift_offsets,
    write,
)

N, M = 8, 6


def one_hot(i: int, n: int = N) -> torch.Tensor:
    w = torch.zeros(n, dtype=torch.float64)
    w[i] = 1.0
    return w


# ---------------------------------------------------------------- exact cases


def test_identity_memory_with_strong_key_gives_exact_one_hot_of_keys_row():
    memory = torch.eye(N, dtype=torch.float64)
    for row in range(N):
        trace = address(
            memory,
            memory[row],
            beta=100.0,
            gate=1.0,
            shift=torch.tensor([0.0, 1.0, 0.0]),
            gamma=100.0,
            w_prev=one_hot(0),
        )
        torch.testing.assert_close(trace.w, one_hot(row), atol=1e-12, rtol=0)


def test_cosine_similarity_by_hand():
    memory = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    key = torch.tensor([2.0, 0.0])
    torch.testing.assert_close(cosine_similarity(memory, key), torch.tensor([1.0, 0.0, -1.0, 0.0]))


def test_beta_zero_gives_uniform_content_focus():
    sim = torch.tensor([0.9, -0.5, 0.1, 0.3])
    torch.testing.assert_close(content_focus(sim, 0.0), torch.full((4,), 0.25))


def test_content_focus_is_softmax_of_beta_times_similarity():
    sim = torch.tensor([1.0, 0.0, -1.0])
    expected = torch.exp(torch.tensor([2.0, 0.0, -2.0]))
    torch.testing.assert_close(content_focus(sim, 2.0), expected / expected.sum())


def test_interpolation_gate_extremes_and_midpoint():
    w_c, w_prev = one_hot(1), one_hot(5)
    torch.testing.assert_close(interpolate(w_c, w_prev, 1.0), w_c)
    torch.testing.assert_close(interpolate(w_c, w_prev, 0.0), w_prev)
    torch.testing.assert_close(interpolate(w_c, w_prev, 0.25), 0.25 * w_c + 0.75 * w_prev)


@pytest.mark.parametrize(("start", "offset", "end"), [(3, +1, 4), (3, -1, 2), (N - 1, +1, 0), (0, -1, N - 1)])
def test_shift_moves_focus_by_offset_and_wraps_at_both_ends(start, offset, end):
    shift = torch.zeros(3, dtype=torch.float64)
    shift[offset + 1] = 1.0
    torch.testing.assert_close(circular_shift(one_hot(start), shift), one_hot(end))


def test_wide_shift_range_offsets_are_in_order():
    assert shift_offsets(5) == [-2, -1, 0, 1, 2]
    shift = torch.tensor([1.0, 0, 0, 0, 0], dtype=torch.float64)  # s(-2) = 1
    torch.testing.assert_close(circular_shift(one_hot(1), shift), one_hot(N - 1))


def test_fractional_shift_blurs_as_convolution():
    shift = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    w_s = circular_shift(one_hot(4), shift)
    expected = torch.zeros(N, dtype=torch.float64)
    expected[3], expected[4], expected[5] = 0.2, 0.5, 0.3
    torch.testing.assert_close(w_s, expected)


def test_shift_width_must_be_odd():
    with pytest.raises(ValueError, match="odd width"):
        shift_offsets(4)


def test_gamma_one_leaves_shifted_weighting_unchanged():
    w_s = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    torch.testing.assert_close(sharpen(w_s, 1.0), w_s)


def test_sharpen_matches_power_ratio_by_hand():
    w_s = torch.tensor([0.1, 0.3, 0.6], dtype=torch.float64)
    expected = w_s**3 / (w_s**3).sum()
    torch.testing.assert_close(sharpen(w_s, 3.0), expected)


def test_sharpen_survives_large_gamma_over_many_near_uniform_slots():
    """The naive ratio gives 0/0 here (DESIGN.md section 2)."""
    w_s = torch.full((128,), 1 / 128, dtype=torch.float32) + torch.linspace(0, 1e-6, 128)
    w_s = w_s / w_s.sum()
    w = sharpen(w_s, 50.0)
    assert torch.isfinite(w).all()
    assert abs(float(w.sum()) - 1) < 1e-5


def test_write_then_read_round_trips_as_the_write_equation_says():
    memory = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    erase, add = torch.ones(M, dtype=torch.float64), torch.linspace(-1, 1, M, dtype=torch.float64)
    w = one_hot(2)
    new = write(memory, w, erase, add)
    torch.testing.assert_close(read(new, w), add)  # full erase + add at a one-hot location
    torch.testing.assert_close(new[torch.arange(N) != 2], memory[torch.arange(N) != 2])  # others untouched
    # A soft write follows M_i (1 - w_i e) + w_i a exactly.
    w_soft = torch.tensor([0.5, 0.25, 0.25] + [0.0] * (N - 3), dtype=torch.float64)
    erase_half = torch.full((M,), 0.5, dtype=torch.float64)
    soft = write(memory, w_soft, erase_half, add)
    for i in range(N):
        torch.testing.assert_close(soft[i], memory[i] * (1 - w_soft[i] * erase_half) + w_soft[i] * add)
    torch.testing.assert_close(read(soft, w_soft), (w_soft[:, None] * soft).sum(0))


def test_batched_matches_unbatched():
    gen = torch.Generator().manual_seed(1)
    B = 4
    memory = torch.randn(B, N, M, generator=gen)
    key = torch.randn(B, M, generator=gen)
    beta, gate, gamma = (
        torch.rand(B, generator=gen) * 10,
        torch.rand(B, generator=gen),
        1 + torch.rand(B, generator=gen),
    )
    shift = torch.softmax(torch.randn(B, 3, generator=gen), -1)
    w_prev = torch.softmax(torch.randn(B, N, generator=gen), -1)
    batched = address(memory, key, beta, gate, shift, gamma, w_prev)
    for b in range(B):
        single = address(memory[b], key[b], beta[b], gate[b], shift[b], gamma[b], w_prev[b])
        for stage in ("similarity", "w_c", "w_g", "w_s", "w"):
            torch.testing.assert_close(getattr(batched, stage)[b], getattr(single, stage))


def test_address_is_differentiable():
    memory = torch.randn(N, M, requires_grad=True)
    key = torch.randn(M, requires_grad=True)
    beta = torch.tensor(3.0, requires_grad=True)
    trace = address(memory, key, beta, 0.7, torch.tensor([0.1, 0.8, 0.1]), 2.0, torch.full((N,), 1 / N))
    (trace.w * torch.arange(N)).sum().backward()
    assert key.grad is not None and torch.isfinite(key.grad).all()
    assert beta.grad is not None and torch.isfinite(beta.grad)


def test_all_zero_previous_weighting_counts_as_uniform():
    w = as_distribution(torch.zeros(4), torch.full((4,), 0.25))
    torch.testing.assert_close(w, torch.full((4,), 0.25))


def test_entropy_bits():
    assert entropy_bits(np.eye(4)[0]) == 0.0
    assert entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)


# ------------------------------------------------- properties over the ranges

memories = st.one_of(
    arrays(np.float64, (N, M), elements=st.floats(-10, 10)),
    st.just(np.zeros((N, M))),
    arrays(np.float64, (N, M), elements=st.floats(-10, 10)).map(lambda m: np.where(np.arange(N)[:, None] % 2, 0.0, m)),
)
keys = st.one_of(arrays(np.float64, (M,), elements=st.floats(-10, 10)), st.just(np.zeros(M)))
w_prevs = st.one_of(
    st.just(np.zeros(N)),
    st.integers(0, N - 1).map(lambda i: np.eye(N)[i]),
    arrays(np.float64, (N,), elements=st.floats(0, 1)),
)
shifts = st.one_of(
    arrays(np.float64, (3,), elements=st.floats(0, 1)),
    arrays(np.float64, (5,), elements=st.floats(0, 1)),
)


@settings(max_examples=300, deadline=None)
@given(
    memory=memories,
    key=keys,
    beta=st.floats(0, 1000),
    gate=st.floats(0, 1),
    shift=shifts,
    gamma=st.floats(1, 100),
    w_prev=w_prevs,
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_every_weighting_is_finite_non_negative_and_sums_to_one(memory, key, beta, gate, shift, gamma, w_prev, dtype):
    trace = address(
        torch.tensor(memory, dtype=dtype),
        torch.tensor(key, dtype=dtype),
        beta,
        gate,
        torch.tensor(shift, dtype=dtype),
        gamma,
        torch.tensor(w_prev, dtype=dtype),
    )
    assert torch.isfinite(trace.similarity).all()
    assert (trace.similarity.abs() <= 1 + 1e-5).all()
    for stage in (trace.w_c, trace.w_g, trace.w_s, trace.w):
        assert torch.isfinite(stage).all()
        assert (stage >= 0).all()
        assert abs(float(stage.sum()) - 1.0) < 1e-5
