"""The copy task (Graves, Wayne & Danihelka 2014, section 4.1).

The network sees a sequence of random binary vectors, then a delimiter, and must
write the sequence back out while its input is blank. Encoding (DESIGN.md
section 3), for ``L`` vectors of ``bits`` bits:

* input width ``bits + 1``; steps ``0..L-1`` carry the vectors on the first
  ``bits`` channels; step ``L`` is the delimiter (only the last channel is 1);
  steps ``L+1..2L`` are blank;
* output width ``bits``; the copy is read from the outputs at steps ``L+1..2L``
  (the ``mask``), every other output step is ignored.

The score is bit errors per sequence: outputs are thresholded at 0.5 and
compared with the target over the masked steps.

This module also holds :class:`Batch` and :func:`bit_errors`, which the other
tasks share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memviz.tasks import SizeKnob


@dataclass
class Batch:
    """A batch of episodes of one size, as float32 arrays.

    ``x`` is ``[B, T, input_width]``, ``y`` is ``[B, T, output_width]`` and
    ``mask`` is ``[B, T]`` (1 where the output is scored). ``size`` is the task's
    difficulty knob for this batch (the length for copy, ``(length, repeats)``
    for repeat copy, the number of items for associative recall).
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    size: int | tuple[int, int]


def wrong_bits(outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Boolean ``[..., T, bits]``: the output thresholded at 0.5 differs from the target on a scored step."""
    return ((np.asarray(outputs) > 0.5) != (np.asarray(y) > 0.5)) & (np.asarray(mask)[..., None] > 0)


def bit_errors(outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Bit errors per sequence: ``[B]`` counts of :func:`wrong_bits` (unbatched ``[T, width]``: a 0-d array).

    ``outputs`` are probabilities (or anything thresholded at 0.5).
    """
    return wrong_bits(outputs, y, mask).sum(axis=(-2, -1))


def random_bits(rng: np.random.Generator, shape: tuple[int, ...], zero_share: float = 0.0) -> np.ndarray:
    """Independent fair random bits as float32, ``shape = (..., bits)``.

    ``zero_share > 0`` (a training augmentation, never used in evaluation) then
    replaces that share of the vectors by all-zero vectors. With fair bits an
    all-zero 8-bit vector is rare (1 in 256), and a first copy model failed on
    exactly the sequences that contained one.
    """
    bits = rng.integers(0, 2, size=shape).astype(np.float32)
    if zero_share > 0:
        bits[rng.random(shape[:-1]) < zero_share] = 0.0
    return bits


def check_size(name: str, value: int, low: int = 1) -> int:
    """A clear error for a size that cannot make an episode."""
    if int(value) != value or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class CopyTask:
    """Copy: remember ``L`` random ``bits``-bit vectors and write them back (section 4.1)."""

    bits: int = 8
    min_length: int = 1
    max_length: int = 20

    name = "copy"
    drawing_hint = None

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
        if seq.ndim != 2 or seq.shape[1] != self.bits:
            raise ValueError(f"a copy sequence is [length, {self.bits}], got shape {seq.shape}")
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
        y[:, length + 1 :, :] = self._answer(seqs)
        mask[:, length + 1 :] = 1.0
        return x, y, mask

    def _answer(self, seqs: np.ndarray) -> np.ndarray:
        """What the output steps must reproduce: the sequences as they came."""
        return seqs

    def sample(self, rng: np.random.Generator, batch: int, size: int | None = None, zero_share: float = 0.0) -> Batch:
        """``batch`` episodes of length ``size`` (default: uniform over the training range).

        ``zero_share``: see :func:`random_bits` (training augmentation only).
        """
        length = int(rng.integers(self.min_length, self.max_length + 1)) if size is None else size
        check_size(f"{self.name.replace('_', '-')} length", length)
        x, y, mask = self._encode_batch(random_bits(rng, (batch, length, self.bits), zero_share))
        return Batch(x, y, mask, length)

    def score(self, outputs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Bit errors per sequence (see :func:`bit_errors`)."""
        return bit_errors(outputs, y, mask)

    # -- what the explorer and evaluation ask (memviz.tasks.BitTask) -------------------------
    def size_knobs(self) -> list[SizeKnob]:
        """The length slider, reaching 120 (section 4.1 tests generalisation up to 120)."""
        return [SizeKnob("length", "Sequence length L", 1, 120, min(10, self.max_length), self.max_length, True)]

    def sample_size(self, size: dict[str, int]) -> int:
        return size["length"]

    def phase_labels(self, size: dict[str, int]) -> tuple[list[str], list[str]]:
        """Every step's name (for the step slider) and coarse phase (input, delimiter, output)."""
        n = size["length"]
        named = [(f"input {i + 1}/{n}", "input") for i in range(n)] + [("delimiter", "delimiter")]
        named += [(f"output {i + 1}/{n}: copy of input {i + 1}", "output") for i in range(n)]
        return [p for p, _ in named], [k for _, k in named]

    def channel_names(self) -> tuple[list[str], list[str]]:
        bits = [f"bit {i}" for i in range(self.bits)]
        return [*bits, "delimiter"], bits

    def drawn_rows(self, x: np.ndarray, size: dict[str, int]) -> np.ndarray:
        """The vectors ``[L, bits]`` an episode's input carries (what the drawing grid shows)."""
        return x[: size["length"], : self.bits].copy()

    def encode_drawn(
        self, grid: np.ndarray, size: dict[str, int], query: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """An episode of a hand-drawn ``grid [L, bits]``, and its size."""
        x, y, mask = self.encode(grid)
        return x, y, mask, {"length": len(grid)}

    def query_count(self, rows: int) -> int | None:
        """No query: a copy episode is set by its vectors alone."""
        return None

    def eval_sizes(self) -> list[int]:
        """The training range, then longer copies up to 120 (the generalisation table)."""
        return [*self.train_sizes(), 30, 40, 50, 60, 80, 100, 120]


TASK = CopyTask
