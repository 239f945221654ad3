"""pad, transpose, concat, reshape: C == interpret, bit for bit."""
from __future__ import annotations

import pytest

from tinyc.ir import Graph

from .harness import check_graph, int8_input, set_q

# name: (input shape, pads = (begins..., ends...), pad_value)
PAD_CASES = {
    "hw_same":     ((1, 5, 5, 3), (0, 1, 1, 0, 0, 1, 1, 0), -7),
    "asym":        ((1, 4, 6, 2), (0, 2, 0, 0, 0, 1, 3, 0), 0),
    "channels":    ((1, 3, 3, 5), (0, 0, 0, 2, 0, 0, 0, 3), -128),
    "all_axes":    ((2, 2, 3, 2), (1, 1, 2, 1, 2, 0, 1, 1), 127),
    "none":        ((1, 3, 3, 3), (0, 0, 0, 0, 0, 0, 0, 0), 5),
    "rank2":       ((4, 6), (1, 2, 3, 0), 3),
    "rank1":       ((10,), (4, 5), -1),
    "rank3":       ((3, 4, 5), (0, 1, 2, 1, 0, 2), 9),
}


@pytest.mark.parametrize("case", PAD_CASES.values(), ids=PAD_CASES.keys())
def test_pad(case, rng, tmp_path, host_cache):
    shape, pads, value = case
    g = Graph("pad")
    x = int8_input(g, "x", shape, value)
    y = g.emit("pad", [x], {"pads": pads, "pad_value": value})
    g.outputs = [set_q(y, value)]
    check_graph(g, tmp_path, host_cache, rng)


TRANSPOSE_CASES = {
    "nhwc_nchw":   ((1, 4, 5, 3), (0, 3, 1, 2)),
    "nchw_nhwc":   ((1, 3, 4, 5), (0, 2, 3, 1)),
    "reverse4":    ((2, 3, 4, 5), (3, 2, 1, 0)),
    "swap_hw":     ((2, 3, 4, 5), (0, 2, 1, 3)),
    "identity":    ((2, 3, 4), (0, 1, 2)),
    "matrix":      ((7, 9), (1, 0)),
    "rank5":       ((2, 3, 1, 4, 2), (4, 0, 2, 1, 3)),
    "negative":    ((3, 4, 5), (-1, 0, 1)),
}


@pytest.mark.parametrize("case", TRANSPOSE_CASES.values(), ids=TRANSPOSE_CASES.keys())
def test_transpose(case, rng, tmp_path, host_cache):
    shape, perm = case
    g = Graph("transpose")
    x = int8_input(g, "x", shape, 0)
    y = g.emit("transpose", [x], {"perm": perm})
    g.outputs = [set_q(y, 0)]
    check_graph(g, tmp_path, host_cache, rng, extremes=False)


# name: (shapes, axis)
CONCAT_CASES = {
    "channels":     ([(1, 4, 4, 3), (1, 4, 4, 5)], 3),
    "channels3":    ([(1, 2, 3, 1), (1, 2, 3, 2), (1, 2, 3, 7)], -1),
    "width":        ([(1, 3, 2, 4), (1, 3, 5, 4)], 2),
    "height":       ([(2, 1, 3, 2), (2, 4, 3, 2)], 1),
    "batch":        ([(1, 3, 3, 2), (2, 3, 3, 2)], 0),
    "flat":         ([(5,), (1,), (9,)], 0),
    "matrix_cols":  ([(3, 4), (3, 1), (3, 2)], 1),
}


@pytest.mark.parametrize("case", CONCAT_CASES.values(), ids=CONCAT_CASES.keys())
def test_concat(case, rng, tmp_path, host_cache):
    shapes, axis = case
    g = Graph("concat")
    xs = [int8_input(g, f"x{i}", s, 0) for i, s in enumerate(shapes)]
    y = g.emit("concat", xs, {"axis": axis})
    g.outputs = [set_q(y, 0)]
    check_graph(g, tmp_path, host_cache, rng, extremes=False)


def test_concat_with_constant(rng, tmp_path, host_cache):
    g = Graph("concat")
    x = int8_input(g, "x", (1, 2, 2, 3), 0)
    c = g.const("c", rng.integers(-128, 128, (1, 2, 2, 2)).astype("int8"))
    g.outputs = [set_q(g.emit("concat", [c, x], {"axis": 3}), 0)]
    check_graph(g, tmp_path, host_cache, rng)


def test_reshape_alias_and_copy(rng, tmp_path, host_cache):
    """reshape of an activation is an alias (no code); reshape of a graph input that is also
    an output must leave both outputs right."""
    g = Graph("reshape")
    x = int8_input(g, "x", (1, 2, 3, 4), 0)
    r = g.emit("reshape", [x], {"shape": (1, 24)})
    set_q(r, 0)
    l = g.emit("lut", [r], {"table": tuple(range(127, -129, -1))})
    g.outputs = [set_q(l, 0), r, x]
    check_graph(g, tmp_path, host_cache, rng)
    assert "alias" in (tmp_path / "model.c").read_text()
