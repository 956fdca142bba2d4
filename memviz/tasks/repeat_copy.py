"""The repeat copy task (Graves, Wayne & Danihelka 2014, section 4.2).

The network sees ``L`` random vectors and a repeat count ``n`` and must write the
sequence out ``n`` times, then emit an end marker. Layout for ``bits``-bit
vectors:

* input width ``bits + 2``; steps ``0..L-1`` carry the vectors; step ``L`` is the
  delimiter (channel ``bits`` is 1) and carries the repeat count on its own
  channel (``bits + 1``) as ``n / repeat_scale``. The paper normalises the count
  to mean 0 and variance 1; memviz inputs live in [0, 1], so the count is scaled
  by ``repeat_scale`` (20 by default, so counts up to 20 can be shown);
* output width ``bits + 1``; steps ``L+1..L+nL`` must carry the sequence ``n``
  times (the end channel 0) and step ``L+nL+1`` only the end marker (channel
  ``bits``). Those ``nL + 1`` steps are scored (the ``mask``).

Score: bit errors per sequence over the masked steps, end channel included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memviz.tasks import SizeKnob
from memviz.tasks.copy import Batch, bit_errors, check_size, random_bits


@dataclass(frozen=True)
class RepeatCopyTask:
    """Repeat copy: ``L`` vectors written out ``n`` times, then an end marker (section 4.2)."""

    bits: int = 8
    min_length: int = 1
    max_length: int = 10
    min_repeats: int = 1
    max_repeats: int = 10
    repeat_scale: int = 20

    name = "repeat_copy"
    drawing_hint = None

    @property
    def input_width(self) -> int:
        return self.bits + 2

    @property
    def output_width(self) -> int:
        return self.bits + 1

    def spec(self) -> dict:
        """The task as it is written into a model card."""
        return {
            "name": self.name,
            "bits": self.bits,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "min_repeats": self.min_repeats,
            "max_repeats": self.max_repeats,
            "repeat_scale": self.repeat_scale,
        }

    def train_sizes(self) -> list[tuple[int, int]]:
        """Every (length, repeats) pair in the training range."""
        return [
            (length, repeats)
            for length in range(self.min_length, self.max_length + 1)
            for repeats in range(self.min_repeats, self.max_repeats + 1)
        ]

    def episode_length(self, size: tuple[int, int]) -> int:
        length, repeats = size
        return length + 1 + repeats * length + 1

    def encode(self, sequence: np.ndarray, repeats: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input, target and mask for one sequence ``[L, bits]`` repeated ``repeats`` times."""
        seq = np.asarray(sequence, dtype=np.float32)
        if seq.ndim != 2 or seq.shape[1] != self.bits:
            raise ValueError(f"a repeat-copy sequence is [length, {self.bits}], got shape {seq.shape}")
        x, y, mask = self._encode_batch(seq[None], repeats)
        return x[0], y[0], mask[0]

    def _encode_batch(self, seqs: np.ndarray, repeats: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        check_size("repeat count", repeats)
        if repeats > self.repeat_scale:
            raise ValueError(
                f"repeat count {repeats} is above repeat_scale {self.repeat_scale}: the input would pass 1"
            )
        b, length, bits = seqs.shape
        steps = self.episode_length((length, repeats))
        x = np.zeros((b, steps, bits + 2), dtype=np.float32)
        y = np.zeros((b, steps, bits + 1), dtype=np.float32)
        mask = np.zeros((b, steps), dtype=np.float32)
        x[:, :length, :bits] = seqs
        x[:, length, bits] = 1.0
        x[:, length, bits + 1] = repeats / self.repeat_scale
        start = length + 1
        y[:, start : start + repeats * length, :bits] = np.tile(seqs, (1, repeats, 1))
        y[:, start + repeats * length, bits] = 1.0
        mask[:, start:] = 1.0
        return x, y, mask

    def sample(
        self, rng: np.random.Generator, batch: int, size: tuple[int, int] | None = None, zero_share: float = 0.0
    ) -> Batch:
        """``batch`` episodes of one (length, repeats) (default: uniform over the training range).

        ``zero_share``: see :func:`memviz.tasks.copy.random_bits` (training augmentation only).
        """
        if size is None:
            size = (
                int(rng.integers(self.min_length, self.max_length + 1)),
                int(rng.integers(self.min_repeats, self.max_repeats + 1)),
            )
        length, repeats = size
        check_size("repeat-copy length", length)
        x, y, mask = self._encode_batch(random_bits(rng, (batch, length, self.bits), zero_share), repeats)
        return Batch(x, y, mask, (int(length), int(repeats)))

    def score(self, outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Bit errors per sequence (see :func:`memviz.tasks.copy.bit_errors`)."""
        return bit_errors(outputs, y, mask)

    # -- what the explorer and evaluation ask (memviz.tasks.BitTask) -------------------------
    def size_knobs(self) -> list[SizeKnob]:
        """Length up to twice the training length; repeats up to ``repeat_scale``."""
        return [
            SizeKnob(
                "length", "Sequence length L", 1, 2 * self.max_length, min(5, self.max_length), self.max_length, True
            ),
            SizeKnob("repeats", "Repeats n", 1, self.repeat_scale, min(3, self.max_repeats), self.max_repeats),
        ]

    def sample_size(self, size: dict[str, int]) -> tuple[int, int]:
        return size["length"], size["repeats"]

    def phase_labels(self, size: dict[str, int]) -> tuple[list[str], list[str]]:
        """Every step's name (for the step slider) and coarse phase (input, delimiter, output)."""
        n, reps = size["length"], size["repeats"]
        named = [(f"input {i + 1}/{n}", "input") for i in range(n)]
        named.append((f"delimiter, repeat ×{reps}", "delimiter"))
        named += [
            (f"output: repeat {r + 1}/{reps}, vector {i + 1}/{n}", "output") for r in range(reps) for i in range(n)
        ]
        named.append(("end marker", "output"))
        return [p for p, _ in named], [k for _, k in named]

    def channel_names(self) -> tuple[list[str], list[str]]:
        bits = [f"bit {i}" for i in range(self.bits)]
        return [*bits, "delimiter", f"repeats n/{self.repeat_scale}"], [*bits, "end"]

    def drawn_rows(self, x: np.ndarray, size: dict[str, int]) -> np.ndarray:
        """The vectors ``[L, bits]`` an episode's input carries (what the drawing grid shows)."""
        return x[: size["length"], : self.bits].copy()

    def encode_drawn(
        self, grid: np.ndarray, size: dict[str, int], query: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """An episode of a hand-drawn ``grid [L, bits]`` repeated ``size["repeats"]`` times, and its size."""
        x, y, mask = self.encode(grid, size["repeats"])
        return x, y, mask, {"length": len(grid), "repeats": size["repeats"]}

    def query_count(self, rows: int) -> int | None:
        """No query: the repeat count is a slider."""
        return None

    def eval_sizes(self) -> list[tuple[int, int]]:
        """A 5 x 5 grid over the training range (all 100 pairs x 500 episodes take minutes), then beyond it."""
        grid = [(length, repeats) for length in (1, 3, 5, 7, 10) for repeats in (1, 3, 5, 7, 10)]
        beyond = [(length, repeats) for length in (10, 15, 20) for repeats in (10, 15, 20)]
        inside = [s for s in grid if s in self.train_sizes()]
        return [*inside, *[s for s in beyond if s not in self.train_sizes()]]


TASK = RepeatCopyTask
