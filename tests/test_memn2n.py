"""MemN2N: the equations, the trace, the what-if overrides, bad input, and every shipped model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import memviz
from memviz.memn2n.model import (
    EmptyInputError,
    MemN2N,
    MemN2NConfig,
    MemN2NInputError,
    MemN2NTrace,
    UnknownWordsError,
    Vocabulary,
    attend,
    config_dict,
    hop_update,
    load_from_card,
    noisy_time_index,
    position_encoding_table,
    save_weights,
    sentence_bags,
)
from memviz.registry import SHIPPED_MODELS, ModelCard, read_card
from memviz.tasks.babi_generator import GENERATED_TASKS, generate_examples

STORY = ["Mary moved to the bathroom.", "John went to the hallway.", "Mary travelled to the kitchen."]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """answer() is a tiny computation: one thread is fastest, and kind to a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny() -> MemN2N:
    """An untrained 3-hop model over the generator's vocabulary (fast; for invariants)."""
    examples = [e for t in GENERATED_TASKS for e in generate_examples(t, 40, seed=0)]
    vocab = Vocabulary.build((x for e in examples for x in (*e.story, e.question)), (e.answer for e in examples))
    torch.manual_seed(0)
    return MemN2N(MemN2NConfig(vocab_size=len(vocab), embed_dim=16, hops=3), vocab).eval()


def memn2n_models() -> list[str]:
    return [n for n, family in SHIPPED_MODELS.items() if family == "memn2n"]


@pytest.fixture(scope="module", params=memn2n_models())
def shipped(request) -> MemN2N:
    return memviz.load_pretrained(request.param)


# ---------------------------------------------------------------------------- equations


def test_position_encoding_matches_the_paper_by_hand():
    # l_kj = (1 - j/J) - (k/d)(1 - 2j/J); J = 2 words, d = 2 dimensions.
    table = position_encoding_table(2, 2)
    expected = torch.tensor([[0.5 - 0.5 * 0.0, 0.5 - 1.0 * 0.0], [0.0 - 0.5 * (-1.0), 0.0 - 1.0 * (-1.0)]])
    assert torch.allclose(table[2], expected)
    assert torch.equal(table[1, 1], torch.zeros(2))  # beyond the sentence: no weight


def test_bag_embedding_equals_the_position_encoded_sum(tiny):
    words = ["mary", "went", "to", "the", "kitchen"]
    ids = torch.tensor([[tiny.vocab.index[w] for w in words] + [0, 0]])  # padded to 7
    direct = (tiny.embeddings[2][ids] * position_encoding_table(7, 16)[5]).sum(1)
    via_bags = tiny._embed(sentence_bags(ids, len(tiny.vocab)), [2])
    assert torch.allclose(direct, via_bags, atol=1e-6)


def test_hops_follow_the_recurrence(tiny):
    t = tiny.answer(STORY, "Where is Mary?")
    assert np.allclose(t.u[1:], t.u[:-1] + t.o, atol=1e-5)  # u_{k+1} = u_k + o_k
    logits = torch.tensor(t.u[-1]) @ tiny.embeddings[-1][tiny.answer_ids].T.detach()  # W^T = C_K
    assert np.allclose(t.probs, torch.softmax(logits, -1).numpy(), atol=1e-5)


def test_hop_update_with_and_without_a_relu(tiny):
    u, o = torch.tensor([[1.0, -2.0, 3.0, -4.0]]), torch.tensor([[0.5, 0.5, -5.0, 1.0]])
    assert torch.equal(hop_update(u, o), u + o)  # the paper's bAbI model
    assert torch.equal(hop_update(u, o, "relu"), torch.tensor([[1.5, 0.0, 0.0, 0.0]]))
    assert torch.equal(hop_update(u, o, "relu-half"), torch.tensor([[1.5, -1.5, 0.0, 0.0]]))  # first half linear
    with pytest.raises(ValueError, match="nonlinearity"):
        hop_update(u, o, "tanh")
    relu = MemN2N(MemN2NConfig(**{**tiny.config.__dict__, "nonlinearity": "relu"}), tiny.vocab).eval()
    relu.load_state_dict(tiny.state_dict())
    t = relu.answer(STORY, "Where is Mary?")
    assert t.nonlinearity == "relu" and np.allclose(t.u[1:], np.maximum(t.u[:-1] + t.o, 0), atol=1e-5)


def test_linear_start_averages_scores_and_softmax_normalises():
    scores = torch.tensor([[2.0, 4.0, 9.0]])
    mask = torch.tensor([[True, True, False]])
    assert torch.allclose(attend(scores, mask, linear=True), torch.tensor([[1.0, 2.0, 0.0]]))
    p = attend(scores, mask)
    assert torch.allclose(p, torch.tensor([[1 / (1 + np.e**2), np.e**2 / (1 + np.e**2), 0.0]]))


def test_random_noise_inserts_empty_time_slots():
    idx = noisy_time_index(50, 200, 0.1, 50, torch.Generator().manual_seed(0))
    assert (idx[:, 1:] >= idx[:, :-1]).all() and idx.max() <= 49
    assert (idx > torch.arange(50)).any()  # some slots were pushed back
    assert torch.equal(noisy_time_index(5, 2, 0.0, 50), torch.arange(5).expand(2, 5))


# ---------------------------------------------------------------------------- trace


def test_trace_shapes_and_rows_sum_to_one(tiny):
    t = tiny.answer(STORY, "Where is Mary?")
    assert isinstance(t, MemN2NTrace) and t.hops == 3
    assert t.attention.shape == (3, 3) and t.attention.dtype == np.float32
    assert np.allclose(t.attention.sum(1), 1.0, atol=1e-6)
    assert t.o.shape == (3, 16) and t.u.shape == (4, 16)
    assert t.hop_probs.shape == (3, len(t.answers)) and np.allclose(t.hop_probs.sum(1), 1, atol=1e-5)
    assert np.array_equal(t.probs, t.hop_probs[-1]) and t.answer == t.top5[0][0]
    assert len(t.top5) == 5 and all(len(h) == 5 for h in t.hop_top5)
    assert [p for _, p in t.top5] == sorted((p for _, p in t.top5), reverse=True)
    assert t.sentences == STORY and t.tokens[0] == ["mary", "moved", "to", "the", "bathroom"]
    assert t.question_tokens == ["where", "is", "mary"] and t.notes == [] and t.masked == ()


def test_temperature_override_flattens_attention(tiny):
    sharp = tiny.answer(STORY, "Where is Mary?", temperature=0.05)
    flat = tiny.answer(STORY, "Where is Mary?", temperature=100.0)
    assert np.allclose(flat.attention, 1 / 3, atol=0.02)
    assert sharp.attention.max(1).mean() > flat.attention.max(1).mean()
    per_hop = tiny.answer(STORY, "Where is Mary?", temperature=[1.0, 100.0, 1.0])
    assert np.allclose(per_hop.attention[0], tiny.answer(STORY, "Where is Mary?").attention[0])
    assert per_hop.temperature.tolist() == [1.0, 100.0, 1.0]
    with pytest.raises(MemN2NInputError, match="one per hop"):
        tiny.answer(STORY, "Where is Mary?", temperature=[1.0, 2.0])
    with pytest.raises(MemN2NInputError, match="> 0"):
        tiny.answer(STORY, "Where is Mary?", temperature=0.0)


def test_masked_sentences_get_no_attention(tiny):
    t = tiny.answer(STORY, "Where is Mary?", masked={2})
    assert t.masked == (2,) and np.all(t.attention[:, 2] == 0)
    assert np.allclose(t.attention.sum(1), 1.0, atol=1e-6)
    everything = tiny.answer(STORY, "Where is Mary?", masked=[0, 1, 2])
    assert np.all(everything.attention == 0) and "masked" in everything.notes[0]
    with pytest.raises(MemN2NInputError, match="outside"):
        tiny.answer(STORY, "Where is Mary?", masked=[3])


# ---------------------------------------------------------------------------- bad input


def test_unknown_words_are_listed_with_nearest_known_words(tiny):
    with pytest.raises(UnknownWordsError) as info:
        tiny.answer(["Mary went to the kitchn.", "Bob went to the garden."], "Where is Mary?")
    err = info.value
    assert isinstance(err, ValueError) and err.words == ["kitchn", "bob"]
    assert err.suggestions["kitchn"][0] == "kitchen"
    assert "kitchn" in str(err) and "kitchen" in str(err)


def test_empty_story_or_question_is_a_clear_error(tiny):
    with pytest.raises(EmptyInputError, match="story is empty"):
        tiny.answer([], "Where is Mary?")
    with pytest.raises(EmptyInputError, match="story is empty"):
        tiny.answer(["", "  ", "."], "Where is Mary?")
    with pytest.raises(EmptyInputError, match="question is empty"):
        tiny.answer(STORY, " ?")


def test_long_story_keeps_the_last_50_and_says_so(tiny):
    story = [f"Mary went to the {r}." for r in ["kitchen", "garden"] * 30]
    t = tiny.answer(story, "Where is Mary?")
    assert len(t.sentences) == 50 and t.sentences == story[-50:] and t.attention.shape == (3, 50)
    assert "60 sentences" in t.notes[0] and "first 10 were dropped" in t.notes[0]


def test_mixed_case_missing_question_mark_and_pasted_ids_are_accepted(tiny):
    canonical = tiny.answer(STORY, "Where is Mary?")
    loose = tiny.answer(["1 MARY moved to the Bathroom", "2 john went to the hallway.", STORY[2]], "where is mary")
    assert np.allclose(canonical.probs, loose.probs) and canonical.answer == loose.answer
    as_text = tiny.answer(" ".join(STORY), "Where is Mary?")
    assert as_text.sentences == STORY


def test_weights_round_trip_through_safetensors(tiny, tmp_path):
    path = tmp_path / "m.safetensors"
    save_weights(tiny, path)
    extra = {"vocabulary": tiny.vocab.words, "answers": tiny.vocab.answers}
    card = ModelCard("memn2n-tiny", "memn2n", "", {"name": "babi"}, config_dict(tiny), extra=extra)
    again = load_from_card(card, path)
    a, b = tiny.answer(STORY, "Where is Mary?"), again.answer(STORY, "Where is Mary?")
    assert np.allclose(a.attention, b.attention, atol=2e-3) and a.answer == b.answer


# ---------------------------------------------------------------------------- shipped models


def test_shipped_model_answers_generated_task1_questions(shipped):
    examples = generate_examples(1, 100, seed=99)
    correct = sum(shipped.answer(list(e.story), e.question).answer == e.answer for e in examples)
    assert correct / len(examples) >= 0.95


def test_shipped_model_card_is_complete(shipped):
    card = shipped.card
    assert card.family == "memn2n" and {"vocabulary", "answers"} <= set(card.extra)
    assert card.recipe["seed"] >= 0 and "python -m memviz.train" in card.recipe["command"]
    assert card.training["wall_time_s"] > 0 and card.training["parameters"] > 0
    v = card.training["validation"]
    assert len(v["per_task_error"]) == 20 and "mean_error" in v and "failed_tasks" in v
    assert card.config["hops"] in (1, 2, 3) and "en/" in card.training["data"]["note"]
    assert "python -m memviz.evaluate" in card.metrics["command"] and len(card.metrics["per_task_error"]) == 20
    assert len(card.metrics["generator_fidelity"]["rows"]) >= 13


def test_one_hop_model_fails_where_three_hops_succeed():
    """The class demo: two- and three-supporting-fact questions need more than one hop."""
    three = read_card("memn2n-babi").training["validation"]["per_task_error"]
    one = read_card("memn2n-babi-1hop").training["validation"]["per_task_error"]
    for task in ("2", "3"):
        assert one[task] > three[task] + 10


def test_masking_the_supporting_fact_moves_attention_away(shipped):
    """The model attends to the supporting fact; masked, its mass goes to the other sentences."""
    checked = 0
    for ex in generate_examples(1, 60, seed=3):
        t = shipped.answer(list(ex.story), ex.question)
        (fact,) = ex.supporting_indices
        if t.answer != ex.answer or len(ex.story) < 3:
            continue
        assert fact in t.attention.argmax(1)  # some hop attends most to the supporting fact
        masked = shipped.answer(list(ex.story), ex.question, masked={fact})
        assert np.all(masked.attention[:, fact] == 0)
        assert np.allclose(masked.attention.sum(1), 1.0, atol=1e-5)
        others = [i for i in range(len(ex.story)) if i != fact]
        assert masked.attention[:, others].sum() > t.attention[:, others].sum()
        checked += 1
        if checked == 20:
            break
    assert checked == 20


def test_multi_word_answers_come_back_as_one_string(shipped):
    assert "s,e" in shipped.vocab.answers and any("," in a and a != "s,e" for a in shipped.vocab.answers)
    t = shipped.answer(
        ["The kitchen is north of the office.", "The office is west of the garden."],
        "How do you go from the kitchen to the garden?",
    )
    assert t.answer in shipped.vocab.answers and isinstance(t.answer, str)
