"""Core logic of the NTM Explorer page: episodes, overrides, diffs and exports.

Everything the page needs that is not a widget or a figure: turn a seed or a
hand-drawn bit grid into an episode of a task (Graves, Wayne & Danihelka 2014,
section 4: copy 4.1, repeat copy 4.2, associative recall 4.3), name the phase
of every timestep, turn slider values into :class:`memviz.ntm.model.Override`
objects (the head parameters of section 3.3), re-run an episode from the
first overridden step (the steps before it cannot change), compare a re-run
with the untouched run, and export an episode as GIF, NPZ or JSON. No
streamlit here (DESIGN.md section 1), so all of it is tested directly.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from memviz.addressing import entropy_bits
from memviz.ntm.model import NTM, LSTMTrace, NTMTrace, Override, first_override_step
from memviz.tasks import BitTask as Task
from memviz.tasks.copy import bit_errors

Trace = NTMTrace | LSTMTrace

MAX_DRAWN_ROWS = 200
"""Most vectors a hand-drawn sequence may have (enough to pass 128 memory locations)."""
WRITTEN_THRESHOLD = 0.1
"""A location counts as written at step t when the write weighting there is at least this."""
OFF = "off"
"""The override slider value meaning "keep what the controller emitted"."""


class ExploreInputError(ValueError):
    """An input the page cannot use (empty drawing, bad override, NaN run); the message says why."""


# --------------------------------------------------------------------------- sizes


def clamp_size(task: Task, values: dict[str, Any]) -> dict[str, int]:
    """Each size knob's value from ``values``, clamped into its range (default when missing or malformed)."""
    out = {}
    for knob in task.size_knobs():
        try:
            value = int(values.get(knob.key, knob.default))
        except (TypeError, ValueError):
            value = knob.default
        out[knob.key] = min(max(value, knob.low), knob.high)
    return out


# --------------------------------------------------------------------------- episodes


@dataclass
class Episode:
    """One episode of a task: input ``x [T, in]``, target ``y [T, out]``, ``mask [T]`` and step names.

    ``phases[t]`` names step t for the slider ("input 3/10", "delimiter",
    "output 3/10"); ``kinds[t]`` is its coarse phase (input, delimiter, output)
    for the coloured band over the bit grids. ``sequence`` is the list of
    vectors ``[L, bits]`` the episode was built from (for the drawing grid).
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    phases: list[str]
    kinds: list[str]
    sequence: np.ndarray
    size: dict[str, int] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(self.x.shape[0])


def random_episode(task: Task, seed: int, size: dict[str, int]) -> Episode:
    """An episode of random bits from ``seed`` (the task's own sampler, so it matches evaluation)."""
    batch = task.sample(np.random.default_rng(int(seed)), 1, size=task.sample_size(size))
    return _episode(task, batch.x[0], batch.y[0], batch.mask[0], size)


def drawn_episode(task: Task, grid: np.ndarray, size: dict[str, int], query: int = 0) -> Episode:
    """An episode from a hand-drawn ``grid [L, bits]`` of 0/1 (other sizes from ``size``, the query item).

    The task cuts the rows as it needs (associative recall: items of
    ``item_length`` vectors, the query names the item whose successor is recalled).
    """
    grid = check_grid(grid, task.bits)
    try:
        x, y, mask, drawn_size = task.encode_drawn(grid, size, query)
    except ValueError as exc:
        raise ExploreInputError(str(exc)) from exc
    return _episode(task, x, y, mask, drawn_size)


def _episode(task: Task, x: np.ndarray, y: np.ndarray, mask: np.ndarray, size: dict[str, int]) -> Episode:
    phases, kinds = task.phase_labels(size)
    return Episode(x, y, mask, phases, kinds, task.drawn_rows(x, size), dict(size))


def baseline_for(name: str, available: Sequence[str], specs: dict[str, dict]) -> str | None:
    """The LSTM baseline trained on the same task as NTM ``name`` (``ntm-copy`` -> ``lstm-copy``), if shipped.

    ``specs`` maps model names to their cards' task specs; the two must match
    so that both models read the same episode (section 4 compares them so).
    """
    if not name.startswith("ntm-"):
        return None
    candidate = "lstm-" + name[len("ntm-") :]
    if candidate not in available or specs.get(candidate) != specs.get(name):
        return None
    return candidate


def wrap_notice(x: np.ndarray, memory_n: int) -> str | None:
    """A warning when more input steps carry data than memory has locations (shifts wrap round)."""
    data_steps = int((np.abs(np.asarray(x)).sum(axis=1) > 0).sum())
    if data_steps <= memory_n:
        return None
    return (
        f"{data_steps} input steps carry data but memory has only {memory_n} locations: the write head's "
        "shift wraps round past the last location and overwrites the first ones, so the copy cannot be perfect."
    )


def training_notice(task: Task, size: dict[str, int]) -> str | None:
    """Say when an episode is longer than anything the model was trained on."""
    past = [
        f"{k.label} = {size[k.key]} (trained up to {k.train_high})"
        for k in task.size_knobs()
        if size.get(k.key, 0) > k.train_high
    ]
    return "Past the training range: " + ", ".join(past) + "." if past else None


# --------------------------------------------------------------------------- drawn grids


def check_grid(grid: Any, bits: int) -> np.ndarray:
    """A hand-drawn grid as float32 0/1 ``[L, bits]``; clear errors for empty or malformed grids."""
    arr = np.asarray(grid, dtype=object)
    if arr.size == 0 or arr.ndim != 2 or arr.shape[0] == 0:
        raise ExploreInputError("the drawn sequence is empty: add at least one row (one vector)")
    if arr.shape[1] != bits:
        raise ExploreInputError(f"each drawn vector needs {bits} bits, got {arr.shape[1]}")
    if arr.shape[0] > MAX_DRAWN_ROWS:
        raise ExploreInputError(
            f"the drawn sequence has {arr.shape[0]} rows; the explorer takes at most {MAX_DRAWN_ROWS}"
        )
    out = np.zeros(arr.shape, dtype=np.float32)
    for (i, j), value in np.ndenumerate(arr):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue  # a new, unticked row of the editor
        if value in (True, 1, 1.0, "1", "True", "true"):
            out[i, j] = 1.0
        elif value not in (False, 0, 0.0, "0", "False", "false", ""):
            raise ExploreInputError(f"row {i}, bit {j} is {value!r}; bits are ticked (1) or not (0)")
    return out


def encode_grid(grid: np.ndarray) -> str:
    """A drawn grid for the URL: one hex number per vector (bit 0 first, most significant), dot-separated."""
    grid = np.asarray(grid) > 0.5
    bits = grid.shape[1]
    digits = math.ceil(bits / 4)
    return ".".join(f"{int(''.join('1' if b else '0' for b in row), 2):0{digits}x}" for row in grid)


def decode_grid(text: str, bits: int) -> np.ndarray:
    """The inverse of :func:`encode_grid`; a clear error for anything else."""
    parts = [p for p in str(text).strip().split(".") if p != ""]
    if not parts:
        raise ExploreInputError("the drawn sequence in the link is empty")
    if len(parts) > MAX_DRAWN_ROWS:
        raise ExploreInputError(f"the drawn sequence in the link has more than {MAX_DRAWN_ROWS} vectors")
    rows = []
    for i, part in enumerate(parts):
        if not re.fullmatch(r"[0-9a-fA-F]{1,16}", part):  # int(part, 16) also takes "-1", "0x1f", "1_0"
            raise ExploreInputError(f"vector {i} of the drawn sequence, {part[:20]!r}, is not a hex number")
        value = int(part, 16)
        if value >= 2**bits:
            raise ExploreInputError(f"vector {i} of the drawn sequence, {part!r}, has more than {bits} bits")
        rows.append([float(c) for c in f"{value:0{bits}b}"])
    return np.asarray(rows, dtype=np.float32)


# --------------------------------------------------------------------------- overrides


def shift_options(shift_width: int) -> list[str]:
    """Values of the shift override slider: off, each offset as a one-hot shift, and an even blur."""
    radius = shift_width // 2
    return [OFF, *[str(o) for o in range(-radius, radius + 1)], "blur"]


def shift_vector(choice: str, shift_width: int) -> tuple[float, ...]:
    """The shift distribution over offsets -R..+R for a slider value ("-1", "0", "1", "blur")."""
    radius = shift_width // 2
    if choice == "blur":
        return tuple([1.0 / shift_width] * shift_width)
    try:
        offset = int(choice)
    except ValueError:
        raise ExploreInputError(f"shift must be an offset -{radius}..+{radius} or 'blur', got {choice!r}") from None
    if abs(offset) > radius:
        raise ExploreInputError(f"shift offset {offset} is outside -{radius}..+{radius}")
    return tuple(1.0 if o == offset else 0.0 for o in range(-radius, radius + 1))


@dataclass(frozen=True)
class OverrideChoice:
    """The intervention sliders as the page holds them: "off" or a value for each knob (section 3.3)."""

    head: str = "write0"
    beta: str = OFF
    g: str = OFF
    shift: str = OFF
    gamma: str = OFF
    every_step: bool = False
    step: int = 0

    @property
    def active(self) -> bool:
        return any(v != OFF for v in (self.beta, self.g, self.shift, self.gamma))


def _knob(value: str, name: str, low: float, high: float) -> float | None:
    if value == OFF:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ExploreInputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ExploreInputError(f"{name} = {value} would make the weighting NaN; use a finite value")
    if not low <= number <= high:
        raise ExploreInputError(f"{name} must lie in [{low:g}, {high:g}], got {number:g}")
    return number


def build_overrides(choice: OverrideChoice, shift_width: int, steps: int) -> tuple[Override, ...]:
    """The overrides for the model's ``run`` from the sliders; empty when every knob is off.

    beta >= 0, g in [0, 1], gamma >= 1 (section 3.3); the step must be inside
    the episode. Raises :class:`ExploreInputError` with the reason otherwise.
    """
    if not choice.active:
        return ()
    values = {
        "beta": _knob(choice.beta, "β", 0.0, 1e4),
        "g": _knob(choice.g, "g", 0.0, 1.0),
        "gamma": _knob(choice.gamma, "γ", 1.0, 1e4),
        "shift": None if choice.shift == OFF else shift_vector(choice.shift, shift_width),
    }
    if not choice.every_step and not 0 <= choice.step < steps:
        raise ExploreInputError(f"the override step {choice.step} is outside the episode (0..{steps - 1})")
    try:
        return (Override(head=choice.head, step=None if choice.every_step else int(choice.step), **values),)
    except ValueError as exc:
        raise ExploreInputError(str(exc)) from None


def describe_override(override: Override) -> str:
    """An override in words for the page: ``"write0 at step 12: g = 0, shift s = [0, 0, 1]"``."""
    where = "every step" if override.step is None else f"step {override.step}"
    names = {"beta": "β", "g": "g", "shift": "shift s", "gamma": "γ", "key": "key k"}
    parts = []
    for name, value in override.values().items():
        text = "[" + ", ".join(f"{float(v):.3g}" for v in value) + "]" if isinstance(value, tuple) else f"{value:g}"
        parts.append(f"{names[name]} = {text}")
    return f"{override.head} at {where}: {', '.join(parts)}"


def fixed_knobs(overrides: Sequence[Override], head: str, t: int) -> set[str]:
    """Names of the knobs (beta, g, shift, gamma, key) the overrides fix for ``head`` at step ``t``."""
    return {name for o in overrides if o.head == head and o.applies_at(t) for name in o.values()}


def episode_headline(name: str, label: str, steps: int, errors: int, overrides: Sequence[Override]) -> str:
    """The NTM Explorer's headline: model, steps, wrong bits and the override (Markdown)."""
    text = f"**{name}** · {label} · {steps} timesteps · **{errors} wrong bit{'s' if errors != 1 else ''}**"
    if overrides:
        head, _, rest = describe_override(overrides[0]).partition(" ")
        text += f" · override on **{head}** {rest}"
    return text


def readout_table(trace: NTMTrace, t: int, overrides: Sequence[Override]) -> str:
    """Sum, entropy and peak of each head's weighting at t, with the knobs it used (✎ = overridden), as Markdown."""
    lines = ["| head | Σ w | entropy | max w @ location | β | g | shift s(−1, 0, +1) | γ |", "|---" * 8 + "|"]
    for head in [*trace.write, *trace.read]:
        stats = weight_stats(head.w[t])
        fixed = fixed_knobs(overrides, head.name, t)
        knob = {k: ("**✎ {}**" if k in fixed else "{}") for k in ("beta", "g", "shift", "gamma")}
        shift = ", ".join(f"{v:.2f}" for v in head.shift[t])
        lines.append(
            f"| **{head.name}** | {stats.total:.3f} | {stats.entropy:.2f} bits | {stats.peak:.2f} @ {stats.at} "
            f"| {knob['beta'].format(f'{head.beta[t]:.2f}')} | {knob['g'].format(f'{head.g[t]:.2f}')} "
            f"| {knob['shift'].format(shift)} | {knob['gamma'].format(f'{head.gamma[t]:.2f}')} |"
        )
    return "\n".join(lines)


def knob_labels(head: Any, t: int, overrides: Sequence[Override]) -> dict[str, str]:
    """Each stage's knob at t for the pipeline titles (HTML), with the overridden ones marked."""
    fixed = fixed_knobs(overrides, head.name, t)
    mark = {name: " <b>✎ override</b>" if name in fixed else "" for name in ("beta", "g", "shift", "gamma")}
    shift = ", ".join(_short_number(v) for v in head.shift[t])
    return {  # short numbers: a stage's panel may be 60 px wide (an 800 px window)
        "w_c": f"β = {_short_number(head.beta[t])}{mark['beta']}",
        "w_g": f"g = {_short_number(head.g[t])}{mark['g']}",
        "w_s": f"s = [{shift}]{mark['shift']}",
        "w": f"γ = {_short_number(head.gamma[t])}{mark['gamma']}",
    }


def _short_number(value: float) -> str:
    """Two decimals without trailing zeros: 1.00 -> 1, 0.50 -> 0.5, 4.14 -> 4.14."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def check_finite(trace: Trace) -> None:
    """Raise :class:`ExploreInputError` naming the first step where a run produced NaN or infinity."""
    arrays = [trace.outputs]
    if isinstance(trace, NTMTrace):
        arrays += [trace.memory_after] + [h.w for h in trace.heads]
    bad_steps = [
        int(np.argmax(~np.isfinite(a).reshape(a.shape[0], -1).all(axis=1))) for a in arrays if not np.isfinite(a).all()
    ]
    if bad_steps:
        raise ExploreInputError(f"this run produced NaN or infinite values from step {min(bad_steps)} on")


# --------------------------------------------------------------------------- running


def run_episode(model: Any, x: np.ndarray, overrides: Sequence[Override] = ()) -> Trace:
    """``model.run(x, overrides)`` without the model's wrap warning (the page shows :func:`wrap_notice`).

    Safe on a model shared by every session (DESIGN.md section 4): no warnings filter,
    thread count or train/eval mode is changed; the traced run is the NumPy step.
    """
    if isinstance(model, NTM):
        return model.run(x, overrides=list(overrides) or None, warn_wrap=False)
    return model.run(x)


def rerun_from(model: Any, x: np.ndarray, base: NTMTrace, states: list[Any], overrides: Sequence[Override]) -> NTMTrace:
    """``model.run(x, overrides)`` computed from the first overridden step only.

    Steps before it are copied from the untouched ``base`` trace (they cannot
    change); the rest is stepped from ``states[t0]`` (``model.states(x)``, the
    state each step of the untouched episode starts from) with the overrides, the
    same operations ``model.run`` performs, so the result is identical to a
    full re-run (the tests check it bit for bit) at a fraction of the cost.
    """
    overrides = list(overrides)
    t0 = first_override_step(overrides)
    if t0 == 0:
        return run_episode(model, x, overrides)
    tail = model.run_from(np.asarray(x, dtype=np.float32), t0, states[t0], overrides)
    return _splice(base, tail, t0, overrides)


def _splice(base: NTMTrace, tail: NTMTrace, t0: int, overrides: list[Override]) -> NTMTrace:
    """Steps ``< t0`` of ``base`` followed by ``tail`` (which starts at step t0), field by field."""

    def join(a: Any, b: Any) -> Any:
        return np.concatenate([a[:t0], b]) if isinstance(a, np.ndarray) else a

    heads = [
        type(h)(**{f.name: join(getattr(h, f.name), getattr(t, f.name)) for f in fields(h)})
        for h, t in zip(base.heads, tail.heads, strict=True)
    ]
    arrays = {f.name: join(getattr(base, f.name), getattr(tail, f.name)) for f in fields(base)}
    arrays.update(read=heads[: len(base.read)], write=heads[len(base.read) :], overrides=overrides)
    return NTMTrace(**arrays)


# --------------------------------------------------------------------------- readouts


def total_bit_errors(outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> int:
    """Bit errors of the episode, as the task scores them."""
    return int(bit_errors(outputs, y, mask))


@dataclass(frozen=True)
class WeightStats:
    """Sum, entropy (bits) and peak of one weighting: the small readouts under the pipeline."""

    total: float
    entropy: float
    peak: float
    at: int


def weight_stats(w: np.ndarray) -> WeightStats:
    """Readouts of a weighting ``[N]``: sum (1 if normalised), entropy in bits, max and where."""
    w = np.asarray(w, dtype=np.float64)
    return WeightStats(float(w.sum()), entropy_bits(w), float(w.max()), int(w.argmax()))


def written_rows(w_write: np.ndarray, threshold: float = WRITTEN_THRESHOLD) -> list[int]:
    """Locations a write weighting ``[N]`` (or several, ``[W, N]``) touches with at least ``threshold``."""
    w = np.atleast_2d(np.asarray(w_write)).max(axis=0)
    return [int(i) for i in np.flatnonzero(w >= threshold)]


def touched_rows(trace: NTMTrace, threshold: float = 0.05, margin: int = 2) -> np.ndarray:
    """The locations the figures zoom to: the circular run of rows any head weighted above ``threshold``.

    A 20-vector copy touches about 22 of 128 locations, often wrapping round
    (e.g. 107..127, 0); the figures show those rows (plus ``margin``) in
    memory order rather than 100 empty ones. All rows when most are touched.
    """
    n = trace.memory_after.shape[1]
    peak = np.max([h.w.max(axis=0) for h in trace.heads], axis=0)
    touched = np.flatnonzero(peak >= threshold)
    if touched.size == 0:
        return np.arange(n)
    gaps = np.diff(np.concatenate([touched, [touched[0] + n]]))  # gap after each touched row, circularly
    widest = int(np.argmax(gaps))
    start = int(touched[(widest + 1) % touched.size]) - margin
    length = n - int(gaps[widest]) + 1 + 2 * margin
    if length > 0.75 * n:
        return np.arange(n)
    return (np.arange(length) + start) % n


def focus_window(w: np.ndarray, size: int) -> np.ndarray:
    """``size`` consecutive locations (wrapping) centred on the peak of ``w``: the pipeline's zoom."""
    n = len(w)
    if size >= n:
        return np.arange(n)
    start = int(np.argmax(w)) - size // 2 + 1
    return (np.arange(size) + start) % n


@dataclass
class RunComparison:
    """How an intervention changed the episode against the untouched run."""

    errors_before: int
    errors_after: int
    changed_bits: np.ndarray
    """Boolean ``[T, bits]``: thresholded outputs differ between the two runs."""
    first_changed_step: int | None
    max_output_change: float


def compare_runs(base: Trace, new: Trace, y: np.ndarray, mask: np.ndarray) -> RunComparison:
    """Outputs and bit errors of a re-run with overrides against the untouched run."""
    changed = (base.outputs > 0.5) != (new.outputs > 0.5)
    delta = np.abs(new.outputs.astype(np.float64) - base.outputs)
    moved = np.flatnonzero(delta.max(axis=1) > 1e-6)
    return RunComparison(
        errors_before=total_bit_errors(base.outputs, y, mask),
        errors_after=total_bit_errors(new.outputs, y, mask),
        changed_bits=changed,
        first_changed_step=int(moved[0]) if moved.size else None,
        max_output_change=float(delta.max()) if delta.size else 0.0,
    )


# --------------------------------------------------------------------------- export: NPZ, JSON


def trace_arrays(trace: Trace, episode: Episode | None = None) -> dict[str, np.ndarray]:
    """Every array of a trace, flat and named (``write0.w``, ``memory_after``, ...), plus target and mask."""
    out: dict[str, np.ndarray] = {"inputs": trace.inputs, "outputs": trace.outputs, "logits": trace.logits}
    if episode is not None:
        out.update(target=episode.y, mask=episode.mask)
    if isinstance(trace, LSTMTrace):
        out["hidden"] = trace.hidden
        return out
    out.update(
        controller_output=trace.controller_output,
        read_vectors=trace.read_vectors,
        memory_before=trace.memory_before,
        memory_after=trace.memory_after,
    )
    for head in trace.heads:
        for name in ("key", "beta", "g", "shift", "gamma", "w_prev", "similarity", "w_c", "w_g", "w_s", "w"):
            out[f"{head.name}.{name}"] = getattr(head, name)
        out[f"{head.name}.overridden"] = head.overridden
        for name in ("read_vector", "erase", "add"):
            if getattr(head, name) is not None:
                out[f"{head.name}.{name}"] = getattr(head, name)
    return out


def export_npz(trace: Trace, episode: Episode | None = None) -> bytes:
    """The trace as a compressed ``.npz`` (``numpy.load`` gives every array by name)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **trace_arrays(trace, episode))
    return buffer.getvalue()


def export_json(trace: Trace, episode: Episode | None = None, meta: dict[str, Any] | None = None) -> str:
    """The trace as JSON: ``meta`` (model, seed, overrides...), phase names and every array as nested lists."""
    arrays = {k: np.round(v.astype(np.float64), 6).tolist() for k, v in trace_arrays(trace, episode).items()}
    doc = {"meta": meta or {}, "phases": episode.phases if episode else [], "arrays": arrays}
    return json.dumps(doc, separators=(",", ":"))
