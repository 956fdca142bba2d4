"""Model-free NTM addressing playground: memories, keys and a head that steps.

The Addressing Playground page builds a memory from a preset (or a hand-edited
table), a key, a previous weighting and the head's knobs (beta, g, shift,
gamma), then runs :func:`memviz.addressing.address`. In "carry" mode the head
is applied ``steps`` times, each step's final weighting becoming the next
step's ``w_prev``, so pressing Step walks a location-based head through memory
(Graves et al. 2014, section 3.3.2). Everything here is plain numpy/torch so it
is testable without Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from memviz.addressing import AddressingTrace, address

MEMORY_PRESETS = {
    "random": "Random values in [-1, 1]",
    "identity": "One-hot rows (row i is e_{i mod M})",
    "duplicated": "Rows repeat: row i equals row i + N/2, so content focus is ambiguous",
    "zeros": "All zeros: no content to match, content focus is uniform",
}
KEY_MODES = {"copy": "a copy of a memory row", "noisy": "a noisy copy of a memory row", "edited": "typed by hand"}
PREVIOUS_MODES = {
    "one-hot": "All weight on the start row.",
    "uniform": "Equal weight on every row.",
    "carry": "Starts one-hot at the start row; each Step feeds the last result back in as w_prev.",
}
MAX_STEPS = 256


class PlaygroundInputError(ValueError):
    """A hand-made input (memory cell, key, URL value) cannot be used; the message says why."""


@dataclass(frozen=True)
class HeadKnobs:
    """The parameters a head emits (section 3.3): key strength, gate, shift distribution, sharpening."""

    beta: float = 10.0
    gate: float = 1.0
    shift: tuple[float, ...] = (0.0, 1.0, 0.0)
    gamma: float = 1.0


@dataclass
class PlaygroundResult:
    """The addressing step on screen, plus the walk that led to it in carry mode."""

    trace: dict[str, np.ndarray]
    w_prev: np.ndarray
    shift: np.ndarray
    walk: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    """Final weighting of every step taken so far, ``[steps + 1, N]`` (carry mode)."""


def memory_preset(name: str, n_locations: int, width: int, seed: int) -> np.ndarray:
    """A ``[N, M]`` float32 memory for a preset name (see :data:`MEMORY_PRESETS`)."""
    rng = np.random.default_rng(seed)
    if name == "random":
        memory = rng.uniform(-1.0, 1.0, size=(n_locations, width))
    elif name == "identity":
        memory = np.eye(width)[np.arange(n_locations) % width]
    elif name == "duplicated":
        half = max(1, math.ceil(n_locations / 2))
        base = rng.uniform(-1.0, 1.0, size=(half, width))
        memory = base[np.arange(n_locations) % half]
    elif name == "zeros":
        memory = np.zeros((n_locations, width))
    else:
        raise PlaygroundInputError(f"unknown memory preset {name!r}; choose one of {', '.join(MEMORY_PRESETS)}")
    return np.round(memory, 2).astype(np.float32)


def make_key(memory: np.ndarray, mode: str, row: int, noise: float, seed: int, typed: str = "") -> np.ndarray:
    """The read key: a memory row, a noisy copy of it, or a typed comma-separated vector."""
    if mode == "edited":
        return parse_vector(typed, memory.shape[1], what="key")
    if not 0 <= row < memory.shape[0]:
        raise PlaygroundInputError(f"key row {row} is outside memory rows 0..{memory.shape[0] - 1}")
    key = memory[row].astype(np.float64)
    if mode == "noisy":
        key = key + np.random.default_rng(seed + 1).normal(0.0, noise, size=key.shape)
    elif mode != "copy":
        raise PlaygroundInputError(f"unknown key mode {mode!r}; choose one of {', '.join(KEY_MODES)}")
    return key.astype(np.float32)


LARGEST = 1e6
"""The largest magnitude a typed key entry or memory cell may have: float32 norms of larger
vectors overflow (1e308 passed the finiteness check and made every panel NaN)."""


def parse_vector(text: str, length: int, what: str = "vector") -> np.ndarray:
    """Parse ``"0.5, -1, 0"`` into a float32 vector of exactly ``length`` finite numbers."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    if len(parts) != length:
        raise PlaygroundInputError(f"the {what} needs {length} numbers (one per memory column), got {len(parts)}")
    values = []
    for i, part in enumerate(parts):
        try:
            value = float(part)
        except ValueError:
            raise PlaygroundInputError(f"entry {i} of the {what}, {part.strip()!r}, is not a number") from None
        if not math.isfinite(value):
            raise PlaygroundInputError(f"entry {i} of the {what} is {part.strip()}; only finite numbers work")
        if abs(value) > LARGEST:
            raise PlaygroundInputError(f"entry {i} of the {what} is {value:g}; use numbers between -1e6 and 1e6")
        values.append(value)
    return np.asarray(values, dtype=np.float32)


def format_vector(values: np.ndarray) -> str:
    """The inverse of :func:`parse_vector`, two decimals: ``"0.5, -1, 0"``."""
    return ", ".join(f"{round(float(v), 2) + 0.0:g}" for v in values)


def check_memory_table(values: np.ndarray) -> np.ndarray:
    """Validate a hand-edited memory table; raise with the first bad cell named.

    ``values`` may hold None, strings, NaN or inf from an editor; the result is
    a finite float32 ``[N, M]`` array.
    """
    table = np.asarray(values, dtype=object)
    if table.ndim != 2 or table.size == 0:
        raise PlaygroundInputError("the memory table must have at least one row and one column")
    out = np.empty(table.shape, dtype=np.float32)
    for (i, j), cell in np.ndenumerate(table):
        try:
            value = float(cell)
        except (TypeError, ValueError):
            raise PlaygroundInputError(f"memory row {i}, column {j} holds {cell!r}, which is not a number") from None
        if not math.isfinite(value):
            raise PlaygroundInputError(f"memory row {i}, column {j} is {value}; every cell must be a finite number")
        if abs(value) > LARGEST:
            raise PlaygroundInputError(f"memory row {i}, column {j} is {value:g}; use numbers between -1e6 and 1e6")
        out[i, j] = value
    return out


def encode_memory(memory: np.ndarray) -> str:
    """A compact URL form of a memory: rows split by ``;``, two decimals."""
    return ";".join(format_vector(row) for row in memory)


def decode_memory(text: str, n_locations: int, width: int) -> np.ndarray:
    """Parse :func:`encode_memory` output back, checking its shape and every cell."""
    rows = [r for r in text.split(";") if r.strip()]
    if len(rows) != n_locations:
        raise PlaygroundInputError(f"the memory in the link has {len(rows)} rows, expected {n_locations}")
    return np.stack([parse_vector(r, width, what=f"memory row {i} in the link") for i, r in enumerate(rows)])


def previous_weighting(mode: str, n_locations: int, row: int) -> np.ndarray:
    """The weighting the head had before this step: one-hot at ``row`` or uniform."""
    if mode == "uniform":
        return np.full(n_locations, 1.0 / n_locations, dtype=np.float32)
    w = np.zeros(n_locations, dtype=np.float32)
    w[min(max(row, 0), n_locations - 1)] = 1.0
    return w


def shift_distribution(raw: tuple[float, ...]) -> np.ndarray:
    """Normalise slider values for offsets -R..+R to a distribution ("stay put" if all are 0)."""
    s = np.clip(np.asarray(raw, dtype=np.float64), 0.0, None)
    if s.sum() <= 0:
        s = np.zeros_like(s)
        s[len(s) // 2] = 1.0
    return (s / s.sum()).astype(np.float32)


def address_once(memory: np.ndarray, key: np.ndarray, knobs: HeadKnobs, w_prev: np.ndarray) -> AddressingTrace:
    """One addressing step in float64 (exact for teaching), from numpy inputs."""
    return address(
        torch.as_tensor(memory, dtype=torch.float64),
        torch.as_tensor(key, dtype=torch.float64),
        knobs.beta,
        knobs.gate,
        torch.as_tensor(shift_distribution(knobs.shift), dtype=torch.float64),
        knobs.gamma,
        torch.as_tensor(w_prev, dtype=torch.float64),
    )


def run_playground(
    memory: np.ndarray, key: np.ndarray, knobs: HeadKnobs, w_start: np.ndarray, steps: int = 0
) -> PlaygroundResult:
    """Apply the head ``steps`` times carrying w forward, then show step ``steps + 1``.

    With ``steps = 0`` this is a single addressing step from ``w_start``.
    """
    steps = int(min(max(steps, 0), MAX_STEPS))
    w_prev = np.asarray(w_start, dtype=np.float64)
    walk = [w_prev.astype(np.float32)]
    for _ in range(steps):
        w_prev = address_once(memory, key, knobs, w_prev).w.numpy()
        walk.append(w_prev.astype(np.float32))
    trace = address_once(memory, key, knobs, w_prev)
    return PlaygroundResult(
        trace=trace.numpy(),
        w_prev=w_prev.astype(np.float32),
        shift=shift_distribution(knobs.shift),
        walk=np.stack(walk),
    )
