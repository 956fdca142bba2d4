"""DNC memory addressing: dynamic allocation and temporal links, one small function per equation.

Graves et al. (2016), "Hybrid computing using a neural network with dynamic
external memory", Nature 538:471, Methods ("Dynamic memory allocation" and
"Temporal memory linkage"). Memory ``M`` is ``N x W`` (rows are slots); there are
R read heads and one write head. Per step, in this order::

    retention   psi = prod_i (1 - f^i w^{r,i}_{t-1})                       (Methods, eq. for psi_t)
    usage       u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} o w^w_{t-1}) o psi_t   (u_t)
    free list   phi_t = slot indices sorted by ascending usage               (phi_t)
    allocation  a_t[phi_j] = (1 - u_t[phi_j]) prod_{i<j} u_t[phi_i]          (a_t)
    write       w^w_t = g^w (g^a a_t + (1 - g^a) c^w_t)                      (w^w_t)
    precedence  p_t = (1 - sum_i w^w_t[i]) p_{t-1} + w^w_t                   (p_t)
    link        L_t[i,j] = (1 - w^w_t[i] - w^w_t[j]) L_{t-1}[i,j] + w^w_t[i] p_{t-1}[j],  L_t[i,i] = 0
    directions  f^i_t = L_t w^{r,i}_{t-1},   b^i_t = L_t^T w^{r,i}_{t-1}     (f_t, b_t)
    read        w^{r,i}_t = pi[0] b^i_t + pi[1] c^{r,i}_t + pi[2] f^i_t      (read modes over
                                                                             [backward, content, forward])

Conventions (DESIGN.md section 2): read modes are always ordered
``[backward, content, forward]``. Before the allocation product, usage is
clamped to ``eps + (1 - eps) u`` with ``eps = 1e-6`` as the DeepMind reference
does, so the product never multiplies by an exact 0; the sort itself carries no
gradient (the paper ignores its discontinuities), only the sorted values do.
Content weightings are the NTM's content focus (:mod:`memviz.addressing`).

Every function works unbatched (usage ``[N]``, read weightings ``[R, N]``, link
``[N, N]``) and batched (any leading dimensions: ``[B, N]``, ``[B, R, N]``,
``[B, N, N]``); gates are floats or tensors of the leading shape. All of it is
differentiable.
"""

from __future__ import annotations

import torch

from memviz.addressing import content_focus, cosine_similarity

ALLOCATION_EPS = 1e-6
"""Usage is clamped to ``eps + (1 - eps) u`` before the allocation product (as the DeepMind reference)."""

SORT_RESOLUTION = 1e5
"""The free list sorts usage rounded to multiples of 1 / SORT_RESOLUTION (1e-5); ties go to the lower slot.

Unused slots often differ in usage only by float rounding noise (1e-9), and the
exact order of such near-ties then depends on the implementation (torch or
NumPy, batched or not) while it decides where the next write goes. Rounding
first makes every implementation agree; slots within 1e-5 of each other are
equally free, so the paper's "ascending usage" order is kept up to that.
"""

READ_MODES = ("backward", "content", "forward")
"""The order of the read-mode softmax, in code and UI."""

Scalar = float | torch.Tensor


def _gate(value: Scalar, like: torch.Tensor) -> torch.Tensor:
    """A gate (float, or tensor of the leading shape) ready to multiply a ``[..., N]`` vector."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return t.unsqueeze(-1) if t.dim() > 0 else t


def oneplus(x: torch.Tensor) -> torch.Tensor:
    """oneplus(x) = 1 + log(1 + e^x) (Methods, "Interface parameters"): strengths in [1, inf)."""
    return 1.0 + torch.nn.functional.softplus(x)


def content_weighting(memory: torch.Tensor, keys: torch.Tensor, strengths: Scalar) -> torch.Tensor:
    """C(M, k, beta)[i] = softmax_i(beta cos(k, M_i)) (Methods, "Content-based addressing").

    ``memory [..., N, W]``, ``keys [..., H, W]`` (one key per head), ``strengths
    [..., H]``: ``[..., H, N]``. The NTM's cosine similarity and content focus.
    """
    similarity = cosine_similarity(memory.unsqueeze(-3), keys)
    return content_focus(similarity, strengths)


def retention(free_gates: torch.Tensor, read_weights_prev: torch.Tensor) -> torch.Tensor:
    """psi_t = prod_i (1 - f^i_t w^{r,i}_{t-1}): how much of each slot the reads leave in use.

    ``free_gates [..., R]`` in [0, 1], ``read_weights_prev [..., R, N]`` -> ``[..., N]``.
    A free gate of 1 frees what its head just read; 0 frees nothing.
    """
    return torch.prod(1.0 - free_gates.unsqueeze(-1) * read_weights_prev, dim=-2)


def usage(usage_prev: torch.Tensor, write_weights_prev: torch.Tensor, retention: torch.Tensor) -> torch.Tensor:
    """u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} o w^w_{t-1}) o psi_t: written slots fill up, freed ones empty."""
    return (usage_prev + write_weights_prev - usage_prev * write_weights_prev) * retention


def allocation(usage: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Allocation weighting a_t and free list phi_t (Methods, "Dynamic memory allocation").

    phi lists the slots by ascending usage (rounded to 1e-5, see :data:`SORT_RESOLUTION`;
    ties keep slot order);
    a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i], with u clamped to
    ``eps + (1 - eps) u`` first. Returns ``(weights [..., N], free_list [..., N])``
    (the free list as int64 indices). A full memory (u = 1) allocates nothing.
    """
    clamped = ALLOCATION_EPS + (1.0 - ALLOCATION_EPS) * usage
    free_list = torch.sort(torch.round(clamped.detach() * SORT_RESOLUTION), dim=-1, stable=True).indices
    sorted_usage = torch.gather(clamped, -1, free_list)
    ones = torch.ones_like(sorted_usage[..., :1])
    exclusive_product = torch.cumprod(torch.cat([ones, sorted_usage[..., :-1]], dim=-1), dim=-1)
    sorted_allocation = (1.0 - sorted_usage) * exclusive_product
    weights = torch.zeros_like(sorted_allocation).scatter(-1, free_list, sorted_allocation)
    return weights, free_list


def write_weighting(
    content_weights: torch.Tensor, allocation_weights: torch.Tensor, allocation_gate: Scalar, write_gate: Scalar
) -> torch.Tensor:
    """w^w_t = g^w (g^a a_t + (1 - g^a) c^w_t) (Methods, "Write weighting")."""
    g_a = _gate(allocation_gate, content_weights)
    g_w = _gate(write_gate, content_weights)
    return g_w * (g_a * allocation_weights + (1.0 - g_a) * content_weights)


def precedence(precedence_prev: torch.Tensor, write_weights: torch.Tensor) -> torch.Tensor:
    """p_t = (1 - sum_i w^w_t[i]) p_{t-1} + w^w_t: where the latest write went (Methods, "Temporal memory linkage")."""
    return (1.0 - write_weights.sum(dim=-1, keepdim=True)) * precedence_prev + write_weights


def link(link_prev: torch.Tensor, precedence_prev: torch.Tensor, write_weights: torch.Tensor) -> torch.Tensor:
    """L_t[i, j] = (1 - w[i] - w[j]) L_{t-1}[i, j] + w[i] p_{t-1}[j], with a zero diagonal.

    L_t[i, j] is how much slot i was written right after slot j.
    """
    w_i = write_weights.unsqueeze(-1)
    w_j = write_weights.unsqueeze(-2)
    new = (1.0 - w_i - w_j) * link_prev + w_i * precedence_prev.unsqueeze(-2)
    n = new.shape[-1]
    off_diagonal = 1.0 - torch.eye(n, dtype=new.dtype, device=new.device)
    return new * off_diagonal


def directional(link: torch.Tensor, read_weights_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward f^i = L_t w^{r,i}_{t-1} and backward b^i = L_t^T w^{r,i}_{t-1}, each ``[..., R, N]``.

    Forward moves each read head to the slot written after the one it read;
    backward to the slot written before it.
    """
    forward = read_weights_prev @ link.transpose(-1, -2)  # f[r, i] = sum_j L[i, j] w[r, j]
    backward = read_weights_prev @ link  # b[r, i] = sum_j L[j, i] w[r, j]
    return forward, backward


def read_weighting(
    backward: torch.Tensor, content: torch.Tensor, forward: torch.Tensor, modes: torch.Tensor
) -> torch.Tensor:
    """w^{r,i}_t = pi^i[0] b^i + pi^i[1] c^{r,i} + pi^i[2] f^i;

    ``modes [..., R, 3]`` are over [backward, content, forward]."""
    return modes[..., 0:1] * backward + modes[..., 1:2] * content + modes[..., 2:3] * forward


__all__ = [
    "ALLOCATION_EPS",
    "READ_MODES",
    "SORT_RESOLUTION",
    "allocation",
    "content_weighting",
    "directional",
    "link",
    "oneplus",
    "precedence",
    "read_weighting",
    "retention",
    "usage",
    "write_weighting",
]
