"""Streamlit pieces of the MemN2N Explorer (app layer, beside ``memviz.ui``; the logic is in ``memviz.memn2n.explore``).

Why a module and not the page script: a page script is compiled and all its ``def``s
and cache decorators re-run on every rerun (about 10 ms for this much code under AppTest),
a module once per process. The page (``pages/memn2n.py``) composes these
pieces top to bottom, so it still reads as the page's layout.

What the page shows is the hop loop of an End-to-End Memory Network (Sukhbaatar et al.
2015, sec. 2): attention p_k over the sentences (eq. 1), the read o_k (eq. 2), the
state u_{k+1} = u_k + o_k (sec. 2.2; through a ReLU in the shipped models), and the answer
softmax(W u) read after each hop.
"""

from __future__ import annotations

import functools
import html
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from memviz.figures import export
from memviz.figures.memn2n import (
    PRESENTER_ROW_PX,
    ROW_PX,
    accuracy_figure,
    animation_figure,
    attention_curtains,
    controller_figure,
    readout_curtains,
    readout_figure,
    story_attention_figure,
)
from memviz.memn2n import explore as xm
from memviz.memn2n.model import MemN2NInputError, MemN2NTrace, UnknownWordsError
from memviz.registry import models_for_page, read_card
from memviz.tasks.babi import BabiFormatError, load_babi_file
from memviz.ui import (
    DownloadFile,
    cached_result,
    classroom,
    download_buttons,
    pretrained_model,
    show_figure,
    urlstate,
)
from memviz.ui.stepper import figure_panel, html_panel, stepper

URL = urlstate.BIND
SOURCES = ["Generated", "Typed", "bAbI file"]
TAU_OPTIONS = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0]
PREFERRED = ["memn2n-babi", "memn2n-babi-2hop", "memn2n-babi-1hop"]
MAX_HOPS = 10
"""The most hops a link's temperatures (``tau1`` .. ``tau10``) can address."""
URL_PARAMS = urlstate.table(
    urlstate.Param("src", "choice", SOURCES[0], choices=tuple(SOURCES)),
    urlstate.Param(
        "task", "choice", None, choices=tuple(xm.task_label(t) for t in xm.task_options()), spelled=xm.task_label
    ),
    urlstate.Param("seed", "int", 0, 0, 99_999),
    urlstate.Param("hops", "int", None, 1, MAX_HOPS),
    urlstate.Param("model", "text", None, max_length=200),
    *(
        urlstate.Param(f"tau{k}", "choice", "1.0", choices=urlstate.choices(TAU_OPTIONS))
        for k in range(1, MAX_HOPS + 1)
    ),
    urlstate.Param("hop", "int", None, 0, MAX_HOPS, widget=False),  # the browser's hop player reads and writes it
    urlstate.Param("folder", "text", "", max_length=1000),
    urlstate.Param("file", "text", None, max_length=300),
    urlstate.Param("story", "int", 1, 1, 1_000_000),
    urlstate.Param("q", "int", 1, 1, 10_000),
    urlstate.Param("anim", "bool", False),
    urlstate.Param("accuracy", "bool", False),
    urlstate.Param("export", "bool", False),
    urlstate.Param("typed", "text", "", max_length=xm.LINK_LIMIT, widget=False),
    urlstate.Param("mask", "text", "", max_length=200, widget=False),
)
"""Every setting a MemN2N Explorer link can carry (memviz.ui.urlstate)."""
DEFAULT_EXAMPLE = (1, 0)  # task, seed shown when nothing else works yet
INPUT_ERRORS = (MemN2NInputError, BabiFormatError, xm.ExplorerInputError, OSError)


# ------------------------------------------------------------------ cached work (decorated once, in memviz.ui)
def scan_models() -> dict[str, int]:
    """Installed MemN2N models -> hop count, the preferred ones first."""
    found = {name: xm.model_hops(read_card(name)) for name in models_for_page("pages/memn2n.py")}
    order = {n: i for i, n in enumerate(PREFERRED)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def memn2n_models() -> dict[str, int]:
    """MemN2N models in the registry -> hop count, re-read each minute (models may appear while training)."""
    key = ("memn2n-models", int(time.time() // 60))
    last = st.session_state.get("memn2n_models")
    if last is None or last[0] != key:
        last = (key, cached_result(key, scan_models))
        st.session_state["memn2n_models"] = last
    return last[1]


@functools.lru_cache(maxsize=512)
def _shared_answer(
    model, sentences: tuple[str, ...], question: str, taus: tuple[float, ...], masked: tuple[int, ...]
) -> MemN2NTrace:
    """One answer per distinct input for the whole process, every session reading the same trace (never mutated).

    An LRU in memory rather than ``st.cache_data``: an answer takes about 2 ms,
    and pickling it into Streamlit's cache plus hashing the key cost about as
    much again on every new slider value. Keyed by the model object itself, so a
    reloaded model never meets another model's answers. Errors are raised, not cached.
    """
    return model.answer(list(sentences), question, temperature=list(taus), masked=masked)


def answer(name: str, example: xm.Example, taus: tuple[float, ...], masked: tuple[int, ...]) -> MemN2NTrace:
    """The model's hop trace, cached by (model, story, question, overrides); raises MemN2NInputError."""
    return _shared_answer(pretrained_model(name), example.sentences, example.question, taus, masked)


def clear_caches() -> None:
    """Forget every cached answer and example (tests and benchmarks that start from empty caches)."""
    _shared_answer.cache_clear()
    generated.cache_clear()


@functools.lru_cache(maxsize=1024)
def generated(task: int, seed: int) -> xm.Example:
    """The generator's example for (task, seed), cached for the process (examples are frozen)."""
    return xm.generated_example(task, seed)


# ------------------------------------------------------------------ story sources (sidebar)
def next_example() -> None:
    """The next seed's story."""
    st.session_state["seed"] = min(int(st.session_state.get("seed", 0)) + 1, 99_999)


def generated_source() -> xm.Example:
    """Task menu with its one-line description, a seed and "Next example"."""
    tasks = xm.task_options()
    task = st.selectbox("Task", list(tasks), format_func=xm.task_label, key="task", **URL)
    st.caption(tasks[task][1])
    row = st.container(horizontal=True, vertical_alignment="bottom")
    seed = int(row.number_input("Seed", 0, 99_999, 0, key="seed", width=110, **URL))
    row.button("Next example", key="next_example", icon=":material/skip_next:", on_click=next_example)
    return generated(task, seed)


TYPED_BOXES = ("story_text", "question_text", "answer_text")
"""The typed source's boxes; copies under ``_kept_<key>`` outlive runs where the boxes are not shown."""


def restore_typed_boxes() -> None:
    """Put back what was typed: Streamlit forgets a widget's value in a run that does not show it, so a
    switch to another source and back emptied the story."""
    for key in TYPED_BOXES:
        if key not in st.session_state and f"_kept_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"_kept_{key}"]


def keep_typed_boxes() -> None:
    for key in TYPED_BOXES:
        st.session_state[f"_kept_{key}"] = st.session_state.get(key, "")


def load_typed_link(raw_url: dict[str, str]) -> None:
    """Fill the typed-story boxes once per session, from the link when it carries a story."""
    if st.session_state.get("typed_ready"):
        restore_typed_boxes()
        return
    st.session_state["typed_ready"] = True
    story, question, true_answer = xm.DEFAULT_TYPED_STORY, xm.DEFAULT_TYPED_QUESTION, xm.DEFAULT_TYPED_ANSWER
    if raw_url.get("typed"):
        try:
            story, question, true_answer = xm.decode_typed(raw_url["typed"])
        except xm.ExplorerInputError as exc:
            st.warning(f"{exc}; showing the sample story instead.", icon=":material/link_off:")
    st.session_state.update(story_text=story, question_text=question, answer_text=true_answer)


def forget_true_answer() -> None:
    """The story or question changed: a true answer typed for the old one no longer applies (issue 15)."""
    st.session_state["answer_text"] = ""


def typed_source(raw_url: dict[str, str]) -> xm.Example:
    """Story, question and optional true answer typed by the user; the three travel in the link when short enough."""
    load_typed_link(raw_url)
    story = st.text_area(
        "Story: one sentence per line, newest last", key="story_text", height=190, on_change=forget_true_answer
    )
    question = st.text_input("Question", key="question_text", on_change=forget_true_answer)
    true_answer = st.text_input("True answer (optional: marks it in the readout)", key="answer_text")
    keep_typed_boxes()
    token = xm.encode_typed(story, question, true_answer)
    if len(token) <= xm.LINK_LIMIT:
        st.query_params["typed"] = token
    else:
        st.query_params.pop("typed", None)
        st.info(
            f"This story is too long to travel in a link ({len(token)} characters encoded, limit {xm.LINK_LIMIT}); "
            "the link keeps every other setting.",
            icon=":material/link_off:",
        )
    return xm.typed_example(story, question, true_answer)


def clamp_state(key: str, largest: int) -> None:
    """Keep a 1-based number widget inside 1..largest when the file or story under it changes."""
    if key in st.session_state:
        st.session_state[key] = min(max(int(st.session_state[key]), 1), largest)


def babi_stories() -> tuple[list[xm.BabiStory], str] | None:
    """Stories of an uploaded bAbI file, or of a file chosen in a folder; None until one is given."""
    folder = st.text_input(
        "bAbI folder on this machine",
        value=os.environ.get("MEMVIZ_BABI_DIR", ""),
        key="folder",
        placeholder="e.g. ~/data/tasks_1-20_v1-2/en",
        **URL,
    )
    upload = st.file_uploader("…or upload a bAbI file (qaN_*.txt)", type=["txt"], key="upload")
    if upload is not None:
        data, label = upload.getvalue(), upload.name
        st.caption("An uploaded file cannot travel in a link; the link keeps the story and question numbers.")
        key = ("memn2n-babi-upload", label, data)
        return cached_result(key, lambda: xm.group_stories(xm.parse_babi_bytes(data, label))), label
    if folder.strip():
        files = {p.name: p for p in xm.babi_files(folder.strip())}
        label = st.selectbox("File", list(files), key="file", **URL)
        path: Path = files[label]
        key = ("memn2n-babi-file", str(path), path.stat().st_mtime)
        return cached_result(key, lambda: xm.group_stories(load_babi_file(path))), label
    st.info("Type the path of a bAbI v1.2 folder, or upload one of its files.", icon=":material/folder_open:")
    return None


def babi_source() -> xm.Example | None:
    """Browse a bAbI file story by story and question by question."""
    found = babi_stories()
    if found is None:
        return None
    stories, label = found
    clamp_state("story", len(stories))
    story_no = int(st.number_input(f"Story (1–{len(stories)})", 1, len(stories), 1, key="story", **URL))
    story = stories[min(story_no, len(stories)) - 1]
    count = len(story.questions)
    clamp_state("q", count)
    q_no = min(int(st.number_input(f"Question (1–{count} in this story)", 1, count, 1, key="q", **URL)), count)
    st.caption(f"Q{q_no}: {story.questions[q_no - 1].question}")
    return xm.from_babi(story.questions[q_no - 1], f"{label}, story {story_no}, question {q_no}")


def read_source(source: str, raw_url: dict[str, str]) -> tuple[xm.Example | None, str | None]:
    """The example the sidebar asks for, or None and a message saying what is wrong with the input."""
    if source != "Typed":
        st.query_params.pop("typed", None)
    try:
        if source == "Typed":
            return typed_source(raw_url), None
        if source == "bAbI file":
            return babi_source(), None
        return generated_source(), None
    except INPUT_ERRORS as exc:
        return None, str(exc)


# ------------------------------------------------------------------ what-ifs: temperatures and masks
def temperature_sliders(hops: int) -> tuple[float, ...]:
    """One attention temperature per hop (the MemN2N counterpart of the NTM's key strength β), one under another.

    They sit in the narrow column beside the hop view, so any hop count fits.
    """
    return tuple(
        float(
            st.select_slider(
                f"Temperature τ, hop {k}",
                TAU_OPTIONS,
                value=1.0,
                key=f"tau{k}",
                help="τ < 1 sharpens this hop's attention, τ > 1 spreads it: p = softmax(u·m / τ).",
                **URL,
            )
        )
        for k in range(1, hops + 1)
    )


def mask_key(example: xm.Example) -> str:
    return f"mask_{example.signature}"


def initial_masks(example: xm.Example, raw_url: dict[str, str]) -> list[int]:
    """Masks from the link on the first view of the linked story, else none."""
    if st.session_state.get("mask_link_used") or not raw_url.get("mask"):
        return []
    st.session_state["mask_link_used"] = True
    good, bad = xm.parse_masks(raw_url["mask"], len(example.sentences))
    if bad:
        st.warning(
            f"The link's `mask={urlstate.shorten(raw_url['mask'])}` names sentences that are not in this story "
            f"({', '.join(bad)}); they were ignored.",
            icon=":material/link_off:",
        )
    return good


def current_masks(example: xm.Example, raw_url: dict[str, str]) -> tuple[int, ...]:
    """0-based masked sentence indices for this story (the pills' state, seeded from the link)."""
    key = mask_key(example)
    if key not in st.session_state:
        st.session_state[key] = initial_masks(example, raw_url)
    chosen = [int(i) for i in st.session_state[key] if 1 <= int(i) <= len(example.sentences)]
    return tuple(i - 1 for i in chosen)


def mask_pills(example: xm.Example) -> None:
    """Sentence numbers as pills: click to mask a sentence out of memory; the masks travel in the link."""
    st.pills(
        "Mask sentences: click a number to hide that sentence from memory, again to bring it back",
        list(range(1, len(example.sentences) + 1)),
        selection_mode="multi",
        key=mask_key(example),
        width="stretch",  # wraps in the narrow column beside the hop view
    )
    chosen = st.session_state.get(mask_key(example)) or []
    if chosen:
        st.query_params["mask"] = ",".join(str(i) for i in sorted(chosen))
    else:
        st.query_params.pop("mask", None)


def reset_what_ifs() -> None:
    """Temperatures back to 1, no sentence masked."""
    for key in [k for k in st.session_state if str(k).startswith("tau")]:
        st.session_state[key] = 1.0
    for key in [k for k in st.session_state if str(k).startswith("mask_")]:
        st.session_state[key] = []


# ------------------------------------------------------------------ the answer, with the last good view kept
def answer_or_last_good(
    example: xm.Example | None, problem: str | None, run: Callable[[xm.Example], MemN2NTrace], memory_size: int
) -> tuple[xm.Example, MemN2NTrace]:
    """The current example's trace; on bad input an error message and the last story that worked.

    The story is cut to the model's memory (``memory_size`` sentences, from its card's config).
    """
    trace = None
    if example is not None:
        example = xm.fit_memory(example, memory_size)
        try:
            trace = run(example)
        except UnknownWordsError as exc:
            problem = problem or str(exc)
        except MemN2NInputError as exc:
            problem = problem or str(exc)
    if problem:
        st.error(xm.error_text(problem), icon=":material/error:")
    if trace is not None:
        st.session_state["last_good"] = example
        return example, trace
    if problem or example is None:
        kept = "the last story that worked" if "last_good" in st.session_state else "an example story"
        st.caption(f"Showing {kept} meanwhile.")
    for fallback in (st.session_state.get("last_good"), generated(*DEFAULT_EXAMPLE)):
        if fallback is None:
            continue
        try:
            return fallback, run(fallback)
        except MemN2NInputError:  # e.g. another model that does not know the last story's words
            continue
    raise RuntimeError("the example story cannot be answered by this model")


def headline(trace: MemN2NTrace, example: xm.Example, name: str, about: str) -> None:
    """The question, the model's answer and whether it is right, then where the story came from."""
    p = float(trace.top5[0][1])
    if example.answer is None:
        verdict = "no true answer given"
    elif trace.masked:  # the true answer is the whole story's: with sentences hidden it may rightly differ
        same = "the same as" if trace.answer == example.answer else "not"
        verdict = f":material/visibility_off: {same} the whole story's answer, **{example.answer}**"
    elif trace.answer == example.answer:
        verdict = ":green[:material/check_circle: right]"
    else:
        verdict = f":red[:material/cancel: wrong], true answer **{example.answer}**"
    question = xm.plain_markdown(trace.question)
    st.markdown(f"#### :material/help: {question} &nbsp;→&nbsp; model: **{trace.answer}** ({p:.0%}) · {verdict}")
    support = "★ = supporting fact · " if example.supporting else ""
    st.caption(
        f"{about} · {xm.count_of(len(trace.sentences), 'sentence')} in memory, oldest first · {support}model {name} "
        f"({xm.count_of(trace.hops, 'hop')})"
    )
    for note in (*example.notes, *trace.notes):
        st.info(note, icon=":material/info:")


# ------------------------------------------------------------------ hop view, exports, accuracy
PLAYER_KEY = "hop_player"
_PANELS: OrderedDict[tuple, tuple[MemN2NTrace, list[dict]]] = OrderedDict()


def _markdown_html(text: str) -> str:
    """The little markdown a hop summary uses (**bold**), as escaped HTML."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text, quote=False))


def hop_texts(trace: MemN2NTrace, example: xm.Example) -> list[str]:
    """For each hop 0..K: what each hop so far carried and would answer, then the controller's heading."""
    controller = "<b>Controller state</b>: each hop adds what it read, u<sub>k+1</sub> = u<sub>k</sub> + o<sub>k</sub> "
    controller += "(red &gt; 0 &gt; blue)"
    texts = []
    for step in range(trace.hops + 1):
        lines = [f"<b>Hop {k}</b>: {_markdown_html(xm.hop_summary(trace, k, example))}" for k in range(1, step + 1)]
        lines = lines or ["<b>Before hop 1</b> the controller state is the question alone: u₁ = B q."]
        note = xm.early_readout_note(trace, step)
        why = f"<p><i>{_markdown_html(note)}</i></p>" if note else ""
        texts.append("<p>" + "<br>".join(lines) + f"</p>{why}<p>{controller}</p>")
    return texts


def hop_panels(trace: MemN2NTrace, example: xm.Example) -> list[dict]:
    """The hop view at every hop, packed for the browser's step player; kept for the last few traces.

    Keyed by the trace object (cached answers are shared and never mutated; the entry holds
    the trace, so its id is not reused while it lives) and what the example adds to it.
    """
    presenting = not classroom.secondary()  # presenter mode: the attention and the readout only
    key = (id(trace), example.signature, example.answer, tuple(example.supporting), presenting)
    if key in _PANELS:
        _PANELS.move_to_end(key)
        return _PANELS[key][1]
    hops = range(trace.hops + 1)
    rows = PRESENTER_ROW_PX if presenting else ROW_PX
    last = trace.hops  # every hop's cells and bars at every hop, the hops not reached covered: a hop change
    # moves covers and a cursor, and redraws no chart (memviz.ui.static.stepper.js, "curtains")
    attention = [story_attention_figure(trace, k, example.supporting, rows, cells_through=last) for k in hops]
    readout = [readout_figure(trace, k, example.answer, bars_through=last) for k in hops]
    panels = [
        figure_panel("attention", attention, width=0.6, curtains=attention_curtains(last)),
        figure_panel("readout", readout, width=0.4, curtains=readout_curtains(last)),
    ]
    if not presenting:
        panels.append(html_panel("summary", hop_texts(trace, example)))
        panels.append(figure_panel("controller", [controller_figure(trace, k) for k in hops]))
    _PANELS[key] = (trace, panels)
    while len(_PANELS) > 16:
        _PANELS.popitem(last=False)
    return panels


def hop_view(trace: MemN2NTrace, example: xm.Example) -> None:
    """The hop view in the browser's step player: every hop sent once, no rerun per hop; opens on all hops."""
    # side by side, the attention panel is as tall as its own figure, not as the taller readout beside it
    st.html(f"<style>.st-key-{PLAYER_KEY} .mvs-panels {{align-items: flex-start;}}</style>")
    stepper(
        PLAYER_KEY,
        trace.hops + 1,
        hop_panels(trace, example),
        unit="hop",
        labels=hop_labels(trace.hops),
        url_key="hop",
        default_step=trace.hops,
        clamp_notice=False,
    )
    linked = urlstate.from_link("hop")
    if linked is not None and linked.isdigit() and int(linked) > trace.hops:
        urlstate.report_unused("hop", linked, f"is past the last hop ({trace.hops})")


def open_on_all_hops() -> None:
    """A new hop count opens on "all hops" (issue 15): forget the hop the player showed and the link's hop."""
    st.session_state.pop(PLAYER_KEY, None)
    st.query_params.pop("hop", None)


def hop_labels(hops: int) -> list[str]:
    so_far = ["hop 1 so far" if k == 1 else f"hops 1–{k} so far" for k in range(1, hops)]
    return ["the question alone, no hop yet", *so_far, "all hops"]


def exports(trace: MemN2NTrace, example: xm.Example, name: str) -> None:
    """In-browser animation (Plotly frames) and downloads; files are made only when a button is clicked."""
    box = st.expander("Animate and export: Plotly animation, GIF, HTML, JSON", key="export", on_change="rerun", **URL)
    if not box.open:  # built only when opened
        return
    box.caption("The downloads show the view on screen, with its temperatures and masks.")
    with box:
        if st.toggle("Animate the hops in the browser (Plotly frames)", key="anim", **URL):
            show_figure(animation_figure(trace, example.supporting), key="animation")
    stem = f"{name}-{example.signature}"  # the name already says memn2n
    title = f"MemN2N ({name}): {trace.question}"
    files: list[DownloadFile] = [
        (
            "GIF (one frame per hop)",
            lambda: export.memn2n_gif(trace, example),
            "gif",
            "image/gif",
            ":material/gif_box:",
        ),
        (
            "HTML (interactive, offline)",
            lambda: export.figure_html(animation_figure(trace, example.supporting), title),
            "html",
            "text/html",
            ":material/html:",
        ),
        ("Trace (JSON)", lambda: xm.trace_json(trace, example, name), "json", "application/json", ":material/code:"),
    ]
    with box:
        download_buttons(files, stem, key_prefix="download")


def accuracy(name: str) -> None:
    """The shipped model's per-task error beside the paper's, from its card."""
    box = st.expander(
        f"How accurate is {name}? Error per bAbI task beside the paper's",
        key="accuracy",
        on_change="rerun",
        **URL,
    )
    if box.open:  # drawn only when opened: a closed expander costs nothing on reruns
        with box:
            rows, caption = xm.accuracy_rows(pretrained_model(name).card)
            show_figure(accuracy_figure(rows), key="accuracy_chart")
            st.caption(caption)


def answer_with_masks(name: str, taus: tuple[float, ...], raw_url: dict[str, str], ex: xm.Example) -> MemN2NTrace:
    """The chosen model's trace for ``ex`` with these temperatures and this story's masks."""
    return answer(name, ex, taus, current_masks(ex, raw_url))


@st.fragment
def what_if_and_hops(
    name: str, hops: int, example: xm.Example | None, problem: str | None, source: str, raw_url: dict[str, str]
) -> None:
    """The what-if controls and everything they change, as one fragment.

    A temperature or a mask reruns only this (the story and model choices in the
    sidebar stay as they are); the hop player inside is a fragment of its own, so a
    hop change reruns even less.
    """
    # the hop view, with the question, answer and what-ifs beside it (in a narrow window: the question and
    # answer above it, the what-ifs below)
    view, side = classroom.wrapping_columns("hop_split", [7, 3], [500, 220], lead="hop_headline")
    with side:
        headline_slot = st.container(key="hop_headline")  # above the hop view once the columns stack
        st.markdown("**What if…**", help="Sentences masked out of memory, and the attention temperature per hop")
        masks_slot = st.container()  # filled once the story is known (it may fall back to the last good one)
        taus = temperature_sliders(hops)

    run = functools.partial(answer_with_masks, name, taus, raw_url)
    with headline_slot:
        example, trace = answer_or_last_good(example, problem, run, pretrained_model(name).config.memory_size)
        about = example.source + (
            f" · task {xm.task_label(example.task)}" if example.task and source != "Generated" else ""
        )
        headline(trace, example, name, about)
    with masks_slot:
        mask_pills(example)
    with side:
        st.button("Reset τ and masks", key="reset", icon=":material/restart_alt:", on_click=reset_what_ifs)
    with view:
        hop_view(trace, example)
    exports(trace, example, name)
    accuracy(name)
