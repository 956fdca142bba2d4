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
Everything but the order of the answer is the copy task's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memviz.tasks.copy import CopyTask


@dataclass(frozen=True)
class ReverseCopyTask(CopyTask):
    """Reverse copy: remember ``L`` random ``bits``-bit vectors and write them back last-first."""

    bits: int = 6
    min_length: int = 1
    max_length: int = 10

    name = "reverse_copy"

    def encode(self, sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input, target and mask for one sequence ``[L, bits]`` of 0/1 values (``L >= 1``)."""
        seq = np.asarray(sequence)
        if seq.ndim != 2 or seq.shape[1] != self.bits or seq.shape[0] == 0:
            raise ValueError(f"a reverse-copy sequence is [length >= 1, {self.bits}], got shape {seq.shape}")
        return super().encode(seq)

    def _answer(self, seqs: np.ndarray) -> np.ndarray:
        """The sequences last vector first."""
        return seqs[:, ::-1]

    def phase_labels(self, size: dict[str, int]) -> tuple[list[str], list[str]]:
        """Every step's name and coarse phase; output ``i`` is a copy of input ``L - i + 1``."""
        n = size["length"]
        named = [(f"input {i + 1}/{n}", "input") for i in range(n)] + [("delimiter", "delimiter")]
        named += [(f"output {i + 1}/{n}: copy of input {n - i}", "output") for i in range(n)]
        return [p for p, _ in named], [k for _, k in named]

    def eval_sizes(self) -> list[int]:
        """The training range, then up to twice its longest length (the DNC cards' beyond-range rows)."""
        return [*self.train_sizes(), *range(self.max_length + 1, 2 * self.max_length + 1)]
