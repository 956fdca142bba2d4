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
