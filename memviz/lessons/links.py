"""Links from a lesson step to the same view on its explorer page ("open this view in the explorer").

Each explorer page binds its controls to the URL; these functions translate a step's
knobs into that page's query parameters, so a class can continue freely from the step.
``tests/test_app_lessons.py`` opens every kind of link and checks that the page ignores
none of its settings.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from memviz.lessons.live import LiveStep


def _playground_query(k: dict[str, Any]) -> dict[str, Any]:
    shift = list(k["shift"])
    radius = len(shift) // 2
    names = {-2: "s_m2", -1: "s_m1", 0: "s_0", 1: "s_p1", 2: "s_p2"}
    query = {
        "n": k["n"],
        "m": k["m"],
        "preset": k["preset"].capitalize(),
        "seed": k["seed"],
        "key_mode": {"copy": "Copy", "noisy": "Noisy copy"}[k["key_mode"]],
        "key_row": k["key_row"],
        "prev": {"one-hot": "One-hot", "uniform": "Uniform", "carry": "Carry forward"}[k["prev"]],
        "prev_row": k["prev_row"],
        "beta": f"{k['beta']:g}",
        "g": k["g"],
        "radius": radius,
        **{names[o]: shift[o + radius] for o in range(-radius, radius + 1)},
        "gamma": f"{k['gamma']:g}",
    }
    if k["key_mode"] == "noisy":
        query["noise"] = k["noise"]
    if k["prev"] == "carry" and k["steps"]:
        query["steps"] = k["steps"]
    return query


def _ntm_query(k: dict[str, Any], view: str, size_keys: list[str]) -> dict[str, Any]:
    query: dict[str, Any] = {"model": k["model"], "input": "Random", "seed": k["seed"]}
    query.update({key: k[key] for key in size_keys})
    query["t"] = k["t"]
    if view == "pipeline":
        query["pipe"] = f"{k['head']} head"
    overrides = {f"ov_{n}": k[f"ov_{n}"] for n in ("beta", "g", "shift", "gamma") if k[f"ov_{n}"] is not None}
    if overrides:
        query["head"] = k["ov_head"]
        query.update({name: f"{v:g}" if isinstance(v, float) else v for name, v in overrides.items()})
        query["ov_scope"] = "at every step" if k["ov_every"] else "at one step"
        if not k["ov_every"]:
            query["ov_step"] = k["ov_step"]
    if view == "vs_lstm":
        query["vs_lstm"] = "true"
    return query


def _memn2n_query(k: dict[str, Any], hops: int) -> dict[str, Any]:
    from memviz.memn2n import explore as xm

    query: dict[str, Any] = {"src": "Generated", "task": xm.task_label(k["task"]), "seed": k["seed"], "hops": hops}
    if k["tau"] != 1.0:
        query.update({f"tau{h}": f"{k['tau']:g}" for h in range(1, hops + 1)})
    query["hop"] = hops if k["hop"] is None else k["hop"]
    if k["mask"]:
        query["mask"] = ",".join(str(i) for i in sorted(k["mask"]))
    return query


def explorer_query(live: LiveStep) -> tuple[str, dict[str, str]]:
    """The step's page (``playground``, ``ntm``, ``memn2n``) and the query parameters of the same view there."""
    step, run = live.step, live.run
    if step.page == "playground":
        query = _playground_query(step.knobs)
    elif step.page == "ntm":
        query = _ntm_query(step.knobs, step.view, [knob.key for knob in run.task.size_knobs()])
    else:
        query = _memn2n_query(step.knobs, run.hops)
    return step.page, {key: str(value) for key, value in query.items()}


def explorer_link(live: LiveStep) -> str:
    """``/page?...``: the step's view on its explorer page, to continue freely from there."""
    page, query = explorer_query(live)
    return f"/{page}?" + urlencode(query)
