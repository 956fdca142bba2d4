"""The multi-copy task: several sequences one after another through a small memory.

A DNC task for dynamic allocation (Graves et al. 2016, Methods, "Dynamic
memory allocation"): ``count`` sequences of ``L`` random vectors each, every one
reproduced right after its own delimiter. With the shipped sizes (3 sequences
of up to 8 vectors, a 16-slot memory) the memory **cannot hold every sequence
at once** from ``L = 6`` on (3 x 6 = 18 > 16 slots): the model must free the
slots of a sequence once it has read it back and write the next sequence into
them. Evaluation also runs twice as many sequences (6 x up to 8 = 48 vectors
through 16 slots).

Encoding, for ``bits``-bit vectors, repeated ``count`` times (block ``k``
starts at step ``k (2L + 1)``):

* input width ``bits + 1``; a block's steps ``0..L-1`` carry the vectors on the
  first ``bits`` channels, step ``L`` is the delimiter (only the last channel
  is 1), steps ``L+1..2L`` are blank;
* output width ``bits``; a block's steps ``L+1..2L`` (the ``mask``) must carry
  that block's vectors in order.

Every sequence of an episode has the same length ``L``; the size of an episode
is ``(count, L)``. Score: bit errors per episode over all masked steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memviz.tasks.copy import Batch, bit_errors, check_size, random_bits


@dataclass(frozen=True)
class MultiCopyTask:
    """Multi-copy: ``count`` sequences of ``L`` vectors, each copied back after its own delimiter."""

    bits: int = 6
    min_length: int = 1
    max_length: int = 8
    count: int = 3

    name = "multi_copy"

    @property
    def input_width(self) -> int:
        return self.bits + 1

    @property
    def output_width(self) -> int:
        return self.bits

    def spec(self) -> dict:
        """The task as it is written into a model card."""
        return {
            "name": self.name,
            "bits": self.bits,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "count": self.count,
        }

    def train_sizes(self) -> list[tuple[int, int]]:
        """The (count, length) sizes the model is trained on."""
        return [(self.count, length) for length in range(self.min_length, self.max_length + 1)]

    def episode_length(self, size: tuple[int, int]) -> int:
        count, length = size
        return count * (2 * length + 1)

    def block_starts(self, size: tuple[int, int]) -> list[int]:
        """The first step of each sequence's block."""
        count, length = size
        return [k * (2 * length + 1) for k in range(count)]

    def encode(self, sequences: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input, target and mask for sequences ``[count, L, bits]`` of 0/1 values."""
        seqs = np.asarray(sequences, dtype=np.float32)
        if seqs.ndim != 3 or seqs.shape[2] != self.bits or seqs.shape[0] == 0 or seqs.shape[1] == 0:
            raise ValueError(f"multi-copy sequences are [count >= 1, length >= 1, {self.bits}], got {seqs.shape}")
        x, y, mask = self._encode_batch(seqs[None])
        return x[0], y[0], mask[0]

    def _encode_batch(self, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b, count, length, bits = seqs.shape
        block = 2 * length + 1
        x = np.zeros((b, count * block, bits + 1), dtype=np.float32)
        y = np.zeros((b, count * block, bits), dtype=np.float32)
        mask = np.zeros((b, count * block), dtype=np.float32)
        for k in range(count):
            s = k * block
            x[:, s : s + length, :bits] = seqs[:, k]
            x[:, s + length, bits] = 1.0
            y[:, s + length + 1 : s + block] = seqs[:, k]
            mask[:, s + length + 1 : s + block] = 1.0
        return x, y, mask

    def sample(
        self,
        rng: np.random.Generator,
        batch: int,
        size: tuple[int, int] | int | None = None,
        zero_share: float = 0.0,
    ) -> Batch:
        """``batch`` episodes of one size ``(count, L)`` (an int is a length with the task's count;
        default: the task's count and a length uniform over the training range)."""
        if size is None:
            size = (self.count, int(rng.integers(self.min_length, self.max_length + 1)))
        elif isinstance(size, int | np.integer):
            size = (self.count, int(size))
        count, length = int(size[0]), int(size[1])
        check_size("multi-copy count", count)
        check_size("multi-copy length", length)
        x, y, mask = self._encode_batch(random_bits(rng, (batch, count, length, self.bits), zero_share))
        return Batch(x, y, mask, (count, length))

    def score(self, outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Bit errors per episode (see :func:`memviz.tasks.copy.bit_errors`)."""
        return bit_errors(outputs, y, mask)
