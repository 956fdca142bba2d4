"""Registry of model families and of the pretrained models that ship in ``pretrained/``.

Each model is two files: ``NAME.safetensors`` (weights only, no pickle) and
``NAME.json``, its :class:`ModelCard` (one schema for every family, DESIGN.md
sections 1 and 3). Like timm's registry, one call (:func:`load_pretrained`)
builds any of them.

A family is one row of :data:`FAMILIES`: the loader that builds a model from its
card and weights, the modules whose ``main(name, argv) -> int`` train and
evaluate it (``python -m memviz.train NAME`` / ``python -m memviz.evaluate NAME``
dispatch on the card's family, never on the name's spelling), and its page.
Adding a family is adding that row (and its names to :data:`SHIPPED_MODELS`
once they ship).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

PRETRAINED_DIR = Path(os.environ.get("MEMVIZ_PRETRAINED_DIR", Path(__file__).resolve().parent.parent / "pretrained"))
"""Where the shipped models live; set ``MEMVIZ_PRETRAINED_DIR`` to use another folder."""


class Family(NamedTuple):
    """One row of the families table: where a family's code lives."""

    loader: str  # "module:function", called as function(card: ModelCard, weights: Path) -> model
    trainer: str  # module with main(name, argv) -> int (python -m memviz.train NAME)
    evaluator: str  # module with main(name, argv) -> int (python -m memviz.evaluate NAME)
    page: str  # the page script that shows it


FAMILIES: dict[str, Family] = {
    "ntm": Family("memviz.ntm.model:load_from_card", "memviz.ntm.train", "memviz.ntm.evaluate", "pages/ntm.py"),
    # the NTM package's LSTM baseline: its own family in its card, the NTM package's code
    "lstm": Family("memviz.ntm.model:load_from_card", "memviz.ntm.train", "memviz.ntm.evaluate", "pages/ntm.py"),
    "memn2n": Family(
        "memviz.memn2n.model:load_from_card", "memviz.memn2n.train", "memviz.memn2n.evaluate", "pages/memn2n.py"
    ),
}

SHIPPED_MODELS: dict[str, str] = {
    # name -> family; tests/test_registry.py fails (naming file and command) if any file is missing
    "ntm-copy": "ntm",
    "ntm-repeat-copy": "ntm",
    "ntm-associative-recall": "ntm",
    "lstm-copy": "lstm",
    "memn2n-babi": "memn2n",
    "memn2n-babi-1hop": "memn2n",
    "memn2n-babi-2hop": "memn2n",
}


class PretrainedError(RuntimeError):
    """A pretrained model is unknown, missing or does not match its card."""


def regenerate(name: str) -> str:
    """The command that (re)creates a model's files, as error messages quote it."""
    return f"regenerate it with `python -m memviz.train {name}`"


@dataclass
class ModelCard:
    """What a model is and how it was made: ``pretrained/NAME.json`` (DESIGN.md section 3).

    ``task`` holds ``"name"`` and the task's parameters; ``config`` the architecture;
    ``recipe`` the training settings, ``seed`` and the ``command`` that trains it;
    ``training`` what the run cost (wall time, sequences or questions, parameters,
    weight bytes, machine); ``metrics`` what ``python -m memviz.evaluate`` measured,
    with the ``command`` that measured it; ``extra`` what only one family needs (the
    MemN2N vocabulary and answers).
    """

    name: str
    family: str
    description: str
    task: dict[str, Any]
    config: dict[str, Any]
    recipe: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "card") -> ModelCard:
        """Check the fields and the family; errors name ``source``, the field and the fix."""
        if not isinstance(data, dict):
            raise PretrainedError(f"{source} is not a JSON object")
        name = data.get("name") if isinstance(data.get("name"), str) else Path(source).stem
        fields = {f.name: f for f in dataclasses.fields(cls)}
        missing = [f for f in fields if f not in data]
        unknown = sorted(set(data) - set(fields))
        if missing or unknown:
            what = [f"missing field(s) {missing}"] * bool(missing) + [f"unknown field(s) {unknown}"] * bool(unknown)
            raise PretrainedError(f"{source}: {'; '.join(what)}; {regenerate(name)}")
        for key, f in fields.items():
            expected = dict if f.type.startswith("dict") else str
            if not isinstance(data[key], expected):
                raise PretrainedError(f"{source}: field {key!r} should be a {expected.__name__}; {regenerate(name)}")
        if data["family"] not in FAMILIES:
            raise PretrainedError(
                f"{source}: field 'family' names an unknown family {data['family']!r} "
                f"(known: {', '.join(FAMILIES)}); {regenerate(name)}"
            )
        if "name" not in data["task"]:
            raise PretrainedError(f"{source}: field 'task' has no 'name'; {regenerate(name)}")
        return cls(**{k: data[k] for k in fields})


def card_path(name: str, directory: Path | None = None) -> Path:
    return Path(directory or PRETRAINED_DIR) / f"{name}.json"


def weights_path(name: str, directory: Path | None = None) -> Path:
    return Path(directory or PRETRAINED_DIR) / f"{name}.safetensors"


def list_pretrained(directory: Path | None = None) -> list[str]:
    """Names of the models with both a card and a weight file, sorted."""
    directory = Path(directory or PRETRAINED_DIR)
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json") if weights_path(p.stem, directory).is_file())


def read_card(name: str, directory: Path | None = None) -> ModelCard:
    """The card of a model, with a clear error when it is missing or malformed."""
    path = card_path(name, directory)
    if not path.is_file():
        available = ", ".join(list_pretrained(directory)) or "none"
        raise PretrainedError(
            f"no pretrained model {name!r} ({path} is missing; {regenerate(name)}); available: {available}"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PretrainedError(f"{path} is not valid JSON ({exc}); {regenerate(name)}") from exc
    return ModelCard.from_dict(data, str(path))


def write_card(card: ModelCard, directory: Path | None = None) -> Path:
    """Write ``directory/NAME.json`` as stable, diff-friendly JSON (checked as it would be read)."""
    ModelCard.from_dict(card.to_dict(), card.name)
    path = card_path(card.name, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card.to_dict(), indent=2, sort_keys=False) + "\n")
    return path


def machine_info() -> dict[str, Any]:
    """Where a run happened (the card's ``training.machine``)."""
    import platform

    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def load_weights(model: Any, path: Path, name: str) -> None:
    """Load safetensors weights into a torch module, naming the file, the tensor and the fix on any problem."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise PretrainedError(f"weight file {path} is missing; {regenerate(name)}")
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own SafetensorError on a bad header
        raise PretrainedError(f"weight file {path} is unreadable or truncated ({exc}); {regenerate(name)}") from exc
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise PretrainedError(
            f"weight file {path} does not match its card: missing {missing}, unexpected {unexpected}; "
            f"{regenerate(name)}"
        )
    for key, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise PretrainedError(
                f"weight file {path}: {key} has shape {tuple(tensor.shape)} but the card's config "
                f"needs {tuple(expected[key].shape)}; {regenerate(name)}"
            )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})


def load_pretrained(name: str, directory: Path | None = None) -> Any:
    """Build a shipped model from its card and weights (DESIGN.md section 3)."""
    card = read_card(name, directory)
    weights = weights_path(name, directory)
    if not weights.is_file():
        raise PretrainedError(f"weight file {weights} is missing; {regenerate(name)}")
    module_name, function_name = FAMILIES[card.family].loader.split(":")
    loader = getattr(importlib.import_module(module_name), function_name)
    return loader(card, weights)


def models_for_page(page: str, directory: Path | None = None) -> list[str]:
    """Installed models whose family is shown on ``page`` (e.g. ``"pages/ntm.py"``), sorted; bad cards left out."""
    names = []
    for name in list_pretrained(directory):
        try:
            if FAMILIES[read_card(name, directory).family].page == page:
                names.append(name)
        except PretrainedError:
            continue
    return names


def family_of(name: str, directory: Path | None = None) -> str:
    """The family of a model: its card's ``family``, else :data:`SHIPPED_MODELS` (``lstm-copy`` -> ``lstm``)."""
    if card_path(name, directory).is_file():
        return read_card(name, directory).family
    if name in SHIPPED_MODELS:
        return SHIPPED_MODELS[name]
    raise PretrainedError(
        f"unknown model {name!r}: no card {card_path(name, directory)} and not a shipped model "
        f"({', '.join(SHIPPED_MODELS)}); name its family with --family ({', '.join(FAMILIES)})"
    )


def pop_family_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """``--family F`` / ``--family=F`` taken out of ``argv`` (for a model that has no card yet)."""
    rest, family, i = [], None, 0
    while i < len(argv):
        if argv[i] == "--family" and i + 1 < len(argv):
            family, i = argv[i + 1], i + 2
            continue
        if argv[i].startswith("--family="):
            family = argv[i].split("=", 1)[1]
        else:
            rest.append(argv[i])
        i += 1
    return family, rest


def run_family_command(command: str, argv: list[str]) -> int:
    """Shared body of ``python -m memviz.train`` and ``python -m memviz.evaluate``.

    ``argv[0]`` is the model name; its family (from its card, :data:`SHIPPED_MODELS`
    or ``--family``) picks the :data:`FAMILIES` row whose trainer or evaluator
    module's ``main(name, rest)`` parses the rest.
    """
    verb = {"training": "train", "evaluation": "evaluate"}[command]
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m memviz.{verb} NAME [--family F] [options]   (e.g. {', '.join(SHIPPED_MODELS)})")
        return 2
    family, rest = pop_family_option(argv[1:])
    name = argv[0]
    try:
        family = family or family_of(name)
    except PretrainedError as exc:
        print(exc)
        return 2
    if family not in FAMILIES:
        print(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
        return 2
    row = FAMILIES[family]
    module = importlib.import_module(row.trainer if command == "training" else row.evaluator)
    return int(module.main(name, rest) or 0)
