"""The browser's addressing (memviz/ui/static/addressing.js) equals memviz.addressing on the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from memviz import addressing

pytestmark = pytest.mark.browser

JS = addressing.__file__.replace("addressing.py", "ui/static/addressing.js")


@pytest.fixture(scope="module")
def js_page(browser):
    """A blank page with addressing.js imported as ``window.addressing`` (no server needed)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<html><body></body></html>")
    source = Path(JS).read_text(encoding="utf-8")
    page.evaluate(
        """async (source) => {
            const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
            window.addressing = await import(url);
        }""",
        source,
    )
    yield page
    context.close()


def cases() -> list[tuple]:
    """Memories and knobs over the sliders' full ranges, including the extremes and zero rows/keys."""
    rng = np.random.default_rng(0)
    out = []
    for n, m in ((12, 8), (64, 20), (128, 20)):
        memory = rng.standard_normal((n, m))
        memory[1] = 0.0  # a zero row: similarity 0, not NaN
        key = memory[3] + 0.3 * rng.standard_normal(m)
        for beta, gate, gamma in ((0.0, 1.0, 1.0), (10.0, 0.5, 3.0), (1000.0, 1.0, 100.0), (1000.0, 0.0, 100.0)):
            for shift in ([0.0, 1.0, 0.0], [0.1, 0.8, 0.1], [0.0, 0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0]):
                w_prev = np.zeros(n)
                w_prev[n - 1] = 1.0
                out.append((memory, key, beta, gate, np.array(shift), gamma, w_prev))
    small = rng.standard_normal((16, 4))
    out.append((small, np.zeros(4), 5.0, 0.7, np.array([0.2, 0.6, 0.2]), 2.0, np.zeros(16)))  # zero key and w_prev
    out.append((np.zeros((8, 3)), small[0, :3], 1000.0, 1.0, np.array([0.0, 0.0, 1.0]), 100.0, np.ones(8)))
    return out


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_browser_addressing_equals_memviz_addressing(js_page, dtype):
    worst = 0.0
    for memory, key, beta, gate, shift, gamma, w_prev in cases():
        want = addressing.address(
            torch.tensor(memory, dtype=dtype),
            torch.tensor(key, dtype=dtype),
            beta,
            gate,
            torch.tensor(shift, dtype=dtype),
            gamma,
            torch.tensor(w_prev, dtype=dtype),
        ).numpy()
        got = js_page.evaluate(
            "([m, k, b, g, s, y, p]) => window.addressing.address(m, k, b, g, s, y, p)",
            [memory.tolist(), key.tolist(), beta, gate, shift.tolist(), gamma, w_prev.tolist()],
        )
        for stage in addressing.AddressingTrace.STAGES:
            values = np.asarray(got[stage], dtype=np.float64)
            assert np.isfinite(values).all(), (stage, beta, gamma)
            worst = max(worst, float(np.abs(values - want[stage]).max()))
            np.testing.assert_allclose(values, want[stage], atol=1e-5, err_msg=f"{stage} beta={beta} gamma={gamma}")
    assert worst <= 1e-5
