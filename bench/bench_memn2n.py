"""Benchmark (not a test): MemN2N ``answer()`` latency on a 50-sentence story, and weight size.

    .venv/bin/python bench/bench_memn2n.py [--repeats 200] [--threads 1]

Rows, timed in alternation with the baseline so a busy machine slows all alike:

- baseline: the bare batched forward pass on tensors prepared once (the model's
  arithmetic alone: 3 hops over 50 memories), measured in the same run;
- answer(): the full traced call the page makes (clean and tokenise 50 sentences, check
  words, run, copy every intermediate into a float32 trace);
- answer() with overrides: per-hop temperatures and two masked sentences.

Targets (issue 5): answer() on a 50-sentence story <= 20 ms; all MemN2N weights <= 10 MB.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

import memviz
from memviz.registry import read_card, weights_path
from memviz.tasks.babi_generator import generate_examples

TARGET_MS = 20.0
TARGET_MB = 10.0


def long_story(n: int = 50) -> tuple[list[str], str]:
    """A generated task-2 story of at least n sentences (concatenated stories) and a question."""
    sentences: list[str] = []
    question = ""
    for ex in generate_examples(2, 400, seed=1):
        if len(ex.story) >= 6:
            sentences.extend(ex.story)
            question = ex.question
        if len(sentences) >= n:
            break
    return sentences[-n:], question


def interleaved(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median milliseconds per case, cases called in turn ``repeats`` times after a warm-up."""
    for fn in cases.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_model(name: str, repeats: int) -> list[tuple[str, float]]:
    model = memviz.load_pretrained(name)
    story, question = long_story(model.config.memory_size)
    trace = model.answer(story, question)
    stories = model.bags(
        torch.tensor([[[model.vocab.index[w] for w in t] + [0] * (12 - len(t)) for t in trace.tokens]])
    )
    query = model.bags(torch.tensor([[model.vocab.index[w] for w in trace.question_tokens]]))
    mask = torch.ones(1, len(trace.sentences), dtype=torch.bool)

    def forward() -> object:
        with torch.no_grad():
            return model(stories, query, mask)

    hops = model.config.hops
    cases = {
        "baseline: bare forward (tensors ready)": forward,
        "answer() on 50 sentences": lambda: model.answer(story, question),
        "answer() + temperature + 2 masked": lambda: model.answer(
            story, question, temperature=[0.5] * hops, masked={3, 10}
        ),
    }
    return list(interleaved(cases, repeats).items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = [n for n in memviz.list_pretrained() if read_card(n).family == "memn2n"]
    if not names:
        print("no MemN2N models in pretrained/; train one with `python -m memviz.train memn2n-babi`")
        return
    print(f"MemN2N answer() latency, median of {args.repeats} (torch threads = {args.threads})\n")
    print(f"{'model':<20} {'case':<40} {'ms':>8} {'x baseline':>11} {'target':>10}")
    for name in names:
        rows = bench_model(name, args.repeats)
        base = rows[0][1]
        for case, ms in rows:
            target = "" if case.startswith("baseline") else ("ok" if ms <= TARGET_MS else "OVER") + f" {TARGET_MS:g}"
            print(f"{name:<20} {case:<40} {ms:>8.2f} {ms / base:>10.1f}x {target:>10}")
    print(f"\n{'weights':<20} {'bytes':>12} {'MB':>8}")
    total = 0
    for name in names:
        size = weights_path(name).stat().st_size
        total += size
        print(f"{name:<20} {size:>12,d} {size / 1e6:>8.3f}")
    verdict = "ok" if total / 1e6 <= TARGET_MB else "OVER"
    print(f"{'all MemN2N':<20} {total:>12,d} {total / 1e6:>8.3f}  ({verdict}: target <= {TARGET_MB:g} MB)")


if __name__ == "__main__":
    main()
