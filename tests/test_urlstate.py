"""The URL tables' parsing and notices (memviz.ui.urlstate), and the core text the NTM page shows."""

from __future__ import annotations

import numpy as np
import pytest

from memviz.ntm import explore as ex
from memviz.ntm.model import NTM, NTMConfig, Override
from memviz.ui import memn2n as memn2n_page
from memviz.ui import ntm as ntm_page
from memviz.ui import playground as playground_page
from memviz.ui.urlstate import Param, link_problems, shorten, taken

TABLES = {"playground": playground_page.URL_PARAMS, "ntm": ntm_page.URL_PARAMS, "memn2n": memn2n_page.URL_PARAMS}


@pytest.mark.parametrize("text", ["inf", "-inf", "1e309", "nan", "NaN", "1.5", "", "9" * 40, "١٢"])
def test_an_integer_setting_takes_only_whole_numbers_in_range(text):
    with pytest.raises(ValueError):
        Param("n", "int", 12, 2, 64).parse(text)


def test_integers_floats_choices_and_flags_parse_as_the_widgets_hold_them():
    assert Param("n", "int", 12, 2, 64).parse("20") == 20
    assert Param("g", "float", 1.0, 0.0, 1.0).parse("0.25") == 0.25
    for bad in ("inf", "1e309", "nan", "7", "-0.5", "zero"):
        with pytest.raises(ValueError):
            Param("g", "float", 1.0, 0.0, 1.0).parse(bad)
    assert Param("r", "choice", "1", choices=("1", "2")).parse("2") == "2"
    assert Param("x", "bool", False).parse("TRUE") is True
    with pytest.raises(ValueError, match="longer"):
        Param("k", "text", "", max_length=10).parse("x" * 11)


def test_a_choice_is_found_as_a_person_would_write_it_and_a_miss_lists_the_choices():
    tau = Param("tau1", "choice", "1.0", choices=("0.1", "0.5", "1.0", "2.0", "10.0"))
    assert tau.parse("10") == "10.0" and tau.parse("1") == "1.0" and tau.parse("0.10") == "0.1"
    task = Param("task", "choice", choices=("1 single-supporting-fact", "2 two-supporting-facts"))
    assert task.parse("2") == "2 two-supporting-facts" and task.parse("2 TWO-supporting-facts").startswith("2 ")
    source = Param("src", "choice", "Generated", choices=("Generated", "Typed", "bAbI file"))
    assert source.parse("typed") == "Typed"
    with pytest.raises(ValueError, match="`Generated`, `Typed`, `bAbI file`"):
        source.parse("story")
    for bad in ("3", "nan", "inf", "1e999"):
        with pytest.raises(ValueError):
            tau.parse(bad)


def test_notices_name_each_bad_key_once_and_show_at_most_40_characters():
    params = {"n": Param("n", "int", 12, 2, 64), "t": Param("t", "int", 0, 0, 9)}
    link = {"n": ["x" * 10_000], "t": ["3", "7"], "<script>": ["1"], "ok": []}
    problems = link_problems(params, {k: v for k, v in link.items() if v})
    assert set(problems) == {"n", "t", "<script>"}
    assert len(problems["n"]) < 120 and "…" in problems["n"]
    assert "2 times" in problems["t"] and "not a setting" in problems["<script>"]
    assert link_problems(params, {"n": ["20"], "t": ["9"]}) == {}
    assert shorten("a" * 41) == "a" * 39 + "…" and shorten("short") == "short"


def test_a_widget_value_matches_the_link_as_the_url_spells_it():
    assert taken(3, "3.0") and taken(0.25, "0.25") and not taken(2, "3")
    assert taken(True, "true") and taken(2, "2 two-supporting-facts", lambda t: f"{t} two-supporting-facts")


@pytest.mark.parametrize("page", TABLES)
def test_every_table_entry_accepts_its_own_default(page):
    for param in TABLES[page].values():
        if param.default is not None:
            assert param.parse(str(param.default) if param.kind != "bool" else "false") is not None


def test_ntm_headline_readout_table_and_knob_labels():
    model = NTM(NTMConfig(input_width=3, output_width=2, controller_size=8, memory_n=6, memory_m=4)).eval()
    override = Override(head="write0", step=1, g=0.0)
    trace = model.run(np.eye(3, dtype=np.float32)[[0, 1, 2, 2]], override)
    headline = ex.episode_headline("ntm-x", "copy · NTM", 4, 1, [override])
    assert headline.startswith("**ntm-x** · copy · NTM · 4 timesteps · **1 wrong bit**")
    assert "override on **write0**" in headline
    assert ex.episode_headline("n", "l", 4, 2, []).endswith("**2 wrong bits**")
    table = ex.readout_table(trace, 1, [override]).splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| **write0** |") and "**✎ 0.00**" in table[2]
    assert "✎" not in table[3]  # read0 is not overridden
    labels = ex.knob_labels(trace.write[0], 1, [override])
    assert labels["w_g"] == "g = 0 <b>✎ override</b>" and "✎" not in labels["w_c"]
