"""NTM memory addressing, one small function per stage.

Graves, Wayne & Danihelka (2014), "Neural Turing Machines", section 3.3.
Memory ``M`` is ``N x M`` (rows are locations). A head turns its emitted
parameters into a weighting ``w`` over the N locations in four stages::

    similarity  K(k, M_i) = k . M_i / (|k| |M_i| + eps)          (eq. 6)
    content     w_c = softmax(beta * K)                          (eq. 5)
    interpolate w_g = g * w_c + (1 - g) * w_prev                 (eq. 7)
    shift       w_s(i) = sum_j w_g(j) s(i - j mod N)             (eq. 8)
    sharpen     w(i) = w_s(i)^gamma / sum_j w_s(j)^gamma         (eq. 9)

and then reads ``r = sum_i w(i) M_i`` (eq. 2) or writes
``M_i <- M_i (1 - w(i) e) + w(i) a`` (eqs. 3-4).

Conventions (shared with the UI, see DESIGN.md section 2):

* ``shift`` is a distribution over the offsets ``-R..+R`` stored in that order,
  so for R = 1 it is ``[s(-1), s(0), s(+1)]``; offset +1 moves the focus from
  location i to location i + 1 (wrapping around at the ends).
* Sharpening is computed in log space, ``softmax(gamma * log(w_s + tiny))``;
  the textbook ratio underflows to 0/0 for large gamma over many locations.

Every function works unbatched (memory ``[N, M]``, key ``[M]``) and batched
(any leading dimensions, e.g. memory ``[B, N, M]``, key ``[B, M]``); scalars
such as ``beta`` may be Python floats or tensors broadcastable to the batch.
All of it is differentiable, so the NTM model trains through it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

COSINE_EPS = 1e-8
"""Added to the norm product in the cosine similarity, so zero rows give 0."""

Scalar = float | torch.Tensor


def _as_batch_scalar(value: Scalar, like: torch.Tensor) -> torch.Tensor:
    """A per-head scalar (float or tensor of shape batch) ready to multiply a ``[..., N]`` vector."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return t.unsqueeze(-1) if t.dim() > 0 else t


def shift_offsets(shift_width: int) -> list[int]:
    """The offsets a shift vector of this width stands for: ``[-R, ..., +R]``."""
    if shift_width < 1 or shift_width % 2 == 0:
        raise ValueError(f"a shift distribution needs an odd width 2R+1, got {shift_width}")
    radius = shift_width // 2
    return list(range(-radius, radius + 1))


def as_distribution(x: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """Clamp ``x`` to be non-negative and rescale it to sum to 1 over the last axis.

    Rows whose total is 0 (e.g. an all-zero previous weighting, or a shift with
    every slider at 0) become ``fallback``, broadcast to the row's shape.
    """
    x = x.clamp_min(0.0)
    total = x.sum(dim=-1, keepdim=True)
    safe_total = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, x / safe_total, fallback.expand_as(x))


def cosine_similarity(memory: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """K(k, M_i) for every location i (eq. 6); ``[..., N]`` in [-1, 1].

    A zero key or a zero row gives similarity 0 rather than 0/0.
    """
    dot = (memory * key.unsqueeze(-2)).sum(-1)  # k . M_i for every row (a product and a sum beat einsum here)
    norms = memory.norm(dim=-1) * key.norm(dim=-1, keepdim=True)
    return dot / (norms + COSINE_EPS)


def content_focus(similarity: torch.Tensor, beta: Scalar) -> torch.Tensor:
    """w_c = softmax(beta * K) (eq. 5). ``beta >= 0`` is the key strength.

    beta = 0 gives the uniform weighting; a large beta concentrates on the most
    similar rows. The softmax subtracts its max, so beta = 1000 is safe.
    """
    return torch.softmax(_as_batch_scalar(beta, similarity) * similarity, dim=-1)


def interpolate(w_content: torch.Tensor, w_prev: torch.Tensor, gate: Scalar) -> torch.Tensor:
    """w_g = g * w_c + (1 - g) * w_prev (eq. 7), with the gate g in [0, 1].

    g = 1 uses content only; g = 0 ignores the key and keeps the previous focus,
    which is how a head moves by location alone.
    """
    g = _as_batch_scalar(gate, w_content)
    return g * w_content + (1.0 - g) * w_prev


def circular_shift(w_gated: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """w_s(i) = sum_j w_g(j) s(i - j mod N) (eq. 8): a circular convolution.

    ``shift[..., k]`` is the probability of offset ``k - R``; offset +1 moves
    weight from location i to i + 1, and the last location wraps to the first.
    """
    sources = _shift_sources(w_gated.shape[-1], shift.shape[-1])  # [N, 2R+1]: j = i - offset mod N
    return (w_gated[..., sources] * shift.unsqueeze(-2)).sum(-1)


@functools.lru_cache(maxsize=64)
def _shift_sources(n: int, shift_width: int) -> torch.Tensor:
    """Index table of eq. 8: entry (i, k) is the location j = i - offset_k (mod n) that offset k moves to i.

    One gather with this table replaces a ``torch.roll`` per offset and the stack
    of their results. Built outside inference mode: the table is cached for the
    process, and one made inside ``torch.inference_mode`` (by ``predict``) could
    not be saved for a later training step's backward pass.
    """
    with torch.inference_mode(False):
        offsets = torch.tensor(shift_offsets(shift_width))
        return (torch.arange(n)[:, None] - offsets[None, :]) % n


def sharpen(w_shifted: torch.Tensor, gamma: Scalar) -> torch.Tensor:
    """w(i) = w_s(i)^gamma / sum_j w_s(j)^gamma (eq. 9), computed as a log-space softmax.

    gamma >= 1 undoes the blur a fractional shift adds. ``softmax(gamma *
    log(w_s + tiny))`` equals the ratio exactly and never divides 0 by 0.
    """
    tiny = torch.finfo(w_shifted.dtype).tiny
    logits = _as_batch_scalar(gamma, w_shifted) * torch.log(w_shifted + tiny)
    return torch.softmax(logits, dim=-1)


@dataclass
class AddressingTrace:
    """Every intermediate of one head's addressing step, each ``[..., N]``."""

    similarity: torch.Tensor
    w_c: torch.Tensor
    w_g: torch.Tensor
    w_s: torch.Tensor
    w: torch.Tensor

    STAGES = ("similarity", "w_c", "w_g", "w_s", "w")

    def numpy(self) -> dict[str, np.ndarray]:
        """The stages as float32 numpy arrays, keyed by stage name."""
        return {s: getattr(self, s).detach().cpu().numpy().astype(np.float32) for s in self.STAGES}


def address(
    memory: torch.Tensor,
    key: torch.Tensor,
    beta: Scalar,
    gate: Scalar,
    shift: torch.Tensor,
    gamma: Scalar,
    w_prev: torch.Tensor,
) -> AddressingTrace:
    """Run the four addressing stages (section 3.3, Figure 2) and keep each one.

    ``w_prev`` and ``shift`` are rescaled to distributions first
    (:func:`as_distribution`): an all-zero ``w_prev`` (no focus yet) counts as
    uniform and an all-zero ``shift`` as "stay put", so every weighting in the
    trace is a distribution whatever the inputs.
    """
    n = memory.shape[-2]
    uniform = torch.full((n,), 1.0 / n, dtype=memory.dtype, device=memory.device)
    stay = torch.zeros(shift.shape[-1], dtype=memory.dtype, device=memory.device)
    stay[shift.shape[-1] // 2] = 1.0
    w_prev = as_distribution(w_prev.to(memory.dtype), uniform)
    shift = as_distribution(shift.to(memory.dtype), stay)

    similarity = cosine_similarity(memory, key)
    w_c = content_focus(similarity, beta)
    w_g = interpolate(w_c, w_prev, gate)
    w_s = circular_shift(w_g, shift)
    w = sharpen(w_s, gamma)
    return AddressingTrace(similarity=similarity, w_c=w_c, w_g=w_g, w_s=w_s, w=w)


def read(memory: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """r = sum_i w(i) M_i (eq. 2): the weighted sum of memory rows, ``[..., M]``."""
    return (w.unsqueeze(-2) @ memory).squeeze(-2)


def write(memory: torch.Tensor, w: torch.Tensor, erase: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
    """M_i <- M_i (1 - w(i) e) + w(i) a (eqs. 3-4): erase, then add.

    ``erase`` entries lie in [0, 1]; a location with w(i) = 1 and e = 1 is
    replaced by ``add``, a location with w(i) = 0 is left as it was.
    """
    w_col = w.unsqueeze(-1)
    return memory * (1.0 - w_col * erase.unsqueeze(-2)) + w_col * add.unsqueeze(-2)


def entropy_bits(w: np.ndarray | torch.Tensor) -> float:
    """Shannon entropy of a weighting in bits: 0 for one-hot, log2(N) for uniform."""
    p = np.asarray(w.detach().cpu() if isinstance(w, torch.Tensor) else w, dtype=np.float64).ravel()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) if p.size else 0.0
