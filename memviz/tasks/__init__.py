"""Tasks and data: the NTM's bit-sequence tasks (Graves et al. 2014, section 4) and bAbI.

A bit-sequence task is one module, ``memviz/tasks/<name>.py``, whose ``TASK`` class
knows everything the rest of memviz asks of it (:class:`BitTask`): how to sample,
encode and score an episode, the knobs that size one for the explorer and their
ranges, the name of every step and channel, how a hand-drawn grid becomes an
episode, and the sizes evaluation reports. :func:`make_task` finds the module by the
card's task name, so a new task (e.g. the DNC's reverse copy) touches that one file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class SizeKnob:
    """One slider that sizes an episode: its URL key, label and range, and the training range.

    ``drawn``: a hand-drawn input sets this size itself (its slider is hidden then).
    """

    key: str
    label: str
    low: int
    high: int
    default: int
    train_high: int
    drawn: bool = False


class BitTask(Protocol):
    """What a bit-sequence task provides (copy, repeat copy, associative recall, ...)."""

    name: str
    bits: int
    drawing_hint: str | None  # a caption under the drawing grid, e.g. how rows become items

    @property
    def input_width(self) -> int: ...

    @property
    def output_width(self) -> int: ...

    def spec(self) -> dict: ...

    def train_sizes(self) -> list: ...

    def sample(self, rng: np.random.Generator, batch: int, size: Any = None) -> Any: ...

    def score(self, outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray: ...

    def size_knobs(self) -> list[SizeKnob]: ...

    def sample_size(self, size: dict[str, int]) -> Any: ...

    def phase_labels(self, size: dict[str, int]) -> tuple[list[str], list[str]]: ...

    def channel_names(self) -> tuple[list[str], list[str]]: ...

    def drawn_rows(self, x: np.ndarray, size: dict[str, int]) -> np.ndarray: ...

    def encode_drawn(
        self, grid: np.ndarray, size: dict[str, int], query: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]: ...

    def query_count(self, rows: int) -> int | None: ...

    def eval_sizes(self) -> list: ...


def make_task(spec: dict[str, Any]) -> BitTask:
    """The task a card's ``task`` entry describes: ``TASK`` of ``memviz.tasks.<name>`` built with the parameters."""
    spec = dict(spec)
    name = spec.pop("name", None)
    module = None
    if isinstance(name, str) and name.isidentifier():
        try:
            module = importlib.import_module(f"memviz.tasks.{name}")
        except ModuleNotFoundError:
            module = None
    if module is None or not hasattr(module, "TASK"):
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(known_tasks())}")
    return module.TASK(**spec)


def known_tasks() -> list[str]:
    """Names of the bit-sequence tasks (modules under memviz/tasks/ that define ``TASK``)."""
    from pathlib import Path

    names = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.stem != "__init__" and "\nTASK = " in path.read_text():
            names.append(path.stem)
    return names
