"""16x8 TRANSPOSE_CONV (int16 activations, int8 weights, int64 bias): tinyc's golden model ==
the TFLite Micro interpreter (a hand-built int8 -> int16 -> TRANSPOSE_CONV -> int16 model),
bit for bit; the generated C (tinyc_transpose_conv_s16) == the golden model on every
activation; the mixed-precision pass picks it (activations="int16")."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.ir import Graph

from .test_ops import _feeds, _out_scale
from .test_tflm import SAME, VALID, Pair, _check, tfl_env  # noqa: F401  (fixture)
from .util import ArenaRun, assert_bit_exact, bias64, emit16, finish, int8_in, weights


def _pad(out: int, k: int, s: int, same: bool) -> int:
    n = (out + s - 1) // s if same else (out - k + s) // s
    return max((n - 1) * s + k - out, 0) // 2


CASES = [  # input hw, channels in, out, kernel, stride, padding, output hw, bias
    ((4, 5), 3, 6, (3, 3), 2, SAME, (8, 10), True),
    ((3, 3), 4, 5, (3, 3), 2, VALID, (7, 7), False),
    ((5, 4), 2, 4, (3, 2), 1, VALID, (7, 5), True),
]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("case", range(len(CASES)))
def test_transpose_conv_16x8_equals_tflm(tfl_env, case, seed):  # noqa: F811
    tflbuild, tflm = tfl_env
    hw, cin, cout, k, stride, padding, out_hw, has_bias = CASES[case]
    rng = np.random.default_rng(10 * case + seed)
    p = Pair(tflbuild, rng, (1, *hw, cin))
    tw, w, sw = p.weights((cout, *k, cin), 0)
    ins, g_ins = [p.b.const("os", np.array((1, *out_hw, cout), np.int32)), tw, p.tx16], \
        [p.x16, w]
    if has_bias:
        tb, b = p.bias(cout, sw, 1 << 22)
        ins.append(tb)
        g_ins.append(b)
    pads = tuple(_pad(out_hw[i], k[i], stride, padding == SAME) for i in (0, 1))
    s_out = p.x16.q.s * float(sw.mean()) * 300 * rng.uniform(0.5, 2)
    data = p.op("TRANSPOSE_CONV", ins, "transpose_conv2d", g_ins,
                {"stride": (stride, stride), "padding": pads, "out_size": out_hw},
                (1, *out_hw, cout), s_out, "TransposeConvOptions", Padding=padding,
                StrideW=stride, StrideH=stride, FusedActivationFunction=0)
    _check(tflm, data, p.g, rng)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_transpose_conv_s16_host_c(case, tmp_path, host_cache):
    hw, cin, cout, k, stride, padding, out_hw, has_bias = CASES[case]
    rng = np.random.default_rng(300 + case)
    g = Graph("tconv16")
    _, x16 = int8_in(g, "x", (1, *hw, cin), rng)
    w = weights(g, rng, (cout, *k, cin), 0)
    b = bias64(g, rng, cout, 1 << 30) if has_bias else None
    pads = tuple(_pad(out_hw[i], k[i], stride, padding == SAME) for i in (0, 1))
    y = emit16(g, "transpose_conv2d", [x16, w, b],
               {"stride": (stride, stride), "padding": pads, "out_size": out_hw,
                "act": (0.0, np.inf) if case == 1 else (-np.inf, np.inf)},
               _out_scale(x16, w, k[0] * k[1] * cin // stride ** 2, 2.0))
    g = finish(g, y, rng)
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, rng):
        assert_bit_exact(run, feed)
