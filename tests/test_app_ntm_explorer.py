"""NTM Explorer through AppTest: stepping, overrides, links, drawn input and bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
import streamlit as st
import torch
from apptest_helpers import (
    array,
    figure_keys,
    no_exception,
    open_page,
    set_step,
    stepper_data,
    stepper_figure,
    stepper_html,
    trace_named,
)
from apptest_helpers import figure as chart
from streamlit.testing.v1 import AppTest

from memviz import registry as pretrained
from memviz.figures.theme import sub
from memviz.ntm import explore as explore_ntm
from memviz.ntm.model import NTM, NTMConfig, architecture_of, save_state
from memviz.registry import ModelCard, write_card
from memviz.tasks.associative_recall import AssociativeRecallTask
from memviz.tasks.repeat_copy import RepeatCopyTask
from memviz.ui import ntm as ntm_page


def open_explorer(query: dict[str, str] | None = None) -> AppTest:
    """The explorer as a user opens it (through app.py's navigation), checked for exceptions."""
    at = open_page("ntm", query)
    no_exception(at)
    return at


PLAYER = "t_player"


def step_label(at: AppTest) -> str:
    """The step player's label as the browser shows it for the step Python knows."""
    data = stepper_data(at, PLAYER)
    return f"**Step {data['step']} of {data['steps'] - 1}** · {data['labels'][data['step']]}"


def figure(at: AppTest, key: str) -> dict:
    """A chart drawn by Streamlit, or a panel of the step player at the step Python knows."""
    try:
        return chart(at, key)
    except AssertionError:
        return stepper_figure(at, PLAYER, key)


def panel_ids(at: AppTest) -> set[str]:
    return {p["id"] for p in stepper_data(at, PLAYER)["panels"]}


def cursor_x(fig: dict) -> float:
    """Where the orange current-step outline is on the time axis."""
    rects = [s for s in fig["layout"]["shapes"] if s.get("type") == "rect" and s.get("yref") == "paper"]
    return (rects[-1]["x0"] + rects[-1]["x1"]) / 2


def compare_z(at: AppTest, name: str) -> np.ndarray:
    return array(trace_named(figure(at, "compare"), name)["z"])


@pytest.fixture(scope="module")
def fresh() -> AppTest:
    return open_explorer()


def test_renders_every_part_at_step_0(fresh):
    assert fresh.title[0].value == "NTM Explorer"
    assert step_label(fresh) == "**Step 0 of 20** · input 1/10"
    assert panel_ids(fresh) == {"bits", "memory", "readout", "pipeline", "vectors"}
    assert fresh.get("segmented_control")[0].value == "write0 head"  # one head's pipeline is sent
    for name in ("input", "target", "output"):
        assert trace_named(figure(fresh, "bits"), name)
    w = array(trace_named(figure(fresh, "memory"), "write0")["z"])
    assert np.isfinite(w).all() and w.min() >= 0 and w.max() <= 1
    table = stepper_html(fresh, PLAYER, "readout")
    assert "write0" in table and "read0" in table and "1.000" in table
    assert not fresh.warning and not fresh.error


def test_each_head_has_its_pipeline_in_the_link():
    at = open_explorer({"pipe": "read0 head", "t": "14"})
    pipeline = figure(at, "pipeline")
    assert stepper_data(at, PLAYER)["step"] == 14
    assert at.get("segmented_control")[0].value == "read0 head"
    w = array(trace_named(pipeline, "w")["x"])
    assert np.isfinite(w).all() and 0 < w.sum() <= 1 + 1e-5  # 16 of the 128 locations
    assert not at.warning


def test_every_step_is_sent_once_and_the_step_python_knows_follows_the_browser():
    at = open_explorer()
    data = stepper_data(at, PLAYER)
    assert data["steps"] == 21 and data["step"] == 0 and data["url_key"] == "t"
    memory_0 = array(trace_named(stepper_figure(at, PLAYER, "memory", 0), "memory")["z"])
    memory_2 = array(trace_named(stepper_figure(at, PLAYER, "memory", 2), "memory")["z"])
    assert cursor_x(stepper_figure(at, PLAYER, "bits", 2)) == 2
    assert not np.array_equal(memory_0, memory_2)
    set_step(at, PLAYER, 2)  # the browser reports the step when another control is used
    no_exception(at)
    assert step_label(at) == "**Step 2 of 20** · input 3/10"
    set_step(at, PLAYER, 20)
    assert step_label(at).startswith("**Step 20 of 20** · output 10/10")
    assert at.query_params["t"] in ("20", ["20"])


def test_override_changes_the_head_at_t_and_outputs_after_only():
    at = open_explorer({"t": "4", "length": "10"})
    w_before = array(trace_named(figure(at, "pipeline"), "w")["x"])
    wc_before = array(trace_named(figure(at, "pipeline"), "w_c")["x"])
    at.select_slider(key="ov_g").set_value("1").run()  # follow content only...
    at.select_slider(key="ov_beta").set_value("0").run()  # ...with no preference: a uniform write
    no_exception(at)
    assert at.number_input(key="ov_step").value == 4  # pinned to the step on screen
    pipeline = figure(at, "pipeline")
    w = array(trace_named(pipeline, "w")["x"])
    assert not np.allclose(w, w_before)
    np.testing.assert_allclose(w, np.full_like(w, 1 / 128), rtol=1e-3)
    w_c = array(trace_named(pipeline, "w_c")["x"])  # beta = 0: content focus is uniform too
    assert not np.allclose(w_c, wc_before) and np.allclose(w_c, 1 / 128, rtol=1e-3)
    titles = " ".join(a["text"] for a in pipeline["layout"]["annotations"])
    assert "β = 0 <b>✎</b>" in titles and "g = 1 <b>✎</b>" in titles
    assert titles.count("✎") == 2  # shift and gamma are still the controller's
    untouched, changed = compare_z(at, "untouched"), compare_z(at, "with override")
    np.testing.assert_array_equal(untouched[:, :4], changed[:, :4])  # bits x time: steps before 4 identical
    assert np.abs(untouched[:, 4:] - changed[:, 4:]).max() > 0.5
    assert any("override on **write0** at step 4" in m.value for m in at.markdown)
    at.button(key="ov_reset").click().run()
    assert "compare" not in figure_keys(at)
    assert intervention_panel(at).proto.expanded, "Reset overrides keeps the panel open (issue 15)"


def test_a_shorter_episode_clamps_the_step_python_knows():
    at = open_explorer({"length": "10"})
    set_step(at, PLAYER, 20)
    at.slider(key="length").set_value(3).run()  # 7 steps now
    no_exception(at)
    assert step_label(at).startswith("**Step 6 of 6**")


def test_override_at_every_step_breaks_the_copy():
    at = open_explorer({"ov_g": "1", "ov_beta": "0", "ov_scope": "at every step"})
    no_exception(at)
    line = next(m.value for m in at.markdown if "What the override changed" in m.value)
    before, after = (int(n) for n in re.findall(r"\*\*(\d+)\*\*", line)[:2])
    assert before == 0 and after > 10  # uniform content focus at every step: the copy is lost


def test_link_round_trips_the_view():
    query = {"seed": "7", "length": "15", "t": "9", "head": "write0", "ov_g": "0", "ov_shift": "1", "ov_step": "9"}
    at = open_explorer(query)
    assert at.number_input(key="seed").value == 7
    assert at.slider(key="length").value == 15
    assert step_label(at).startswith("**Step 9 of 30**")
    assert at.select_slider(key="ov_g").value == "0" and at.select_slider(key="ov_shift").value == "1"
    summary = next(m.value for m in at.markdown if "override on" in m.value)
    assert "override on **write0** at step 9: g = 0, shift s = [0, 0, 1]" in summary
    assert intervention_panel(at).proto.expanded  # a shared override opens its panel
    assert not at.warning


def intervention_panel(at):
    return next(e for e in at.expander if e.label.startswith("Intervene"))


def test_intervention_panel_starts_closed_without_an_override():
    assert not intervention_panel(open_explorer()).proto.expanded


def test_hand_drawn_input_runs_and_travels_in_the_link():
    at = open_explorer({"input": "Drawn", "bits": "ff.00.a5"})
    assert step_label(at) == "**Step 0 of 6** · input 1/3"
    inputs = array(trace_named(figure(at, "bits"), "input")["z"])  # channels x time
    np.testing.assert_array_equal(inputs[:8, 0], np.ones(8))
    np.testing.assert_array_equal(inputs[:8, 2], [1, 0, 1, 0, 0, 1, 0, 1])
    assert at.data_editor[0].value.shape == (3, 8)


def test_empty_drawing_keeps_the_last_good_episode():
    at = open_explorer({"input": "Drawn", "bits": "ff.00.a5"})
    at.session_state["draw_copy_8"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0, 1, 2]}
    at.run()
    no_exception(at)
    assert any("empty" in e.value for e in at.error)
    assert step_label(at) == "**Step 0 of 6** · input 1/3"  # the 3-vector drawing is still shown


def test_drawing_past_memory_size_warns_that_shifts_wrap():
    at = open_explorer({"input": "Drawn", "bits": ".".join(["a5"] * 130), "t": "129"})
    assert any("wraps" in w.value for w in at.warning)
    assert np.isfinite(array(trace_named(figure(at, "bits"), "output")["z"])).all()


def test_malformed_and_out_of_range_link_falls_back_with_a_notice():
    at = open_explorer({"length": "999", "seed": "abc", "t": "500", "ov_beta": "nan", "bogus": "1"})
    assert at.slider(key="length").value == 10
    assert at.number_input(key="seed").value == 0
    assert at.select_slider(key="ov_beta").value == "off"
    notice = " ".join(w.value for w in at.warning)
    for key in ("length", "seed", "`t=500`", "ov_beta", "bogus"):
        assert key in notice
    assert step_label(at).startswith("**Step 20 of 20**")  # a step past the end is clamped (and named above)
    assert not at.error


def test_bad_drawing_in_link_gives_a_notice():
    at = open_explorer({"input": "Drawn", "bits": "zz.ff"})
    assert any("drawing in the link was not used" in w.value for w in at.warning)
    assert "bits" in panel_ids(at)


def test_override_giving_nan_keeps_the_last_good_view(monkeypatch):
    rerun_from = explore_ntm.rerun_from

    def poisoned(*args, **kwargs):
        trace = rerun_from(*args, **kwargs)
        trace.outputs[3:] = np.nan
        return trace

    monkeypatch.setattr(explore_ntm, "rerun_from", poisoned)
    ntm_page.clear_caches()
    try:
        at = open_explorer({"ov_gamma": "50", "ov_step": "2", "seed": "3"})
    finally:
        ntm_page.clear_caches()
    assert any("NaN" in e.value and "last good view" in e.value for e in at.error)
    assert "compare" not in figure_keys(at)
    for name in ("output", "target"):
        z = array(trace_named(figure(at, "bits"), name)["z"])
        assert name == "target" or np.isfinite(z).all()
    assert "nan" not in next(m.value for m in at.markdown if "wrong bit" in m.value).lower()


def test_memory_change_toggle_shows_the_write():
    at = open_explorer({"t": "3"})
    at.toggle(key="diff").set_value(True).run()
    change = array(trace_named(figure(at, "memory"), "memory")["z"])
    assert np.abs(change).max() > 0.1
    assert (np.abs(change).max(axis=1) > 1e-3).sum() <= 5  # one sharp write: only a few rows change
    title = figure(at, "memory")["layout"]["annotations"][0]["text"]
    assert f"<b>M</b>{sub('t')} <b>−</b> <b>M</b>{sub('t−1')}" in title


def test_lstm_baseline_has_no_memory_and_no_intervention():
    at = open_explorer({"model": "lstm-copy"})
    assert panel_ids(at) == {"bits", "hidden"}
    assert not any(h.value == "Intervene" for h in at.sidebar.header)


TASKS = {
    "ntm-repeat-copy": RepeatCopyTask(max_length=4, max_repeats=3),
    "ntm-associative-recall": AssociativeRecallTask(max_items=3),
}


@pytest.fixture
def tiny_models(tmp_path, monkeypatch):
    """Untrained NTMs for the tasks whose weights may not be trained yet, in a private pretrained/ folder."""
    torch.manual_seed(0)
    for name, task in TASKS.items():
        config = NTMConfig(task.input_width, task.output_width, controller_size=16, memory_n=32, memory_m=6)
        save_state(NTM(config), tmp_path / f"{name}.safetensors")
        write_card(ModelCard(name, "ntm", "", task.spec(), architecture_of(NTM(config))), tmp_path)
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()
    ntm_page.clear_caches()


@pytest.mark.parametrize(
    ("name", "phase", "channel"),
    [("ntm-repeat-copy", "end marker", "end"), ("ntm-associative-recall", "recall 3/3", "query delim.")],
)
def test_every_task_steps_and_intervenes(tiny_models, name, phase, channel):
    at = open_explorer({"model": name})
    assert set(TASKS) <= set(at.selectbox(key="model").options)
    set_step(at, PLAYER, stepper_data(at, PLAYER)["steps"] - 1)
    assert phase in step_label(at)
    bits = figure(at, "bits")
    assert channel in " ".join(str(y) for t in bits["data"] for y in (t.get("y") or []) if isinstance(y, str))
    at.select_slider(key="ov_gamma").set_value("50").run()
    no_exception(at)
    assert "compare" in figure_keys(at)
    at.radio(key="input").set_value("Drawn").run()
    no_exception(at)
    assert at.data_editor


def test_ntm_and_lstm_side_by_side_on_the_same_input():
    at = open_explorer({"length": "20"})
    at.toggle(key="vs_lstm").set_value(True).run()
    no_exception(at)
    chart = figure(at, "vs_lstm_chart")
    ntm, lstm = array(trace_named(chart, "NTM")["z"]), array(trace_named(chart, "LSTM")["z"])
    assert ntm.shape == lstm.shape == (8, 41)
    titles = " ".join(a["text"] for a in chart["layout"]["annotations"])
    assert "NTM (ntm-copy)" in titles and "LSTM baseline (lstm-copy)" in titles


def test_export_panel_is_built_only_when_open_and_travels_in_the_link():
    closed = open_explorer()
    assert not closed.get("download_button") and "animation" not in [c.key for c in closed.get("plotly_chart")]
    opened = open_explorer({"export": "true", "anim": "true"})
    no_exception(opened)
    assert len(opened.get("download_button")) == 4  # GIF, HTML, NPZ, JSON
    assert "animation" in [c.key for c in opened.get("plotly_chart")]


def test_intervene_follows_the_step_on_screen_until_a_step_is_typed():
    """Issue 15: "At step" shows the step on screen, and a typed one survives moving a knob."""
    at = open_explorer({"t": "9"})  # the browser's player shows step 9 (stepping itself is a browser test)
    assert at.number_input(key="ov_step").value == 9
    at.number_input(key="ov_step").set_value(3).run()
    at.select_slider(key="ov_g").set_value("0").run()
    no_exception(at)
    assert at.number_input(key="ov_step").value == 3
    assert "at step 3" in " ".join(m.value for m in at.markdown)


def test_a_knob_moved_right_after_the_step_report_lands_on_the_step_on_screen():
    """Issue 15: the browser reports step 5 and a knob moves at once; the knob's message still carries the
    "At step" shown before the report's run (0), which must not count as a typed step."""
    at = open_explorer()
    assert at.number_input(key="ov_step").value == 0
    set_step(at, PLAYER, 5)
    at.number_input(key="ov_step").set_value(0)  # the stale value the knob's message carries
    at.select_slider(key="ov_g").set_value("0").run()
    no_exception(at)
    assert at.number_input(key="ov_step").value == 5
    assert "at step 5" in " ".join(m.value for m in at.markdown)


def test_drawn_input_holds_cleared_cells():
    """Issue 15: the drawing's cells are nullable, so a cleared cell (Delete) reaches the model as 0."""
    from streamlit.elements.widgets.data_editor import _apply_cell_edits

    at = open_explorer({"input": "Drawn"})
    frame = at.session_state["draw_copy_8_base"].copy()
    assert all(str(dtype) == "boolean" for dtype in frame.dtypes)
    _apply_cell_edits(frame, {0: {"bit 0": None}}, {"bit 0": "boolean"})  # what Streamlit does with a Delete
    grid = ntm_page.ex.check_grid(frame.astype(object).where(frame.notna(), None).to_numpy(), 8)
    assert grid[0, 0] == 0


def test_export_file_names_say_whether_an_override_applied(monkeypatch):
    """Issue 15: the exported files did not say whether an override was applied."""
    stems: list[str] = []
    monkeypatch.setattr(ntm_page, "download_buttons", lambda files, stem, key_prefix: stems.append(stem))
    open_explorer({"export": "true", "seed": "3"})
    open_explorer({"export": "true", "seed": "3", "ov_g": "0"})
    assert stems == ["ntm-copy-seed3", "ntm-copy-seed3-override"]
