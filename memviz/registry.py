"""Registry of the pretrained models that ship in ``pretrained/``.

Each model is two files: ``NAME.safetensors`` (weights only, no pickle) and
``NAME.json``, its card: ``family`` (which loader builds it), the architecture
config, the task, the training recipe and seed, wall time, and the metrics that
``python -m memviz.evaluate NAME`` measured. Like timm's registry, one call
(:func:`load_pretrained`) builds any of them.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

PRETRAINED_DIR = Path(os.environ.get("MEMVIZ_PRETRAINED_DIR", Path(__file__).resolve().parent.parent / "pretrained"))
"""Where the shipped models live; set ``MEMVIZ_PRETRAINED_DIR`` to use another folder."""

FAMILY_LOADERS: dict[str, str] = {
    # family name in the card -> "module:function(card, weights_path)" building the model
    "ntm": "memviz.ntm.model:load_from_card",
    "lstm": "memviz.ntm.model:load_from_card",
    "memn2n": "memviz.memn2n.model:load_from_card",
}

# Which module trains / evaluates a model, by the first part of its name.
FAMILY_OF_PREFIX: dict[str, str] = {"ntm": "ntm", "lstm": "ntm", "memn2n": "memn2n"}


class PretrainedError(RuntimeError):
    """A pretrained model is unknown, missing or does not match its card."""


def family_of(name: str) -> str:
    """The model family a registered name belongs to (``ntm-copy`` -> ``ntm``)."""
    prefix = name.split("-", 1)[0]
    if prefix not in FAMILY_OF_PREFIX:
        known = ", ".join(sorted(FAMILY_OF_PREFIX))
        raise PretrainedError(f"unknown model family in {name!r}: names start with one of {known}")
    return FAMILY_OF_PREFIX[prefix]


def card_path(name: str, directory: Path | None = None) -> Path:
    return (directory or PRETRAINED_DIR) / f"{name}.json"


def weights_path(name: str, directory: Path | None = None) -> Path:
    return (directory or PRETRAINED_DIR) / f"{name}.safetensors"


def list_pretrained(directory: Path | None = None) -> list[str]:
    """Names of the models with both a card and a weight file, sorted."""
    directory = directory or PRETRAINED_DIR
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json") if weights_path(p.stem, directory).is_file())


def read_card(name: str, directory: Path | None = None) -> dict[str, Any]:
    """The JSON card of a model, with a clear error when it is missing or malformed."""
    path = card_path(name, directory)
    if not path.is_file():
        available = ", ".join(list_pretrained(directory)) or "none"
        raise PretrainedError(f"no pretrained model {name!r} ({path} is missing); available: {available}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PretrainedError(
            f"{path} is not valid JSON ({exc}); regenerate it with `python -m memviz.train {name}`"
        ) from exc


def write_card(name: str, card: dict[str, Any], directory: Path | None = None) -> Path:
    """Write a card as stable, diff-friendly JSON."""
    path = card_path(name, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    return path


def load_pretrained(name: str, directory: Path | None = None) -> Any:
    """Build a shipped model from its card and weights (DESIGN.md section 3)."""
    card = read_card(name, directory)
    weights = weights_path(name, directory)
    if not weights.is_file():
        raise PretrainedError(f"weights {weights} are missing; regenerate them with `python -m memviz.train {name}`")
    family = card.get("family")
    if family not in FAMILY_LOADERS:
        raise PretrainedError(f"{card_path(name, directory)} names an unknown family {family!r}")
    module_name, function_name = FAMILY_LOADERS[family].split(":")
    loader = getattr(importlib.import_module(module_name), function_name)
    return loader(card, weights)


def run_family_command(command: str, argv: list[str]) -> int:
    """Shared body of ``python -m memviz.train`` and ``python -m memviz.evaluate``.

    ``argv[0]`` is the model name; it picks the family module
    ``memviz.<family>_<command>`` whose ``main(name, rest)`` parses the rest.
    """
    verb = {"training": "train", "evaluation": "evaluate"}[command]
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m memviz.{verb} NAME [options]   (e.g. ntm-copy, memn2n-babi)")
        return 2
    name, rest = argv[0], argv[1:]
    package = {"training": "train", "evaluation": "evaluate"}[command]
    module = importlib.import_module(f"memviz.{family_of(name)}.{package}")
    return int(module.main(name, rest) or 0)
