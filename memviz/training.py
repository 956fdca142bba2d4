"""Training helpers shared by the bit-sequence families (NTM, LSTM baseline, DNC).

The loss and score of Graves et al. 2014 (section 4): binary cross-entropy over the
scored output bits, and bit errors per sequence with outputs thresholded at 0.5.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as nnf


def masked_bce(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy per scored bit, averaged over the scored bits of the batch."""
    per_step = nnf.binary_cross_entropy_with_logits(logits, y, reduction="none").sum(dim=-1)
    return (per_step * mask).sum() / (mask.sum() * y.shape[-1]).clamp_min(1.0)


def bits_per_sequence(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean bit errors per sequence of a batch (outputs thresholded at 0.5, i.e. logits at 0)."""
    wrong = ((logits > 0) != (y > 0.5)).sum(dim=-1).float()
    return float((wrong * mask).sum(dim=-1).mean())


def as_tensors(batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(batch.x), torch.from_numpy(batch.y), torch.from_numpy(batch.mask)


def write_curve(path: Path, curve: list[dict[str, float]]) -> None:
    """The learning curve as CSV (one row per validation check)."""
    if not curve:
        return
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(curve[0]))
        writer.writeheader()
        for row in curve:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def progress_bar(total: int, enabled: bool, unit: str = "seq") -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, mininterval=30.0, dynamic_ncols=False, ncols=100)
