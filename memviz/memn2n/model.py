"""End-to-End Memory Network (MemN2N), Sukhbaatar, Szlam, Weston and Fergus 2015, arXiv:1503.08895.

Equations (section 2 of the paper; DESIGN.md section 2), for a story x_1..x_n and question q::

    m_i = sum_j l_j * A_k x_ij + T_A^k(i)         input memory of hop k        (sec. 2.1, 4.1)
    c_i = sum_j l_j * C_k x_ij + T_C^k(i)         output memory of hop k
    u_1 = sum_j l_j * B q_j                       question embedding
    p_k = softmax(u_k . m_i / tau_k)              attention over sentences     (eq. 1)
    o_k = sum_i p_k(i) c_i                        read vector                  (eq. 2)
    u_{k+1} = u_k + o_k                           next controller state        (sec. 2.2)
    a = softmax(W u_{K+1})                        answer                       (eq. 3)

Choices (the paper's unless marked as this project's):

- Adjacent weight tying (sec. 2.2): A_{k+1} = C_k, B = A_1, W^T = C_K. The model owns
  K+1 embedding matrices E_0..E_K with A_k = E_{k-1} and C_k = E_k; the temporal
  matrices T_0..T_K are tied the same way.
- Position encoding (sec. 4.1), the paper's form, with J the number of words in *that*
  sentence (not the padded length): l_kj = (1 - j/J) - (k/d)(1 - 2j/J), j = 1..J, k = 1..d.
- Temporal encoding (sec. 4.1): T_A(i), T_C(i) indexed by recency (i = 0 is the most recent
  sentence). Random noise (RN): training adds ~10% empty time slots (see ``noisy_time_index``).
- Linear start (LS, sec. 4.2): ``linear=True`` drops the attention softmax. This project's
  change: the scores are averaged over the n sentences in memory (p_k = scores / n, see
  :func:`attend`), which keeps joint 20-task LS from stalling.
- Memory holds the 50 most recent sentences (sec. 4.2).
- This project's: the answer softmax runs over the answer words seen in training (W
  restricted to those rows of C_K), so every "answer if it stopped here" readout is a distribution over answers.
  Multi-word bAbI answers (``apple,football``, ``s,e``) are single answer tokens.

``tau_k`` (attention temperature) and sentence masking are this project's what-if
overrides; with tau_k = 1 and no mask the model is the paper's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from memviz.registry import ModelCard, PretrainedError, load_weights, regenerate
from memviz.tasks.babi import split_sentences, tokenize

PAD = "<pad>"


class MemN2NInputError(ValueError):
    """A story or question the model cannot read (the page shows the message as is)."""


class EmptyInputError(MemN2NInputError):
    """The story has no sentences or the question has no words."""


class UnknownWordsError(MemN2NInputError):
    """Words outside the model's vocabulary; ``suggestions`` maps each to its nearest known words."""

    def __init__(self, words: Sequence[str], suggestions: dict[str, list[str]], where: str = "") -> None:
        self.words = list(words)
        self.suggestions = suggestions
        message = unknown_words_message(self.words, suggestions)
        super().__init__(message.replace("Unknown words:", f"Unknown words in {where}:", 1) if where else message)


def unknown_words_message(words: Sequence[str], suggestions: dict[str, list[str]]) -> str:
    """``Unknown words: 'kitchn' (did you mean kitchen?), 'zebra'.`` Only close suggestions are kept.

    The vocabulary offers up to three words per unknown word at a loose cutoff
    ('kitchn' -> kitchen, then, than); a reader only needs the close ones (ratio >= 0.75,
    and always the best one). The one message for unknown words, wherever they are typed.
    """
    parts = []
    for word in words:
        near = suggestions.get(word) or []
        close = [w for w in near if difflib.SequenceMatcher(None, word, w).ratio() >= 0.75] or near[:1]
        parts.append(f"'{word}' (did you mean {' or '.join(close)}?)" if close else f"'{word}'")
    return f"Unknown words: {', '.join(parts)}. The model only knows the words of the bAbI tasks."


@dataclass
class MemN2NConfig:
    """Architecture of one model (stored in the card's ``config``)."""

    vocab_size: int
    embed_dim: int = 50
    hops: int = 3
    memory_size: int = 50
    temporal_encoding: bool = True
    nonlinearity: str = "none"  # "none" (the paper's bAbI model), "relu-half" or "relu": see hop_update


# ---------------------------------------------------------------------------- encodings


def position_encoding_table(max_words: int, dim: int) -> torch.Tensor:
    """l[J, j, k] for sentence length J = 0..max_words (sec. 4.1); rows j >= J are 0.

    l_kj = (1 - j/J) - (k/d)(1 - 2j/J) with 1-based j (word) and k (embedding dimension).
    """
    table = torch.zeros(max_words + 1, max_words, dim)
    k = torch.arange(1, dim + 1, dtype=torch.float32) / dim
    for length in range(1, max_words + 1):
        j = torch.arange(1, length + 1, dtype=torch.float32)[:, None] / length
        table[length, :length] = (1 - j) - k[None, :] * (1 - 2 * j)
    return table


def noisy_time_index(n_slots: int, batch: int, rate: float, table_size: int, generator=None) -> torch.Tensor:
    """Random noise (RN, sec. 4.1): recency indices with ~``rate`` empty slots inserted.

    Slot i (0 = most recent) gets index i + (number of empty slots inserted before it),
    clipped to the temporal table.
    """
    base = torch.arange(n_slots).expand(batch, n_slots)
    if rate <= 0:
        return base.clone()
    gaps = (torch.rand(batch, n_slots, generator=generator) < rate).long().cumsum(1)
    return (base + gaps).clamp_(max=table_size - 1)


def sentence_bags(tokens: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Position-encoded bags of words: token ids [..., L] (0 = padding) -> [..., 2, V] (sec. 4.1).

    l_kj = a_j + (k/d) c_j with a_j = 1 - j/J and c_j = 2j/J - 1 (J = words in this
    sentence), so sum_j l_kj E[x_j, k] = (a @ E)[k] + (k/d) (c @ E)[k], where a and c put
    each word's weight on its vocabulary index. Embedding a sentence is then two small
    matrix products instead of a gather over words, and equals the paper's PE exactly.
    """
    tokens = tokens.long()
    present = (tokens != 0).float()
    lengths = present.sum(-1, keepdim=True).clamp(min=1)
    j = torch.arange(1, tokens.shape[-1] + 1, dtype=torch.float32)
    a = (1 - j / lengths) * present
    c = (2 * j / lengths - 1) * present
    out = torch.zeros(*tokens.shape[:-1], 2, vocab_size)
    out[..., 0, :].scatter_add_(-1, tokens, a)
    out[..., 1, :].scatter_add_(-1, tokens, c)
    return out


# ---------------------------------------------------------------------------- vocabulary


class Vocabulary:
    """Word <-> index (index 0 is padding) and the answer words the output softmax covers."""

    def __init__(self, words: Sequence[str], answers: Sequence[str]) -> None:
        self.words = list(words)
        if not self.words or self.words[0] != PAD:
            self.words.insert(0, PAD)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.answers = list(answers)
        self.answer_ids = [self.index[a] for a in self.answers]
        self.answer_pos = {a: i for i, a in enumerate(self.answers)}

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, texts: Iterable[str], answers: Iterable[str]) -> Vocabulary:
        answer_set = sorted({a.lower() for a in answers})
        words = sorted({w for t in texts for w in tokenize(t)} | set(answer_set))
        return cls([PAD, *words], answer_set)

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(t for t in tokens if t not in self.index))

    def suggest(self, word: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(word, self.words[1:], n=n, cutoff=0.5)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.index[t] for t in tokens]


# ---------------------------------------------------------------------------- model


@dataclass
class HopState:
    """Every intermediate of a batched forward pass (the trace's source)."""

    scores: list[torch.Tensor] = field(default_factory=list)  # u_k . m_i, [B, M] per hop
    attention: list[torch.Tensor] = field(default_factory=list)  # p_k, [B, M]
    reads: list[torch.Tensor] = field(default_factory=list)  # o_k, [B, d]
    states: list[torch.Tensor] = field(default_factory=list)  # u_1..u_{K+1}, [B, d]
    logits: torch.Tensor | None = None  # W u_{K+1} over the answer words, [B, n_answers]


class MemN2N(nn.Module):
    """K-hop End-to-End Memory Network with adjacent tying (sec. 2.2), PE and TE (sec. 4.1)."""

    def __init__(self, config: MemN2NConfig, vocab: Vocabulary) -> None:
        super().__init__()
        self.config = config
        self.vocab = vocab
        k, v, d, m = config.hops, config.vocab_size, config.embed_dim, config.memory_size
        self.embeddings = nn.Parameter(torch.randn(k + 1, v, d) * 0.1)  # E_0..E_K
        self.temporal = nn.Parameter(torch.randn(k + 1, m, d) * 0.1)  # T_0..T_K
        self.register_buffer("answer_ids", torch.tensor(vocab.answer_ids, dtype=torch.long), persistent=False)
        self.card: ModelCard | None = None  # set by load_from_card

    # -- pieces of the forward pass ------------------------------------------------------
    def bags(self, tokens: torch.Tensor) -> torch.Tensor:
        """Position-encoded bags of words for this vocabulary (see :func:`sentence_bags`)."""
        return sentence_bags(tokens, self.config.vocab_size)

    def _embed(self, bags: torch.Tensor, which: Sequence[int]) -> torch.Tensor:
        """sum_j l_j * E_w x_j for each w in ``which``, side by side: bags [..., 2, V] -> [..., len(which) * d]."""
        d = self.config.embed_dim
        k_over_d = (torch.arange(1, d + 1, dtype=torch.float32) / d).repeat(len(which))
        stacked = torch.cat([self.embeddings[w] for w in which], dim=1)  # [V, len(which) * d]
        return bags[..., 0, :] @ stacked + k_over_d * (bags[..., 1, :] @ stacked)

    def memories(
        self, stories: torch.Tensor, time_index: torch.Tensor, story_index: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """Memory vectors E_j x (PE) + T_j(i), j = 0..K: [B, M, d] each.

        Hop k uses m = memories[k-1] (A_k) and c = memories[k] (C_k) (adjacent tying).
        ``stories`` holds bags [B, M, 2, V], or with ``story_index`` [B, M] a table of
        distinct sentences [U, 2, V] that the index picks from (each embedded once).
        """
        hops = self.config.hops
        mem = self._embed(stories, range(hops + 1))  # [..., (K+1) d]
        if story_index is not None:
            mem = mem[story_index]
        if self.config.temporal_encoding:
            table = self.temporal.transpose(0, 1).reshape(self.config.memory_size, -1)  # [slots, (K+1) d]
            mem = mem + table[time_index]
        return list(mem.split(self.config.embed_dim, dim=-1))

    def forward(
        self,
        stories: torch.Tensor,
        queries: torch.Tensor,
        memory_mask: torch.Tensor,
        time_index: torch.Tensor | None = None,
        linear: bool = False,
        temperature: torch.Tensor | None = None,
        story_index: torch.Tensor | None = None,
        query_index: torch.Tensor | None = None,
    ) -> HopState:
        """Run all hops on a batch.

        stories [B, M, 2, V] sentence bags (see :func:`sentence_bags`), slot 0 the most
        recent sentence; queries [B, 2, V]; memory_mask [B, M] True where a slot holds a
        sentence the model may attend to; time_index [B, M] recency indices (default
        0..M-1); temperature [K] (default 1). Training passes tables of distinct
        sentences and questions with ``story_index`` [B, M] and ``query_index`` [B].
        """
        batch, slots = memory_mask.shape
        if time_index is None:
            time_index = torch.arange(slots).expand(batch, slots)
        mems = self.memories(stories, time_index, story_index)
        u = self._embed(queries, [0])  # u_1 = B q with B = A_1 = E_0
        if query_index is not None:
            u = u[query_index]
        state = HopState(states=[u])
        for k in range(self.config.hops):
            m, c = mems[k], mems[k + 1]
            scores = (m * u[:, None, :]).sum(-1)
            if temperature is not None:
                scores = scores / temperature[k]
            p = attend(scores, memory_mask, linear)
            o = (p[:, :, None] * c).sum(1)
            u = hop_update(u, o, self.config.nonlinearity)
            state.scores.append(scores)
            state.attention.append(p)
            state.reads.append(o)
            state.states.append(u)
        state.logits = self.readout(u)
        return state

    def readout(self, u: torch.Tensor) -> torch.Tensor:
        """W u with W^T = C_K (adjacent tying), restricted to the answer words: [..., n_answers]."""
        return u @ self.embeddings[-1][self.answer_ids].T

    # -- the traced, single-example API ------------------------------------------------
    @torch.inference_mode()
    def answer(
        self,
        story: Sequence[str] | str,
        question: str,
        temperature: float | Sequence[float] | None = None,
        masked: Iterable[int] | None = None,
    ) -> MemN2NTrace:
        """Answer ``question`` about ``story`` and record every hop (see :class:`MemN2NTrace`).

        ``temperature``: one tau or one per hop; scores u_k . m_i are divided by tau_k.
        ``masked``: indices into ``trace.sentences`` (the kept memory, oldest first) that
        the model may not attend to (their p_k is 0).
        """
        sentences, tokens, notes = self.prepare_story(story)
        q_tokens = self.prepare_question(question)
        taus = self._temperatures(temperature)
        masked_set = self._masked(masked, len(sentences))
        n = len(sentences)
        width = max(max(len(t) for t in tokens), 1)
        ids = torch.zeros(1, n, width, dtype=torch.long)
        for slot, toks in enumerate(reversed(tokens)):  # slot 0 = most recent
            ids[0, slot, : len(toks)] = torch.tensor(self.vocab.encode(toks))
        query = torch.tensor([self.vocab.encode(q_tokens)])
        mask = torch.ones(1, n, dtype=torch.bool)
        for i in masked_set:
            mask[0, n - 1 - i] = False
        if not bool(mask.any()):
            notes.append("every sentence is masked: attention is 0 everywhere and the answer uses the question alone")
        # forward() has no train/eval difference (random noise is in the training data), so a
        # shared cached model is answered as it is, never switched (DESIGN.md section 4)
        state = self.forward(self.bags(ids), self.bags(query), mask, temperature=torch.tensor(taus))
        return self._trace(sentences, tokens, question, q_tokens, notes, taus, masked_set, state)

    def prepare_story(self, story: Sequence[str] | str) -> tuple[list[str], list[list[str]], list[str]]:
        """Clean sentences (blank lines dropped, bAbI line IDs stripped), keep the last 50, check words."""
        if isinstance(story, str):
            story = split_sentences(story)
        cleaned = [re.sub(r"^\s*\d+\s+", "", s).strip() for s in story]
        cleaned = [s for s in cleaned if tokenize(s)]
        if not cleaned:
            raise EmptyInputError("the story is empty: give at least one sentence, e.g. 'Mary went to the kitchen.'")
        notes: list[str] = []
        limit = self.config.memory_size
        if len(cleaned) > limit:
            notes.append(
                f"the story has {len(cleaned)} sentences; the memory holds the last {limit}, "
                f"so the first {len(cleaned) - limit} were dropped"
            )
            cleaned = cleaned[-limit:]
        tokens = [tokenize(s) for s in cleaned]
        self._check_known([t for toks in tokens for t in toks])
        return cleaned, tokens, notes

    def prepare_question(self, question: str) -> list[str]:
        tokens = tokenize(question or "")
        if not tokens:
            raise EmptyInputError("the question is empty: ask e.g. 'Where is Mary?'")
        self._check_known(tokens)
        return tokens

    def _check_known(self, tokens: Sequence[str]) -> None:
        unknown = self.vocab.unknown(tokens)
        if unknown:
            raise UnknownWordsError(unknown, {w: self.vocab.suggest(w) for w in unknown})

    def _temperatures(self, temperature: float | Sequence[float] | None) -> list[float]:
        hops = self.config.hops
        if temperature is None:
            taus = [1.0] * hops
        elif isinstance(temperature, (int, float)):
            taus = [float(temperature)] * hops
        else:
            taus = [float(t) for t in temperature]
            if len(taus) != hops:
                raise MemN2NInputError(f"give one temperature or {hops} (one per hop), got {len(taus)}")
        if not all(np.isfinite(t) and t > 0 for t in taus):
            raise MemN2NInputError(f"temperatures must be finite and > 0, got {taus}")
        return taus

    @staticmethod
    def _masked(masked: Iterable[int] | None, n: int) -> tuple[int, ...]:
        chosen = tuple(sorted({int(i) for i in (masked or ())}))
        bad = [i for i in chosen if not 0 <= i < n]
        if bad:
            raise MemN2NInputError(f"masked sentence indices {bad} are outside 0..{n - 1}")
        return chosen

    def _trace(self, sentences, tokens, question, q_tokens, notes, taus, masked, state: HopState) -> MemN2NTrace:
        def chrono(x: torch.Tensor) -> np.ndarray:  # slot 0 = most recent -> oldest first
            return x[0].flip(0).numpy().astype(np.float32)

        answers = self.vocab.answers
        readouts = np.stack([torch.softmax(self.readout(u[0]), -1).numpy() for u in state.states[1:]])
        readouts = readouts.astype(np.float32)
        final = readouts[-1]
        return MemN2NTrace(
            sentences=list(sentences),
            tokens=[list(t) for t in tokens],
            question=question,
            question_tokens=list(q_tokens),
            attention=np.stack([chrono(p) for p in state.attention]),
            scores=np.stack([chrono(s) for s in state.scores]),
            o=np.stack([o[0].numpy() for o in state.reads]).astype(np.float32),
            u=np.stack([u[0].numpy() for u in state.states]).astype(np.float32),
            hop_probs=readouts,
            hop_top5=[top_k(r, answers) for r in readouts],
            probs=final,
            top5=top_k(final, answers),
            answers=list(answers),
            answer=answers[int(final.argmax())],
            temperature=np.asarray(taus, dtype=np.float32),
            masked=masked,
            notes=notes,
            nonlinearity=self.config.nonlinearity,
        )


NONLINEARITIES = ("none", "relu-half", "relu")


def hop_update(u: torch.Tensor, o: torch.Tensor, nonlinearity: str = "none") -> torch.Tensor:
    """u_{k+1} = u_k + o_k (sec. 2.2), optionally through a ReLU.

    "relu-half" applies the ReLU to the second half of the units only, as the paper does
    for its language models (sec. 5: "ReLU operations to half of the units in each
    layer"); "relu" to all of them. The linear sum is the paper's bAbI model; a ReLU
    lets a hop compute and-like features (the place in the question *and* the place read
    from memory), which yes/no, counting and negation questions need.
    """
    u = u + o
    if nonlinearity == "none":
        return u
    if nonlinearity == "relu":
        return torch.relu(u)
    if nonlinearity == "relu-half":
        half = u.shape[-1] // 2
        return torch.cat([u[..., :half], torch.relu(u[..., half:])], dim=-1)
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}; choose one of {NONLINEARITIES}")


def attend(scores: torch.Tensor, mask: torch.Tensor, linear: bool = False) -> torch.Tensor:
    """p = softmax over the unmasked slots (eq. 1).

    Linear start (sec. 4.2) removes the softmax. This project then averages the raw scores
    over the n sentences in memory (p_i = s_i / n): with plain sums, the long stories of a
    joint 20-task batch dominate and the LS phase stalled at 54% validation error; averaged,
    it keeps learning (32% after 4 epochs) and hands a better start to the softmax phase.
    """
    if linear:
        return scores.masked_fill(~mask, 0.0) / mask.sum(-1, keepdim=True).clamp(min=1)
    masked = scores.masked_fill(~mask, float("-inf"))
    p = torch.softmax(masked, dim=-1)
    return torch.nan_to_num(p, nan=0.0)  # a fully masked row attends to nothing


def top_k(probs: np.ndarray, words: Sequence[str], k: int = 5) -> list[tuple[str, float]]:
    """The k most probable answer words with their probabilities, best first."""
    order = np.argsort(-probs, kind="stable")[:k]
    return [(words[i], float(probs[i])) for i in order]


@dataclass
class MemN2NTrace:
    """One answered question, every hop recorded (plain numpy, float32).

    Sentence axes run over ``sentences`` (the kept memory, oldest first); hop axes over
    hops 1..K. ``u[k]`` is u_{k+1} (``u[0]`` the question embedding u_1).
    """

    sentences: list[str]  # sentences in memory (the last <= 50), oldest first
    tokens: list[list[str]]  # their lower-case tokens
    question: str
    question_tokens: list[str]
    attention: np.ndarray  # p_k, [hops, sentences]; each row sums to 1 (0 if all masked)
    scores: np.ndarray  # u_k . m_i / tau_k before the softmax, [hops, sentences]
    o: np.ndarray  # o_k, [hops, embed_dim]
    u: np.ndarray  # u_1..u_{K+1}, [hops + 1, embed_dim]
    hop_probs: np.ndarray  # "answer if it stopped here": softmax(W u_{k+1}), [hops, n_answers]
    hop_top5: list[list[tuple[str, float]]]  # per hop, top 5 of hop_probs
    probs: np.ndarray  # final answer distribution softmax(W u_{K+1}), [n_answers]
    top5: list[tuple[str, float]]
    answers: list[str]  # the answer words indexing probs / hop_probs
    answer: str  # argmax of probs, e.g. "kitchen", "apple,football", "s,e"
    temperature: np.ndarray  # tau_k used, [hops]
    masked: tuple[int, ...]  # masked sentence indices
    notes: list[str]  # warnings, e.g. sentences dropped beyond the 50-sentence memory
    nonlinearity: str = "none"  # the model's hop update (see hop_update): "none" is u_{k+1} = u_k + o_k

    @property
    def hops(self) -> int:
        return int(self.attention.shape[0])


# ---------------------------------------------------------------------------- loading


FIXED_ARCHITECTURE = {"position_encoding": "paper", "weight_tying": "adjacent"}
"""Card ``config`` entries that record, for the reader, the only choice this code implements."""


def config_from_card(config: dict[str, Any], name: str = "the model") -> MemN2NConfig:
    """A :class:`MemN2NConfig` from a card's ``config``; informational entries must say what the code does."""
    for key, value in FIXED_ARCHITECTURE.items():
        if config.get(key, value) != value:
            raise PretrainedError(f"card for {name!r}: config {key}={config[key]!r} is not implemented ({value!r} is)")
    fields = {k: v for k, v in config.items() if k not in FIXED_ARCHITECTURE}
    try:
        return MemN2NConfig(**fields)
    except TypeError as exc:
        raise PretrainedError(f"card for {name!r}: field 'config' is not a MemN2N architecture ({exc})") from exc


def load_from_card(card: ModelCard, weights_path: str | Path) -> MemN2N:
    """Registry loader (``memviz.registry.FAMILIES``): card + safetensors -> eval-mode model.

    The card's ``extra`` holds the vocabulary and the answer words; the weights are
    checked against the config (names and shapes) as the NTM's are.
    """
    for key in ("vocabulary", "answers"):
        if not isinstance(card.extra.get(key), list):
            raise PretrainedError(f"card for {card.name!r}: field 'extra' has no {key!r} list; {regenerate(card.name)}")
    vocab = Vocabulary(card.extra["vocabulary"], card.extra["answers"])
    model = MemN2N(config_from_card(card.config, card.name), vocab)
    load_weights(model, Path(weights_path), card.name)
    model.eval()
    model.card = card
    return model


def save_weights(model: MemN2N, path: str | Path, dtype: torch.dtype = torch.float16) -> None:
    """Weights only (no pickle), float16 by default."""
    from safetensors.torch import save_file

    tensors = {
        "embeddings": model.embeddings.detach().to(dtype).contiguous(),
        "temporal": model.temporal.detach().to(dtype).contiguous(),
    }
    save_file(tensors, str(path))


def config_dict(model: MemN2N) -> dict[str, Any]:
    """The card's ``config``: the dataclass plus the fixed choices, recorded for the reader."""
    return {**asdict(model.config), **FIXED_ARCHITECTURE}
