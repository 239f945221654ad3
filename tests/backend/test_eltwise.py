"""add, mul (numpy broadcasting over <= 4 dims, in place or not), lut: C == interpret."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.ir import Graph
from tinyc.ir.qmath import quantize_multiplier

from .harness import check_graph, int8_input, set_q

# name: (shape a, shape b, (s1, zp1), (s2, zp2), (s_out, zp_out), act)
BINARY_CASES = {
    "same_4d":        ((1, 4, 4, 3), (1, 4, 4, 3), (0.05, 3), (0.02, -7), (0.06, 1), None),
    "same_1d":        ((37,), (37,), (0.1, -128), (0.1, 127), (0.2, 0), None),
    "scalar_b":       ((2, 3, 5), (1,), (0.03, 0), (0.5, 10), (0.1, -3), None),
    "scalar_a":       ((), (4, 6), (0.3, 2), (0.01, 0), (0.05, 5), None),
    "channel_bcast":  ((1, 5, 5, 8), (8,), (0.02, 4), (0.04, -4), (0.05, 0), None),
    "row_bcast":      ((1, 5, 6, 3), (1, 1, 6, 1), (0.05, 0), (0.05, 0), (0.07, 0), None),
    "both_bcast":     ((3, 1, 4), (1, 5, 1), (0.1, -3), (0.07, 6), (0.1, 0), None),
    "mid_bcast":      ((2, 1, 3, 1), (1, 4, 1, 5), (0.04, 1), (0.09, 2), (0.1, -1), None),
    "rank5_collapse": ((2, 3, 1, 4, 5), (2, 3, 1, 4, 5), (0.05, 0), (0.05, 0), (0.1, 0), None),
    "rank5_bcast":    ((2, 1, 3, 4, 1), (1, 1, 1, 1, 2), (0.05, 0), (0.05, 0), (0.1, 0), None),
    "big_ratio":      ((1, 4, 4, 4), (1, 4, 4, 4), (0.001, 0), (1.0, -1), (0.5, 0), None),
    "relu":           ((1, 6, 6, 2), (1, 6, 6, 2), (0.05, 3), (0.05, -3), (0.04, -20), "relu"),
    "clamp":          ((64,), (64,), (0.05, 3), (0.05, -3), (0.04, 0), (-30, 30)),
}


def _act(act, zp):
    return (-128, 127) if act is None else (zp, 127) if act == "relu" else act


def add_attrs(q1, q2, qo, act):
    """TFLite's int8 add parameters (add_common.cc): left shift 20, twice the max scale."""
    (s1, z1), (s2, z2), (so, zo) = q1, q2, qo
    twice_max = 2 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << 20) * so))
    lo, hi = _act(act, zo)
    return {"in1_offset": -z1, "in2_offset": -z2, "left_shift": 20, "in1_mult": m1,
            "in1_shift": sh1, "in2_mult": m2, "in2_shift": sh2, "out_mult": mo,
            "out_shift": sho, "out_offset": zo, "act_min": lo, "act_max": hi}


def mul_attrs(q1, q2, qo, act):
    (s1, z1), (s2, z2), (so, zo) = q1, q2, qo
    mo, sho = quantize_multiplier(s1 * s2 / so)
    lo, hi = _act(act, zo)
    return {"in1_offset": -z1, "in2_offset": -z2, "out_mult": mo, "out_shift": sho,
            "out_offset": zo, "act_min": lo, "act_max": hi}


def _binary_graph(op, case, const_b=None):
    sa, sb, q1, q2, qo, act = case
    g = Graph(op)
    a = int8_input(g, "a", sa, q1[1], q1[0])
    if const_b is None:
        b = int8_input(g, "b", sb, q2[1], q2[0])
    else:
        b = g.const("b", const_b)
    attrs = (add_attrs if op == "add" else mul_attrs)(q1, q2, qo, act)
    y = g.emit(op, [a, b], attrs)
    g.outputs = [set_q(y, qo[1], qo[0])]
    return g


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("case", BINARY_CASES.values(), ids=BINARY_CASES.keys())
def test_binary(op, case, rng, tmp_path, host_cache):
    check_graph(_binary_graph(op, case), tmp_path, host_cache, rng)


@pytest.mark.parametrize("op", ["add", "mul"])
def test_binary_const_operand(op, rng, tmp_path, host_cache):
    case = BINARY_CASES["channel_bcast"]
    g = _binary_graph(op, case, const_b=rng.integers(-128, 128, 8).astype(np.int8))
    check_graph(g, tmp_path, host_cache, rng)


@pytest.mark.parametrize("op", ["add", "mul"])
def test_binary_same_operand(op, rng, tmp_path, host_cache):
    """x + x / x * x: both kernel inputs are one buffer."""
    g = Graph(op)
    a = int8_input(g, "a", (1, 3, 3, 4), 5, 0.05)
    attrs = (add_attrs if op == "add" else mul_attrs)((0.05, 5), (0.05, 5), (0.1, -2), None)
    g.outputs = [set_q(g.emit(op, [a, a], attrs), -2, 0.1)]
    check_graph(g, tmp_path, host_cache, rng)


LUT_TABLES = {
    "identity": np.arange(-128, 128),
    "negate_sat": np.clip(-np.arange(-128, 128), -128, 127),
    "random": np.random.default_rng(7).integers(-128, 128, 256),
    "sigmoid_like": np.round(255 / (1 + np.exp(-np.arange(-128, 128) / 16.0)) - 128),
}


@pytest.mark.parametrize("table", LUT_TABLES.values(), ids=LUT_TABLES.keys())
@pytest.mark.parametrize("shape", [(1, 4, 4, 3), (300,)])
def test_lut(table, shape, rng, tmp_path, host_cache):
    g = Graph("lut")
    x = int8_input(g, "x", shape, 0)
    y = g.emit("lut", [x], {"table": tuple(int(v) for v in table)})
    g.outputs = [set_q(y, -128, 1 / 256)]
    check_graph(g, tmp_path, host_cache, rng)
    full = np.arange(-128, 128, dtype=np.int8)
    if shape == (300,):
        from .harness import emit_build
        model = emit_build(g, tmp_path, cache_dir=host_cache)
        x_all = np.concatenate([full, full[:44]])
        assert np.array_equal(model.invoke([x_all])[0][:256], table.astype(np.int8))
