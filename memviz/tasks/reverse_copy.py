"""The reverse copy task: the sequence comes back last vector first.

A DNC task (Graves et al. 2016 use the temporal links to retrieve sequences in
write order; reading them backwards is what the backward weighting
b = L^T w_{t-1} serves). Encoding as :class:`memviz.tasks.copy.CopyTask`
(DESIGN.md section 3), for ``L`` vectors of ``bits`` bits:

* input width ``bits + 1``; steps ``0..L-1`` carry the vectors on the first
  ``bits`` channels; step ``L`` is the delimiter (only the last channel is 1);
  steps ``L+1..2L`` are blank;
* output width ``bits``; the outputs at steps ``L+1..2L`` (the ``mask``) must be
  the vectors ``L-1, L-2, ..., 0``.

Score: bit errors per sequence over the masked steps (:func:`memviz.tasks.copy.bit_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memviz.tasks.copy import Batch, bit_errors, check_size, random_bits


@dataclass(frozen=True)
class ReverseCopyTask:
    """Reverse copy: remember ``L`` random ``bits``-bit vectors and write them back last-first."""

    bits: int = 6
    min_length: int = 1
    max_length: int = 10

    name = "reverse_copy"

    @property
    def input_width(self) -> int:
        return self.bits + 1

    @property
    def output_width(self) -> int:
        return self.bits

    def spec(self) -> dict:
        """The task as it is written into a model card."""
        return {"name": self.name, "bits": self.bits, "min_length": self.min_length, "max_length": self.max_length}

    def train_sizes(self) -> list[int]:
        """The lengths the model is trained on."""
        return list(range(self.min_length, self.max_length + 1))

    def episode_length(self, length: int) -> int:
        """Number of time steps of an episode with ``length`` vectors: ``2L + 1``."""
        return 2 * length + 1

    def encode(self, sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input, target and mask for one sequence ``[L, bits]`` of 0/1 values."""
        seq = np.asarray(sequence, dtype=np.float32)
        if seq.ndim != 2 or seq.shape[1] != self.bits or seq.shape[0] == 0:
            raise ValueError(f"a reverse-copy sequence is [length >= 1, {self.bits}], got shape {seq.shape}")
        x, y, mask = self._encode_batch(seq[None])
        return x[0], y[0], mask[0]

    def _encode_batch(self, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b, length, bits = seqs.shape
        steps = self.episode_length(length)
        x = np.zeros((b, steps, bits + 1), dtype=np.float32)
        y = np.zeros((b, steps, bits), dtype=np.float32)
        mask = np.zeros((b, steps), dtype=np.float32)
        x[:, :length, :bits] = seqs
        x[:, length, bits] = 1.0
        y[:, length + 1 :, :] = seqs[:, ::-1]
        mask[:, length + 1 :] = 1.0
        return x, y, mask

    def sample(self, rng: np.random.Generator, batch: int, size: int | None = None, zero_share: float = 0.0) -> Batch:
        """``batch`` episodes of length ``size`` (default: uniform over the training range)."""
        length = int(rng.integers(self.min_length, self.max_length + 1)) if size is None else size
        check_size("reverse-copy length", length)
        x, y, mask = self._encode_batch(random_bits(rng, (batch, length, self.bits), zero_share))
        return Batch(x, y, mask, length)

    def score(self, outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Bit errors per sequence (see :func:`memviz.tasks.copy.bit_errors`)."""
        return bit_errors(outputs, y, mask)
