"""URL state, declared once per page (DESIGN.md section 4): one table drives binding, validation and notices.

Each page declares a table of :class:`Param` (key, type, range or choices, default).
Its widgets are bound to the URL by Streamlit (``bind="query-params"``, :data:`BIND`)
with the ranges of that table; other keys (a drawn input, a step count) are read by
the page itself with :func:`link_value`. :func:`open_page`, the first call of every
page script, checks the link before any widget is seeded from it:

* on the first run of a page in a session (when the link's values arrived), every
  value is parsed by its :class:`Param`; a value that cannot be used (malformed, out
  of range, not finite, repeated, or not a setting of the page) is dropped from the
  URL and the page reruns once, so Streamlit seeds the widgets from a clean link
  (Streamlit reads the values it seeds from when a run starts, so dropping them is
  not enough: a value such as ``1e309`` in a number input raised an OverflowError
  before any page code ran);
* one notice names each dropped key and shows at most 40 characters of its value;
* later runs (the user moving widgets, a page's own reruns) are never checked, so a
  value the user set through the UI never triggers a notice. A value that only turns
  out unusable later (a step past the episode's end) is reported with
  :func:`report_unused`, which also stays silent once the link has been read.

It is also the one place that handles Streamlit's legacy ``pages/`` detection
(:func:`_leave_legacy_pages_mode`), so page scripts need no call of their own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

BIND = {"bind": "query-params"}
"""Keyword arguments that bind a widget to the URL (its key is the URL key)."""

SHOWN_CHARACTERS = 40
"""A notice shows at most this much of a value (a 10,000-character link must not fill the screen)."""

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


@dataclass(frozen=True)
class Param:
    """One URL key of a page: its type, range or choices, and default.

    ``kind`` is ``"int"``, ``"float"`` (finite, within ``low``..``high``), ``"choice"``
    (one of ``choices``, as the URL spells them), ``"bool"`` or ``"text"`` (at most
    ``max_length`` characters; the page parses it further). ``widget`` says whether a
    widget is bound to it (else the page reads it with :func:`link_value`).
    """

    key: str
    kind: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 4000
    widget: bool = True
    spelled: Callable[[Any], str] = str  # how the URL spells the widget's value (a selectbox's format_func)

    def parse(self, text: str) -> Any:
        """The value ``text`` stands for; ``ValueError`` naming what is wrong with it."""
        if len(text) > self.max_length:
            raise ValueError(f"is longer than {self.max_length} characters")
        if self.kind == "int":
            if not _INTEGER.fullmatch(text):
                raise ValueError("is not a whole number")
            return self._in_range(int(text))
        if self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise ValueError("is not a number") from None
            if not math.isfinite(value):
                raise ValueError("is not a finite number")
            return self._in_range(value)
        if self.kind == "choice":
            return self._choice(text)
        if self.kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError("is not true or false")
            return text.lower() == "true"
        return text

    def _choice(self, text: str) -> str:
        """The choice ``text`` names, as the URL spells it: exactly, in any case, as the same number
        (``10`` for ``10.0``), or by its leading number (``2`` for ``2 two-supporting-facts``)."""
        if text in self.choices:
            return text
        folded = text.strip().lower()
        named = [c for c in self.choices if c.lower() == folded or _same_number(c, folded)]
        if not named and _INTEGER.fullmatch(folded):
            named = [c for c in self.choices if c.split(" ", 1)[0] == folded.lstrip("+")]
        if len(named) == 1:
            return named[0]
        if len(self.choices) <= 8:
            raise ValueError("is not one of " + ", ".join(f"`{shorten(c)}`" for c in self.choices))
        raise ValueError("is not one of the choices")

    def _in_range(self, value: float) -> float:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(f"is out of range ({self.low:g} to {self.high:g})")
        return value


def _same_number(choice: str, text: str) -> bool:
    try:
        return math.isfinite(float(text)) and float(choice) == float(text)
    except ValueError:
        return False


def table(*params: Param) -> dict[str, Param]:
    """A page's URL table, keyed by URL key."""
    return {p.key: p for p in params}


def choices(values: Iterable[Any]) -> tuple[str, ...]:
    """Choices as the URL spells them (Streamlit writes ``str(option)``)."""
    return tuple(str(v) for v in values)


def shorten(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """At most ``limit`` characters of a value, for a notice."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link_problems(params: dict[str, Param], link: dict[str, list[str]]) -> dict[str, str]:
    """Key -> what is wrong with its value in ``link`` (key -> every value given); usable keys are left out."""
    problems = {}
    for key, values in link.items():
        shown = shorten(values[-1] if values else "")
        if key not in params:
            problems[key] = f"`{shorten(key)}` is not a setting of this page"
        elif len(values) != 1:
            problems[key] = f"`{key}` is given {len(values)} times"
        else:
            try:
                params[key].parse(values[0])
            except ValueError as exc:
                problems[key] = f"`{key}={shown}` {exc}"
    return problems


def _leave_legacy_pages_mode() -> None:
    """Run this page through app.py's ``st.navigation``, also when a deep link opens it first.

    Streamlit 1.67 decides once per process whether an app is a legacy multipage
    app: ``PagesManager`` sets its class flag ``uses_pages_directory`` from whether
    a ``pages/`` folder sits beside the main script, and only a public
    ``st.navigation`` call (app.py) sets it to False. There is no config option
    for it (``client.showSidebarNavigation`` only hides the legacy sidebar). So the
    first deep link of a server process (``/playground``) runs the page file on its
    own until this flips the flag and reruns, which runs app.py and lands on the
    same page. This project keeps ``pages/`` (its required layout), so this is the
    one workaround, here and nowhere else.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def open_page(page: str, params: dict[str, Param]) -> None:
    """The first call of every page script: navigation mode, then the link checked before any widget.

    On the session's first run of ``page`` every URL value is checked against
    ``params``; unusable ones are dropped and the page reruns once from the clean
    link, their notices kept for :func:`show_notices`.
    """
    _leave_legacy_pages_mode()
    checked = st.session_state.setdefault("_url_checked", set())
    if page in checked:
        notice_slot()
        return
    checked.add(page)
    link = {key: st.query_params.get_all(key) for key in st.query_params}
    problems = link_problems(params, link)
    usable = {k: v[-1] for k, v in link.items() if len(v) == 1 and k not in problems}
    respelled = {k: params[k].parse(text) for k, text in usable.items() if params[k].kind == "choice"}
    respelled = {k: choice for k, choice in respelled.items() if choice != usable[k]}  # "10" for "10.0"
    st.session_state["_url_link"] = usable | respelled
    st.session_state["_url_notices"] = dict(problems)
    for key in problems:
        if key in params:
            del st.query_params[key]
    for key, choice in respelled.items():
        st.query_params[key] = choice
    if respelled or any(key in params for key in problems):
        st.rerun()  # widgets are seeded from the link a run starts with: start again from the clean one
    notice_slot()


def notice_slot() -> None:
    """While the link's notices are pending, keep a place for them at the top of the page.

    :func:`show_notices` runs last (a value may turn out unusable only once the page has
    used it) and fills this place, so the notice is on the first screen, not under the page.
    """
    if "_url_notices" in st.session_state:
        st.session_state["_url_notice_slot"] = st.empty()


def link_value(key: str, params: dict[str, Param]) -> Any:
    """The value the page's link gave ``key`` (checked by :func:`open_page`), else the default."""
    text = st.query_params.get(key)
    if text is None:
        return params[key].default
    try:
        return params[key].parse(text)
    except ValueError:
        return params[key].default


def from_link(key: str) -> str | None:
    """The text the opened link gave ``key`` (None when it gave none, or was unusable and dropped)."""
    return st.session_state.get("_url_link", {}).get(key)


def report_unused(key: str, text: str, why: str) -> None:
    """A notice for a link value that turned out unusable only later (e.g. a step past the episode's end).

    Silent unless the value is what the opened link gave ``key`` and this is still the
    run that read the link: a value the user set through the UI never triggers it.
    """
    if from_link(key) == text and "_url_notices" in st.session_state:
        st.session_state["_url_notices"].setdefault(key, f"`{key}={shorten(text)}` {why}")  # one notice per key


def taken(value: Any, text: str, spelled: Callable[[Any], str] = str) -> bool:
    """Whether a widget ended up holding the value a link gave it."""
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, int | float) and spelled is str:
        try:
            return math.isclose(float(text), float(value), rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return False
    return text == spelled(value)


def show_notices(params: dict[str, Param]) -> None:
    """One warning listing the link's values that were not used (then forgotten: it shows once).

    Besides the values :func:`open_page` dropped, a widget that could not take a
    well-formed link value (a model or file that is not there) is named here, once,
    in the run that read the link.
    """
    link = st.session_state.get("_url_link", {})
    for key, text in link.items():
        p = params.get(key)
        if p is not None and p.widget and key in st.session_state:
            value = st.session_state[key]
            if not taken(value, text, p.spelled):
                report_unused(key, text, f"is not available here, so `{key}` is {shorten(p.spelled(value))}")
    notices: Sequence[str] = list(st.session_state.pop("_url_notices", {}).values())
    st.session_state.pop("_url_link", None)
    slot = st.session_state.pop("_url_notice_slot", None) or st
    if notices:
        slot.warning("Some settings in the link were ignored: " + "; ".join(notices) + ".", icon=":material/link_off:")
