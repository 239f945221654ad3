"""int8 softmax (TFLite fixed point): C == interpret, bit for bit. Rows holding every int8
value drive the gemmlowp exp through all 256 possible differences at many input scalings;
long rows of equal values drive the reciprocal and the final shift past 31 bits."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.ir import Graph, interpret
from tinyc.ir.qmath import calculate_input_radius, preprocess_softmax_scaling

from .harness import check_graph, emit_build, int8_input, set_q


def softmax_graph(shape, scale, beta=1.0, zp=0):
    g = Graph("softmax")
    x = int8_input(g, "x", shape, zp, scale)
    mult, left = preprocess_softmax_scaling(beta, scale)
    y = g.emit("softmax", [x], {"beta": beta, "input_multiplier": mult, "input_left_shift": left,
                                "diff_min": -calculate_input_radius(5, left)})
    g.outputs = [set_q(y, -128, 1 / 256)]
    return g


# name: (shape, input scale, beta)
SOFTMAX_CASES = {
    "row10":       ((1, 10), 0.1, 1.0),
    "rows4x7":     ((4, 7), 0.05, 1.0),
    "3d":          ((2, 3, 16), 0.5, 1.0),
    "coarse":      ((3, 12), 2.0, 1.0),
    "fine":        ((2, 20), 0.001, 1.0),
    "beta":        ((2, 9), 0.1, 3.0),
    "row1":        ((5, 1), 0.1, 1.0),
    "row300":      ((1, 300), 0.02, 1.0),
    "nhwc":        ((1, 2, 2, 10), 0.0625, 1.0),
}


@pytest.mark.parametrize("case", SOFTMAX_CASES.values(), ids=SOFTMAX_CASES.keys())
def test_softmax(case, rng, tmp_path, host_cache):
    shape, scale, beta = case
    check_graph(softmax_graph(shape, scale, beta), tmp_path, host_cache, rng)


SCALES = [1e-6, 1e-4, 0.003, 0.01, 0.02, 0.05, 0.0625, 0.1, 0.17, 0.3, 0.5, 1.0, 4.0, 100.0]


@pytest.mark.parametrize("scale", SCALES)
def test_softmax_every_difference(scale, rng, tmp_path, host_cache):
    """Row 0: -128..127 (every difference to the max); rows 1-3: the same shuffled,
    a row of two values, a row with one outlier."""
    full = np.arange(-128, 128, dtype=np.int8)
    rows = np.stack([full, rng.permutation(full), np.where(full > 0, 127, -128).astype(np.int8),
                     np.where(full == 5, 127, -100).astype(np.int8)])
    g = softmax_graph(rows.shape, scale)
    model = emit_build(g, tmp_path, cache_dir=host_cache)
    assert np.array_equal(model.invoke([rows])[0], interpret(g, [rows])[0])


@pytest.mark.parametrize("n", [255, 256, 257, 511, 512, 513, 1000, 4095, 4096, 4097, 9000])
def test_softmax_long_equal_rows(n, rng, tmp_path, host_cache):
    """n equal values: sum of exps = n * 2^19 — reciprocal headroom 12..0 and beyond (the sum
    wraps mod 2^32 past 8192, as the reference's int32 does), final shift 23..35."""
    g = softmax_graph((2, n), 0.05)
    x = np.stack([np.full(n, 17, np.int8), rng.integers(-128, 128, n).astype(np.int8)])
    model = emit_build(g, tmp_path, cache_dir=host_cache)
    assert np.array_equal(model.invoke([x])[0], interpret(g, [x])[0])
