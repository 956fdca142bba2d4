"""Rerun cost of the Addressing Playground against a trivial one-chart page.

    python bench/bench_playground.py [--repeats 30]

Both pages run under AppTest in this process, timed in alternation, so the
ratio holds on a busy machine too. Target (issue 2): a slider change costs at
most 2x the baseline's rerun.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved_medians, page_alone, page_app, report, trivial_app, trivial_rerun

BETAS = [1, 5, 20, 50]
GAMMAS = [1, 2, 5, 20]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    base = trivial_app()
    alone = page_alone("playground")
    play = page_app("playground")
    big = page_app("playground", {"n": "64", "m": "32"})
    single = page_app("playground", {"prev": "One-hot"})
    cases = {
        "beta slider, page script alone": lambda i: alone.select_slider(key="beta").set_value(BETAS[i % 4]).run(),
        "beta slider (default view)": lambda i: play.select_slider(key="beta").set_value(BETAS[i % 4]).run(),
        "gamma slider (default view)": lambda i: play.select_slider(key="gamma").set_value(GAMMAS[i % 4]).run(),
        "beta slider, one-hot w_prev": lambda i: single.select_slider(key="beta").set_value(BETAS[i % 4]).run(),
        "beta slider, 64x32 memory": lambda i: big.select_slider(key="beta").set_value(BETAS[i % 4]).run(),
    }
    baseline, medians = interleaved_medians(lambda i: trivial_rerun(base, i), cases, args.repeats)
    report("Addressing Playground: AppTest rerun after a slider change", baseline, medians, dict.fromkeys(cases, 2.0))


if __name__ == "__main__":
    main()
