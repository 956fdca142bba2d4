"""Core logic of the NTM Explorer: episodes, drawn grids, overrides, comparisons and exports."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from memviz.figures import export
from memviz.figures import ntm as figs
from memviz.figures.theme import colour_lut, to_plotly
from memviz.ntm import explore as ex
from memviz.ntm.model import NTM, LSTMBaseline, LSTMConfig, NTMConfig
from memviz.tasks.associative_recall import AssociativeRecallTask
from memviz.tasks.copy import CopyTask, wrong_bits
from memviz.tasks.repeat_copy import RepeatCopyTask

SMALL = NTMConfig(input_width=9, output_width=8, controller_size=24, memory_n=16, memory_m=6)


@pytest.fixture(scope="module")
def model() -> NTM:
    torch.manual_seed(0)
    return NTM(SMALL).eval()


@pytest.fixture(scope="module")
def episode() -> ex.Episode:
    return ex.random_episode(CopyTask(), 5, {"length": 6})


@pytest.fixture(scope="module")
def trace(model, episode):
    return model.run(episode.x)


@pytest.mark.parametrize(
    ("task", "size"),
    [
        (CopyTask(), {"length": 7}),
        (RepeatCopyTask(), {"length": 3, "repeats": 4}),
        (AssociativeRecallTask(), {"items": 5}),
    ],
)
def test_every_step_has_a_phase_name(task, size):
    episode = ex.random_episode(task, 1, size)
    assert len(episode.phases) == len(episode.kinds) == episode.steps == episode.x.shape[0]
    assert set(episode.kinds) == {"input", "delimiter", "output"}
    assert episode.kinds[-1] == "output" and episode.mask[-1] == 1  # the last step is scored


def test_copy_phases_read_like_the_task():
    phases, kinds = CopyTask().phase_labels({"length": 2})
    assert phases == [
        "input 1/2",
        "input 2/2",
        "delimiter",
        "output 1/2: copy of input 1",
        "output 2/2: copy of input 2",
    ]
    assert kinds == ["input", "input", "delimiter", "output", "output"]


def test_random_episode_is_reproducible_and_matches_the_task_sampler():
    a = ex.random_episode(CopyTask(), 42, {"length": 5})
    b = ex.random_episode(CopyTask(), 42, {"length": 5})
    np.testing.assert_array_equal(a.x, b.x)
    batch = CopyTask().sample(np.random.default_rng(42), 1, size=5)
    np.testing.assert_array_equal(a.x, batch.x[0])
    np.testing.assert_array_equal(a.sequence, batch.x[0, :5, :8])


def test_size_knobs_reach_past_training():
    (copy,) = CopyTask().size_knobs()
    assert (copy.low, copy.high, copy.train_high) == (1, 120, 20)
    assert ex.clamp_size(CopyTask(), {"length": "999"}) == {"length": 120}
    assert ex.clamp_size(CopyTask(), {"length": "x"}) == {"length": copy.default}
    assert (
        ex.training_notice(CopyTask(), {"length": 30})
        == "Past the training range: Sequence length L = 30 (trained up to 20)."
    )
    assert ex.training_notice(CopyTask(), {"length": 20}) is None


def test_drawn_copy_episode_encodes_the_grid():
    grid = np.array([[1, 0, 1, 0, 0, 0, 0, 1], [0] * 8], dtype=np.float32)
    episode = ex.drawn_episode(CopyTask(), grid, {})
    assert episode.steps == 5 and episode.size == {"length": 2}
    np.testing.assert_array_equal(episode.x[0, :8], grid[0])
    np.testing.assert_array_equal(episode.y[3], grid[0])


def test_drawn_recall_needs_whole_items_and_a_valid_query():
    task = AssociativeRecallTask()
    grid = np.zeros((9, task.bits), dtype=np.float32)
    assert ex.drawn_episode(task, grid, {}, query=1).size == {"items": 3}
    with pytest.raises(ex.ExploreInputError, match="whole items of 3"):
        ex.drawn_episode(task, grid[:7], {})
    with pytest.raises(ex.ExploreInputError, match="successor"):
        ex.drawn_episode(task, grid, {}, query=2)


def test_drawn_repeat_copy_uses_the_repeat_slider():
    episode = ex.drawn_episode(RepeatCopyTask(), np.ones((2, 8)), {"repeats": 3})
    assert episode.steps == 2 + 1 + 6 + 1 and episode.phases[-1] == "end marker"


@pytest.mark.parametrize("grid", [np.zeros((0, 8)), [], np.zeros((3, 5))])
def test_empty_or_misshapen_drawing_is_refused(grid):
    with pytest.raises(ex.ExploreInputError, match=r"empty|8 bits"):
        ex.check_grid(grid, 8)


def test_editor_cells_become_bits():
    table = np.array([[True, False, None], [1, 0.0, float("nan")]], dtype=object)
    np.testing.assert_array_equal(ex.check_grid(table, 3), [[1, 0, 0], [1, 0, 0]])
    with pytest.raises(ex.ExploreInputError, match="row 0, bit 1"):
        ex.check_grid(np.array([[1, "maybe", 0]], dtype=object), 3)


def test_grid_round_trips_through_the_link():
    grid = (np.random.default_rng(0).random((12, 6)) > 0.5).astype(np.float32)
    text = ex.encode_grid(grid)
    np.testing.assert_array_equal(ex.decode_grid(text, 6), grid)
    assert ex.encode_grid(np.array([[1] * 8, [0] * 8, [1, 0, 1, 0, 0, 1, 0, 1]])) == "ff.00.a5"
    for bad, message in [("", "empty"), ("zz", "not a hex"), ("1ff", "more than 8 bits")]:
        with pytest.raises(ex.ExploreInputError, match=message):
            ex.decode_grid(bad, 8)


def test_overrides_from_sliders():
    assert ex.build_overrides(ex.OverrideChoice(), 3, 10) == ()
    (o,) = ex.build_overrides(ex.OverrideChoice(head="read0", beta="5", shift="1", step=4), 3, 10)
    assert (o.head, o.step, o.beta, o.g, o.shift, o.gamma) == ("read0", 4, 5.0, None, (0.0, 0.0, 1.0), None)
    (every,) = ex.build_overrides(ex.OverrideChoice(shift="blur", every_step=True, step=99), 3, 10)
    assert every.step is None and every.shift == pytest.approx((1 / 3,) * 3)


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (ex.OverrideChoice(beta="nan"), "NaN"),
        (ex.OverrideChoice(gamma="inf"), "NaN"),
        (ex.OverrideChoice(gamma="0.5"), "γ must lie"),
        (ex.OverrideChoice(g="2"), "g must lie"),
        (ex.OverrideChoice(shift="3"), "outside -1..\\+1"),
        (ex.OverrideChoice(beta="1", step=10), "outside the episode"),
    ],
)
def test_bad_overrides_say_why(choice, message):
    with pytest.raises(ex.ExploreInputError, match=message):
        ex.build_overrides(choice, 3, 10)


def test_check_finite_names_the_first_bad_step(trace):
    ex.check_finite(trace)
    broken = type(trace)(**{**trace.__dict__, "outputs": trace.outputs.copy()})
    broken.outputs[4, 2] = np.nan
    with pytest.raises(ex.ExploreInputError, match="from step 4"):
        ex.check_finite(broken)


def test_override_changes_nothing_before_its_step(model, episode, trace):
    overrides = ex.build_overrides(ex.OverrideChoice(head="write0", g="1", beta="0", step=3), 3, episode.steps)
    changed = model.run(episode.x, overrides=list(overrides))
    comparison = ex.compare_runs(trace, changed, episode.y, episode.mask)
    assert comparison.first_changed_step is not None and comparison.first_changed_step >= 3
    assert not comparison.changed_bits[:3].any()
    same = ex.compare_runs(trace, trace, episode.y, episode.mask)
    assert same.first_changed_step is None and same.errors_before == same.errors_after


def test_readouts(trace):
    stats = ex.weight_stats(np.array([0.5, 0.5, 0.0]))
    assert (stats.total, stats.entropy, stats.peak, stats.at) == (1.0, 1.0, 0.5, 0)
    assert ex.written_rows(np.array([[0.05, 0.9, 0.05], [0.0, 0.0, 0.2]])) == [1, 2]
    wrong = wrong_bits(np.array([[0.9, 0.2]]), np.array([[0.0, 0.0]]), np.array([1.0]))
    assert wrong.tolist() == [[True, False]]


def test_zoom_windows_wrap_round():
    np.testing.assert_array_equal(ex.focus_window(np.eye(10)[9], 4), [8, 9, 0, 1])
    np.testing.assert_array_equal(ex.focus_window(np.eye(3)[0], 16), [0, 1, 2])


def test_touched_rows_follow_the_heads(trace):
    rows = ex.touched_rows(trace, margin=0)
    peak = np.max([h.w.max(axis=0) for h in trace.heads], axis=0)
    assert set(np.flatnonzero(peak >= 0.05)) <= set(rows.tolist())


def test_wrap_notice_only_past_memory_size():
    x = np.zeros((20, 9), np.float32)
    x[:16, 0] = 1
    assert ex.wrap_notice(x, 16) is None
    x[16, 0] = 1
    assert "wraps round" in ex.wrap_notice(x, 16)


def test_npz_and_json_exports_hold_the_trace(trace, episode):
    arrays = np.load(io.BytesIO(ex.export_npz(trace, episode)))
    np.testing.assert_array_equal(arrays["write0.w"], trace.write[0].w)
    np.testing.assert_array_equal(arrays["target"], episode.y)
    doc = json.loads(ex.export_json(trace, episode, {"model": "tiny"}))
    assert doc["meta"] == {"model": "tiny"} and doc["phases"] == episode.phases
    assert np.allclose(doc["arrays"]["memory_after"], trace.memory_after, atol=1e-6)


def test_gif_has_one_frame_per_step(trace, episode):
    image = Image.open(io.BytesIO(export.ntm_gif(trace, episode, title="tiny")))
    assert image.format == "GIF" and image.n_frames == episode.steps
    image.seek(episode.steps - 1)
    assert image.size[0] >= 560 and image.size[1] > 200


def test_colour_lut_follows_the_scale_ends():
    lut = colour_lut([[0, "#000000"], [1, "rgb(255, 255, 255)"]], 3)
    assert lut.tolist() == [[0, 0, 0], [128, 128, 128], [255, 255, 255]]


def test_figures_are_valid_plotly_specs(trace, episode):
    t = 4
    rows = ex.touched_rows(trace)
    heads = [(h.name, h.w) for h in trace.heads]
    h = trace.write[0]
    stages = {s: getattr(h, s)[t] for s in ("similarity", "w_c", "w_g", "w_s", "w")}
    inputs, outputs = CopyTask().channel_names()
    specs = [
        figs.bit_grids_figure(episode.x, episode.y, trace.outputs, episode.mask, t, episode.kinds, inputs, outputs),
        figs.memory_weights_figure(trace.memory_after[t], rows, heads, t, [1]),
        figs.pipeline_figure(trace.memory_before[t], h.key[t], stages, h.w_prev[t], h.shift[t], np.arange(8), {}),
        figs.readout_figure([("erase", h.erase[t], "weight"), ("add", h.add[t], "memory")]),
        figs.comparison_figure(trace.outputs, trace.outputs, episode.y, episode.mask, 2, outputs),
        figs.animation_figure(trace.memory_after, rows, heads, episode.phases),
        figs.hidden_state_figure(trace.controller_output, t),
    ]
    for spec in specs:
        to_plotly(spec)  # raises on any invalid property
    w_hover = next(trace["hovertemplate"] for trace in specs[2]["data"] if trace.get("name") == "w")
    assert f"max {h.w[t].max():.2f} @ {int(h.w[t].argmax())}" in w_hover  # stats over all locations, in the hover
    assert len(specs[5]["frames"]) == episode.steps
    assert "<html" in figs.animation_html(specs[5])[:200].lower()


def test_lstm_episode_exports_too(episode):
    torch.manual_seed(0)
    lstm = LSTMBaseline(LSTMConfig(hidden_size=8, layers=1)).eval()
    trace = ex.run_episode(lstm, episode.x)
    image = Image.open(io.BytesIO(export.ntm_gif(trace, episode, title="lstm")))
    assert image.n_frames == episode.steps
    assert "hidden" in np.load(io.BytesIO(ex.export_npz(trace, episode)))
    ex.check_finite(trace)


def test_lstm_baseline_is_matched_by_task():
    specs = {"ntm-copy": {"name": "copy"}, "lstm-copy": {"name": "copy"}, "ntm-repeat-copy": {"name": "repeat_copy"}}
    assert ex.baseline_for("ntm-copy", list(specs), specs) == "lstm-copy"
    assert ex.baseline_for("ntm-repeat-copy", list(specs), specs) is None
    assert ex.baseline_for("lstm-copy", list(specs), specs) is None
    assert ex.baseline_for("ntm-copy", ["ntm-copy", "lstm-copy"], {**specs, "lstm-copy": {"name": "other"}}) is None


def test_overrides_read_as_words():
    (o,) = ex.build_overrides(ex.OverrideChoice(g="0", shift="1", step=12), 3, 20)
    assert ex.describe_override(o) == "write0 at step 12: g = 0, shift s = [0, 0, 1]"
    (every,) = ex.build_overrides(ex.OverrideChoice(head="read0", beta="0.5", every_step=True), 3, 20)
    assert ex.describe_override(every) == "read0 at every step: β = 0.5"


@pytest.mark.parametrize(
    "choices",
    [
        [ex.OverrideChoice(shift="1", step=5)],
        [ex.OverrideChoice(head="read0", beta="0", gamma="50", step=11)],
        [ex.OverrideChoice(g="1", beta="0", step=2), ex.OverrideChoice(head="read0", shift="blur", step=9)],
        [ex.OverrideChoice(gamma="2", every_step=True)],
        [ex.OverrideChoice(g="0", step=12)],
    ],
)
def test_rerun_from_the_first_override_equals_a_full_rerun(model, episode, trace, choices):
    overrides = [o for c in choices for o in ex.build_overrides(c, 3, episode.steps)]
    full = model.run(episode.x, overrides=overrides)
    part = ex.rerun_from(model, episode.x, trace, model.states(episode.x), overrides)
    for name in ("outputs", "logits", "controller_output", "read_vectors", "memory_before", "memory_after"):
        np.testing.assert_array_equal(getattr(part, name), getattr(full, name), err_msg=name)
    for a, b in zip(part.heads, full.heads, strict=True):
        for name in ("key", "beta", "g", "shift", "gamma", "w_prev", "similarity", "w_c", "w_g", "w_s", "w"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{a.name}.{name}")
        np.testing.assert_array_equal(a.overridden, b.overridden)
    assert part.overrides == overrides and ex.first_override_step(overrides) == min(
        (0 if o.step is None else o.step) for o in overrides
    )
