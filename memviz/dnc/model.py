"""Differentiable Neural Computer with an LSTM controller, a full trace, and interventions.

Graves et al. (2016), "Hybrid computing using a neural network with dynamic
external memory", Nature 538:471, Methods: the controller and interface vector
("Controller network", "Interface parameters"), content lookup, dynamic memory
allocation, temporal memory linkage and reading ("Memory addressing"), built
on the pure functions of :mod:`memviz.dnc.addressing`.

Order within a time step ``t`` (the UI shows the same)::

    1. controller   h_t = LSTM([x_t, r^1_{t-1}, ..., r^R_{t-1}], state)
    2. interface    read keys k^{r,i}, strengths beta^{r,i} = oneplus, write key k^w, beta^w = oneplus,
                    erase e = sigmoid, write vector v (raw), free gates f^i = sigmoid,
                    allocation gate g^a = sigmoid, write gate g^w = sigmoid,
                    read modes pi^i = softmax over [backward, content, forward];
                    overrides replace these values here
    3. retention    psi_t from f^i and w^{r,i}_{t-1};  usage u_t from u_{t-1}, w^w_{t-1}, psi_t
    4. allocation   free list phi_t and a_t from u_t
    5. write        content c^w_t on M_{t-1}; w^w_t = g^w (g^a a_t + (1 - g^a) c^w_t)
    6. erase/write  M_t = M_{t-1} o (1 - w^w_t e^T) + w^w_t v^T
                    (with ``deallocate``: M_{t-1} o psi_t 1^T in place of M_{t-1}, also in 5.)
    7. links        L_t from L_{t-1}, p_{t-1}, w^w_t; then p_t
    8. read         f^i_t, b^i_t from L_t and w^{r,i}_{t-1}; content c^{r,i}_t on M_t;
                    w^{r,i}_t = pi[0] b + pi[1] c + pi[2] f;  r^i_t = M_t^T w^{r,i}_t
    9. output       y_t = sigmoid(W_y [h_t, r^1_t, ..., r^R_t])

Initial state: memory is the constant ``memory_init`` (1e-6) and the read and
write weightings the constant ``weight_init`` (1e-6), not zero (zero memory
gives 0/0 cosines and zero weightings dead gradients in public
implementations); usage, precedence and links start at 0 as in the paper
(u_0 = 0, p_0 = 0, L_0 = 0); read vectors start at 0.

Deallocation (``DNCConfig.deallocate``, off by default): in the paper freeing
a slot only lowers its usage; its old contents stay until a write covers them,
and a later content lookup can still match them (aliasing). Csordás &
Schmidhuber (2019, "Improving Differentiable Neural Computers Through Memory
Masking, De-allocation, and Link Distribution Sharpness Control", ICLR;
arXiv:1904.10278) erase what is freed: memory rows are scaled by the retention
psi_t before the step's write lookup and write. dnc-multi-copy uses it (its
card's ``config``); the copy models do not. The trace's ``memory_before`` stays
M_{t-1}; the erasure shows in ``memory_after``.

Gradient through usage: in training the previous write weighting enters the
usage update **detached** (``w^w_{t-1}.detach()``), as the DeepMind reference
does ("calculation of usage is not differentiable with respect to write
weights"). Usage feeds the allocation through a sort whose discontinuities the
paper ignores, and without the stop every write's gradient would run through
every later allocation step; the free gates and read weightings (retention) and
the sorted usage values still carry gradient. The trace values are unaffected.

Precision: traces compute in float64 and store float32. ``run`` (the NumPy
step, :mod:`memviz.dnc.fast`) and ``run_torch`` (this module's step on a
float64 copy of the weights, :meth:`DNC.in_float64`) both do, so they agree to
the float32 rounding of the stored values. In float32 they did not, on trained
models: a slot never written holds ``memory_init`` plus writes of 1e-8..1e-7,
so its direction, and a sharp read key's cosine with it, rests on bits float32
rounds differently in two implementations (the first dnc-multi-copy's output
probabilities, before deallocation, differed by up to 2.5e-3). Training and :meth:`DNC.predict` (the
batched forward the cards' figures come from) stay float32; the weights are
float32 either way, cast once.

``model.run(x)`` runs one episode and returns a :class:`DNCTrace` of float32
numpy arrays with time first (on :mod:`memviz.dnc.fast`, the NumPy step, kept
equal to :meth:`DNC.step` by tests); ``model.run(x, overrides=[...])``
re-runs it with some interface values fixed; every value before the first
override is identical to the plain run.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from memviz.dnc import addressing as dnca
from memviz.registry import ModelCard, PretrainedError, load_weights, regenerate

WRITE_PARAMS = ("allocation_gate", "write_gate", "strength")
READ_PARAMS = ("free_gate", "modes", "strength")


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class DNCConfig:
    """Architecture of a DNC (Methods); the defaults are the copy model's."""

    input_width: int = 7
    output_width: int = 6
    controller_size: int = 64
    memory_n: int = 24
    memory_w: int = 16
    read_heads: int = 1
    memory_init: float = 1e-6
    weight_init: float = 1e-6
    deallocate: bool = False  # freeing erases (Csordás & Schmidhuber 2019; module docstring)

    @property
    def interface_width(self) -> int:
        """R read keys (W) + R strengths + write key (W) + strength + erase (W) + write vector (W)
        + R free gates + allocation gate + write gate + 3R read modes."""
        r, w = self.read_heads, self.memory_w
        return r * w + r + w + 1 + 2 * w + r + 2 + 3 * r


def split_interface(raw: torch.Tensor, c: DNCConfig) -> dict[str, torch.Tensor]:
    """Cut the raw interface vector ``[B, I]`` into its parts and activate them (Methods, "Interface parameters")."""
    r, w = c.read_heads, c.memory_w
    sizes = [r * w, r, w, 1, w, w, r, 1, 1, 3 * r]
    keys, strengths, wkey, wstrength, erase, vector, free, alloc, wgate, modes = torch.split(raw, sizes, dim=-1)
    b = raw.shape[0]
    return {
        "read_keys": keys.reshape(b, r, w),
        "read_strengths": dnca.oneplus(strengths),
        "write_key": wkey,
        "write_strength": dnca.oneplus(wstrength[:, 0]),
        "erase": torch.sigmoid(erase),
        "write_vector": vector,
        "free_gates": torch.sigmoid(free),
        "allocation_gate": torch.sigmoid(alloc[:, 0]),
        "write_gate": torch.sigmoid(wgate[:, 0]),
        "read_modes": torch.softmax(modes.reshape(b, r, 3), dim=-1),
    }


# --------------------------------------------------------------------------- overrides


def parse_head(head: str | tuple[str, int]) -> tuple[str, int]:
    """``"write0"``/``"write"``, ``"read1"`` or ``("read", 1)`` -> ``(kind, index)``."""
    if isinstance(head, tuple):
        kind, index = head
    else:
        text = str(head).strip().lower()
        kind = text.rstrip("0123456789")
        index = int(text[len(kind) :] or 0)
    if kind not in ("read", "write") or int(index) < 0:
        raise ValueError(f"head must look like 'read0', 'write0' or ('read', 0), got {head!r}")
    return kind, int(index)


def _finite32(value: float) -> bool:
    return bool(np.isfinite(value)) and abs(value) <= float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Override:
    """Fix some interface values of one head at one step (or every step, ``step=None``).

    Write head (``"write0"``): ``allocation_gate`` and ``write_gate`` in [0, 1],
    ``strength`` (the write key strength, >= 0). Read head ``"readI"``:
    ``free_gate`` in [0, 1] (0: nothing this head read is freed), ``modes``
    (3 non-negative weights over [backward, content, forward], rescaled to sum
    to 1; e.g. ``(0, 1, 0)`` content only, ``(0, 0, 1)`` forward only),
    ``strength`` (the read key strength, >= 0). Hashable (a cache key).

    >>> Override(head="read0", free_gate=0.0)          # every step
    >>> Override(head="write0", step=5, allocation_gate=1.0)
    """

    head: str | tuple[str, int]
    step: int | None = None
    allocation_gate: float | None = None
    write_gate: float | None = None
    free_gate: float | None = None
    modes: tuple[float, ...] | None = None
    strength: float | None = None

    def __post_init__(self) -> None:
        kind, index = parse_head(self.head)
        object.__setattr__(self, "head", f"{kind}{index}")
        if self.step is not None and (int(self.step) != self.step or self.step < 0):
            raise ValueError(f"override step must be a non-negative integer or None, got {self.step!r}")
        for name in ("allocation_gate", "write_gate", "free_gate"):
            value = getattr(self, name)
            if value is not None and not (0.0 <= value <= 1.0):
                raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
        if kind == "read" and (self.allocation_gate is not None or self.write_gate is not None):
            raise ValueError("allocation_gate and write_gate belong to the write head ('write0')")
        if kind == "write" and (self.free_gate is not None or self.modes is not None):
            raise ValueError("free_gate and modes belong to a read head ('read0', 'read1', ...)")
        if self.strength is not None and not (_finite32(self.strength) and self.strength >= 0):
            raise ValueError(f"strength must be finite (as float32) and >= 0, got {self.strength!r}")
        if self.modes is not None:
            m = np.asarray(list(self.modes), dtype=np.float64).ravel()
            if m.size != 3 or np.any(~np.isfinite(m)) or np.any(m < 0) or m.sum() <= 0:
                raise ValueError(f"modes must be 3 non-negative weights (backward, content, forward), got {self.modes}")
            object.__setattr__(self, "modes", tuple(float(v) for v in m / m.sum()))

    @property
    def kind_index(self) -> tuple[str, int]:
        return parse_head(self.head)

    def applies_at(self, t: int) -> bool:
        return self.step is None or self.step == t

    def values(self) -> dict[str, Any]:
        names = WRITE_PARAMS if self.kind_index[0] == "write" else READ_PARAMS
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def no_freeing(read_heads: int, step: int | None = None) -> list[Override]:
    """Free gates of every read head fixed at 0 (at ``step``, or every step): nothing is ever freed."""
    return [Override(head=f"read{i}", step=step, free_gate=0.0) for i in range(read_heads)]


Fixed = dict[tuple[str, int], dict[str, Any]]


NOTHING_FIXED: Fixed = MappingProxyType({})  # type: ignore[assignment]
"""The values fixed at a step of a run without overrides (read-only: shared by every step)."""


def overrides_at(overrides: Sequence[Override], t: int) -> Fixed:
    """The values fixed at step ``t`` by head; later overrides win."""
    fixed: Fixed = {}
    for o in overrides:
        if o.applies_at(t):
            fixed.setdefault(o.kind_index, {}).update(o.values())
    return fixed


def first_override_step(overrides: Sequence[Override]) -> int:
    return min((0 if o.step is None else int(o.step) for o in overrides), default=0)


def _as_override_list(overrides: Override | Sequence[Override] | None) -> list[Override]:
    if overrides is None:
        return []
    result = [overrides] if isinstance(overrides, Override) else list(overrides)
    for o in result:
        if not isinstance(o, Override):
            raise TypeError(f"overrides must be memviz.dnc.model.Override objects, got {type(o).__name__}")
    return result


# --------------------------------------------------------------------------- trace

TRACE_SHAPES: dict[str, str] = {
    # name: per-step shape (letters: H controller, N slots, W width, R read heads, O outputs)
    "controller_output": "H",
    "usage_before": "N",
    "retention": "N",
    "usage": "N",
    "free_list": "N",
    "allocation": "N",
    "write_key": "W",
    "write_strength": "",
    "write_content": "N",
    "allocation_gate": "",
    "write_gate": "",
    "write_weights": "N",
    "erase": "W",
    "write_vector": "W",
    "memory_before": "NW",
    "memory_after": "NW",
    "precedence": "N",
    "link": "NN",
    "free_gates": "R",
    "read_keys": "RW",
    "read_strengths": "R",
    "read_modes": "R3",
    "forward": "RN",
    "backward": "RN",
    "read_content": "RN",
    "read_weights": "RN",
    "read_vectors": "RW",
    "logits": "O",
}
"""Every per-step field of a :class:`DNCTrace` and its shape."""


@dataclass
class DNCTrace:
    """Everything a DNC computed in one episode: float32 numpy arrays, time first.

    * ``inputs [T, input_width]``, ``outputs [T, output_width]`` (probabilities), ``logits``
    * ``controller_output [T, H]`` (the LSTM's h_t)
    * allocation: ``usage_before [T, N]`` (u_{t-1}), ``retention [T, N]`` (psi),
      ``usage [T, N]`` (u_t), ``free_list [T, N]`` (phi: slot indices by
      ascending usage, stored as float32 whole numbers), ``allocation [T, N]`` (a)
    * write head: ``write_key [T, W]``, ``write_strength [T]``, ``write_content
      [T, N]`` (c^w), ``allocation_gate [T]``, ``write_gate [T]``,
      ``write_weights [T, N]`` (w^w), ``erase [T, W]``, ``write_vector [T, W]``
    * ``memory_before [T, N, W]`` (M_{t-1}), ``memory_after [T, N, W]`` (M_t)
    * links: ``precedence [T, N]`` (p_t), ``link [T, N, N]`` (L_t)
    * read heads: ``free_gates [T, R]``, ``read_keys [T, R, W]``,
      ``read_strengths [T, R]``, ``read_modes [T, R, 3]`` over [backward,
      content, forward], ``forward``/``backward``/``read_content``/``read_weights``
      ``[T, R, N]``, ``read_vectors [T, R, W]``
    * ``overridden [T, R + 1]`` (bool; read heads, then the write head)
    * ``overrides``: the overrides this rollout used
    """

    inputs: np.ndarray
    outputs: np.ndarray
    logits: np.ndarray
    controller_output: np.ndarray
    usage_before: np.ndarray
    retention: np.ndarray
    usage: np.ndarray
    free_list: np.ndarray
    allocation: np.ndarray
    write_key: np.ndarray
    write_strength: np.ndarray
    write_content: np.ndarray
    allocation_gate: np.ndarray
    write_gate: np.ndarray
    write_weights: np.ndarray
    erase: np.ndarray
    write_vector: np.ndarray
    memory_before: np.ndarray
    memory_after: np.ndarray
    precedence: np.ndarray
    link: np.ndarray
    free_gates: np.ndarray
    read_keys: np.ndarray
    read_strengths: np.ndarray
    read_modes: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    read_content: np.ndarray
    read_weights: np.ndarray
    read_vectors: np.ndarray
    overridden: np.ndarray
    overrides: list[Override] = field(default_factory=list)

    FIELDS = ("inputs", "outputs", *TRACE_SHAPES, "overridden")

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[0])


def trace_shapes(c: DNCConfig) -> dict[str, tuple[int, ...]]:
    """Per-step numeric shape of every trace field for a config."""
    dims = {"H": c.controller_size, "N": c.memory_n, "W": c.memory_w, "R": c.read_heads, "O": c.output_width, "3": 3}
    return {name: tuple(dims[ch] for ch in letters) for name, letters in TRACE_SHAPES.items()}


# --------------------------------------------------------------------------- input checks


def check_input(x: np.ndarray | torch.Tensor, input_width: int, memory_n: int | None = None) -> np.ndarray:
    """Validate one episode ``[T, input_width]`` with values in [0, 1]; return it as float32.

    Warns (does not fail) when more input steps carry data than memory has
    slots: allocation then overwrites slots still in use.
    """
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"input must be [steps, {input_width}] (one episode), got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("input is an empty sequence: it needs at least one time step")
    if a.shape[1] != input_width:
        raise ValueError(f"input width must be {input_width}, got {a.shape[1]} (shape {a.shape})")
    if not np.isfinite(a).all():
        raise ValueError("input contains NaN or infinite values")
    if a.min() < 0 or a.max() > 1:
        raise ValueError(f"input values must lie in [0, 1], got min {a.min():g}, max {a.max():g}")
    if memory_n is not None:
        data_steps = int((np.abs(a).sum(axis=1) > 0).sum())
        if data_steps > memory_n:
            warnings.warn(
                f"{data_steps} input steps carry data but memory has only {memory_n} slots: "
                "allocation will overwrite slots that are still in use unless the model frees slots it has read",
                stacklevel=3,
            )
    return a


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat denormal floats as zero inside the block, then restore the setting.

    The allocation's running product of usages (and tiny initial weightings)
    reach denormals, where this CPU's arithmetic is several times slower; the
    flag also holds for NumPy in the same thread. Every DNC path (training,
    predict, run, the torch reference trace) runs inside it, so they agree.
    """
    enabled = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if enabled:
            torch.set_flush_denormal(False)


# --------------------------------------------------------------------------- model

_FLOAT64_COPIES: weakref.WeakKeyDictionary[DNC, tuple[tuple, DNC]] = weakref.WeakKeyDictionary()


@dataclass
class DNCStateT:
    """The torch state one step hands to the next (batched)."""

    memory: torch.Tensor  # [B, N, W]
    usage: torch.Tensor  # [B, N]
    link: torch.Tensor  # [B, N, N]
    precedence: torch.Tensor  # [B, N]
    read_weights: torch.Tensor  # [B, R, N]
    write_weights: torch.Tensor  # [B, N]
    reads: torch.Tensor  # [B, R, W]
    h: torch.Tensor
    c: torch.Tensor


class DNC(nn.Module):
    """DNC with an LSTM controller; see the module docstring for the step order."""

    family = "dnc"

    def __init__(self, config: DNCConfig) -> None:
        super().__init__()
        c = config
        if c.read_heads < 1 or c.memory_n < 2 or c.memory_w < 1:
            raise ValueError("a DNC needs at least one read head, two memory slots and width 1")
        self.config = c
        self.controller = nn.LSTMCell(c.input_width + c.read_heads * c.memory_w, c.controller_size)
        self.interface = nn.Linear(c.controller_size, c.interface_width)
        self.output = nn.Linear(c.controller_size + c.read_heads * c.memory_w, c.output_width)
        self.card: dict[str, Any] = {}
        self.task: Any = None

    # -- one step ------------------------------------------------------------------------

    def initial_state(self, batch: int, memory_n: int | None = None) -> DNCStateT:
        """The start state (module docstring) in the weights' dtype; ``memory_n`` slots (default: the config's).

        No weight depends on the number of slots, so the same model runs on a smaller or larger memory.
        """
        c = self.config
        n, r, w = memory_n or c.memory_n, c.read_heads, c.memory_w
        dtype = self.output.weight.dtype
        zeros_h = torch.zeros(batch, c.controller_size, dtype=dtype)
        return DNCStateT(
            memory=torch.full((batch, n, w), c.memory_init, dtype=dtype),
            usage=torch.zeros(batch, n, dtype=dtype),
            link=torch.zeros(batch, n, n, dtype=dtype),
            precedence=torch.zeros(batch, n, dtype=dtype),
            read_weights=torch.full((batch, r, n), c.weight_init, dtype=dtype),
            write_weights=torch.full((batch, n), c.weight_init, dtype=dtype),
            reads=torch.zeros(batch, r, w, dtype=dtype),
            h=zeros_h,
            c=zeros_h,
        )

    def in_float64(self) -> DNC:
        """A float64 copy of this model (cached, rebuilt when a weight changes): the torch reference trace's.

        Traces compute in float64 on both paths (module docstring, "Precision"); training and
        :meth:`predict` keep float32.
        """
        params = list(self.parameters())
        if any(p.is_inference() for p in params):  # no version counters: no cache
            return self._float64_copy()
        fingerprint = tuple((p.data_ptr(), p._version) for p in params)
        cached = _FLOAT64_COPIES.get(self)
        if cached is None or cached[0] != fingerprint:
            cached = _FLOAT64_COPIES[self] = (fingerprint, self._float64_copy())
        return cached[1]

    def _float64_copy(self) -> DNC:
        with torch.device("meta"):  # no initial weights drawn (nor random numbers used)
            copy = DNC(self.config)
        copy.load_state_dict({k: v.detach().double() for k, v in self.state_dict().items()}, assign=True)
        copy.card, copy.task = self.card, self.task
        return copy.eval()

    @staticmethod
    def apply_overrides(p: dict[str, torch.Tensor], fixed: Fixed) -> dict[str, torch.Tensor]:
        """The interface with the overridden values fixed (the rest as the controller emitted them)."""
        out = dict(p)
        for (kind, index), values in fixed.items():
            for name, value in values.items():
                if kind == "write":
                    target = {"allocation_gate": "allocation_gate", "write_gate": "write_gate"}.get(
                        name, "write_strength"
                    )
                    out[target] = torch.full_like(out[target], float(value))
                else:
                    target = {"free_gate": "free_gates", "modes": "read_modes"}.get(name, "read_strengths")
                    t = out[target].clone()
                    t[:, index] = torch.as_tensor(value, dtype=t.dtype)
                    out[target] = t
        return out

    def step(
        self, x_t: torch.Tensor, state: DNCStateT, fixed: Fixed | None = None, detach_usage: bool = True
    ) -> tuple[torch.Tensor, DNCStateT, dict[str, torch.Tensor]]:
        """One time step (the order in the module docstring); returns logits, new state, record."""
        c = self.config
        batch = x_t.shape[0]
        # 1-2. controller and interface
        h, cell = self.controller(torch.cat([x_t, state.reads.reshape(batch, -1)], dim=-1), (state.h, state.c))
        p = split_interface(self.interface(h), c)
        if fixed:
            p = self.apply_overrides(p, fixed)
        # 3-4. retention, usage, allocation
        psi = dnca.retention(p["free_gates"], state.read_weights)
        w_prev = state.write_weights.detach() if detach_usage else state.write_weights
        u = dnca.usage(state.usage, w_prev, psi)
        alloc, phi = dnca.allocation(u)
        # 5-6. write weighting, erase and write
        memory_prev = state.memory * psi.unsqueeze(-1) if c.deallocate else state.memory
        c_w = dnca.content_weighting(memory_prev, p["write_key"].unsqueeze(1), p["write_strength"].unsqueeze(1))[:, 0]
        w_w = dnca.write_weighting(c_w, alloc, p["allocation_gate"], p["write_gate"])
        w_col = w_w.unsqueeze(-1)
        memory = memory_prev * (1.0 - w_col * p["erase"].unsqueeze(1)) + w_col * p["write_vector"].unsqueeze(1)
        # 7. links and precedence
        link = dnca.link(state.link, state.precedence, w_w)
        prec = dnca.precedence(state.precedence, w_w)
        # 8. read
        fwd, bwd = dnca.directional(link, state.read_weights)
        c_r = dnca.content_weighting(memory, p["read_keys"], p["read_strengths"])
        w_r = dnca.read_weighting(bwd, c_r, fwd, p["read_modes"])
        reads = w_r @ memory
        # 9. output
        logits = self.output(torch.cat([h, reads.reshape(batch, -1)], dim=-1))
        record = {
            "controller_output": h,
            "usage_before": state.usage,
            "retention": psi,
            "usage": u,
            "free_list": phi,
            "allocation": alloc,
            "write_content": c_w,
            "write_weights": w_w,
            "memory_before": state.memory,
            "memory_after": memory,
            "precedence": prec,
            "link": link,
            "forward": fwd,
            "backward": bwd,
            "read_content": c_r,
            "read_weights": w_r,
            "read_vectors": reads,
            "logits": logits,
            **{k: p[k] for k in ("write_key", "write_strength", "allocation_gate", "write_gate", "erase")},
            **{k: p[k] for k in ("write_vector", "free_gates", "read_keys", "read_strengths", "read_modes")},
        }
        new = DNCStateT(memory, u, link, prec, w_r, w_w, reads, h, cell)
        return logits, new, record

    # -- whole episodes --------------------------------------------------------------------

    def forward(self, x: torch.Tensor, memory_n: int | None = None) -> torch.Tensor:
        """Logits ``[B, T, output_width]`` for a batch ``[B, T, input_width]`` (training), on ``memory_n`` slots."""
        state = self.initial_state(x.shape[0], memory_n)
        logits = []
        for t in range(x.shape[1]):
            out, state, _ = self.step(x[:, t], state)
            logits.append(out)
        return torch.stack(logits, dim=1)

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Output probabilities ``[B, T, output_width]`` for a batch, without a trace."""
        with torch.inference_mode(), flush_denormals():
            return torch.sigmoid(self(torch.as_tensor(np.asarray(x), dtype=torch.float32))).numpy()

    def run(self, x: np.ndarray | torch.Tensor, overrides: Override | Sequence[Override] | None = None) -> DNCTrace:
        """Run one episode ``x [T, input_width]`` and record every intermediate (:class:`DNCTrace`).

        ``overrides`` fix interface values at chosen steps; later memory, reads
        and outputs follow from them. Runs on the NumPy step
        (:mod:`memviz.dnc.fast`; tests keep it equal to :meth:`step`).
        """
        from memviz.dnc.fast import FastDNC

        xa = check_input(x, self.config.input_width, self.config.memory_n)
        ol = _as_override_list(overrides)
        self.check_overrides(ol, xa.shape[0])
        fixed_at = (lambda t: overrides_at(ol, t)) if ol else (lambda t: NOTHING_FIXED)
        with flush_denormals():
            record = FastDNC.of(self).rollout(xa, fixed_at)
        return build_trace(xa, record, ol)

    def run_from(self, x: np.ndarray, start: int, state: Any, overrides: Sequence[Override] = ()) -> DNCTrace:
        """Steps ``start ..`` of ``run(x, overrides)`` from the state step ``start`` begins with (:meth:`states`)."""
        from memviz.dnc.fast import FastDNC

        xa = check_input(x, self.config.input_width)
        ol = _as_override_list(list(overrides))
        self.check_overrides(ol, xa.shape[0])
        if not 0 <= start < xa.shape[0]:
            raise ValueError(f"start must be a step of the episode, 0..{xa.shape[0] - 1}, got {start}")
        if ol and first_override_step(ol) < start:
            raise ValueError(f"an override applies before step {start}: re-run from its step (or from 0) instead")
        with flush_denormals():
            record = FastDNC.of(self).rollout(xa, lambda t: overrides_at(ol, t), start, state)
        return build_trace(xa[start:], record, ol)

    def states(self, x: np.ndarray) -> list[Any]:
        """The state (memory, usage, link, precedence, weightings, reads, LSTM h and c) each step starts from."""
        from memviz.dnc.fast import FastDNC

        with flush_denormals():
            return FastDNC.of(self).states(check_input(x, self.config.input_width))

    def run_torch(
        self, x: np.ndarray | torch.Tensor, overrides: Override | Sequence[Override] | None = None
    ) -> DNCTrace:
        """The same trace as :meth:`run` from the float64 torch step (slower; the reference the tests compare with)."""
        xa = check_input(x, self.config.input_width)
        ol = _as_override_list(overrides)
        self.check_overrides(ol, xa.shape[0])
        steps: list[dict[str, np.ndarray]] = []
        flags = np.zeros((xa.shape[0], self.config.read_heads + 1), dtype=bool)
        reference = self.in_float64()
        with torch.inference_mode(), flush_denormals():
            state = reference.initial_state(1)
            xt = torch.from_numpy(xa).double()
            for t in range(xa.shape[0]):
                fixed = overrides_at(ol, t)
                _, state, rec = reference.step(xt[t : t + 1], state, fixed)
                steps.append({k: v[0].numpy() for k, v in rec.items()})
                for kind, index in fixed:
                    flags[t, index if kind == "read" else self.config.read_heads] = True
        record = {k: np.stack([s[k] for s in steps]).astype(np.float32) for k in TRACE_SHAPES}
        record["overridden"] = flags
        return build_trace(xa, record, ol)

    def torch_step_record(self, x_t: np.ndarray, state: Any, fixed: Fixed | None = None) -> dict[str, np.ndarray]:
        """The float64 torch step from a NumPy state (:meth:`states`): every trace field of that one step, as float32.

        With :meth:`memviz.dnc.fast.FastDNC.step_record` this checks the two
        implementations step by step, from identical states (whole rollouts are
        compared too: :meth:`run` against :meth:`run_torch`).
        """
        names = ("memory", "usage", "link", "precedence", "read_weights", "write_weights", "reads", "h", "c")
        st = DNCStateT(**{n: torch.from_numpy(np.array(getattr(state, n)))[None] for n in names})
        x64 = torch.from_numpy(np.asarray(x_t, dtype=np.float64))[None]
        with torch.inference_mode(), flush_denormals():
            _, _, rec = self.in_float64().step(x64, st, fixed or {})
        record = {k: v[0].numpy().astype(np.float32) for k, v in rec.items()}
        flags = np.zeros(self.config.read_heads + 1, dtype=bool)
        for kind, index in fixed or {}:
            flags[index if kind == "read" else self.config.read_heads] = True
        record["overridden"] = flags
        return record

    def check_overrides(self, overrides: list[Override], steps: int) -> None:
        """Clear errors for an override naming a missing head or a step past the episode."""
        c = self.config
        for o in overrides:
            kind, index = o.kind_index
            count = c.read_heads if kind == "read" else 1
            if index >= count:
                raise ValueError(f"override names head {o.head} but this model has {count} {kind} head(s)")
            if o.step is not None and o.step >= steps:
                raise ValueError(f"override step {o.step} is past the episode's last step {steps - 1}")


def build_trace(x: np.ndarray, record: dict[str, np.ndarray], overrides: list[Override]) -> DNCTrace:
    """A :class:`DNCTrace` from per-field arrays ``[T, ...]`` (outputs = sigmoid(logits))."""
    logits = record["logits"].astype(np.float32)
    outputs = (0.5 + 0.5 * np.tanh(0.5 * logits)).astype(np.float32)
    fields_ = {k: np.asarray(record[k], dtype=np.float32) for k in TRACE_SHAPES}
    return DNCTrace(
        inputs=np.asarray(x, dtype=np.float32),
        outputs=outputs,
        overridden=np.asarray(record["overridden"], dtype=bool),
        overrides=list(overrides),
        **fields_,
    )


# --------------------------------------------------------------------------- building, saving and loading


def make_task(spec: dict[str, Any]) -> Any:
    """The task object a card's ``task`` entry describes (copy, reverse_copy, multi_copy)."""
    from memviz.tasks.copy import CopyTask
    from memviz.tasks.multi_copy import MultiCopyTask
    from memviz.tasks.reverse_copy import ReverseCopyTask

    tasks = {cls.name: cls for cls in (CopyTask, ReverseCopyTask, MultiCopyTask)}
    spec = dict(spec)
    name = spec.pop("name", None)
    if name not in tasks:
        raise ValueError(f"unknown DNC task {name!r}; known: {', '.join(sorted(tasks))}")
    return tasks[name](**spec)


def regenerate_hint(name: str) -> str:
    return regenerate(name)


def save_state(model: nn.Module, weights_path: Path) -> None:
    """Write the weights (only) as float32 safetensors."""
    from safetensors.torch import save_file

    Path(weights_path).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().float().contiguous() for k, v in model.state_dict().items()}, str(weights_path))


def load_from_card(card: ModelCard, weights_path: Path) -> DNC:
    """Registry loader (memviz.registry.FAMILIES): build the card's DNC and load its weights.

    The model keeps its card (``model.card``, a :class:`memviz.registry.ModelCard`) and its
    task (``model.task``), as the NTM's loader does.
    """
    try:
        model = DNC(DNCConfig(**card.config))
        task = make_task(card.task)
    except (KeyError, TypeError, ValueError) as exc:
        raise PretrainedError(
            f"card for {card.name!r}: field 'config' or 'task' is not usable ({exc}); {regenerate(card.name)}"
        ) from exc
    load_weights(model, Path(weights_path), card.name)
    model.eval()
    model.card = card
    model.task = task
    return model


def load(name: str, directory: Path | None = None) -> DNC:
    """A shipped DNC by name (the same as ``memviz.load_pretrained(name)``)."""
    from memviz.registry import load_pretrained

    return load_pretrained(name, directory)


def config_dict(model: DNC) -> dict[str, Any]:
    return asdict(model.config)


__all__ = [
    "DNC",
    "DNCConfig",
    "DNCTrace",
    "Override",
    "check_input",
    "load",
    "load_from_card",
    "no_freeing",
]
