"""The NTM's inference step in NumPy: what :meth:`memviz.ntm.model.NTM.run` traces.

Same equations and step order as :class:`memviz.ntm.model.NTM` (Graves, Wayne &
Danihelka 2014: controller section 3.4, heads section 3.3 eqs. 5-9, read and
write section 3.1-3.2 eqs. 2-4), on float32 arrays, one episode at a time.

Why a second implementation of the step: training and batched prediction need
torch, but a traced episode is a loop of batch-one steps, and at batch one
torch spends ~8 µs dispatching each of the ~60 tiny operations of a step. The
same step in NumPy takes about half the time, and an intervention pays it once
per step after the overridden one, every time a knob moves. The two are kept
equal by tests/test_ntm.py (every trace field of every shipped model, with and
without overrides, against the torch step).

All heads address at once: per-head arrays are ``[H, ...]`` with the read
heads first, as in :class:`memviz.ntm.model.NTM`.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
import torch

from memviz.addressing import COSINE_EPS, shift_offsets

TINY = float(np.finfo(np.float32).tiny)
"""Added inside the log of the sharpening step, as :func:`memviz.addressing.sharpen` does."""

Fixed = dict[tuple[str, int], dict[str, Any]]
"""Head parameters fixed at one step: ``{("write", 0): {"gamma": 5.0}}``."""

_COPIES: weakref.WeakKeyDictionary[Any, tuple[tuple, NumpyNTM]] = weakref.WeakKeyDictionary()
"""Each model's NumPy copy with the weights' fingerprint; outside the model, so pickling it carries no copy."""


# --------------------------------------------------------------------------- activations


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), written as (1 + tanh(x / 2)) / 2: no overflow for large -x, and a fast kernel."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x), the activation of beta and of gamma - 1."""
    return np.logaddexp(0.0, x)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the max so that large logits are safe."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- addressing (section 3.3)


def cosine_similarity(memory: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """K(k, M_i) (eq. 6) of every key ``[H, M]`` with every row of ``memory [N, M]``: ``[H, N]``."""
    row_norms = np.sqrt(np.einsum("nm,nm->n", memory, memory))
    key_norms = np.sqrt(np.einsum("hm,hm->h", keys, keys))
    return (keys @ memory.T) / (key_norms[:, None] * row_norms[None, :] + COSINE_EPS)


def content_focus(similarity: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """w_c = softmax(beta K) (eq. 5), one beta per head."""
    return softmax(beta[:, None] * similarity)


def interpolate(w_content: np.ndarray, w_prev: np.ndarray, g: np.ndarray) -> np.ndarray:
    """w_g = g w_c + (1 - g) w_prev (eq. 7), one gate per head."""
    return g[:, None] * w_content + (1.0 - g[:, None]) * w_prev


def circular_shift(w_gated: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """w_s(i) = sum_j w_g(j) s(i - j mod N) (eq. 8); ``shift[:, k]`` weighs offset ``k - R``.

    Gathers, for each location i, the locations ``i - offset`` with the index
    table of :func:`memviz.addressing.circular_shift`, then weighs them by s.
    """
    sources = shift_sources(w_gated.shape[-1], shift.shape[-1])  # [N, 2R+1]
    return (w_gated.take(sources, axis=-1) @ shift[:, :, None])[..., 0]


@functools.lru_cache(maxsize=64)
def shift_sources(n: int, shift_width: int) -> np.ndarray:
    """Entry (i, k) is the location ``i - offset_k (mod n)`` whose weight offset k moves to i."""
    return (np.arange(n)[:, None] - np.array(shift_offsets(shift_width))[None, :]) % n


def sharpen(w_shifted: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """w = w_s^gamma / sum w_s^gamma (eq. 9), as a softmax of gamma log w_s."""
    return softmax(gamma[:, None] * np.log(w_shifted + TINY))


def read(memory: np.ndarray, w: np.ndarray) -> np.ndarray:
    """r = sum_i w(i) M_i (eq. 2) for each read weighting ``[R, N]``: ``[R, M]``."""
    return w @ memory


def write(memory: np.ndarray, w: np.ndarray, erase: np.ndarray, add: np.ndarray) -> np.ndarray:
    """M_i (1 - w(i) e) + w(i) a (eqs. 3-4) for one write head."""
    w_col = w[:, None]
    return memory * (1.0 - w_col * erase) + w_col * add


def lstm_cell(gates: np.ndarray, c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The controller's LSTM update (section 3.4) from its gate pre-activations in torch's order i, f, g, o.

    c = sigma(f) c_prev + sigma(i) tanh(g), h = sigma(o) tanh(c); returns (h, c).
    """
    size = c_prev.shape[-1]
    squashed = sigmoid(gates)  # the i, f and o gates in one call (the g quarter is unused)
    c = squashed[size : 2 * size] * c_prev + squashed[:size] * np.tanh(gates[2 * size : 3 * size])
    return squashed[3 * size :] * np.tanh(c), c


# --------------------------------------------------------------------------- the step


class NTMState(NamedTuple):
    """What one step hands to the next: memory ``[N, M]``, reads ``[R, M]``, weightings ``[H, N]``, LSTM h and c."""

    memory: np.ndarray
    reads: np.ndarray
    weights: np.ndarray
    h: np.ndarray
    c: np.ndarray


@dataclass
class Rollout:
    """Every intermediate of steps ``start .. start + T - 1``, time first (per-head fields ``[T, H, ...]``)."""

    logits: np.ndarray
    h: np.ndarray
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
    reads: np.ndarray
    erase: np.ndarray
    add: np.ndarray
    memory_before: np.ndarray
    memory_after: np.ndarray
    overridden: np.ndarray

    @classmethod
    def empty(cls, steps: int, shapes: dict[str, tuple[int, ...]]) -> Rollout:
        arrays = {f.name: np.zeros((steps, *shapes[f.name]), dtype=np.float32) for f in fields(cls)}
        arrays["overridden"] = np.zeros((steps, *shapes["overridden"]), dtype=bool)
        return cls(**arrays)


class NumpyNTM:
    """A trained :class:`memviz.ntm.model.NTM`'s weights as float32 arrays, and its step.

    Get one with :meth:`of`, which keeps it on the model until a weight changes.
    """

    @classmethod
    def of(cls, model: Any) -> NumpyNTM:
        """The model's NumPy copy, rebuilt whenever a weight changed (training, loading, a new tensor).

        Torch counts the in-place changes of every tensor (``_version``); the copy
        remembers the counts and storage addresses it was built from. Edits made
        through ``param.data`` bypass that counter: after such an edit call
        :meth:`forget`. Weights created under ``torch.inference_mode`` have no
        counter, so their copy is rebuilt on every call.
        """
        params = list(model.parameters())
        if any(p.is_inference() for p in params):
            return cls(model)
        fingerprint = tuple((p.data_ptr(), p._version) for p in params)
        cached = _COPIES.get(model)
        if cached is None or cached[0] != fingerprint:
            cached = _COPIES[model] = (fingerprint, cls(model))
        return cached[1]

    @staticmethod
    def forget(model: Any) -> None:
        """Drop the model's cached copy (after editing weights through ``param.data``)."""
        _COPIES.pop(model, None)

    def __init__(self, model: Any) -> None:
        c = self.config = model.config
        p = {name: t.detach().cpu().numpy().astype(np.float32) for name, t in model.state_dict().items()}
        # LSTMCell (section 3.4): gates = [x, r, h] W + b in torch's order i, f, g, o
        self.w_controller = np.concatenate([p["controller.weight_ih"], p["controller.weight_hh"]], axis=1).T.copy()
        self.b_controller = p["controller.bias_ih"] + p["controller.bias_hh"]
        self.w_heads = np.concatenate([p["read_params.weight"], p["write_params.weight"]], axis=0).T.copy()
        self.b_heads = np.concatenate([p["read_params.bias"], p["write_params.bias"]])
        self.w_output, self.b_output = p["output.weight"].T.copy(), p["output.bias"]
        self.heads = c.read_heads + c.write_heads
        self.address_width = c.memory_m + c.shift_width + 3  # key, beta, g, shift, gamma
        with torch.inference_mode():
            start = model.initial_state(1)
        self.start = _read_only(
            NTMState(**{f: getattr(start, f)[0].detach().cpu().numpy().astype(np.float32) for f in NTMState._fields})
        )

    def head_index(self, kind: str, index: int) -> int:
        """Row of head ``(kind, index)`` in the per-head arrays: read heads first."""
        return index if kind == "read" else self.config.read_heads + index

    def head_outputs(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every head's raw addressing outputs ``[H, M + S + 3]`` and the write heads' erase/add part ``[W, 2M]``."""
        c = self.config
        raw = h @ self.w_heads + self.b_heads
        split = c.read_heads * c.read_param_width
        read_raw = raw[:split].reshape(c.read_heads, c.read_param_width)
        write_raw = raw[split:].reshape(c.write_heads, c.write_param_width)
        addressing = np.concatenate([read_raw, write_raw[:, : self.address_width]])
        return addressing, write_raw[:, self.address_width :]

    def head_params(self, raw: np.ndarray, fixed: Fixed) -> dict[str, np.ndarray]:
        """Activate key, beta, g, shift, gamma (section 3.3), then fix the overridden ones."""
        m, s = self.config.memory_m, self.config.shift_width
        params = {
            "key": raw[:, :m],
            "beta": softplus(raw[:, m]),
            "g": sigmoid(raw[:, m + 1]),
            "shift": softmax(raw[:, m + 2 : m + 2 + s]),
            "gamma": 1.0 + softplus(raw[:, m + 2 + s]),
        }
        for (kind, index), values in fixed.items():
            n = self.head_index(kind, index)
            for name, value in values.items():
                params[name][n] = np.asarray(value, dtype=np.float32)
        return params

    def step(self, x_t: np.ndarray, state: NTMState, fixed: Fixed, out: Rollout, t: int) -> NTMState:
        """One time step in the order of :mod:`memviz.ntm`; writes every intermediate into ``out[t]``."""
        c = self.config
        # 1. controller
        gates = np.concatenate([x_t, state.reads.ravel(), state.h]) @ self.w_controller + self.b_controller
        h, cell = lstm_cell(gates, state.c)
        # 2. head parameters (overrides replace them here)
        raw, erase_add = self.head_outputs(h)
        p = self.head_params(raw, fixed)
        # 3-4. every head addresses the memory before this step's write
        similarity = cosine_similarity(state.memory, p["key"])
        w_c = content_focus(similarity, p["beta"])
        w_g = interpolate(w_c, state.weights, p["g"])
        w_s = circular_shift(w_g, p["shift"])
        w = sharpen(w_s, p["gamma"])
        reads = read(state.memory, w[: c.read_heads])
        erase, add = sigmoid(erase_add[:, : c.memory_m]), np.tanh(erase_add[:, c.memory_m :])
        memory = state.memory
        for j in range(c.write_heads):
            memory = write(memory, w[c.read_heads + j], erase[j], add[j])
        # 5. output
        logits = np.concatenate([h, reads.ravel()]) @ self.w_output + self.b_output

        record = {"logits": logits, "h": h, "w_prev": state.weights, "reads": reads, "erase": erase, "add": add}
        record.update(p, similarity=similarity, w_c=w_c, w_g=w_g, w_s=w_s, w=w)
        record.update(memory_before=state.memory, memory_after=memory)
        for name, value in record.items():
            getattr(out, name)[t] = value
        for kind, index in fixed:
            out.overridden[t, self.head_index(kind, index)] = True
        return NTMState(memory, reads, w, h, cell)

    def rollout(
        self, x: np.ndarray, fixed_at: Callable[[int], Fixed], start: int = 0, state: NTMState | None = None
    ) -> Rollout:
        """Steps ``start .. T - 1`` of the episode ``x [T, input_width]`` from ``state`` (the initial state)."""
        state = self.start if state is None else state
        out = Rollout.empty(x.shape[0] - start, self.shapes())
        for t in range(start, x.shape[0]):
            state = self.step(x[t], state, fixed_at(t), out, t - start)
        return out

    def states(self, x: np.ndarray) -> list[NTMState]:
        """The state each step of the untouched episode starts from (``states[t]`` goes into step t)."""
        states, state = [], self.start
        scratch = Rollout.empty(1, self.shapes())
        for t in range(x.shape[0]):
            states.append(state)
            state = _read_only(self.step(x[t], state, {}, scratch, 0))
        return states

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-step shape of each :class:`Rollout` field."""
        c, heads = self.config, self.heads
        n, m = c.memory_n, c.memory_m
        per_head = {name: (heads, n) for name in ("w_prev", "similarity", "w_c", "w_g", "w_s", "w")}
        return {
            "logits": (c.output_width,),
            "h": (c.controller_size,),
            "key": (heads, m),
            "beta": (heads,),
            "g": (heads,),
            "shift": (heads, c.shift_width),
            "gamma": (heads,),
            **per_head,
            "reads": (c.read_heads, m),
            "erase": (c.write_heads, m),
            "add": (c.write_heads, m),
            "memory_before": (n, m),
            "memory_after": (n, m),
            "overridden": (heads,),
        }


def _read_only(state: NTMState) -> NTMState:
    """The state with its arrays locked: states are shared (cached per episode) and must never change."""
    for array in state:
        array.setflags(write=False)
    return state
