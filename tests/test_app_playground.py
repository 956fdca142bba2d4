"""Addressing Playground through AppTest: each knob moves the panel it should, links restore views."""

from __future__ import annotations

import numpy as np
import pytest
from apptest_helpers import array, figure, no_exception, open_page, trace_named


def bars(at, name: str) -> np.ndarray:
    return array(trace_named(figure(at, "pipeline"), name)["x"])


@pytest.fixture(scope="module")
def fresh():
    at = open_page("playground")
    no_exception(at)
    return at


def test_renders_memory_and_all_five_stages(fresh):
    fig = figure(fresh, "pipeline")
    names = [t.get("name") for t in fig["data"]]
    for stage in ("K", "w_c", "w_g", "w_s", "w"):
        assert stage in names
    for stage in ("w_c", "w_g", "w_s", "w"):
        w = bars(fresh, stage)
        assert np.isfinite(w).all() and abs(w.sum() - 1) < 1e-4
    titles = " ".join(a["text"] for a in fig["layout"]["annotations"])
    hovers = " ".join(t.get("hovertemplate", "") for t in fig["data"])
    assert "β = 10" in titles and "H " in hovers and "max" in hovers  # stats in the hover: panels may be 60 px wide


def test_beta_changes_content_focus_only_upstream_of_it():
    at = open_page("playground", {"prev": "One-hot", "g": "0.5"})
    sim_before, wc_before = bars(at, "K"), bars(at, "w_c")
    at.select_slider(key="beta").set_value(0).run()
    no_exception(at)
    np.testing.assert_allclose(bars(at, "K"), sim_before, atol=1e-6)  # similarity does not depend on beta
    wc = bars(at, "w_c")
    np.testing.assert_allclose(wc, np.full_like(wc, 1 / len(wc)), atol=1e-5)  # beta = 0: uniform
    assert not np.allclose(wc, wc_before)


def test_gate_mixes_in_previous_weighting():
    at = open_page("playground", {"prev": "One-hot", "prev_row": "5", "key_row": "2"})
    at.slider(key="g").set_value(0.0).run()
    w_g = bars(at, "w_g")
    assert int(np.argmax(w_g)) == 5 and w_g[5] == pytest.approx(1.0, abs=1e-5)  # g = 0 keeps w_prev
    at.slider(key="g").set_value(1.0).run()
    assert int(np.argmax(bars(at, "w_g"))) == 2  # g = 1 follows the key's row


def test_shift_moves_focus_one_location_down():
    at = open_page("playground", {"prev": "One-hot", "key_row": "4", "beta": "100"})
    at.slider(key="s_0").set_value(0.0).run()
    at.slider(key="s_p1").set_value(1.0).run()
    no_exception(at)
    assert int(np.argmax(bars(at, "w_s"))) == 5


def test_gamma_sharpens_a_blurred_weighting():
    at = open_page("playground", {"prev": "One-hot", "key_row": "4", "beta": "100", "s_m1": "0.5", "s_p1": "0.5"})
    blurred = bars(at, "w")
    at.select_slider(key="gamma").set_value(50).run()
    sharp = bars(at, "w")
    assert sharp.max() > blurred.max() + 0.2
    assert np.isfinite(sharp).all() and abs(sharp.sum() - 1) < 1e-4


def test_wide_shift_range_shows_five_offsets():
    at = open_page("playground", {"radius": "2"})
    for key in ("s_m2", "s_m1", "s_0", "s_p1", "s_p2"):
        assert at.slider(key=key) is not None
    assert trace_named(figure(at, "pipeline"), "s")["x"] == ["-2", "-1", "0", "+1", "+2"]


def test_step_button_walks_a_location_based_head():
    at = open_page("playground", {"prev": "Carry forward", "g": "0", "s_0": "0", "s_p1": "1", "gamma": "50"})
    at.button(key="step_next").click().run()
    at.button(key="step_next").click().run()
    no_exception(at)
    assert any("2 steps taken" in c.value for c in at.caption)
    walk = array(figure(at, "walk")["data"][0]["z"])  # locations x steps
    assert [int(np.argmax(walk[:, s])) for s in range(walk.shape[1])] == [0, 1, 2]
    assert int(np.argmax(bars(at, "w"))) == 3  # the step on screen moves one further
    at.button(key="step_back").click().run()
    assert any("1 steps taken" in c.value for c in at.caption)
    assert at.query_params["steps"] in ("1", ["1"])


def test_link_restores_the_view():
    query = {"n": "20", "m": "6", "preset": "Identity", "beta": "50", "g": "0.25", "gamma": "3", "prev": "Uniform"}
    at = open_page("playground", query)
    no_exception(at)
    assert at.number_input(key="n").value == 20
    assert at.select_slider(key="beta").value == 50
    assert at.slider(key="g").value == 0.25
    assert at.select_slider(key="gamma").value == 3
    fig = figure(at, "pipeline")
    assert len(array(trace_named(fig, "w")["x"])) == 20
    assert not at.warning


def test_garbage_url_values_fall_back_with_a_notice():
    at = open_page("playground", {"beta": "banana", "g": "7", "n": "-3", "bogus": "1"})
    no_exception(at)
    assert at.select_slider(key="beta").value == 10
    assert at.slider(key="g").value == 1.0
    notice = " ".join(w.value for w in at.warning)
    assert "beta" in notice and "`g=7`" in notice and "bogus" in notice


def test_typed_key_of_wrong_length_keeps_last_good_key():
    at = open_page("playground", {"key_mode": "Typed", "m": "4", "n": "4", "preset": "Identity"})
    at.text_input(key="key_text").input("0, 0, 1, 0").run()
    assert int(np.argmax(bars(at, "w_c"))) == 2
    at.text_input(key="key_text").input("1, 2").run()
    no_exception(at)
    assert any("needs 4 numbers" in e.value for e in at.error)
    assert int(np.argmax(bars(at, "w_c"))) == 2  # the last good key still drives the figure


@pytest.mark.parametrize("bad", ["nan", "inf", "x"])
def test_bad_numbers_in_typed_key_give_a_message(bad):
    at = open_page("playground", {"key_mode": "Typed", "m": "3", "n": "3"})
    at.text_input(key="key_text").input(f"1, {bad}, 0").run()
    no_exception(at)
    assert at.error, "expected an error message"
    for stage in ("w_c", "w"):
        assert np.isfinite(bars(at, stage)).all()


@pytest.mark.parametrize("value", ["1e308", "1e6", "-1e6"])
def test_a_huge_typed_key_never_blanks_the_panels_with_nan(value):
    """Issue 15: a key of eight 1e308 passed the finiteness check, overflowed float32 and made every panel NaN."""
    at = open_page("playground", {"key_mode": "Typed", "m": "8", "n": "8"})
    at.text_input(key="key_text").input(", ".join([value] * 8)).run()
    no_exception(at)
    assert bool(at.error) == (abs(float(value)) > 1e6), [e.value for e in at.error]  # out of range: said, not used
    for stage in ("K", "w_c", "w_g", "w_s", "w"):
        assert np.isfinite(bars(at, stage)).all()
    titles = " ".join(a["text"] for a in figure(at, "pipeline")["layout"]["annotations"])
    assert "nan" not in titles.lower()


def test_malformed_memory_in_link_falls_back_to_preset():
    at = open_page("playground", {"n": "2", "m": "2", "mem": "1,nan;0,1"})
    no_exception(at)
    assert any("memory in the link" in w.value for w in at.warning)
    assert np.isfinite(bars(at, "w")).all()


def test_edited_memory_in_link_is_used():
    at = open_page("playground", {"n": "3", "m": "2", "mem": "1,0;0,1;-1,0", "key_row": "2", "beta": "100"})
    no_exception(at)
    assert int(np.argmax(bars(at, "w_c"))) == 2
    assert array(trace_named(figure(at, "pipeline"), "M")["z"])[2].tolist() == [-1.0, 0.0]


def test_extreme_knobs_never_show_nan():
    at = open_page(
        "playground", {"preset": "Zeros", "beta": "100", "gamma": "50", "g": "0", "prev": "Uniform", "s_0": "0"}
    )
    no_exception(at)
    for stage in ("K", "w_c", "w_g", "w_s", "w"):
        assert np.isfinite(bars(at, stage)).all()
    titles = " ".join(a["text"] for a in figure(at, "pipeline")["layout"]["annotations"])
    assert "nan" not in titles.lower()


def test_home_page_links_every_page():
    at = open_page("home")
    no_exception(at)
    assert at.title[0].value == "memviz"
    assert len(at.get("page_link")) >= 1
    assert len(at.latex) >= 4


def test_scenario_sets_the_knobs_and_explains_itself():
    at = open_page("playground")
    at.pills(key="scenario").set_value("Walk by location").run()
    no_exception(at)
    assert at.slider(key="g").value == 0.0
    assert at.slider(key="s_p1").value == 1.0
    assert "Step" in at.info[0].value
    at.button(key="step_next").click().run()
    assert int(np.argmax(bars(at, "w"))) == 2  # start row 0, one step taken, the next step lands on 2


def test_shift_distribution_is_drawn_normalised_above_the_shift_panel():
    at = open_page("playground", {"s_m1": "0.5", "s_0": "0.5", "s_p1": "1"})
    np.testing.assert_allclose(array(trace_named(figure(at, "pipeline"), "s")["y"]), [0.25, 0.25, 0.5], atol=1e-6)
    said = [c.value for c in at.caption if "shift sliders sum to" in c.value]
    assert said == ["The shift sliders sum to 2.00, so each is divided by that sum: s = [0.25, 0.25, 0.50]."]


def test_memory_editor_shows_the_memory_on_screen():
    at = open_page("playground", {"n": "3", "m": "2", "mem": "1,0;0,1;-1,0"})
    assert not at.data_editor
    at.toggle(key="edit_memory").set_value(True).run()
    no_exception(at)
    assert at.data_editor[0].value.to_numpy().tolist() == [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]


def test_step_count_in_link_is_restored():
    at = open_page("playground", {"prev": "Carry forward", "g": "0", "s_0": "0", "s_p1": "1", "steps": "5"})
    assert any("5 steps taken" in c.value for c in at.caption)
    assert int(np.argmax(bars(at, "w"))) == 6


def test_malformed_step_count_in_link_gives_a_notice():
    at = open_page("playground", {"prev": "Carry forward", "steps": "lots"})
    no_exception(at)
    assert any("steps=lots" in w.value for w in at.warning)
    assert any("0 steps taken" in c.value for c in at.caption)
