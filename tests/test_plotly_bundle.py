"""The plotly.js the browser loads: the cartesian bundle of the installed version, with every trace we draw."""

from __future__ import annotations

import re
from pathlib import Path

from memviz.ui import stepper

FIGURES = Path(stepper.__file__).resolve().parents[1] / "figures"


def test_setup_provides_the_cartesian_bundle_of_the_installed_version():
    version = stepper.bundle_version(stepper.FULL_BUNDLE)
    assert version and re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert stepper.bundle_version(stepper.CARTESIAN_BUNDLE) == version, "run `bash setup.sh` (it fetches the bundle)"
    assert stepper.plotly_bundle() == stepper.CARTESIAN_BUNDLE
    assert stepper.PLOTLY_URL.endswith("/plotly-cartesian.min.js")
    assert stepper.CARTESIAN_BUNDLE.stat().st_size < stepper.FULL_BUNDLE.stat().st_size / 2


def test_every_trace_type_the_figures_use_is_in_the_bundle():
    bundle = stepper.CARTESIAN_BUNDLE.read_text(encoding="utf-8")
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    used = set()
    for source in FIGURES.glob("*.py"):
        used |= set(re.findall(r'"type": "(\w+)"', source.read_text(encoding="utf-8")))
    traces = used - {"category", "rect", "line", "buttons", "linear", "log", "date", "path", "circle"}
    assert traces and traces <= registered, traces - registered


def test_a_bundle_of_another_version_is_not_served(tmp_path, monkeypatch):
    other = tmp_path / "plotly-cartesian.min.js"
    other.write_text("/**\n* plotly.js (cartesian - minified) v0.0.1\n*/\n", encoding="utf-8")
    monkeypatch.setattr(stepper, "CARTESIAN_BUNDLE", other)
    assert stepper.plotly_bundle() == stepper.FULL_BUNDLE
    other.unlink()
    assert stepper.bundle_version(other) is None and stepper.plotly_bundle() == stepper.FULL_BUNDLE
