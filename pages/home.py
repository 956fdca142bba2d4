"""Home: what the two models are, the addressing equations, and where to go next."""

import streamlit as st

from memviz.ui import classroom, urlstate

urlstate.open_page("home", classroom.PARAMS)
classroom.setup({})

st.title("memviz")
st.markdown("#### See how memory-augmented neural networks read and write their memory, one step at a time.")

st.subheader("Pages")
cards = [
    (
        ":material/tune: Addressing Playground",
        "pages/playground.py",
        "No model needed: build a memory, pick a key, and turn β, g, the shift and γ. Five aligned panels show "
        "each stage; press Step to watch a location-based head walk the memory.",
    ),
    (
        ":material/memory: NTM Explorer",
        "pages/ntm.py",
        "A pretrained Neural Turing Machine copies, repeats or recalls: step through an episode to watch it write "
        "memory, see every head's addressing stages, and turn a head's knobs to see what breaks.",
    ),
    (
        ":material/forum: MemN2N Explorer",
        "pages/memn2n.py",
        "A memory network answers questions about a story: step hop by hop to see which sentence it reads, "
        "how its answer forms, and what happens when you mask a sentence or change the attention temperature.",
    ),
    (
        ":material/school: Lessons",
        "pages/lessons.py",
        "Guided tours of the live models, step by step: the four stages of addressing, how an NTM copies, "
        "why three hops, and from Memory Networks to MemN2N. The numbers in the words are the model's own.",
    ),
]
for col, (title, path, text) in zip(st.columns(len(cards)), cards, strict=True):
    with col.container(border=True):
        st.markdown(f"**{title}**")
        st.markdown(text)
        st.page_link(path, label="Open", icon=":material/arrow_forward:")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Neural Turing Machine (NTM)")
    st.markdown(
        "A neural network controller with an external memory matrix **M** of *N* locations × *M* numbers "
        "(Graves, Wayne & Danihelka 2014). At every timestep each head emits a key and a few knobs and turns "
        "them into a **weighting** *w* over locations: where to read from or write to. Because every stage "
        "is differentiable, the whole machine learns algorithms such as *copy* and *associative recall* "
        "from examples."
    )
with right:
    st.subheader("End-to-End Memory Network (MemN2N)")
    st.markdown(
        "A question-answering network that stores every sentence of a story as a memory slot "
        "(Sukhbaatar et al. 2015). On each **hop** it attends over the sentences with a softmax, adds what it "
        "read to its internal state, and looks again. Two or three hops let it chain facts: "
        "*Mary took the apple; Mary went to the kitchen; where is the apple?*"
    )

st.subheader("NTM addressing in four stages (§3.3)")
# (the trailing \, in w^g keeps KaTeX's subscript overhang inside its box: it ran 2 px past it)
# One equation per line, each short enough for a 230 px column (a 1280x720 projector at 150% zoom):
# side by side, or two to a line, they ran out of their column.
STAGES = [
    (
        "**Content focus** with key strength β: cosine similarity of the key and each row, then a softmax",
        [
            r"K(k, M_i) = \frac{k \cdot M_i}{\lVert k\rVert\,\lVert M_i\rVert}",
            r"w^c_i = \frac{\exp(\beta K(k, M_i))}{\sum_j \exp(\beta K(k, M_j))}",
        ],
    ),
    ("**Interpolation** with gate g", [r"w^g = g\, w^c + (1 - g)\, w_{t-1}\,"]),
    (
        "**Circular shift** with distribution s over offsets −1, 0, +1",
        [r"w^s_i = \sum_{j} w^g_j\, s\big((i - j) \bmod N\big)"],
    ),
    ("**Sharpening** with γ ≥ 1", [r"w_i = \frac{(w^s_i)^\gamma}{\sum_j (w^s_j)^\gamma}"]),
]
for label, equations in STAGES:
    st.markdown(label)
    for equation in equations:
        st.latex(equation)
st.markdown(
    "Then a read head returns $r = \\sum_i w_i M_i$, and a write head erases and adds: "
    "$M_i \\leftarrow M_i \\odot (1 - w_i e) + w_i a$."
)
urlstate.show_notices(classroom.PARAMS)
