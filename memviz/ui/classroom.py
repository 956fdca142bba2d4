"""Teaching with memviz (issue 14): presenter mode, the classroom link and "copy link", on every page.

* **Presenter mode** (``?present=1`` or the sidebar toggle): the sidebar starts
  collapsed, every chart font is at least 18 px (:func:`memviz.figures.theme.for_presenter`,
  applied by :func:`memviz.ui.show_figure`), page text is larger, and the pages leave
  out their secondary panels (:func:`secondary`), so one figure and its controls fill
  a screen.
* **Classroom link** (``?show=beta,g``): as TensorFlow Playground's "use it in
  classroom" panel, only the named controls are shown; every other control is hidden
  and keeps the value the link gives it (the link carries every setting). ``show=``
  with nothing names no control: the figure alone.
* **Share panel**: the link to this exact view (with a copy button), and a form
  that builds the classroom link from ticked controls.

Bad links fall back to the ordinary view with a notice: a malformed ``present`` is
dropped by :mod:`memviz.ui.urlstate` (it is in :data:`PARAMS`), and a ``show`` naming a
control the page does not have is ignored as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from memviz.ui import urlstate

PRESENT_KEY = "present"
SHOW_KEY = "show"
PARAMS = urlstate.table(
    urlstate.Param(PRESENT_KEY, "choice", "0", choices=("1", "0", "true", "false"), widget=False),
    urlstate.Param(SHOW_KEY, "text", None, max_length=400, widget=False),
)
"""Add these to a page's URL table (``page.URL_PARAMS | classroom.PARAMS``)."""
_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


@dataclass(frozen=True)
class Control:
    """A control a teacher may show or hide: its label and the widget keys it is made of."""

    label: str
    keys: tuple[str, ...]


def parse_show(text: str | None, controls: Mapping[str, Control]) -> tuple[list[str] | None, str | None]:
    """The controls a classroom link shows (None: every control) and a problem to report, if any.

    ``""`` or ``"none"`` shows no control. A name that is not one of ``controls`` makes
    the whole list unusable: the ordinary view, with the problem named.
    """
    if text is None:
        return None, None
    names = [n.strip() for n in text.split(",") if n.strip() and n.strip() != "none"]
    unknown = [n for n in names if not _NAME.fullmatch(n) or n not in controls]
    if unknown:
        shown = ", ".join(f"`{urlstate.shorten(n, 20)}`" for n in unknown[:3])
        return None, f"`{SHOW_KEY}` names controls this page does not have ({shown}), so every control is shown"
    return names, None


def classroom_link(base: str, params: Mapping[str, str], show: Sequence[str] | None, present: bool) -> str:
    """A link to ``base`` with the view's ``params``, showing only ``show`` (None: all), in presenter mode or not."""
    query = {k: v for k, v in params.items() if k not in (SHOW_KEY, PRESENT_KEY)}
    if show is not None:
        query[SHOW_KEY] = ",".join(show) if show else "none"
    if present:
        query[PRESENT_KEY] = "1"
    return base + ("?" + urlencode(query, safe=",") if query else "")


def hiding_css(keys: Iterable[str]) -> str:
    """CSS that hides the widgets with these keys (Streamlit gives a keyed element the class ``st-key-KEY``).

    A key ending in ``*`` is a prefix (``mask_*``: every story's mask pills).
    """
    rules = []
    for key in keys:
        if not re.fullmatch(r"[A-Za-z0-9_-]+\*?", key):
            continue
        rules.append(f'[class*="st-key-{key[:-1]}"]' if key.endswith("*") else f".st-key-{key}")
    return f"{', '.join(rules)} {{display: none !important;}}" if rules else ""


def controls(*rows: tuple[str, str, tuple[str, ...]]) -> dict[str, Control]:
    """A page's controls for the classroom link: ``(name, label, widget keys)`` rows."""
    return {name: Control(label, keys) for name, label, keys in rows}


PLAYGROUND = controls(
    ("beta", "Key strength β", ("beta",)),
    ("g", "Gate g", ("g",)),
    ("shift", "Shift range and s", ("radius", "s_m2", "s_m1", "s_0", "s_p1", "s_p2")),
    ("gamma", "Sharpening γ", ("gamma",)),
    ("steps", "Back / Step / Reset", ("step_back", "step_next", "step_reset")),
    ("prev", "Previous weighting", ("prev", "prev_row")),
    ("key", "Key", ("key_mode", "key_row", "noise", "key_text")),
    ("memory", "Memory set-up and editor", ("n", "m", "preset", "seed", "edit_memory")),
    ("scenario", "Scenarios", ("scenario",)),
)
NTM = controls(
    ("step", "Step player", ("t_play", "t_nav", "t")),
    ("intervene", "Intervene (head, β, g, s, γ)", ("head", "ov_scope", "ov_step", "ov_reset", "ov_beta", "ov_g")),
    ("episode", "Model, input and sizes", ("model", "input", "seed", "length", "repeats", "items", "query")),
    ("views", "Memory change, heads, LSTM", ("diff", "pipe", "vs_lstm")),
    ("export", "Animate and export", ("export",)),
)
NTM["intervene"] = Control(NTM["intervene"].label, (*NTM["intervene"].keys, "ov_shift", "ov_gamma"))
MEMN2N = controls(
    ("hop", "Hop player", ("hop_play", "hop_nav", "hop")),
    ("temperature", "Temperature τ per hop", ("tau1", "tau2", "tau3")),
    ("mask", "Mask sentences", ("mask_*", "reset")),
    ("story", "Story source, task and seed", ("src", "task", "seed", "next_example", "folder", "file", "story", "q")),
    ("typed", "Typed story", ("story_text", "question_text", "answer_text", "upload")),
    ("hops", "Model (1, 2 or 3 hops)", ("hops", "model")),
    ("export", "Animate, export, accuracy", ("export", "accuracy")),
)


PAGE_CSS = """
/* Figure first (DESIGN.md 4b): less empty space above the title on a 720 px high projector, and a one-line title */
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem;}
[data-testid="stMainBlockContainer"] h1 {font-size: 2.1rem; padding: 0.1rem 0 0.2rem;}
/* the line beside the title narrows and wraps its text before it drops below the title (1024 px wide) */
.st-key-title_row > :last-child {flex: 1 1 14rem; min-width: 14rem;}
"""
PRESENTER_CSS = """
/* the sidebar is closed: let the title sit under the header's bar (its button is left of the title) */
[data-testid="stHeader"] {background: transparent;}
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li {font-size: 1.25rem;}
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] {font-size: 1.05rem;}
"""


def title_row(title: str, caption: str) -> None:
    """The page's title with one short line beside it (it wraps below on a narrow window): figure first."""
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="title_row"):
        st.title(title, anchor=False, width="content")
        st.caption(caption, width="stretch")


STACK_MARGIN_PX = 60
"""Room for the gap between wrapping columns when deciding, by width alone, that they stack."""


def wrapping_columns(
    key: str, weights: Sequence[float], min_px: Sequence[int], gap: str = "medium", lead: str | None = None
) -> list:
    """``st.columns`` that stack (each then full width) when the page is too narrow for their minimum widths.

    Streamlit's columns only stack below 640 px; between that and a projector's width a
    figure squeezed into a narrow column would overlap or cut its text (DESIGN.md 4b).
    ``lead``: the key of a container in the last column that goes first, above the other
    columns, once they stack (a result beside a figure stays on the first screen; the rest of
    that column follows the figure). Decided by the block's own width (a container query).
    """
    block = f".st-key-{key} [data-testid='stHorizontalBlock']"
    rules = [f"{block} {{flex-wrap: wrap; row-gap: 1rem;}}"]
    rules += [
        f".st-key-{key} [data-testid='stColumn']:nth-child({i + 1}) {{min-width: min(100%, {px}px);}}"
        for i, px in enumerate(min_px)
    ]
    if lead is not None:
        last = f"{block} > [data-testid='stColumn']:last-child"
        rules += [
            f".st-key-{key} {{container-type: inline-size;}}",
            f"@container (max-width: {sum(min_px) + STACK_MARGIN_PX}px) {{"
            # the last column's elements become items of the row itself, each a full-width row
            f"{last}, {last} > [data-testid='stVerticalBlock'] {{display: contents;}}"
            f"{block} > *, {last} > [data-testid='stVerticalBlock'] > * {{flex: 1 1 100%; min-width: 100%;}}"
            f"{last} > [data-testid='stVerticalBlock'] > :has(> .st-key-{lead}) {{order: -1;}}"
            "}",
        ]
    st.html(f"<style>{' '.join(rules)}</style>")
    with st.container(key=key):
        return list(st.columns(weights, gap=gap))


def presenting() -> bool:
    """Whether this run is in presenter mode (set by :func:`setup`)."""
    return bool(st.session_state.get("_presenting", False))


def secondary() -> bool:
    """Whether to draw a secondary panel (tables, detail charts): not in presenter mode."""
    return not presenting()


def _toggle_changed() -> None:
    if st.session_state.get("present_mode"):
        st.query_params[PRESENT_KEY] = "1"
    else:
        st.query_params.pop(PRESENT_KEY, None)


def present_in_link() -> bool:
    """Whether the link asks for presenter mode (``?present=1`` or ``true``)."""
    return st.query_params.get(PRESENT_KEY) in ("1", "true")


def setup(controls: Mapping[str, Control]) -> None:
    """Presenter mode, the classroom link's hidden controls and the share panel; call right after ``open_page``."""
    if "present_mode" not in st.session_state:
        st.session_state["present_mode"] = present_in_link()
    on = bool(st.session_state["present_mode"])
    st.session_state["_presenting"] = on
    show, problem = parse_show(st.query_params.get(SHOW_KEY), controls)
    if on:  # the sidebar starts closed, unless a classroom link names controls for the class (they live there)
        st.set_page_config(initial_sidebar_state="expanded" if show else "collapsed")
    if problem:
        st.warning(f"The classroom link was not used: {problem}.", icon=":material/link_off:")
    hidden = [] if show is None else [key for name, c in controls.items() if name not in show for key in c.keys]
    st.html(f"<style>{PAGE_CSS}{PRESENTER_CSS if on else ''}{hiding_css(hidden)}</style>")
    with st.sidebar:
        st.toggle(
            "Presenter mode",
            key="present_mode",
            on_change=_toggle_changed,
            help="Large type, sidebar closed, one figure and its controls per screen (`?present=1`).",
        )
        share_panel(controls)


def share_panel(controls: Mapping[str, Control]) -> None:
    """The link to this view with a copy button, and the classroom link built from ticked controls."""
    base = st.context.url or ""
    params = {k: st.query_params.get(k) for k in st.query_params}
    with st.popover("Copy link · classroom link", icon=":material/share:", width="stretch"):
        st.markdown("**This view** (the copy button is at the right of the link):")
        st.code(classroom_link(base, params, None, presenting()), language=None, wrap_lines=True)
        if not controls:
            return
        st.markdown("**Classroom link**: tick the controls the class should see; the rest stay as they are now.")
        chosen = st.multiselect(
            "Controls the class sees", list(controls), format_func=lambda n: controls[n].label, key="_share_show"
        )
        present = st.checkbox("Open in presenter mode", key="_share_present", value=True)
        st.code(classroom_link(base, params, chosen, present), language=None, wrap_lines=True)
