"""The browser step player (memviz/ui/stepper.py + static/stepper.js) on a page of its own.

A step change, from a button, the scrub slider, an arrow key or play, must not rerun the
script (counted by the page, which appends a line to a log file per run), must reach the URL,
and must update the charts in place (each chart element is created once).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PLAYER = '[data-testid="memvizStepper"]'


def open_player(session, query: str = "") -> None:
    session.page.goto(f"{session.base_url}/{query}", wait_until="domcontentloaded")
    session.page.wait_for_selector(f'{PLAYER}[data-ready="1"]')
    session.wait_idle()


def runs(session) -> int:
    return session.run_log.read_text().count("run")


def step(session) -> int:
    return int(session.page.get_attribute(PLAYER, "data-step"))


def created(session) -> list[str | None]:
    return [p.get_attribute("data-created") for p in session.page.locator(f"{PLAYER} .mvs-panel").all()]


def button(session, label: str):
    return session.page.locator(f'{PLAYER} .mvs-btn[aria-label^="{label}"]')


def test_steps_change_in_the_browser_without_a_rerun(stepper_tab):
    open_player(stepper_tab)
    before = runs(stepper_tab)
    assert step(stepper_tab) == 0 and stepper_tab.url_shows("t=0")
    for _ in range(3):
        button(stepper_tab, "Next").click()
    assert step(stepper_tab) == 3
    button(stepper_tab, "Previous").click()
    button(stepper_tab, "Last").click()
    assert step(stepper_tab) == 19
    button(stepper_tab, "First").click()
    stepper_tab.page.locator(f"{PLAYER} .mvs-slider").fill("7")
    assert step(stepper_tab) == 7
    assert stepper_tab.url_shows("t=7")
    assert stepper_tab.page.locator(f"{PLAYER} .gtitle").first.text_content() == "memory at step 7"
    assert runs(stepper_tab) == before, "a step change must not rerun the script"
    assert created(stepper_tab) == ["1", None, "1"], "charts are drawn once and updated in place"
    stepper_tab.screenshot("stepper-step-7")
    assert stepper_tab.errors == []


def test_arrow_keys_step_and_space_plays_but_not_while_a_knob_has_focus(stepper_tab):
    open_player(stepper_tab)
    stepper_tab.page.locator("h1").click()  # focus on the page, not on a control
    stepper_tab.page.keyboard.press("ArrowRight")
    stepper_tab.page.keyboard.press("ArrowRight")
    assert step(stepper_tab) == 2
    stepper_tab.page.keyboard.press("ArrowLeft")
    assert step(stepper_tab) == 1
    stepper_tab.page.keyboard.press("Space")
    assert stepper_tab.page.get_attribute(PLAYER, "data-playing") == "1"
    stepper_tab.page.wait_for_timeout(1300)
    stepper_tab.page.keyboard.press("Space")
    assert stepper_tab.page.get_attribute(PLAYER, "data-playing") == "0"
    assert step(stepper_tab) >= 2
    at = step(stepper_tab)
    stepper_tab.page.locator('.st-key-knob input[type="range"]').focus()
    stepper_tab.page.keyboard.press("ArrowRight")  # moves the knob, not the step
    stepper_tab.wait_idle()
    assert step(stepper_tab) == at
    assert stepper_tab.errors == []


@pytest.mark.parametrize("speed", [4, 2])
def test_play_keeps_its_labelled_speed(stepper_tab, speed):
    open_player(stepper_tab)
    stepper_tab.page.locator(f"{PLAYER} .mvs-speed").select_option(str(speed))
    before = runs(stepper_tab)
    start, end = stepper_tab.page.evaluate(
        """async () => {
            const el = document.querySelector('[data-testid="memvizStepper"]');
            const start = [performance.now(), Number(el.dataset.step)];
            el.querySelector('.mvs-play').click();
            await new Promise((r) => setTimeout(r, 4000));
            return [start, [performance.now(), Number(el.dataset.step)]];
        }"""
    )
    expected = speed * (end[0] - start[0]) / 1000  # steps the label promises in that time
    played = end[1] - start[1]
    # within 10%, plus one step: the player shows whole steps (floor of rate x time)
    assert abs(played - expected) <= 0.1 * expected + 1, f"played {played} steps, {speed}/s promises {expected:.1f}"
    assert runs(stepper_tab) == before, "playing must not rerun the script"


def test_a_link_beyond_the_episode_is_clamped_with_a_notice(stepper_tab):
    open_player(stepper_tab, "?t=99")
    assert step(stepper_tab) == 19
    notice = stepper_tab.page.locator(f"{PLAYER} .mvs-notice").inner_text()
    assert "99" in notice and "19" in notice
    open_player(stepper_tab, "?t=5")
    assert step(stepper_tab) == 5
    assert stepper_tab.page.locator(f"{PLAYER} .mvs-notice").is_hidden()
    assert stepper_tab.errors == []


def test_python_learns_the_step_when_another_control_reruns_and_charts_update_in_place(stepper_tab):
    open_player(stepper_tab)
    for _ in range(4):
        button(stepper_tab, "Next").click()
    title = stepper_tab.page.locator(f"{PLAYER} .mvs-html").inner_text()
    stepper_tab.page.locator('.st-key-knob input[type="range"]').focus()
    stepper_tab.page.keyboard.press("ArrowRight")
    stepper_tab.wait_idle()
    stepper_tab.page.get_by_text("Python knows step 4").wait_for()
    assert step(stepper_tab) == 4 and stepper_tab.url_shows("t=4")
    assert stepper_tab.page.locator(f"{PLAYER} .mvs-html").inner_text() != title, "new data for the same step"
    assert created(stepper_tab) == ["1", None, "1"], "new data with the same panels: updated, not re-created"
    for _ in range(3):  # more new data: the listeners of earlier data must not pile up
        stepper_tab.page.keyboard.press("ArrowRight")
        stepper_tab.wait_idle()
    stepper_tab.page.locator("h1").click()
    stepper_tab.page.keyboard.press("ArrowRight")
    assert step(stepper_tab) == 5, "one arrow press, one step, however many times the data changed"
    assert stepper_tab.errors == []


def test_one_step_episode_and_a_hidden_tab(stepper_tab):
    open_player(stepper_tab, "?steps=1")
    button(stepper_tab, "Play").click()
    assert stepper_tab.page.get_attribute(PLAYER, "data-playing") != "1"
    assert step(stepper_tab) == 0
    open_player(stepper_tab)
    button(stepper_tab, "Play").click()
    stepper_tab.page.evaluate(
        """() => {
            Object.defineProperty(document, 'hidden', { value: true, configurable: true });
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    assert stepper_tab.page.get_attribute(PLAYER, "data-playing") == "0", "a background tab pauses"
    assert stepper_tab.errors == []
