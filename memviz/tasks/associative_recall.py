"""The associative recall task (Graves, Wayne & Danihelka 2014, section 4.3).

The network sees a list of items (each ``item_length`` random ``bits``-bit
vectors), then one of them as a query, and must answer with the item that came
right after it in the list. Layout, with ``k`` items:

* input width ``bits + 2``. Each item is preceded by an item delimiter step
  (channel ``bits`` is 1) and followed by its ``item_length`` vectors. Then the
  query: a query delimiter step (channel ``bits + 1``), the query item's vectors,
  and a second query delimiter. The last ``item_length`` steps are blank inputs.
* output width ``bits``; the answer (the item after the query) is read from the
  last ``item_length`` steps (the ``mask``).

Episode length: ``k (item_length + 1) + item_length + 2 + item_length``.
Score: bit errors per sequence over the answer steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from memviz.tasks import SizeKnob
from memviz.tasks.copy import Batch, bit_errors, check_size, random_bits


@dataclass(frozen=True)
class AssociativeRecallTask:
    """Associative recall: given an item, answer with the next one in the list (section 4.3)."""

    bits: int = 6
    item_length: int = 3
    min_items: int = 2
    max_items: int = 6

    name = "associative_recall"

    @property
    def drawing_hint(self) -> str:
        return f"Rows are cut into items of {self.item_length} vectors."

    @property
    def input_width(self) -> int:
        return self.bits + 2

    @property
    def output_width(self) -> int:
        return self.bits

    def spec(self) -> dict:
        """The task as it is written into a model card."""
        return {
            "name": self.name,
            "bits": self.bits,
            "item_length": self.item_length,
            "min_items": self.min_items,
            "max_items": self.max_items,
        }

    def train_sizes(self) -> list[int]:
        """The numbers of items the model is trained on."""
        return list(range(self.min_items, self.max_items + 1))

    def episode_length(self, items: int) -> int:
        return items * (self.item_length + 1) + 2 * self.item_length + 2

    def encode(self, items: np.ndarray, query: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input, target and mask for ``items [k, item_length, bits]`` queried with item ``query``."""
        arr = np.asarray(items, dtype=np.float32)
        if arr.ndim != 3 or arr.shape[1:] != (self.item_length, self.bits):
            raise ValueError(f"items are [count, {self.item_length}, {self.bits}], got shape {arr.shape}")
        if not 0 <= query < arr.shape[0] - 1:
            raise ValueError(f"query must index an item that has a successor (0..{arr.shape[0] - 2}), got {query}")
        x, y, mask = self._encode_batch(arr[None], np.array([query]))
        return x[0], y[0], mask[0]

    def _encode_batch(self, items: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b, count, il, bits = items.shape
        check_size("number of items", count, low=2)
        steps = self.episode_length(count)
        x = np.zeros((b, steps, bits + 2), dtype=np.float32)
        y = np.zeros((b, steps, bits), dtype=np.float32)
        mask = np.zeros((b, steps), dtype=np.float32)
        for k in range(count):
            start = k * (il + 1)
            x[:, start, bits] = 1.0
            x[:, start + 1 : start + 1 + il, :bits] = items[:, k]
        q = count * (il + 1)
        rows = np.arange(b)
        x[:, q, bits + 1] = 1.0
        x[:, q + 1 : q + 1 + il, :bits] = items[rows, queries]
        x[:, q + 1 + il, bits + 1] = 1.0
        answer = q + il + 2
        y[:, answer:, :] = items[rows, queries + 1]
        mask[:, answer:] = 1.0
        return x, y, mask

    def sample(self, rng: np.random.Generator, batch: int, size: int | None = None) -> Batch:
        """``batch`` episodes with ``size`` items each (default: uniform over the training range)."""
        count = int(rng.integers(self.min_items, self.max_items + 1)) if size is None else size
        check_size("number of items", count, low=2)
        items = random_bits(rng, (batch, count, self.item_length, self.bits))
        queries = rng.integers(0, count - 1, size=batch)
        x, y, mask = self._encode_batch(items, queries)
        return Batch(x, y, mask, count)

    def score(self, outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Bit errors per sequence (see :func:`memviz.tasks.copy.bit_errors`)."""
        return bit_errors(outputs, y, mask)

    # -- what the explorer and evaluation ask (memviz.tasks.BitTask) -------------------------
    def size_knobs(self) -> list[SizeKnob]:
        """Items up to twice the training count."""
        return [
            SizeKnob("items", "Items in the list", 2, 2 * self.max_items, min(4, self.max_items), self.max_items, True)
        ]

    def sample_size(self, size: dict[str, int]) -> int:
        return size["items"]

    def phase_labels(self, size: dict[str, int]) -> tuple[list[str], list[str]]:
        """Every step's name (for the step slider) and coarse phase (input, delimiter, output)."""
        il, items = self.item_length, size["items"]
        named = []
        for k in range(items):
            named.append((f"item {k + 1} delimiter", "delimiter"))
            named += [(f"item {k + 1}, vector {j + 1}/{il}", "input") for j in range(il)]
        named.append(("query delimiter", "delimiter"))
        named += [(f"query vector {j + 1}/{il}", "input") for j in range(il)]
        named.append(("query delimiter", "delimiter"))
        named += [(f"recall {j + 1}/{il}", "output") for j in range(il)]
        return [p for p, _ in named], [k for _, k in named]

    def channel_names(self) -> tuple[list[str], list[str]]:
        bits = [f"bit {i}" for i in range(self.bits)]
        return [*bits, "item delim.", "query delim."], bits

    def drawn_rows(self, x: np.ndarray, size: dict[str, int]) -> np.ndarray:
        """The items' vectors ``[items * item_length, bits]`` (what the drawing grid shows)."""
        il = self.item_length
        rows = [x[k * (il + 1) + 1 : k * (il + 1) + 1 + il, : self.bits] for k in range(size["items"])]
        return np.concatenate(rows).copy()

    def encode_drawn(
        self, grid: np.ndarray, size: dict[str, int], query: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """An episode of a hand-drawn grid cut into items, queried with item ``query``, and its size."""
        il = self.item_length
        if len(grid) % il or len(grid) < 2 * il:
            raise ValueError(
                f"associative recall needs whole items of {il} vectors and at least 2 items: "
                f"draw {max(2 * il, math.ceil(len(grid) / il) * il)} rows, not {len(grid)}"
            )
        items = grid.reshape(-1, il, self.bits)
        if not 0 <= query < len(items) - 1:
            raise ValueError(f"the query must be an item with a successor: 0..{len(items) - 2}, got {query}")
        x, y, mask = self.encode(items, query)
        return x, y, mask, {"items": len(items)}

    def query_count(self, rows: int) -> int:
        """How many items ``rows`` drawn rows make (at least 2): the query is one of the first ``count - 1``."""
        return max(rows // self.item_length, 2)

    def eval_sizes(self) -> list[int]:
        """The training range, then longer lists up to 12 items."""
        return [*self.train_sizes(), *range(self.max_items + 1, 13)]


TASK = AssociativeRecallTask
