"""Per-step figure packing for the browser step player (memviz/figures/stepped.py, memviz/figures/ntm_steps.py)."""

from __future__ import annotations

import numpy as np
import pytest

import memviz
from memviz.figures import stepped
from memviz.figures.theme import encode_arrays
from memviz.ntm import explore as ex


def frame(t: int, rng_seed: int = 0) -> dict:
    rng = np.random.default_rng(rng_seed)
    z = rng.standard_normal((30, 6, 4)).astype(np.float32)
    shapes = [{"type": "rect", "x0": t - 0.5, "x1": t + 0.5}] + [{"type": "line", "x0": 0}] * (t % 3)
    return {
        "data": [
            {"type": "heatmap", "z": z[t], "colorscale": (("0", "red"), ("1", "blue")), "name": "memory"},
            {"type": "bar", "y": [1.0, None, float(t)], "text": [f"{t}", "b", "c"]},
            {"type": "scatter", "x": np.arange(5), "y": np.ones(5)},
        ],
        "layout": {"title": {"text": f"step {t}"}, "height": 300, "shapes": shapes},
    }


def test_pack_keeps_constants_in_the_skeleton_and_round_trips_every_step():
    frames = [frame(t) for t in range(30)]
    packed = stepped.pack_steps(frames)
    paths = {tuple(c["path"]) for c in packed["channels"]}
    assert ("data", 0, "z") in paths and ("data", 1, "y") in paths and ("layout", "title", "text") in paths
    assert ("layout", "shapes") in paths  # its length varies: the whole list is per-step JSON
    assert not any(p[:2] == ("data", 2) for p in paths), "the constant scatter stays in the skeleton"
    assert not any("colorscale" in p for p in paths)
    for t in (0, 7, 29):
        got = stepped.unpack_step(packed, t)
        want = encode_arrays(frames[t])
        np.testing.assert_allclose(got["data"][0]["z"], frames[t]["data"][0]["z"], atol=1e-6)
        y = np.asarray(got["data"][1]["y"], dtype=float)
        assert y[0] == 1.0 and np.isnan(y[1]) and y[2] == t, "None in a numeric list is a gap (NaN)"
        assert got["data"][1]["text"] == want["data"][1]["text"]
        assert got["layout"]["title"]["text"] == f"step {t}"
        assert got["layout"]["shapes"] == want["layout"]["shapes"]


def test_large_arrays_go_8_bit_within_half_a_level():
    rng = np.random.default_rng(1)
    z = rng.uniform(-2, 2, (50, 64, 20)).astype(np.float32)
    z[3, 0, 0] = np.nan
    frames = [{"data": [{"type": "heatmap", "z": z[t]}], "layout": {}} for t in range(50)]
    packed = stepped.pack_steps(frames, quantise_above=1024)
    (channel,) = packed["channels"]
    assert channel["dtype"] == "u1"
    values = stepped.decode_channel(channel)
    level = (channel["hi"] - channel["lo"]) / 254
    assert np.isnan(values[3, 0, 0])
    finite = np.isfinite(z)
    assert np.max(np.abs(values[finite] - z[finite])) <= level / 2 + 1e-6
    assert stepped.packed_bytes(packed) < z.nbytes / 2.5  # 1 byte a value, base64: 4/3


def test_a_single_step_and_an_empty_list():
    packed = stepped.pack_steps([frame(0)])
    assert packed["channels"] == []
    with pytest.raises(ValueError):
        stepped.pack_steps([])


@pytest.mark.parametrize(("size", "budget_kb"), [({"length": 120}, 1024), ({"length": 20, "repeats": 20}, 1024)])
def test_long_episodes_stay_within_a_megabyte(size, budget_kb):
    from memviz.figures.ntm_steps import step_panels

    name = "ntm-repeat-copy" if "repeats" in size else "ntm-copy"
    model = memviz.load_pretrained(name)
    episode = ex.random_episode(model.task, 0, ex.clamp_size(model.task, size))
    trace = ex.run_episode(model, episode.x)
    inputs, outputs = model.task.channel_names()
    panels = step_panels(episode, trace, (), input_labels=inputs, output_labels=outputs)
    total = sum(stepped.packed_bytes(p["figure"]) if "figure" in p else len(p["html"]) for p in panels)
    assert total <= budget_kb * 1024, f"{total / 1024:.0f} KB"
    memory = next(p for p in panels if p["id"] == "memory")["figure"]
    t = episode.steps // 2
    z = stepped.unpack_step(memory, t)["data"][0]["z"]
    rows = ex.touched_rows(trace)
    np.testing.assert_allclose(z, trace.memory_after[t][rows], atol=(np.ptp(trace.memory_after) / 254))
