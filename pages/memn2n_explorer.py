"""MemN2N Explorer: which sentence a memory network reads on each hop, and how that changes its answer."""

from __future__ import annotations

import os

import streamlit as st

import memviz
from memviz import explore_memn2n as xm
from memviz.figures.memn2n import (
    accuracy_figure,
    animation_figure,
    controller_figure,
    readout_figure,
    story_attention_figure,
)
from memviz.memn2n import MemN2NInputError, MemN2NTrace
from memviz.pretrained import PretrainedError, read_card
from memviz.tasks.babi import BabiFormatError, load_babi_file
from memviz.ui import show_figure, snapshot_url_params, step_player, use_app_navigation, warn_ignored_url_params

use_app_navigation()

URL = {"bind": "query-params"}
SOURCES = ["Generated", "Typed", "bAbI file"]
TAU_OPTIONS = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0]
PREFERRED = ["memn2n-babi", "memn2n-babi-2hop", "memn2n-babi-1hop"]
BOUND_KEYS = ["src", "task", "seed", "hops", "model", "tau1", "tau2", "tau3", "hop", "folder", "file", "story", "q"]
BOUND_KEYS += ["anim"]
LINK_KEYS = ["typed", "mask"]
DEFAULT_EXAMPLE = (1, 0)  # task, seed shown when nothing else works yet

raw_url = snapshot_url_params()


# ------------------------------------------------------------------ cached work
@st.cache_resource(show_spinner=False)
def load_model(name: str):
    """A shipped model, shared by every session (never mutated)."""
    return memviz.load_pretrained(name)


@st.cache_data(show_spinner=False, ttl=60)
def memn2n_models() -> dict[str, int]:
    """MemN2N models present in the registry -> hop count (re-read each minute: models may appear)."""
    found = {}
    for name in memviz.list_pretrained():
        if not name.startswith("memn2n"):
            continue
        try:
            found[name] = xm.model_hops(read_card(name))
        except PretrainedError:
            continue
    return dict(sorted(found.items(), key=lambda kv: (PREFERRED.index(kv[0]) if kv[0] in PREFERRED else 99, kv[0])))


@st.cache_data(show_spinner=False, max_entries=512)
def answer(name: str, sentences: tuple[str, ...], question: str, taus: tuple[float, ...], masked: tuple[int, ...]):
    """The model's hop trace, keyed by (model, story, question, overrides)."""
    return load_model(name).answer(list(sentences), question, temperature=list(taus), masked=list(masked))


@st.cache_data(show_spinner=False, max_entries=256)
def generated(task: int, seed: int) -> xm.Example:
    return xm.generated_example(task, seed)


# ------------------------------------------------------------------ story sources
def generated_source() -> xm.Example:
    tasks = xm.task_options()
    task = st.selectbox("Task", list(tasks), format_func=xm.task_label, key="task", **URL)
    st.caption(tasks[task][1])
    seed_col, next_col = st.columns([1, 1], vertical_alignment="bottom")
    seed = int(seed_col.number_input("Seed", 0, 99_999, 0, key="seed", **URL))

    def next_example() -> None:
        st.session_state["seed"] = min(int(st.session_state.get("seed", 0)) + 1, 99_999)

    next_col.button("Next example", key="next_example", icon=":material/skip_next:", on_click=next_example)
    return generated(task, seed)


def load_typed_link() -> None:
    """Fill the typed-story boxes once per session, from the link when it carries a story."""
    if st.session_state.get("typed_ready"):
        return
    st.session_state["typed_ready"] = True
    story, question, true_answer = xm.DEFAULT_TYPED_STORY, xm.DEFAULT_TYPED_QUESTION, xm.DEFAULT_TYPED_ANSWER
    if raw_url.get("typed"):
        try:
            story, question, true_answer = xm.decode_typed(raw_url["typed"])
        except xm.ExplorerInputError as exc:
            st.warning(f"{exc}; showing the sample story instead.", icon=":material/link_off:")
    st.session_state.update(story_text=story, question_text=question, answer_text=true_answer)


def typed_source() -> xm.Example:
    load_typed_link()
    story = st.text_area("Story: one sentence per line, newest last", key="story_text", height=190)
    question = st.text_input("Question", key="question_text")
    true_answer = st.text_input("True answer (optional: marks it in the readout)", key="answer_text")
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


def babi_source() -> xm.Example | None:
    @st.cache_data(show_spinner=False, max_entries=8)  # defined here: other sources skip the decorator's cost
    def folder_stories(path: str, modified: float) -> list[xm.BabiStory]:
        return xm.group_stories(load_babi_file(path))

    @st.cache_data(show_spinner=False, max_entries=8)
    def upload_stories(data: bytes, name: str) -> list[xm.BabiStory]:
        return xm.group_stories(xm.parse_babi_bytes(data, name))

    folder = st.text_input(
        "bAbI folder on this machine",
        value=os.environ.get("MEMVIZ_BABI_DIR", ""),
        key="folder",
        placeholder="e.g. ~/data/tasks_1-20_v1-2/en",
        **URL,
    )
    upload = st.file_uploader("…or upload a bAbI file (qaN_*.txt)", type=["txt"], key="upload")
    if upload is not None:
        stories, label = upload_stories(upload.getvalue(), upload.name), upload.name
        st.caption("An uploaded file cannot travel in a link; the link keeps the story and question numbers.")
    elif folder.strip():
        files = {p.name: p for p in xm.babi_files(folder.strip())}
        label = st.selectbox("File", list(files), key="file", **URL)
        path = files[label]
        stories = folder_stories(str(path), path.stat().st_mtime)
    else:
        st.info("Type the path of a bAbI v1.2 folder, or upload one of its files.", icon=":material/folder_open:")
        return None
    clamp_state("story", len(stories))
    story_no = int(st.number_input(f"Story (1–{len(stories)})", 1, len(stories), 1, key="story", **URL))
    story = stories[min(story_no, len(stories)) - 1]
    count = len(story.questions)
    clamp_state("q", count)
    q_no = int(st.number_input(f"Question (1–{count} in this story)", 1, count, 1, key="q", **URL))
    q_no = min(q_no, count)
    st.caption(f"Q{q_no}: {story.questions[q_no - 1].question}")
    return xm.from_babi(story.questions[q_no - 1], f"{label}, story {story_no}, question {q_no}")


def read_source(source: str) -> tuple[xm.Example | None, str | None]:
    """The example the sidebar asks for, or None and a message saying what is wrong with the input."""
    if source != "Typed":
        st.query_params.pop("typed", None)
    try:
        if source == "Typed":
            return typed_source(), None
        if source == "bAbI file":
            return babi_source(), None
        return generated_source(), None
    except (MemN2NInputError, BabiFormatError, xm.ExplorerInputError, OSError) as exc:
        return None, str(exc)


# ------------------------------------------------------------------ masks (click a sentence number)
def mask_key(example: xm.Example) -> str:
    return f"mask_{example.signature}"


def initial_masks(example: xm.Example) -> list[int]:
    """Masks from the link on the first view of the linked story, else none."""
    if st.session_state.get("mask_link_used") or not raw_url.get("mask"):
        return []
    st.session_state["mask_link_used"] = True
    good, bad = xm.parse_masks(raw_url["mask"], len(example.sentences))
    if bad:
        st.warning(
            f"The link's `mask={raw_url['mask']}` names sentences that are not in this story "
            f"({', '.join(bad)}); they were ignored.",
            icon=":material/link_off:",
        )
    return good


def current_masks(example: xm.Example) -> tuple[int, ...]:
    """0-based masked sentence indices for this story (the pills' state, seeded from the link)."""
    key = mask_key(example)
    if key not in st.session_state:
        st.session_state[key] = initial_masks(example)
    chosen = [int(i) for i in st.session_state[key] if 1 <= int(i) <= len(example.sentences)]
    return tuple(i - 1 for i in chosen)


def mask_pills(example: xm.Example) -> None:
    st.pills(
        "Mask sentences: click a sentence's number to hide it from memory; click again to bring it back",
        list(range(1, len(example.sentences) + 1)),
        selection_mode="multi",
        key=mask_key(example),
    )
    chosen = st.session_state.get(mask_key(example)) or []
    if chosen:
        st.query_params["mask"] = ",".join(str(i) for i in sorted(chosen))
    else:
        st.query_params.pop("mask", None)


# ------------------------------------------------------------------ page
st.title("MemN2N Explorer")
st.caption(
    "An End-to-End Memory Network (Sukhbaatar et al. 2015) stores each sentence of a story in memory. "
    "On every hop it attends over the sentences (softmax of u·m), reads a weighted sum o, and adds it to its "
    "state: u ← u + o. Step through the hops to see where it looks and how its answer forms."
)

models = memn2n_models()
if not models:
    st.info(
        "No MemN2N model is installed yet. Train one with `python -m memviz.train memn2n-babi` "
        "(it lands in `pretrained/`), then reload this page.",
        icon=":material/hourglass_empty:",
    )
    st.stop()

with st.sidebar:
    st.header("Story")
    source = st.radio("Source", SOURCES, key="src", horizontal=True, **URL)
    example, problem = read_source(source)

    st.header("Model")
    hop_counts = sorted(set(models.values()))
    hops = st.radio(
        "Hops (each count is its own trained model)",
        hop_counts,
        index=len(hop_counts) - 1,
        key="hops",
        horizontal=True,
        **URL,
    )
    names = [n for n, h in models.items() if h == hops]
    name = names[0] if len(names) == 1 else st.selectbox("Model", names, key="model", **URL)

    st.header("What if…")
    st.caption("τ < 1 sharpens a hop's attention, τ > 1 spreads it: p = softmax(u·m / τ).")
    taus = tuple(
        float(st.select_slider(f"Temperature τ, hop {k}", TAU_OPTIONS, value=1.0, key=f"tau{k}", **URL))
        for k in range(1, hops + 1)
    )


def reset_what_ifs() -> None:
    for k in range(1, 4):
        st.session_state[f"tau{k}"] = 1.0
    for key in [k for k in st.session_state if str(k).startswith("mask_")]:
        st.session_state[key] = []


def run(example: xm.Example) -> tuple[MemN2NTrace | None, str | None]:
    try:
        return answer(name, example.sentences, example.question, taus, current_masks(example)), None
    except MemN2NInputError as exc:
        return None, str(exc)


trace = None
if example is not None:
    example = xm.fit_memory(example)
    trace, error = run(example)
    problem = problem or error
if problem:
    st.error(f"{problem[0].upper()}{problem[1:]}", icon=":material/error:")
if trace is not None:
    st.session_state["last_good"] = example
else:
    fallback = st.session_state.get("last_good") or generated(*DEFAULT_EXAMPLE)
    kept = "the last story that worked" if "last_good" in st.session_state else "an example story"
    if problem or example is None:
        st.caption(f"Showing {kept} meanwhile.")
    example = fallback
    trace, error = run(example)
    if trace is None:  # e.g. the model changed and no longer knows the last story's words
        example = generated(*DEFAULT_EXAMPLE)
        trace, _ = run(example)

for note in (*example.notes, *trace.notes):
    st.info(note, icon=":material/info:")

# -- the question and the verdict
head = st.columns([3, 2], vertical_alignment="bottom")
head[0].markdown(f"### :material/help: {trace.question}")
final_p = float(trace.top5[0][1])
if example.answer:
    right = trace.answer == example.answer
    verdict = (
        ":green[:material/check_circle: right]"
        if right
        else f":red[:material/cancel: wrong], true answer **{example.answer}**"
    )
else:
    verdict = "no true answer given"
head[1].markdown(f"#### Model answers **{trace.answer}** ({final_p:.0%}) · {verdict}")
about = example.source + (f" · task {xm.task_label(example.task)}" if example.task and source != "Generated" else "")
st.caption(
    f"{about} · {len(trace.sentences)} sentences in memory, oldest first · "
    f"{'★ = supporting fact · ' if example.supporting else ''}model {name} ({hops} hops)"
)

with st.sidebar:
    mask_pills(example)
    st.button("Reset τ and masks", key="reset", icon=":material/restart_alt:", on_click=reset_what_ifs)


def render_hop(step: int) -> None:
    left, right = st.columns([3, 2], gap="medium")
    with left:
        show_figure(story_attention_figure(trace, step, example.supporting), key="attention")
    with right:
        show_figure(readout_figure(trace, step, example.answer), key="readout")
    if step == 0:
        st.markdown("**Before hop 1** the controller state is the question alone: u₁ = B q.")
    for k in range(1, step + 1):
        st.markdown(f"**Hop {k}**: {xm.hop_summary(trace, k, example)}")
    st.markdown("**Controller state**: each hop adds what it read to the state, uₖ₊₁ = uₖ + oₖ (red > 0 > blue)")
    show_figure(controller_figure(trace, step), key="controller")


linked_hop = raw_url.get("hop", "")
if "hop" not in st.session_state and not (linked_hop.isdigit() and int(linked_hop) <= trace.hops):
    st.session_state["hop"] = trace.hops  # open on "all hops" unless the link names a valid hop
labels = ["the question alone, no hop yet", *[f"hops 1–{k} so far" for k in range(1, trace.hops)], "all hops"]
step_player("hop", trace.hops + 1, render_hop, unit="hop", labels=labels)

# -- animation and downloads
st.subheader("Animate and export")
if st.toggle("Animate the hops in the browser (Plotly frames)", key="anim", **URL):
    show_figure(animation_figure(trace, example.supporting), key="animation")
stem = f"memn2n-{name}-{example.signature}"
downloads = st.columns(3)
downloads[0].download_button(
    "GIF (one frame per hop)",
    data=lambda: xm.trace_gif(trace, example),
    file_name=f"{stem}.gif",
    mime="image/gif",
    key="download_gif",
    icon=":material/gif_box:",
    on_click="ignore",
)
downloads[1].download_button(
    "HTML (interactive, offline)",
    data=lambda: xm.figure_html(animation_figure(trace, example.supporting), f"MemN2N ({name}): {trace.question}"),
    file_name=f"{stem}.html",
    mime="text/html",
    key="download_html",
    icon=":material/html:",
    on_click="ignore",
)
downloads[2].download_button(
    "Trace (JSON)",
    data=lambda: xm.trace_json(trace, example, name),
    file_name=f"{stem}.json",
    mime="application/json",
    key="download_json",
    icon=":material/data_object:",
    on_click="ignore",
)
st.caption("Every setting above is in this page's address: copy it to share exactly this view.")

# -- accuracy at a glance
with st.expander(f"How accurate is {name}? Error per bAbI task beside the paper's"):
    rows, caption = xm.accuracy_rows(load_model(name).card)
    show_figure(accuracy_figure(rows), key="accuracy")
    st.caption(caption)


def url_as_values(raw: dict[str, str]) -> dict[str, str]:
    """The link with the task's label (``2 two-supporting-facts``) read as the task number the widget holds."""
    shown = dict(raw)
    task = st.session_state.get("task")
    if "task" in shown and task is not None and shown["task"] == xm.task_label(task):
        shown["task"] = str(task)
    return shown


warn_ignored_url_params(url_as_values(raw_url), BOUND_KEYS, extra_keys=LINK_KEYS)
