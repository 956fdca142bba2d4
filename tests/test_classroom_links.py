"""The classroom link's pure parts: parsing ``show``, building links, the CSS that hides controls."""

from __future__ import annotations

from memviz.ui.classroom import MEMN2N, NTM, PLAYGROUND, classroom_link, hiding_css, parse_show


def test_show_lists_known_controls_and_none_shows_nothing():
    assert parse_show(None, PLAYGROUND) == (None, None)
    assert parse_show("beta,steps", PLAYGROUND) == (["beta", "steps"], None)
    assert parse_show("", PLAYGROUND) == ([], None)
    assert parse_show("none", PLAYGROUND) == ([], None)


def test_an_unknown_or_malformed_control_gives_every_control_and_a_problem():
    for text in ("beta,bogus", "<script>", "beta;g", "x" * 300):
        shown, problem = parse_show(text, PLAYGROUND)
        assert shown is None and problem and "every control is shown" in problem
        assert "<script>" not in problem or "`<script>`" in problem  # quoted as code, never as markup


def test_classroom_link_keeps_the_view_and_replaces_show_and_present():
    base = "http://host:8501/playground"
    params = {"beta": "50", "g": "0.5", "show": "old", "present": "0"}
    assert classroom_link(base, params, None, False) == f"{base}?beta=50&g=0.5"
    assert classroom_link(base, params, ["beta", "steps"], True) == f"{base}?beta=50&g=0.5&show=beta,steps&present=1"
    assert classroom_link(base, {}, [], False) == f"{base}?show=none"
    assert classroom_link(base, {}, None, False) == base


def test_hiding_css_names_each_widget_class_and_ignores_unsafe_keys():
    css = hiding_css(["g", "mask_*", "bad key", "x}{"])
    assert css.startswith('.st-key-g, [class*="st-key-mask_"] {display: none')
    assert "bad" not in css and "}{" not in css.split("{")[0]
    assert hiding_css([]) == ""


def test_every_page_control_names_widget_keys():
    for table in (PLAYGROUND, NTM, MEMN2N):
        for name, control in table.items():
            assert name.isidentifier() and control.label and control.keys
