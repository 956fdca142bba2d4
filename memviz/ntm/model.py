"""Neural Turing Machine with an LSTM controller, a full trace, and interventions.

Graves, Wayne & Danihelka (2014), "Neural Turing Machines": the architecture is
section 3 (Figure 1), the heads' addressing section 3.3 (built on
:mod:`memviz.addressing`), the LSTM controller section 3.4. Also the LSTM
baseline of section 4 (``lstm-copy``), with the same ``run(x)`` API.

Order within a time step ``t`` (the pytorch-ntm order; the UI shows the same)::

    1. controller   h_t = LSTM([x_t, r_{t-1}^0, ..., r_{t-1}^{R-1}], state)
    2. parameters   every head emits key, beta, g, shift, gamma (write heads
                    also erase e and add a) from h_t; overrides replace them here
    3. read heads   address M_{t-1} and read r_t^i = w_t^i . M_{t-1}
    4. write heads  address M_{t-1}, then write in head order:
                    M_t = write(... write(M_{t-1}, w^0, e^0, a^0) ..., w^W-1, e^W-1, a^W-1)
    5. output       y_t = sigmoid(W_o [h_t, r_t^0, ..., r_t^{R-1}])

Activations: key raw (cosine similarity ignores its scale), beta = softplus,
g = sigmoid, shift = softmax over offsets -R..+R, gamma = 1 + softplus,
e = sigmoid, a = tanh. Memory starts as the constant ``memory_init`` (1e-6,
Collier & Beel 2018); the initial read vectors and the heads' initial
weightings are learned (each weighting starts focused on location 0, since a
uniform weighting over constant memory could never become focused).

``model.run(x)`` runs one episode and returns an :class:`NTMTrace` of float32
numpy arrays with time first. ``model.run(x, overrides=[Override(...)])``
re-runs it with some head parameters fixed; steps before the first override are
bit-identical to the plain run.

Two implementations of the step, kept equal by tests/test_ntm_fast.py:
:meth:`NTM.step` (torch, batched, differentiable: training and ``predict``) and
:mod:`memviz.ntm.fast` (one episode, float32 NumPy, about twice as fast at
batch one: ``run``, ``states`` and ``run_from``, which the explorer's
interventions call once per knob move).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

from memviz import addressing
from memviz.ntm.fast import NTMState, NumpyNTM, Rollout, sigmoid
from memviz.registry import ModelCard, PretrainedError, load_weights, regenerate
from memviz.tasks import make_task

PARAMS = ("key", "beta", "g", "shift", "gamma")
"""The head parameters an :class:`Override` can fix (section 3.3)."""

STAGES = addressing.AddressingTrace.STAGES


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class NTMConfig:
    """Architecture of an NTM (section 3); the defaults are the copy model's."""

    input_width: int = 9
    output_width: int = 8
    controller_size: int = 100
    memory_n: int = 128
    memory_m: int = 20
    read_heads: int = 1
    write_heads: int = 1
    shift_radius: int = 1
    memory_init: float = 1e-6

    @property
    def shift_width(self) -> int:
        return 2 * self.shift_radius + 1

    @property
    def read_param_width(self) -> int:
        """key (M) + beta + g + shift (2R+1) + gamma."""
        return self.memory_m + self.shift_width + 3

    @property
    def write_param_width(self) -> int:
        """The read head's parameters plus erase (M) and add (M)."""
        return self.read_param_width + 2 * self.memory_m


@dataclass(frozen=True)
class LSTMConfig:
    """Architecture of the LSTM baseline (section 4: a stacked LSTM, sigmoid outputs)."""

    input_width: int = 9
    output_width: int = 8
    hidden_size: int = 256
    layers: int = 2


# --------------------------------------------------------------------------- overrides


def parse_head(head: str | tuple[str, int]) -> tuple[str, int]:
    """``"write0"``, ``"read1"``, ``"write"`` (head 0) or ``("write", 0)`` -> ``(kind, index)``."""
    if isinstance(head, tuple):
        kind, index = head
    else:
        text = str(head).strip().lower()
        kind = text.rstrip("0123456789")
        index = int(text[len(kind) :] or 0)
    if kind not in ("read", "write") or int(index) < 0:
        raise ValueError(f"head must look like 'read0', 'write0' or ('write', 0), got {head!r}")
    return kind, int(index)


@dataclass(frozen=True)
class Override:
    """Fix some parameters of one head at one step (or every step) of a rollout.

    ``head`` is ``"read0"``, ``"write0"`` (or ``("write", 0)``); ``step`` is a
    time index, or None for every step. Any of ``beta`` (>= 0), ``g`` (in
    [0, 1]), ``shift`` (2R+1 non-negative weights for offsets -R..+R, rescaled to
    sum to 1), ``gamma`` (>= 1) and ``key`` (M numbers) replace what the
    controller emitted; the ones left as None are kept. Hashable, so it can key
    a Streamlit cache.

    >>> Override(head="write0", step=5, g=0.0, shift=(0, 0, 1))
    """

    head: str | tuple[str, int]
    step: int | None = None
    beta: float | None = None
    g: float | None = None
    shift: tuple[float, ...] | None = None
    gamma: float | None = None
    key: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "head", "{}{}".format(*parse_head(self.head)))
        if self.step is not None and (int(self.step) != self.step or self.step < 0):
            raise ValueError(f"override step must be a non-negative integer or None, got {self.step!r}")
        if self.beta is not None and not (_fits_float32(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be finite (as float32) and >= 0, got {self.beta!r}")
        if self.g is not None and not (0.0 <= self.g <= 1.0):
            raise ValueError(f"g must lie in [0, 1], got {self.g!r}")
        if self.gamma is not None and not (_fits_float32(self.gamma) and self.gamma >= 1):
            raise ValueError(f"gamma must be finite (as float32) and >= 1, got {self.gamma!r}")
        if self.shift is not None:
            object.__setattr__(self, "shift", _normalised_shift(self.shift))
        if self.key is not None:
            key = tuple(float(v) for v in np.asarray(self.key, dtype=np.float64).ravel())
            if not all(_fits_float32(v) for v in key):
                raise ValueError("key must be finite (as float32)")
            object.__setattr__(self, "key", key)

    @property
    def kind_index(self) -> tuple[str, int]:
        return parse_head(self.head)

    def applies_at(self, t: int) -> bool:
        return self.step is None or self.step == t

    def values(self) -> dict[str, Any]:
        """The parameters this override fixes, by name."""
        return {p: getattr(self, p) for p in PARAMS if getattr(self, p) is not None}


def _fits_float32(value: float) -> bool:
    """Finite, and still finite once the model computes with it in float32."""
    return bool(np.isfinite(value)) and abs(value) <= float(np.finfo(np.float32).max)


def _normalised_shift(shift: Iterable[float]) -> tuple[float, ...]:
    s = np.asarray(list(shift), dtype=np.float64).ravel()
    if s.size % 2 == 0 or np.any(~np.isfinite(s)) or np.any(s < 0) or s.sum() <= 0:
        raise ValueError(f"shift must be an odd number (2R+1) of non-negative weights, not all 0, got {tuple(s)}")
    return tuple(float(v) for v in s / s.sum())


def _as_override_list(overrides: Override | Sequence[Override] | None) -> list[Override]:
    if overrides is None:
        return []
    if isinstance(overrides, Override):
        return [overrides]
    result = list(overrides)
    for o in result:
        if not isinstance(o, Override):
            raise TypeError(f"overrides must be Override objects, got {type(o).__name__}")
    return result


# --------------------------------------------------------------------------- trace


@dataclass
class HeadTrace:
    """One head over an episode; every array is float32 with time first.

    ``key [T, M]``, ``beta [T]``, ``g [T]``, ``shift [T, 2R+1]`` (offsets
    -R..+R), ``gamma [T]``; the addressing stages ``w_prev``, ``similarity``,
    ``w_c``, ``w_g``, ``w_s``, ``w``, each ``[T, N]``. Read heads add
    ``read_vector [T, M]``; write heads add ``erase [T, M]`` and ``add [T, M]``.
    ``overridden [T]`` is True at the steps an override touched this head.
    """

    name: str
    key: np.ndarray
    beta: np.ndarray
    g: np.ndarray
    shift: np.ndarray
    gamma: np.ndarray
    w_prev: np.ndarray
    similarity: np.ndarray
    w_c: np.ndarray
    w_g: np.ndarray
    w_s: np.ndarray
    w: np.ndarray
    overridden: np.ndarray
    read_vector: np.ndarray | None = None
    erase: np.ndarray | None = None
    add: np.ndarray | None = None


@dataclass
class NTMTrace:
    """Everything an NTM computed in one episode (float32 numpy, time first).

    * ``inputs [T, input_width]``, ``outputs [T, output_width]`` (probabilities),
      ``logits [T, output_width]``
    * ``controller_output [T, controller_size]`` (the LSTM's h_t)
    * ``read [R]`` and ``write [W]``: lists of :class:`HeadTrace`
    * ``read_vectors [T, R, M]``: what the read heads returned at each step
    * ``memory_before [T, N, M]`` (M_{t-1}) and ``memory_after [T, N, M]`` (M_t)
    * ``overrides``: the overrides this rollout used
    """

    inputs: np.ndarray
    outputs: np.ndarray
    logits: np.ndarray
    controller_output: np.ndarray
    read: list[HeadTrace]
    write: list[HeadTrace]
    read_vectors: np.ndarray
    memory_before: np.ndarray
    memory_after: np.ndarray
    overrides: list[Override] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def heads(self) -> list[HeadTrace]:
        """Read heads first, then write heads (the order of section ``Order``)."""
        return [*self.read, *self.write]

    def head(self, name: str | tuple[str, int]) -> HeadTrace:
        """A head's trace by name: ``trace.head("write0")``."""
        kind, index = parse_head(name)
        heads = self.read if kind == "read" else self.write
        if index >= len(heads):
            raise KeyError(f"no head {kind}{index}: this model has {len(heads)} {kind} head(s)")
        return heads[index]


@dataclass
class LSTMTrace:
    """An LSTM baseline episode: ``inputs [T, in]``, ``outputs [T, out]``, ``logits``, ``hidden [T, H]``."""

    inputs: np.ndarray
    outputs: np.ndarray
    logits: np.ndarray
    hidden: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[0])


# --------------------------------------------------------------------------- input checks


def check_input(x: np.ndarray | torch.Tensor, input_width: int, memory_n: int | None = None) -> torch.Tensor:
    """Validate one episode ``[T, input_width]`` with values in [0, 1]; return it as float32.

    Warns (does not fail) when more input steps carry data than memory has
    locations: the write head's shift wraps around and overwrites earlier rows.
    """
    array = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float32)
    t = torch.from_numpy(array if array.flags.writeable else array.copy())  # read-only arrays: torch warns
    if t.dim() != 2:
        raise ValueError(f"input must be [steps, {input_width}] (one episode), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError("input is an empty sequence: it needs at least one time step")
    if t.shape[1] != input_width:
        raise ValueError(f"input width must be {input_width}, got {t.shape[1]} (shape {tuple(t.shape)})")
    if not torch.isfinite(t).all():
        raise ValueError("input contains NaN or infinite values")
    if t.min() < 0 or t.max() > 1:
        raise ValueError(f"input values must lie in [0, 1], got min {t.min().item():g}, max {t.max().item():g}")
    if memory_n is not None:
        data_steps = int((t.abs().sum(dim=1) > 0).sum())
        if data_steps > memory_n:
            warnings.warn(
                f"{data_steps} input steps carry data but memory has only {memory_n} locations: "
                "the write head's shift wraps around and overwrites the earliest rows",
                stacklevel=3,
            )
    return t


# --------------------------------------------------------------------------- model


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat denormal floats (below ~1e-38) as zero inside the block, then turn that off again.

    Sharpened weightings and rows erased step after step reach such values, where
    this CPU's float arithmetic is many times slower: a traced length-20 copy episode
    took 34 ms without this and 22.5 ms with it. No weighting or memory value moves
    by more than 1e-38. Every NTM inference and training path runs inside it, so a
    re-run matches a full run bit for bit.
    """
    enabled = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if enabled:
            torch.set_flush_denormal(False)


@dataclass
class _State:
    memory: torch.Tensor  # [B, N, M]
    reads: torch.Tensor  # [B, R, M]
    weights: torch.Tensor  # [B, R + W, N], read heads first
    h: torch.Tensor
    c: torch.Tensor


class NTM(nn.Module):
    """NTM with an LSTM controller (section 3); see the module docstring for the step order."""

    family = "ntm"

    def __init__(self, config: NTMConfig) -> None:
        super().__init__()
        c = config
        if c.read_heads < 1 or c.write_heads < 1:
            raise ValueError("an NTM needs at least one read head and one write head")
        self.config = c
        self.controller = nn.LSTMCell(c.input_width + c.read_heads * c.memory_m, c.controller_size)
        self.read_params = nn.Linear(c.controller_size, c.read_heads * c.read_param_width)
        self.write_params = nn.Linear(c.controller_size, c.write_heads * c.write_param_width)
        self.output = nn.Linear(c.controller_size + c.read_heads * c.memory_m, c.output_width)
        self.init_reads = nn.Parameter(torch.randn(c.read_heads, c.memory_m) * 0.01)
        init_logits = torch.full((c.read_heads + c.write_heads, c.memory_n), -10.0)
        init_logits[:, 0] = 0.0
        self.init_weight_logits = nn.Parameter(init_logits)
        self.card: ModelCard | None = None  # set by load_from_card
        self.task: Any = None

    # -- one step ------------------------------------------------------------------------

    def initial_state(self, batch: int) -> _State:
        c = self.config
        memory = torch.full((batch, c.memory_n, c.memory_m), c.memory_init)
        reads = self.init_reads.expand(batch, -1, -1)
        weights = torch.softmax(self.init_weight_logits, dim=-1).expand(batch, -1, -1)
        zeros = torch.zeros(batch, c.controller_size)
        return _State(memory, reads, weights, zeros, zeros)

    def _head_params(self, raw: torch.Tensor) -> dict[str, torch.Tensor]:
        """Activate the heads' addressing outputs (section 3.3): raw ``[B, H, M + S + 3]``, all heads at once."""
        m, s = self.config.memory_m, self.config.shift_width
        key, beta, g, shift, gamma = torch.split(raw, [m, 1, 1, s, 1], dim=-1)
        return {
            "key": key,
            "beta": nnf.softplus(beta.squeeze(-1)),
            "g": torch.sigmoid(g.squeeze(-1)),
            "shift": torch.softmax(shift, dim=-1),
            "gamma": 1.0 + nnf.softplus(gamma.squeeze(-1)),
        }

    def _head_index(self, kind: str, index: int) -> int:
        """Position of a head in the stacked ``[B, H, ...]`` tensors: read heads first."""
        return index if kind == "read" else self.config.read_heads + index

    def _apply_overrides(
        self, params: dict[str, torch.Tensor], overrides: dict[tuple[str, int], dict[str, Any]]
    ) -> dict[str, torch.Tensor]:
        """``params`` with the overridden heads' values fixed (the rest as the controller emitted them)."""
        out = dict(params)
        for (kind, index), values in overrides.items():
            n = self._head_index(kind, index)
            for name, value in values.items():
                if out[name] is params[name]:
                    out[name] = params[name].clone()
                out[name][:, n] = torch.as_tensor(value, dtype=params[name].dtype)
        return out

    def step(
        self,
        x_t: torch.Tensor,
        state: _State,
        overrides: dict[tuple[str, int], dict[str, Any]] | None = None,
        record: dict[str, Any] | None = None,
    ) -> tuple[torch.Tensor, _State]:
        """One time step (the order in the module docstring); returns logits and the new state.

        Every head addresses the memory before this step's write, all heads in one
        batched call (the head is a batch dimension of the addressing functions);
        reads use it, then the write heads write in order. Pass a dict as ``record``
        to receive the step's intermediates (the tests compare them with the NumPy
        step); training passes none and builds nothing.
        """
        c = self.config
        batch = x_t.shape[0]
        h, cell = self.controller(torch.cat([x_t, state.reads.reshape(batch, -1)], dim=-1), (state.h, state.c))
        raw_read = self.read_params(h).view(batch, c.read_heads, c.read_param_width)
        raw_write = self.write_params(h).view(batch, c.write_heads, c.write_param_width)
        width = c.memory_m + c.shift_width + 3
        params = self._head_params(torch.cat([raw_read[..., :width], raw_write[..., :width]], dim=1))
        if overrides:
            params = self._apply_overrides(params, overrides)
        addr = address(state.memory.unsqueeze(1), params, state.weights)  # each stage [B, H, N]
        reads = addressing.read(state.memory.unsqueeze(1), addr.w[:, : c.read_heads])  # [B, R, M]
        erase, add = torch.split(raw_write[..., width:], [c.memory_m, c.memory_m], dim=-1)
        erase, add = torch.sigmoid(erase), torch.tanh(add)
        memory = state.memory
        for j in range(c.write_heads):
            memory = addressing.write(memory, addr.w[:, c.read_heads + j], erase[:, j], add[:, j])
        logits = self.output(torch.cat([h, reads.reshape(batch, -1)], dim=-1))
        if record is None:
            return logits, _State(memory, reads, addr.w, h, cell)
        record.update(
            {
                "h": h,
                "memory_before": state.memory,
                "memory_after": memory,
                "params": params,
                "addr": addr,
                "w_prev": state.weights,
                "reads": reads,
                "erase": erase,
                "add": add,
                "overridden": [self._head_index(kind, index) for kind, index in (overrides or {})],
            }
        )
        return logits, _State(memory, reads, addr.w, h, cell)

    # -- whole episodes --------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T, output_width]`` for a batch ``[B, T, input_width]`` (training path)."""
        state = self.initial_state(x.shape[0])
        logits = []
        for t in range(x.shape[1]):
            out, state = self.step(x[:, t], state)
            logits.append(out)
        return torch.stack(logits, dim=1)

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Output probabilities ``[B, T, output_width]`` for a batch, without a trace."""
        with torch.inference_mode(), flush_denormals():
            return torch.sigmoid(self(torch.as_tensor(x, dtype=torch.float32))).numpy()

    def run(
        self,
        x: np.ndarray | torch.Tensor,
        overrides: Override | Sequence[Override] | None = None,
        *,
        warn_wrap: bool = True,
    ) -> NTMTrace:
        """Run one episode ``x [T, input_width]`` and record every intermediate (:class:`NTMTrace`).

        ``overrides`` (an :class:`Override` or a list) fix head parameters at
        chosen steps; later memory, reads and outputs follow from them. The
        episode runs on the NumPy copy of this step (:mod:`memviz.ntm.fast`,
        about twice as fast at batch one; tests keep it equal to :meth:`step`).
        ``warn_wrap=False`` skips the warning that more data steps than memory rows
        make the write head wrap (a caller that tells the user itself).
        """
        xt = check_input(x, self.config.input_width, self.config.memory_n if warn_wrap else None).numpy()
        override_list = _as_override_list(overrides)
        self._check_overrides(override_list, xt.shape[0])
        with flush_denormals():
            rollout = NumpyNTM.of(self).rollout(xt, lambda t: _overrides_at(override_list, t))
        return self.build_trace(xt, rollout, override_list)

    def run_from(self, x: np.ndarray, start: int, state: NTMState, overrides: Sequence[Override] = ()) -> NTMTrace:
        """Steps ``start ..`` of ``run(x, overrides)``, from the state step ``start`` begins with.

        ``state`` comes from :meth:`states`; the result's arrays cover steps
        ``start`` to the end, equal to the same steps of a full run.
        """
        xt = check_input(x, self.config.input_width).numpy()
        override_list = _as_override_list(list(overrides))
        self._check_overrides(override_list, xt.shape[0])
        if not 0 <= start < xt.shape[0]:
            raise ValueError(f"start must be a step of the episode, 0..{xt.shape[0] - 1}, got {start}")
        if override_list and first_override_step(override_list) < start:
            raise ValueError(f"an override applies before step {start}: re-run from its step (or from 0) instead")
        with flush_denormals():
            rollout = NumpyNTM.of(self).rollout(xt, lambda t: _overrides_at(override_list, t), start, state)
        return self.build_trace(xt[start:], rollout, override_list)

    def states(self, x: np.ndarray) -> list[NTMState]:
        """The state (memory, reads, weightings, LSTM h and c) each step of the untouched episode starts from."""
        with flush_denormals():
            return NumpyNTM.of(self).states(np.asarray(x, dtype=np.float32))

    def _check_overrides(self, overrides: list[Override], steps: int) -> None:
        c = self.config
        for o in overrides:
            kind, index = o.kind_index
            count = c.read_heads if kind == "read" else c.write_heads
            if index >= count:
                raise ValueError(f"override names head {o.head} but this model has {count} {kind} head(s)")
            if o.step is not None and o.step >= steps:
                raise ValueError(f"override step {o.step} is past the episode's last step {steps - 1}")
            if o.shift is not None and len(o.shift) != c.shift_width:
                raise ValueError(f"shift override needs {c.shift_width} weights (offsets -R..+R), got {len(o.shift)}")
            if o.key is not None and len(o.key) != c.memory_m:
                raise ValueError(f"key override needs {c.memory_m} numbers (memory width), got {len(o.key)}")

    def build_trace(self, x: np.ndarray, rollout: Rollout, overrides: list[Override]) -> NTMTrace:
        """The :class:`NTMTrace` of a rollout (per-head arrays split into one :class:`HeadTrace` each)."""
        c = self.config
        heads: list[HeadTrace] = []
        for n in range(c.read_heads + c.write_heads):
            fields = {name: getattr(rollout, name)[:, n] for name in (*PARAMS, "w_prev", *STAGES, "overridden")}
            if n < c.read_heads:
                heads.append(HeadTrace(name=f"read{n}", read_vector=rollout.reads[:, n], **fields))
            else:
                j = n - c.read_heads
                heads.append(HeadTrace(name=f"write{j}", erase=rollout.erase[:, j], add=rollout.add[:, j], **fields))
        return NTMTrace(
            inputs=np.asarray(x, dtype=np.float32),
            outputs=sigmoid(rollout.logits),
            logits=rollout.logits,
            controller_output=rollout.h,
            read=heads[: c.read_heads],
            write=heads[c.read_heads :],
            read_vectors=rollout.reads,
            memory_before=rollout.memory_before,
            memory_after=rollout.memory_after,
            overrides=overrides,
        )


def address(memory: torch.Tensor, params: dict[str, torch.Tensor], w_prev: torch.Tensor) -> addressing.AddressingTrace:
    """The four addressing stages of section 3.3 (eqs. 5-9), straight from :mod:`memviz.addressing`.

    Same as :func:`memviz.addressing.address` minus its input clean-up: here
    ``w_prev`` and ``shift`` are already distributions (softmax outputs, learned
    initial weightings, or normalised overrides), and skipping the clean-up
    keeps the training step short.
    """
    similarity = addressing.cosine_similarity(memory, params["key"])
    w_c = addressing.content_focus(similarity, params["beta"])
    w_g = addressing.interpolate(w_c, w_prev, params["g"])
    w_s = addressing.circular_shift(w_g, params["shift"])
    w = addressing.sharpen(w_s, params["gamma"])
    return addressing.AddressingTrace(similarity=similarity, w_c=w_c, w_g=w_g, w_s=w_s, w=w)


def first_override_step(overrides: Sequence[Override]) -> int:
    """The earliest step any override touches (0 when one applies at every step)."""
    return min((0 if o.step is None else int(o.step) for o in overrides), default=0)


def _overrides_at(overrides: list[Override], t: int) -> dict[tuple[str, int], dict[str, Any]]:
    """The parameters fixed at step ``t``, by head; later overrides win on conflicts."""
    fixed: dict[tuple[str, int], dict[str, Any]] = {}
    for o in overrides:
        if o.applies_at(t):
            fixed.setdefault(o.kind_index, {}).update(o.values())
    return fixed


class LSTMBaseline(nn.Module):
    """A stacked LSTM with sigmoid outputs, the baseline of Graves et al. 2014 section 4."""

    family = "lstm"

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(config.input_width, config.hidden_size, num_layers=config.layers, batch_first=True)
        self.output = nn.Linear(config.hidden_size, config.output_width)
        self.card: ModelCard | None = None  # set by load_from_card
        self.task: Any = None

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T, output_width]`` for a batch ``[B, T, input_width]``."""
        return self.output(self.hidden(x))

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Output probabilities ``[B, T, output_width]`` for a batch."""
        with torch.inference_mode():
            return torch.sigmoid(self(torch.as_tensor(x, dtype=torch.float32))).numpy()

    def run(self, x: np.ndarray | torch.Tensor, overrides: None = None) -> LSTMTrace:
        """Run one episode ``x [T, input_width]``; an LSTM has no heads, so no overrides."""
        if overrides:
            raise ValueError("the LSTM baseline has no memory heads to override")
        xt = check_input(x, self.config.input_width)
        with torch.inference_mode():
            hidden = self.hidden(xt[None])[0]
            logits = self.output(hidden)
        return LSTMTrace(
            inputs=xt.numpy(),
            outputs=torch.sigmoid(logits).numpy().astype(np.float32),
            logits=logits.numpy().astype(np.float32),
            hidden=hidden.numpy().astype(np.float32),
        )


# --------------------------------------------------------------------------- building and loading


def build_model(family: str, architecture: dict[str, Any]) -> NTM | LSTMBaseline:
    """A fresh model of a family (``"ntm"`` or ``"lstm"``) from its card's architecture."""
    if family == "ntm":
        return NTM(NTMConfig(**architecture))
    if family == "lstm":
        return LSTMBaseline(LSTMConfig(**architecture))
    raise ValueError(f"unknown family {family!r}; expected 'ntm' or 'lstm'")


def architecture_of(model: NTM | LSTMBaseline) -> dict[str, Any]:
    """The architecture dict written into a card."""
    return asdict(model.config)


def save_state(model: nn.Module, weights_path: Path, dtype: torch.dtype = torch.float32) -> None:
    """Write the weights (only) as safetensors, in ``dtype``."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    Path(weights_path).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(weights_path))


def load_from_card(card: ModelCard, weights_path: Path) -> NTM | LSTMBaseline:
    """Registry loader (memviz.registry.FAMILIES): build the card's model and load its weights.

    The model keeps its card (``model.card``, a :class:`memviz.registry.ModelCard`) and
    its task (``model.task``, e.g. a :class:`memviz.tasks.copy.CopyTask` whose
    ``sample``/``encode`` make inputs).
    """
    try:
        model = build_model(card.family, card.config)
    except (KeyError, TypeError, ValueError) as exc:
        raise PretrainedError(
            f"card for {card.name!r}: field 'config' is not a usable architecture ({exc}); {regenerate(card.name)}"
        ) from exc
    load_weights(model, Path(weights_path), card.name)
    model.eval()
    model.card = card
    model.task = make_task(card.task)
    return model
