"""avg_pool2d, max_pool2d: C == interpret, bit for bit (padding never counted)."""
from __future__ import annotations

import pytest

from tinyc.ir import Graph

from .harness import check_graph, int8_input, set_q

# name: (input NHWC, kernel, stride, pads t,l,b,r, act (lo, hi), zp)
POOL_CASES = {
    "2x2_s2":         ((1, 8, 8, 3), (2, 2), (2, 2), (0, 0, 0, 0), (-128, 127), 0),
    "3x3_s1_same":    ((1, 7, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), (-128, 127), -5),
    "3x3_s2_asym":    ((1, 9, 8, 2), (3, 3), (2, 2), (0, 0, 1, 1), (-128, 127), 7),
    "global":         ((1, 5, 6, 10), (5, 6), (1, 1), (0, 0, 0, 0), (-128, 127), -128),
    "global_wide":    ((1, 12, 12, 3), (12, 12), (12, 12), (0, 0, 0, 0), (-128, 127), 1),
    "rect_kernel":    ((1, 6, 9, 3), (2, 4), (1, 3), (1, 2, 0, 1), (-128, 127), 0),
    "kernel_gt_in":   ((1, 2, 3, 2), (4, 5), (1, 1), (1, 2, 2, 2), (-128, 127), 0),
    "relu":           ((1, 6, 6, 3), (2, 2), (2, 2), (0, 0, 0, 0), (-10, 127), -10),
    "clamp":          ((1, 6, 6, 3), (3, 3), (1, 1), (1, 1, 1, 1), (-50, 40), 0),
    "batch2":         ((2, 5, 5, 3), (3, 3), (2, 2), (1, 1, 1, 1), (-128, 127), 3),
    "one_by_one":     ((1, 4, 4, 5), (1, 1), (2, 1), (0, 0, 0, 0), (-128, 127), 0),
}


def _pool_graph(op, case):
    shape, kernel, stride, pads, (lo, hi), zp = case
    g = Graph(op)
    x = int8_input(g, "x", shape, zp)
    y = g.emit(op, [x], {"kernel": kernel, "stride": stride, "pads": pads,
                         "act_min": lo, "act_max": hi})
    g.outputs = [set_q(y, zp)]
    return g


@pytest.mark.parametrize("op", ["avg_pool2d", "max_pool2d"])
@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pool(op, case, rng, tmp_path, host_cache):
    check_graph(_pool_graph(op, case), tmp_path, host_cache, rng)


def test_avg_pool_rounding_halves(tmp_path, host_cache, rng):
    """Sums that sit exactly on .5 round away from zero on both signs."""
    import numpy as np
    g = _pool_graph("avg_pool2d", ((1, 2, 2, 4), (2, 2), (2, 2), (0, 0, 0, 0), (-128, 127), 0))
    from .harness import emit_build
    from tinyc.ir import interpret
    model = emit_build(g, tmp_path, cache_dir=host_cache)
    x = np.array([[[[1, -1, 3, -3], [1, -1, 2, -2]], [[0, 0, 1, -1], [0, 0, 0, 0]]]], np.int8)
    y = model.invoke([x])[0]
    assert np.array_equal(y, interpret(g, [x])[0])
    assert y.reshape(-1).tolist() == [1, -1, 2, -2]     # 2/4, -2/4, 6/4, -6/4
