"""The three algorithmic tasks: exact layouts, seeding, scoring and bad sizes."""

from __future__ import annotations

import numpy as np
import pytest

from memviz.tasks import known_tasks, make_task
from memviz.tasks.associative_recall import AssociativeRecallTask
from memviz.tasks.copy import CopyTask, bit_errors
from memviz.tasks.repeat_copy import RepeatCopyTask

TASKS = [CopyTask(), RepeatCopyTask(), AssociativeRecallTask()]


def test_copy_encoding_matches_design_section_3():
    seq = np.array([[1, 0, 1], [0, 1, 1]], dtype=np.float32)
    x, y, mask = CopyTask(bits=3).encode(seq)
    expected_x = np.array(
        [[1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y[3:], seq)
    np.testing.assert_array_equal(y[:3], 0)
    np.testing.assert_array_equal(mask, [0, 0, 0, 1, 1])


def test_repeat_copy_layout():
    task = RepeatCopyTask(bits=2, repeat_scale=20)
    seq = np.array([[1, 0], [0, 1]], dtype=np.float32)
    x, y, mask = task.encode(seq, repeats=3)
    assert x.shape == (2 + 1 + 6 + 1, 4) and y.shape == (10, 3)
    np.testing.assert_array_equal(x[:2, :2], seq)
    np.testing.assert_array_equal(x[2], np.array([0, 0, 1, 3 / 20], dtype=np.float32))
    np.testing.assert_array_equal(x[3:], 0)
    np.testing.assert_array_equal(y[3:9, :2], np.tile(seq, (3, 1)))
    np.testing.assert_array_equal(y[9], [0, 0, 1])
    np.testing.assert_array_equal(y[:9, 2], 0)
    np.testing.assert_array_equal(mask, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1])


def test_associative_recall_layout_answers_the_next_item():
    task = AssociativeRecallTask(bits=2, item_length=2)
    items = np.array([[[1, 0], [0, 0]], [[0, 1], [1, 1]], [[1, 1], [0, 1]]], dtype=np.float32)
    x, y, mask = task.encode(items, query=1)
    assert x.shape == (task.episode_length(3), 4)
    for k in range(3):
        np.testing.assert_array_equal(x[3 * k], [0, 0, 1, 0])
        np.testing.assert_array_equal(x[3 * k + 1 : 3 * k + 3, :2], items[k])
    np.testing.assert_array_equal(x[9], [0, 0, 0, 1])
    np.testing.assert_array_equal(x[10:12, :2], items[1])
    np.testing.assert_array_equal(x[12], [0, 0, 0, 1])
    np.testing.assert_array_equal(x[13:], 0)
    np.testing.assert_array_equal(y[13:], items[2])
    np.testing.assert_array_equal(mask, [0] * 13 + [1, 1])


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_sampling_is_seeded_in_range_and_scored_in_bits(task):
    a = task.sample(np.random.default_rng(7), 4)
    b = task.sample(np.random.default_rng(7), 4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.size in task.train_sizes()
    assert a.x.shape[-1] == task.input_width and a.y.shape[-1] == task.output_width
    assert a.x.min() >= 0 and a.x.max() <= 1 and a.x.dtype == np.float32
    np.testing.assert_array_equal(task.score(a.y, a.y, a.mask), 0)
    flipped = a.y.copy()
    t = int(np.flatnonzero(a.mask[0])[0])
    flipped[0, t, 0] = 1 - flipped[0, t, 0]
    flipped[1, 0, 0] = 1 - flipped[1, 0, 0]  # an unscored step: not an error
    np.testing.assert_array_equal(task.score(flipped, a.y, a.mask), [1, 0, 0, 0])


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_task_round_trips_through_its_card_spec(task):
    assert make_task(task.spec()) == task


def test_bit_errors_threshold_probabilities_at_one_half():
    y = np.array([[[1, 0]]], dtype=np.float32)
    assert bit_errors(np.array([[[0.6, 0.4]]]), y, np.ones((1, 1)))[0] == 0
    assert bit_errors(np.array([[[0.4, 0.6]]]), y, np.ones((1, 1)))[0] == 2


def test_bad_sizes_raise_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="copy length"):
        CopyTask().sample(rng, 2, 0)
    with pytest.raises(ValueError, match="repeat count"):
        RepeatCopyTask().sample(rng, 2, (3, 0))
    with pytest.raises(ValueError, match="repeat_scale"):
        RepeatCopyTask().sample(rng, 2, (3, 21))
    with pytest.raises(ValueError, match="number of items"):
        AssociativeRecallTask().sample(rng, 2, 1)
    with pytest.raises(ValueError, match="unknown task"):
        make_task({"name": "sort"})


def test_zero_share_augmentation_only_zeroes_whole_vectors():
    rng = np.random.default_rng(0)
    plain = CopyTask().sample(np.random.default_rng(1), 64, 20)
    aug = CopyTask().sample(rng, 64, 20, zero_share=0.5)
    data = aug.x[:, :20, :8]
    zero_rows = data.sum(-1) == 0
    assert 0.4 < zero_rows.mean() < 0.6 and (plain.x[:, :20, :8].sum(-1) == 0).mean() < 0.05
    np.testing.assert_array_equal(aug.y[:, 21:], data)
    rc = RepeatCopyTask().sample(rng, 8, (5, 2), zero_share=1.0)
    np.testing.assert_array_equal(rc.x[:, :5, :8], 0)


# -- what every bit-sequence task tells the explorer and evaluation (memviz.tasks.BitTask) ------


@pytest.mark.parametrize("name", known_tasks())
def test_every_task_names_its_steps_channels_and_sizes(name):
    task = make_task({"name": name})
    knobs = task.size_knobs()
    assert knobs and all(k.low <= k.default <= k.train_high <= k.high for k in knobs)
    size = {k.key: k.default for k in knobs}
    batch = task.sample(np.random.default_rng(0), 1, size=task.sample_size(size))
    phases, kinds = task.phase_labels(size)
    assert len(phases) == len(kinds) == batch.x.shape[1]
    assert set(kinds) <= {"input", "delimiter", "output"}
    inputs, outputs = task.channel_names()
    assert (len(inputs), len(outputs)) == (task.input_width, task.output_width)
    rows = task.drawn_rows(batch.x[0], size)
    count = task.query_count(len(rows))
    x, _y, _mask, drawn_size = task.encode_drawn(rows, size, 0 if count is None else count - 2)
    assert x.shape == batch.x[0].shape and drawn_size == size
    np.testing.assert_array_equal(task.drawn_rows(x, drawn_size), rows)
    assert set(task.train_sizes()) & set(task.eval_sizes())


def test_known_tasks_are_the_three_ntm_tasks():
    assert known_tasks() == ["associative_recall", "copy", "repeat_copy"]
    with pytest.raises(ValueError, match=r"unknown task 'babi'.*copy"):
        make_task({"name": "babi"})
