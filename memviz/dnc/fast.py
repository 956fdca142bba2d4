"""The DNC's inference step in NumPy, batch one: what :meth:`memviz.dnc.model.DNC.run` traces.

Same equations and step order as :meth:`memviz.dnc.model.DNC.step` (Graves et
al. 2016, Nature 538:471, Methods; see that module's docstring), for one
episode. Why a second implementation: at batch one torch spends microseconds
dispatching each of the step's ~80 tiny operations, and a traced episode (and
every intervention re-run) is a loop of such steps; NumPy does the same work in
a fraction of the time.

It computes in float64 (:data:`COMPUTE`: weights cast once, state and every
intermediate), as does the torch reference trace (:meth:`DNC.run_torch
<memviz.dnc.model.DNC.run_torch>`); a trace stores float32. In float32 the two
differed on the first dnc-multi-copy (before deallocation) by up to 2.5e-3 on an output probability: read keys
of strength 14-25 over nearly empty slots, whose directions rest on write
weights of 1e-8..1e-7, amplify last-bit differences (model.py's docstring,
"Precision"). In float64 they agree to the stored float32 values' rounding
(tests/test_dnc_model.py and tests/test_dnc_pretrained.py: within 2e-5 on every
trace field, with and without overrides, on random configurations with 1-3 read
heads and on every shipped model).
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from memviz.addressing import COSINE_EPS
from memviz.dnc.addressing import ALLOCATION_EPS, SORT_RESOLUTION
from memviz.dnc.model import TRACE_SHAPES, DNCConfig, Fixed, trace_shapes

INTERFACE_ORDER = (
    "read_keys",
    "read_strengths",
    "write_key",
    "write_strength",
    "erase",
    "write_vector",
    "free_gates",
    "allocation_gate",
    "write_gate",
    "read_modes",
)
"""The interface vector's parts in their order (split_interface in model.py)."""

INTERFACE_FIELDS = (
    "write_key",
    "write_strength",
    "allocation_gate",
    "write_gate",
    "erase",
    "write_vector",
    "free_gates",
    "read_keys",
    "read_strengths",
    "read_modes",
)

COMPUTE = np.float64
"""The step's arithmetic (weights, state, intermediates); traces store float32. See the module docstring."""

_COPIES: weakref.WeakKeyDictionary[Any, tuple[tuple, FastDNC]] = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- activations


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) as (1 + tanh(x / 2)) / 2: no overflow."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def oneplus(x: np.ndarray) -> np.ndarray:
    """1 + log(1 + e^x) (Methods, "Interface parameters")."""
    return 1.0 + np.logaddexp(0.0, x)


def softmax(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Max-shifted softmax over the last axis (into ``out`` if given, which may be ``x``)."""
    e = np.subtract(x, np.maximum.reduce(x, axis=-1, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=-1, keepdims=True)
    return e


# --------------------------------------------------------------------------- addressing (Methods)


def bounded_softmax(scores: np.ndarray, bound: np.ndarray | float) -> np.ndarray:
    """Softmax over the last axis, in place, of scores known to be at most ``bound`` (per row).

    Content scores are strength x cosine, so the strength bounds them: shifting by it instead of
    the row's maximum saves a reduction per lookup (this step's most frequent cost). If a whole
    row underflows (every cosine near -1 at a strength in the hundreds), it is redone with the maximum.
    """
    np.subtract(scores, bound, out=scores)
    e = np.exp(scores)
    total = np.add.reduce(e, axis=-1, keepdims=True)
    if not total.all():
        return softmax(scores, out=scores)
    return np.divide(e, total, out=scores)


def row_norms(memory: np.ndarray) -> np.ndarray:
    """|M_i| for every slot."""
    return np.sqrt(np.add.reduce(memory * memory, axis=1))


def content_weighting(
    memory: np.ndarray,
    keys: np.ndarray,
    strengths: np.ndarray,
    norms: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """softmax_i(beta cos(k, M_i)) for keys ``[H, W]`` and strengths ``[H]``: ``[H, N]`` (into ``out`` if given).

    ``norms``: the rows' norms if already known (each step reuses the previous step's).
    """
    row_norms_ = row_norms(memory) if norms is None else norms
    key_norms = row_norms(keys)
    scores = np.matmul(keys, memory.T, out=out)  # then cosine similarity, times the strength, in place
    scores /= key_norms[:, None] * row_norms_ + COSINE_EPS
    column = strengths[:, None]
    scores *= column
    return bounded_softmax(scores, column)


def write_content_weighting(
    memory: np.ndarray, key: np.ndarray, strength: float, norms: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """:func:`content_weighting` for the one write key ``[W]``: ``[N]`` into ``out`` (fewer, 1-D operations)."""
    scores = np.matmul(memory, key, out=out)
    scores /= math.sqrt(key @ key) * norms + COSINE_EPS
    scores *= strength
    return bounded_softmax(scores, strength)


def retention(free_gates: np.ndarray, read_weights_prev: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """psi = prod_i (1 - f^i w^{r,i}_{t-1}) (into ``out`` if given)."""
    return np.multiply.reduce(1.0 - free_gates[:, None] * read_weights_prev, axis=0, out=out)


def usage(usage_prev: np.ndarray, write_weights_prev: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """u_t = (u + w - u o w) o psi."""
    return (usage_prev + write_weights_prev - usage_prev * write_weights_prev) * psi


def allocation(u: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i] with u clamped; returns (a, phi) (a into ``out`` if given)."""
    clamped = ALLOCATION_EPS + (1.0 - ALLOCATION_EPS) * u
    # by rounded usage, then by slot index (a stable sort): the order torch's reference computes
    phi = np.argsort(np.rint(clamped * SORT_RESOLUTION), kind="stable")
    s = clamped[phi]
    sorted_allocation = 1.0 - s
    sorted_allocation[1:] *= np.multiply.accumulate(s)[:-1]  # times the usages of the slots before it
    a = np.empty_like(s) if out is None else out
    a[phi] = sorted_allocation
    return a, phi


def link(
    link_prev: np.ndarray, precedence_prev: np.ndarray, w: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """L[i, j] = (1 - w[i] - w[j]) L_prev[i, j] + w[i] p_prev[j], zero diagonal (into ``out`` if given)."""
    w_col = w[:, None]
    new = np.subtract(1.0 - w_col, w, out=out)
    new *= link_prev
    new += w_col * precedence_prev
    new.flat[:: new.shape[0] + 1] = 0.0
    return new


GATE_SCALE = 0.5
"""The LSTM's i, f and o pre-activations are kept halved (weights and bias scaled once; exact, a power of 2):
sigmoid(x) = (1 + tanh(x / 2)) / 2, so one tanh over all four gates serves the sigmoids and g's tanh."""


def lstm_cell(
    half_gates: np.ndarray, c_prev: np.ndarray, h_out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The controller's LSTM update in torch's gate order i, f, g, o; returns (h, c) (h into ``h_out``).

    ``half_gates``: the pre-activations with i, f and o halved (:data:`GATE_SCALE`), g as it is.
    """
    size = c_prev.shape[-1]
    t = np.tanh(half_gates)
    squashed = 0.5 + 0.5 * t  # sigmoid of i, f, o (g's entries unused)
    c = squashed[size : 2 * size] * c_prev + squashed[:size] * t[2 * size : 3 * size]
    return np.multiply(squashed[3 * size :], np.tanh(c), out=h_out), c


# --------------------------------------------------------------------------- the step


class DNCState(NamedTuple):
    """What one step hands to the next (one episode, float64, read-only)."""

    memory: np.ndarray  # [N, W]
    usage: np.ndarray  # [N]
    link: np.ndarray  # [N, N]
    precedence: np.ndarray  # [N]
    read_weights: np.ndarray  # [R, N]
    write_weights: np.ndarray  # [N]
    reads: np.ndarray  # [R, W]
    h: np.ndarray
    c: np.ndarray
    norms: np.ndarray  # [N], |M_i| of this memory (so the next step's write lookup need not recompute them)


class FastDNC:
    """A DNC's weights as float64 arrays, and its batch-one step. Get one with :meth:`of`."""

    @classmethod
    def of(cls, model: Any) -> FastDNC:
        """The model's NumPy copy, rebuilt whenever a weight changed (torch's in-place version counters)."""
        params = list(model.parameters())
        if any(p.is_inference() for p in params):
            return cls(model)
        fingerprint = tuple((p.data_ptr(), p._version) for p in params)
        cached = _COPIES.get(model)
        if cached is None or cached[0] != fingerprint:
            cached = _COPIES[model] = (fingerprint, cls(model))
        return cached[1]

    def __init__(self, model: Any) -> None:
        c: DNCConfig = model.config
        self.config = c
        p = {k: v.detach().cpu().numpy().astype(COMPUTE) for k, v in model.state_dict().items()}
        self.w_controller = np.concatenate([p["controller.weight_ih"], p["controller.weight_hh"]], axis=1).T.copy()
        self.b_controller = p["controller.bias_ih"] + p["controller.bias_hh"]
        size = c.controller_size
        for part in (slice(0, 2 * size), slice(3 * size, 4 * size)):  # i, f and o halved (lstm_cell)
            self.w_controller[:, part] *= GATE_SCALE
            self.b_controller[part] *= GATE_SCALE
        self.w_interface, self.b_interface = p["interface.weight"].T.copy(), p["interface.bias"]
        self.w_output, self.b_output = p["output.weight"].T.copy(), p["output.bias"]
        n, r, w = c.memory_n, c.read_heads, c.memory_w
        self.start = _read_only(
            DNCState(
                memory=np.full((n, w), c.memory_init, dtype=COMPUTE),
                usage=np.zeros(n, dtype=COMPUTE),
                link=np.zeros((n, n), dtype=COMPUTE),
                precedence=np.zeros(n, dtype=COMPUTE),
                read_weights=np.full((r, n), c.weight_init, dtype=COMPUTE),
                write_weights=np.full(n, c.weight_init, dtype=COMPUTE),
                reads=np.zeros((r, w), dtype=COMPUTE),
                h=np.zeros(c.controller_size, dtype=COMPUTE),
                c=np.zeros(c.controller_size, dtype=COMPUTE),
                norms=row_norms(np.full((n, w), c.memory_init, dtype=COMPUTE)),
            )
        )
        self.shapes = trace_shapes(c)
        bounds = np.cumsum([0, r * w, r, w, 1, w, w, r, 1, 1, 3 * r]).tolist()
        self.parts = dict(zip(INTERFACE_ORDER, itertools.pairwise(bounds), strict=True))
        self.interface_width = bounds[-1]
        self.spans = [(name, slice(*part)) for name, part in self.parts.items()]
        rs, ws = self.parts["read_strengths"], self.parts["write_strength"]
        self.strength_index = np.array([*range(*rs), ws[0]])  # read strengths, then the write strength
        self.sigmoid_spans = [  # erase; free gates, allocation gate, write gate (adjacent)
            slice(*self.parts["erase"]),
            slice(self.parts["free_gates"][0], self.parts["write_gate"][1]),
        ]

    def interface(self, h: np.ndarray, fixed: Fixed, row: np.ndarray) -> dict[str, np.ndarray]:
        """The activated interface vector (Methods, "Interface parameters"), overrides applied, computed into ``row``.

        Returns views of ``row`` by name (a gate or the write strength as a 1-element view); the
        trace's interface fields are views of these rows (:meth:`empty`).
        """
        np.matmul(h, self.w_interface, out=row)
        row += self.b_interface
        squashed = sigmoid(row)  # one call over the whole vector; the gates take their parts
        for span in self.sigmoid_spans:
            row[span] = squashed[span]
        row[self.strength_index] = oneplus(row[self.strength_index])  # logaddexp is slow: strengths only
        p = {name: row[span] for name, span in self.spans}
        p["read_keys"] = p["read_keys"].reshape(self.config.read_heads, self.config.memory_w)
        modes = p["read_modes"] = p["read_modes"].reshape(self.config.read_heads, 3)
        modes[:] = softmax(modes)
        for (kind, index), values in fixed.items():
            for name, value in values.items():
                if kind == "write":
                    p[name if name in ("allocation_gate", "write_gate") else "write_strength"][0] = value
                else:
                    target = {"free_gate": "free_gates", "modes": "read_modes"}.get(name, "read_strengths")
                    p[target][index] = value
        return p

    def view(self, rows: np.ndarray, name: str) -> np.ndarray:
        """Interface field ``name`` of rows ``[T, I]`` as a view in its trace shape ``[T, ...]``."""
        start, stop = self.parts[name]
        if stop - start == 1 and TRACE_SHAPES[name] == "":
            return rows[:, start]  # a gate or the write strength: one number per step
        return rows[:, start:stop].reshape(rows.shape[0], *self.shapes[name])

    def step(self, x_t: np.ndarray, s: DNCState, fixed: Fixed, out: dict[str, np.ndarray], t: int) -> DNCState:
        """One time step in the order of :mod:`memviz.dnc.model`; writes every intermediate into ``out[..][t]``.

        The arrays the next step starts from are computed straight into their
        rows of ``out`` (no copy): the state returned views ``out``.
        """
        gates = np.concatenate([x_t, s.reads.ravel(), s.h]) @ self.w_controller + self.b_controller
        h, cell = lstm_cell(gates, s.c, out["controller_output"][t])
        p = self.interface(h, fixed, out["interface"][t])
        psi = retention(p["free_gates"], s.read_weights, out["retention"][t])
        u = np.multiply(s.usage + s.write_weights - s.usage * s.write_weights, psi, out=out["usage"][t])
        alloc, phi = allocation(u, out["allocation"][t])
        memory_prev, norms_prev = s.memory, s.norms
        if self.config.deallocate:  # freed slots are erased in proportion (psi >= 0 scales the norms alike)
            memory_prev, norms_prev = s.memory * psi[:, None], s.norms * psi
        c_w = write_content_weighting(
            memory_prev, p["write_key"], p["write_strength"][0], norms_prev, out["write_content"][t]
        )
        g_a, g_w = float(p["allocation_gate"][0]), float(p["write_gate"][0])
        w_w = np.multiply(g_a * alloc + (1.0 - g_a) * c_w, g_w, out=out["write_weights"][t])
        w_col = w_w[:, None]
        memory = np.add(memory_prev * (1.0 - w_col * p["erase"]), w_col * p["write_vector"], out=out["memory_after"][t])
        lk = link(s.link, s.precedence, w_w, out["link"][t])
        prec = np.add((1.0 - float(np.add.reduce(w_w))) * s.precedence, w_w, out=out["precedence"][t])
        directions = out["directions"][t]  # [R, 3, N]: backward, content, forward (the read modes' order)
        np.matmul(s.read_weights, lk, out=directions[:, 0])
        norms = row_norms(memory)
        content_weighting(memory, p["read_keys"], p["read_strengths"], norms, directions[:, 1])
        np.matmul(s.read_weights, lk.T, out=directions[:, 2])
        # w^r = pi[0] b + pi[1] c + pi[2] f for every head at once: [R, 1, 3] @ [R, 3, N]
        w_r = np.matmul(p["read_modes"][:, None, :], directions, out=out["read_weights"][t][:, None, :])[:, 0]
        reads = np.matmul(w_r, memory, out=out["read_vectors"][t])
        # usage_before and memory_before are filled in by rollout (the previous step's usage and memory)
        out["free_list"][t] = phi
        for kind, index in fixed:
            out["overridden"][t, index if kind == "read" else self.config.read_heads] = True
        return DNCState(memory, u, lk, prec, w_r, w_w, reads, h, cell, norms)

    def step_record(self, x_t: np.ndarray, state: DNCState, fixed: Fixed) -> tuple[dict[str, np.ndarray], DNCState]:
        """One step from ``state`` with every trace field of that step, stored as float32 like a trace's
        (the per-step check against torch)."""
        out = self.empty(1)
        new = self.step(x_t, state, fixed, out, 0)
        del out["interface"], out["directions"]
        out["usage_before"][0], out["memory_before"][0] = state.usage, state.memory
        out["logits"][0] = np.concatenate([new.h, new.reads.ravel()]) @ self.w_output + self.b_output
        return {k: v[0] if k == "overridden" else v[0].astype(np.float32) for k, v in out.items()}, new

    def empty(self, steps: int) -> dict[str, np.ndarray]:
        """Zeroed float64 rows for every trace field (the next step's state views them; a trace casts to float32).

        Two blocks hold several fields each, as views: ``interface`` (the activated interface vector
        of each step: the gates, keys, strengths, modes...) and ``directions`` (each read head's
        backward, content and forward weightings, stacked as the read modes weigh them).
        """
        c = self.config
        out = {"interface": np.zeros((steps, self.interface_width), dtype=COMPUTE)}
        out["directions"] = np.zeros((steps, c.read_heads, 3, c.memory_n), dtype=COMPUTE)
        for name in INTERFACE_FIELDS:
            out[name] = self.view(out["interface"], name)
        for k, name in enumerate(("backward", "read_content", "forward")):
            out[name] = out["directions"][:, :, k]
        for name in TRACE_SHAPES:
            if name not in out:
                out[name] = np.zeros((steps, *self.shapes[name]), dtype=COMPUTE)
        out["overridden"] = np.zeros((steps, c.read_heads + 1), dtype=bool)
        return out

    def rollout(
        self, x: np.ndarray, fixed_at: Callable[[int], Fixed], start: int = 0, state: DNCState | None = None
    ) -> dict[str, np.ndarray]:
        """Steps ``start .. T - 1`` of the episode ``x [T, input_width]`` from ``state`` (default: the start)."""
        state = self.start if state is None else state
        out = self.empty(x.shape[0] - start)
        out["usage_before"][0], out["memory_before"][0] = state.usage, state.memory
        x = np.asarray(x, dtype=COMPUTE)  # once, not in every step's concatenation
        for t in range(start, x.shape[0]):
            state = self.step(x[t], state, fixed_at(t), out, t - start)
        out["usage_before"][1:], out["memory_before"][1:] = out["usage"][:-1], out["memory_after"][:-1]
        steps = out["read_vectors"].shape[0]
        # the output layer does not feed back: one matrix product over all steps (9. in model.py's order)
        features = np.concatenate([out["controller_output"], out["read_vectors"].reshape(steps, -1)], axis=1)
        out["logits"][:] = features @ self.w_output + self.b_output
        return out

    def states(self, x: np.ndarray) -> list[DNCState]:
        """The state each step of the untouched episode starts from (``states[t]`` goes into step t)."""
        states, state = [], self.start
        for t in range(x.shape[0]):
            states.append(state)
            state = _read_only(self.step(x[t], state, {}, self.empty(1), 0))  # fresh rows: the state views them
        return states


def _read_only(state: DNCState) -> DNCState:
    """Lock a state's arrays: states are shared (cached per episode) and must never change."""
    for array in state:
        array.setflags(write=False)
    return state
