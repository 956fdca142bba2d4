"""Figure specs for every step of an episode -> one skeleton plus compact per-step arrays.

The browser's step player (:mod:`memviz.ui.stepper`) draws a figure once and, on
a step change, writes that step's values into it and redraws in place. This
module finds what changes from step to step and packs it:

* a value equal at every step stays in the skeleton (the spec of step 0);
* numbers that change (a heatmap's ``z``, a bar's ``y``, a cursor's ``x0``) become
  one ``[steps, ...]`` array, float32, or 8-bit when large (``lo + q * (hi - lo) / 254``,
  ``q = 255`` for a gap; sent as step-to-step differences), deflated (zlib; the browser
  inflates with its built-in ``DecompressionStream``) and base64-encoded;
* anything else that changes (titles, hover text, a list of shapes whose length
  varies) is kept per step as JSON, all of a figure's such values deflated together.

:func:`unpack_step` is the Python mirror of what the browser does, for tests.
No streamlit here (DESIGN.md section 1).
"""

from __future__ import annotations

import base64
import copy
import json
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from memviz.figures.theme import encode_arrays

QUANTISE_ABOVE = 16 * 1024
"""A changing array larger than this (bytes as float32, all steps) is sent as 8-bit."""
GAP = 255
"""The 8-bit code of a missing value (NaN / None, a gap in a heatmap)."""

Path = tuple[str | int, ...]


def _first_leaf(value: Any) -> Any:
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return value


def _numeric(value: Any) -> np.ndarray | None:
    """``value`` as a float array if it is a number or an array/list of numbers (None -> NaN), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype.kind in "iuf" else None
    if isinstance(value, (list, tuple)) and value:
        leaf = _first_leaf(value)
        if isinstance(leaf, (bool, str, dict)) or not (leaf is None or isinstance(leaf, (int, float, np.number))):
            return None
        try:
            array = np.asarray(value, dtype=np.float64)  # None -> NaN
        except (TypeError, ValueError):
            return None
        return array
    return None


def _all_equal(values: list[Any]) -> bool:
    """Whether plain leaf values (strings, None, booleans, colours) are equal at every step."""
    first = values[0]
    return all(v is first or (type(v) is type(first) and v == first) for v in values[1:])


def _encode_numbers(stack: np.ndarray, quantise: bool) -> dict:
    """A ``[steps, ...]`` stack as float32 or 8-bit, deflated and base64-encoded, with what the browser needs.

    8-bit codes are sent as differences from the previous step (mod 256) before deflating:
    most of an episode's memory does not change from one step to the next, so they are mostly 0.
    """
    shape = list(stack.shape)
    if not quantise:
        data = stack.astype(np.float32).tobytes()
        return {"dtype": "f4", "shape": shape, "bdata": base64.b64encode(zlib.compress(data, 6)).decode()}
    finite = np.isfinite(stack)
    lo = float(stack[finite].min()) if finite.any() else 0.0
    hi = float(stack[finite].max()) if finite.any() else 0.0
    span = hi - lo if hi > lo else 1.0
    codes = np.where(finite, np.rint((np.where(finite, stack, lo) - lo) / span * 254), GAP).astype(np.uint8)
    delta = codes.copy()
    delta[1:] = codes[1:] - codes[:-1]  # uint8 arithmetic wraps: mod 256
    bdata = base64.b64encode(zlib.compress(delta.tobytes(), 6)).decode()
    return {"dtype": "u1", "shape": shape, "lo": lo, "hi": hi, "bdata": bdata}


def _equal_everywhere(first: Any, rest: list[Any]) -> bool:
    """Whether every value equals the first, compared by Python in C (plain values, and lists and dicts of them).

    Most of a figure is the same at every step but rebuilt each time (tick labels, colours, layout):
    this settles those subtrees in one comparison. Anything holding a numpy array cannot be compared
    so (its ``==`` is elementwise) and is left to the walk.
    """
    if isinstance(first, np.ndarray):
        return False
    kind = type(first)
    try:
        return all(type(v) is kind and v == first for v in rest)
    except (ValueError, TypeError):  # an array somewhere inside
        return False


def _walk(path: Path, values: list[Any], channels: list[dict], quantise_above: int) -> None:
    """Add a channel for every place where ``values`` (one per step) differ, comparing leaves only once."""
    first = values[0]
    if all(v is first for v in values[1:]) or _equal_everywhere(first, values[1:]):
        return
    if isinstance(first, dict) and all(isinstance(v, dict) and v.keys() == first.keys() for v in values):
        for key in first:
            _walk((*path, key), [v[key] for v in values], channels, quantise_above)
        return
    numbers = [_numeric(v) for v in values] if _numeric(first) is not None else [None]
    if all(n is not None for n in numbers) and all(n.shape == numbers[0].shape for n in numbers):
        stack = np.stack(numbers)
        if np.array_equal(stack, np.broadcast_to(stack[:1], stack.shape), equal_nan=True):
            return
        channel = _encode_numbers(stack, quantise=stack.size * 4 > quantise_above)
        channels.append({"path": list(path), **channel})
        return
    if isinstance(first, (list, tuple)) and all(isinstance(v, (list, tuple)) and len(v) == len(first) for v in values):
        for i in range(len(first)):
            _walk((*path, i), [v[i] for v in values], channels, quantise_above)
        return
    if not isinstance(first, (dict, list, tuple, np.ndarray)) and _all_equal(values):
        return
    channels.append({"path": list(path), "values": [encode_arrays(v) for v in values]})


def pack_steps(frames: Sequence[dict], quantise_above: int = QUANTISE_ABOVE) -> dict:
    """One figure's spec at every step (same figure function, step by step) -> skeleton + channels.

    Returns a JSON-ready dict ``{"spec": ..., "channels": [...]}``: ``spec`` is
    step 0's spec with numpy arrays in plotly.js's typed-array form; each
    channel has a ``path`` into the spec and either ``dtype``/``shape``/``bdata``
    (numbers, first axis the step) or ``text``, an index into ``texts`` (one JSON value
    per step, all of them deflated together by :func:`deflate_json`).
    """
    if not frames:
        raise ValueError("pack_steps needs at least one step")
    channels: list[dict] = []
    _walk((), list(frames), channels, quantise_above)
    texts = []
    for channel in channels:
        if "values" in channel:
            channel["text"] = len(texts)
            texts.append(channel.pop("values"))
    return {"spec": encode_arrays(frames[0]), "channels": channels, "texts": deflate_json(texts)}


def deflate_json(value: Any) -> str:
    """``value`` as compact JSON, deflated (zlib) and base64-encoded: per-step strings repeat a lot."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(zlib.compress(text, 6)).decode()


def inflate_json(text: str) -> Any:
    """The inverse of :func:`deflate_json`."""
    return json.loads(zlib.decompress(base64.b64decode(text)))


def decode_channel(channel: dict) -> np.ndarray:
    """A numeric channel's ``[steps, ...]`` values (8-bit ones dequantised, gaps as NaN)."""
    raw = zlib.decompress(base64.b64decode(channel["bdata"]))
    shape = tuple(channel["shape"])
    if channel["dtype"] == "f4":
        return np.frombuffer(raw, dtype=np.float32).reshape(shape)
    codes = np.cumsum(np.frombuffer(raw, dtype=np.uint8).reshape(shape), axis=0, dtype=np.uint8)  # wraps mod 256
    span = channel["hi"] - channel["lo"] if channel["hi"] > channel["lo"] else 1.0
    values = channel["lo"] + codes.astype(np.float32) * np.float32(span / 254)
    return np.where(codes == GAP, np.nan, values).astype(np.float32)


def _set(spec: Any, path: list, value: Any) -> None:
    for part in path[:-1]:
        spec = spec[part]
    spec[path[-1]] = value


def unpack_step(packed: dict, step: int) -> dict:
    """The spec at ``step`` rebuilt from a :func:`pack_steps` result (what the browser does; for tests)."""
    spec = copy.deepcopy(packed["spec"])
    texts = inflate_json(packed["texts"])
    for channel in packed["channels"]:
        value = texts[channel["text"]][step] if "text" in channel else decode_channel(channel)[step]
        if not channel["path"]:
            return copy.deepcopy(value)
        _set(spec, channel["path"], value)
    return spec


def packed_bytes(packed: dict) -> int:
    """Size of a packed figure as the browser receives it (compact JSON), in bytes."""
    return len(json.dumps(packed, separators=(",", ":")))
