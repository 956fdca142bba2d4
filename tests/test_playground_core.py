"""The playground's model-free core: presets, keys, hand-made input checks, the carried walk."""

import numpy as np
import pytest

from memviz import playground as pg


@pytest.mark.parametrize("preset", list(pg.MEMORY_PRESETS))
def test_presets_have_the_requested_shape_and_are_finite(preset):
    memory = pg.memory_preset(preset, 10, 6, seed=1)
    assert memory.shape == (10, 6) and memory.dtype == np.float32 and np.isfinite(memory).all()


def test_duplicated_preset_repeats_rows_half_way_down():
    memory = pg.memory_preset("duplicated", 8, 5, seed=0)
    np.testing.assert_array_equal(memory[:4], memory[4:])


def test_identity_preset_rows_are_one_hot():
    memory = pg.memory_preset("identity", 4, 4, seed=0)
    np.testing.assert_array_equal(memory, np.eye(4))


def test_unknown_preset_is_named():
    with pytest.raises(pg.PlaygroundInputError, match="unknown memory preset 'nope'"):
        pg.memory_preset("nope", 4, 4, 0)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([[1.0, None]], "row 0, column 1 holds None"),
        ([[1.0, "abc"]], "'abc', which is not a number"),
        ([[float("nan"), 1.0]], "row 0, column 0 is nan"),
        ([[1.0], [float("inf")]], "row 1, column 0 is inf"),
    ],
)
def test_bad_memory_cells_are_named(cells, message):
    with pytest.raises(pg.PlaygroundInputError, match=message):
        pg.check_memory_table(np.array(cells, dtype=object))


def test_memory_url_form_round_trips():
    memory = pg.memory_preset("random", 5, 3, seed=2)
    np.testing.assert_allclose(pg.decode_memory(pg.encode_memory(memory), 5, 3), memory, atol=1e-6)


def test_memory_url_form_with_wrong_shape_is_rejected():
    with pytest.raises(pg.PlaygroundInputError, match="2 rows, expected 3"):
        pg.decode_memory("1,2;3,4", 3, 2)


def test_parse_vector_checks_length_and_numbers():
    np.testing.assert_array_equal(pg.parse_vector("1, -0.5  2", 3), [1, -0.5, 2])
    with pytest.raises(pg.PlaygroundInputError, match="needs 3 numbers"):
        pg.parse_vector("1, 2", 3)


def test_all_zero_shift_sliders_mean_stay_put():
    np.testing.assert_array_equal(pg.shift_distribution((0.0, 0.0, 0.0)), [0, 1, 0])
    np.testing.assert_allclose(pg.shift_distribution((1.0, 1.0, 2.0)), [0.25, 0.25, 0.5])


def test_carried_walk_moves_one_row_per_step_and_wraps():
    memory = pg.memory_preset("random", 5, 4, seed=0)
    knobs = pg.HeadKnobs(beta=10, gate=0.0, shift=(0.0, 0.0, 1.0), gamma=1.0)
    result = pg.run_playground(memory, memory[0], knobs, pg.previous_weighting("one-hot", 5, 3), steps=3)
    assert [int(np.argmax(w)) for w in result.walk] == [3, 4, 0, 1]
    assert int(np.argmax(result.trace["w"])) == 2
