"""bAbI question answering tasks, version 1.2 (Weston et al. 2015, arXiv:1502.05698).

File format, one line at a time (this loader accepts every quirk of the released files)::

    ID statement.
    ID question?<TAB>answer<TAB>supporting fact IDs

- IDs restart at 1 with each new story; a line with ID 1 starts a new story.
- Question lines are numbered together with the statements but are not statements:
  they never enter the memory, and the story goes on after them.
- Supporting-fact IDs are the line IDs of the statements that answer the question.
- Answers may be comma lists (task 8 ``apple,football``, task 19 ``s,e``): they are
  kept as one answer token, as in the MemN2N paper (one softmax over answers).
- Some question lines have a space before the first tab.

A malformed file raises :class:`BabiFormatError` naming the file and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TASK_NAMES: dict[int, str] = {
    1: "single-supporting-fact",
    2: "two-supporting-facts",
    3: "three-supporting-facts",
    4: "two-arg-relations",
    5: "three-arg-relations",
    6: "yes-no-questions",
    7: "counting",
    8: "lists-sets",
    9: "simple-negation",
    10: "indefinite-knowledge",
    11: "basic-coreference",
    12: "conjunction",
    13: "compound-coreference",
    14: "time-reasoning",
    15: "basic-deduction",
    16: "basic-induction",
    17: "positional-reasoning",
    18: "size-reasoning",
    19: "path-finding",
    20: "agents-motivations",
}
"""The 20 task names as they appear in the file names ``qaN_<name>_train.txt``."""

_TOKEN_RE = re.compile(r"[^\W_]+(?:,[^\W_]+)*")  # letters and digits of any script: "Zoë" is one (unknown) word
_FILE_RE = re.compile(r"^qa(\d+)_([a-z-]+)_(train|test|valid)\.txt$")


class BabiFormatError(ValueError):
    """A bAbI file does not follow the v1.2 format; ``path`` and ``line`` say where."""

    def __init__(self, path: str | Path, line: int, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}:{line}: {reason}")


@dataclass(frozen=True)
class BabiExample:
    """One question with the statements of its story that precede it.

    ``story`` holds the statements in order (question lines left out) and ``story_ids``
    their line IDs; ``supporting`` holds the supporting-fact line IDs from the file.
    """

    story: tuple[str, ...]
    story_ids: tuple[int, ...]
    question: str
    answer: str
    supporting: tuple[int, ...]
    task: int = 0

    @property
    def supporting_indices(self) -> tuple[int, ...]:
        """Positions in ``story`` of the supporting facts."""
        position = {line_id: i for i, line_id in enumerate(self.story_ids)}
        return tuple(position[s] for s in self.supporting)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; drops '.' and '?', keeps comma answers (``s,e``) whole."""
    return _TOKEN_RE.findall(text.lower())


def split_sentences(text: str) -> list[str]:
    """Sentences of typed text: one per line or ended by '.', '!' or '?'; bAbI line numbers stripped.

    The one splitter for typed stories (the MemN2N model's ``answer`` and the explorer use it).
    """
    parts = re.split(r"(?<=[.!?])\s+|\n", text or "")
    cleaned = [re.sub(r"^\s*\d+\s+", "", p).strip() for p in parts]
    return [c for c in cleaned if tokenize(c)]


def _split_id(raw: str, path: str | Path, line_no: int) -> tuple[int, str]:
    head, _, rest = raw.partition(" ")
    if not head.isdigit():
        raise BabiFormatError(path, line_no, f"expected 'ID text', got {raw[:60]!r}")
    if not rest.strip():
        raise BabiFormatError(path, line_no, f"line {head} has no text")
    return int(head), rest


def _parse_question(
    rest: str, story_ids: Sequence[int], path: str | Path, line_no: int
) -> tuple[str, str, tuple[int, ...]]:
    fields = rest.split("\t")
    if len(fields) != 3:
        raise BabiFormatError(
            path, line_no, f"question line needs 'question<TAB>answer<TAB>supporting IDs', found {len(fields)} fields"
        )
    question, answer, support = (f.strip() for f in fields)
    if not question or not answer:
        raise BabiFormatError(path, line_no, "empty question or answer")
    if not all(s.isdigit() for s in support.split()):
        raise BabiFormatError(path, line_no, f"supporting fact IDs must be integers, got {support!r}")
    supporting = tuple(int(s) for s in support.split())
    unknown = [s for s in supporting if s not in story_ids]
    if unknown:
        raise BabiFormatError(path, line_no, f"supporting fact IDs {unknown} are not earlier statements of this story")
    return question, answer, supporting


def parse_babi_lines(lines: Iterable[str], path: str | Path = "<string>", task: int = 0) -> list[BabiExample]:
    """Parse v1.2 lines into examples, one per question, checking IDs and supporting facts."""
    examples: list[BabiExample] = []
    story: list[str] = []
    story_ids: list[int] = []
    previous_id = 0
    for line_no, raw_line in enumerate(lines, start=1):
        raw = raw_line.rstrip("\r\n")
        if not raw.strip():
            continue
        line_id, rest = _split_id(raw, path, line_no)
        if line_id == 1:
            story, story_ids = [], []
        elif line_id != previous_id + 1:
            raise BabiFormatError(path, line_no, f"line ID {line_id} follows {previous_id}: IDs must count up from 1")
        previous_id = line_id
        if "\t" in rest:
            question, answer, supporting = _parse_question(rest, story_ids, path, line_no)
            examples.append(BabiExample(tuple(story), tuple(story_ids), question, answer, supporting, task))
        else:
            story.append(rest.strip())
            story_ids.append(line_id)
    return examples


def task_of_file(path: str | Path) -> int:
    """Task number from a file name like ``qa8_lists-sets_train.txt`` (0 if it has none)."""
    match = _FILE_RE.match(Path(path).name)
    return int(match.group(1)) if match else 0


def load_babi_file(path: str | Path) -> list[BabiExample]:
    """All examples of one bAbI file."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        return parse_babi_lines(handle, path, task_of_file(path))


def find_task_file(folder: str | Path, task: int, split: str = "train") -> Path | None:
    """The file ``qa{task}_*_{split}.txt`` in ``folder``, or None."""
    matches = sorted(Path(folder).glob(f"qa{task}_*_{split}.txt"))
    return matches[0] if matches else None


def available_tasks(folder: str | Path, split: str = "train") -> list[int]:
    """Task numbers that have a ``split`` file in ``folder``, sorted."""
    found = {task_of_file(p) for p in Path(folder).glob(f"qa*_*_{split}.txt")}
    return sorted(t for t in found if t)


def load_task(folder: str | Path, task: int, split: str = "train") -> list[BabiExample]:
    """Examples of one task and split from a bAbI folder."""
    path = find_task_file(folder, task, split)
    if path is None:
        raise FileNotFoundError(f"no qa{task}_*_{split}.txt in {folder}")
    return load_babi_file(path)


def split_validation(examples: Sequence[BabiExample], fraction: float = 0.1) -> tuple[list, list]:
    """(train, validation): the last ``fraction`` of a file's questions is validation (MemN2N paper, sec. 4.2)."""
    cut = len(examples) - max(1, round(len(examples) * fraction)) if examples else 0
    return list(examples[:cut]), list(examples[cut:])
