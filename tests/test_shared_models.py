"""Models cached once per process are shared by every session (DESIGN.md section 4).

NTM episodes with overrides and MemN2N answers with masks and temperatures, run from
8 threads at once on the same two models, give exactly the serial results, and no
call changes process-wide state (warnings filters, torch's thread count, train/eval).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

import memviz
from memviz.ntm import explore as ex
from memviz.ntm.model import Override
from memviz.tasks.babi_generator import generate_examples


def ntm_jobs(model):
    jobs = []
    for seed in range(12):
        episode = ex.random_episode(model.task, seed, {"length": 5 + seed})
        base, states = ex.run_episode(model, episode.x), model.states(episode.x)
        t = 2 + seed % 5
        overrides = [Override(head="write0", step=t, g=0.0), Override(head="read0", step=t + 1, gamma=1.0 + seed)]
        jobs.append(lambda x=episode.x, o=overrides: ex.run_episode(model, x, o))
        jobs.append(lambda x=episode.x, b=base, s=states, o=overrides: ex.rerun_from(model, x, b, s, o))
    return jobs


def memn2n_jobs(model):
    jobs = []
    for i, example in enumerate(generate_examples(2, 12, seed=7)):
        story, question = list(example.story), example.question
        masked = {i % len(story)}
        taus = [0.5 + 0.25 * k + 0.1 * i for k in range(model.config.hops)]
        jobs.append(lambda s=story, q=question, m=masked, t=taus: model.answer(s, q, temperature=t, masked=m))
    return jobs


def fingerprint(result) -> list[np.ndarray]:
    """Every array of a trace (NTM heads included), for an exact comparison."""
    arrays = [np.asarray(v) for v in vars(result).values() if isinstance(v, np.ndarray)]
    for head in getattr(result, "heads", []):
        arrays += [np.asarray(v) for v in vars(head).values() if isinstance(v, np.ndarray)]
    return [*arrays, np.array([str(getattr(result, "answer", ""))])]


def test_eight_threads_give_the_serial_results_and_change_no_global_state():
    ntm, qa = memviz.load_pretrained("ntm-copy"), memviz.load_pretrained("memn2n-babi")
    jobs = ntm_jobs(ntm) + memn2n_jobs(qa)
    threads, filters, modes = torch.get_num_threads(), list(warnings.filters), (ntm.training, qa.training)
    serial = [fingerprint(job()) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _round in range(3):
            parallel = list(pool.map(lambda job: fingerprint(job()), jobs * 2))
            for want, got in zip(serial * 2, parallel, strict=True):
                assert len(want) == len(got)
                for a, b in zip(want, got, strict=True):
                    np.testing.assert_array_equal(a, b)
    assert torch.get_num_threads() == threads
    assert list(warnings.filters) == filters
    assert (ntm.training, qa.training) == modes
