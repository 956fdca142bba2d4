"""Clicking through every page never raises a "link ignored" notice (issue 15): only a link can.

Every scenario, Step, Back, Reset, hop switch, model switch and source switch, in
sequence, on a page opened from a plain link; after each click no warning about the
link may appear, and nothing raises.
"""

from __future__ import annotations

from apptest_helpers import no_exception, open_page
from streamlit.testing.v1 import AppTest

from memviz.registry import SHIPPED_MODELS
from memviz.ui import playground as playground_page

NOTICE = "Some settings in the link"


def clicked(at: AppTest, what: str) -> None:
    no_exception(at)
    notices = [w.value for w in at.warning if NOTICE in w.value]
    assert not notices, (what, notices)


def test_playground_scenarios_and_steps_raise_no_link_notice():
    at = open_page("playground")
    clicked(at, "open")
    for scenario in playground_page.SCENARIOS:
        at.pills(key="scenario").set_value(scenario).run()
        clicked(at, scenario)
        if at.radio(key="prev").value == "Carry forward":
            for button in ("step_next", "step_next", "step_back", "step_reset", "step_next"):
                at.button(key=button).click().run()
                clicked(at, f"{scenario}: {button}")
    at.radio(key="key_mode").set_value("Typed").run()
    clicked(at, "typed key")
    at.number_input(key="n").set_value(20).run()
    clicked(at, "N = 20")


def test_ntm_steps_models_and_inputs_raise_no_link_notice():
    at = open_page("ntm")
    clicked(at, "open")
    for move in ("next", "next", "last", "prev", "first"):
        at.button_group(key="t_nav").set_value(move).run()
        clicked(at, move)
    for name in [n for n, family in SHIPPED_MODELS.items() if family in ("ntm", "lstm")]:
        at.selectbox(key="model").set_value(name).run()
        clicked(at, name)
        at.button_group(key="t_nav").set_value("last").run()
        clicked(at, f"{name}: last step")
    at.selectbox(key="model").set_value("ntm-copy").run()
    at.radio(key="input").set_value("Drawn").run()
    clicked(at, "drawn input")
    at.radio(key="input").set_value("Random").run()
    at.select_slider(key="ov_g").set_value("0").run()
    clicked(at, "override g = 0")
    at.button(key="ov_reset").click().run()
    clicked(at, "reset overrides")


def test_memn2n_hops_models_and_sources_raise_no_link_notice():
    at = open_page("memn2n")
    clicked(at, "open")
    for move in ("first", "next", "next", "last"):
        at.button_group(key="hop_nav").set_value(move).run()
        clicked(at, move)
    for hops in at.radio(key="hops").options:
        at.radio(key="hops").set_value(int(hops)).run()
        clicked(at, f"{hops} hops")
        at.button_group(key="hop_nav").set_value("last").run()
        clicked(at, f"{hops} hops: last hop")
    at.button(key="reset").click().run()
    clicked(at, "reset")
    for source in ("Typed", "bAbI file", "Generated"):
        at.radio(key="src").set_value(source).run()
        clicked(at, source)
