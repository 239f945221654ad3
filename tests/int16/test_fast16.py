"""The 16x8 fast conv2d / depthwise kernels (backend_c/fast_s16.py, runtime/
tinyc_conv2d_fast_s16.c, tinyc_depthwise_conv2d_fast_s16.c): chosen where their bound holds,
and bit for bit interpret() (the generic 16x8 semantics, TFLite Micro's reference) on the host
(portable path, every int16 activation read back from the arena) and in QEMU on the Cortex-M4
(DSP path: SMLAD / SMLABB / SMLATT) and M3 (portable): windows with padding, strides and
dilation, 1x1 convs read in place, pixel counts that leave a partial block, an int64 bias too
large for int32 (the generic requantization tail) and one that fits (the SMLAL one)."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.backend_c import fast_s16
from tinyc.backend_c.select import select_kernels
from tinyc.ir import Graph

from .test_ops import _feeds, conv_graph
from .util import ArenaRun, assert_bit_exact

INF = np.inf
CASES = {  # op, hw, cin, cout, kernel, stride, pads, dilation, act, big bias
    "conv_3x3_pad": ("conv2d", (6, 7), 3, 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1),
                     (-INF, INF), False),
    "conv_stride_dil": ("conv2d", (9, 9), 8, 6, (3, 2), (2, 1), (1, 0, 1, 1), (2, 1),
                        (0.0, INF), False),
    "conv_pointwise": ("conv2d", (5, 3), 16, 7, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1),
                       (-INF, INF), False),
    "conv_pointwise_big_bias": ("conv2d", (3, 3), 8, 4, (1, 1), (1, 1), (0, 0, 0, 0),
                                (1, 1), (0.0, 6.0), True),
    "dw_3x3": ("depthwise_conv2d", (6, 5), 8, 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1),
               (-INF, INF), False),
    "dw_stride_dil_big_bias": ("depthwise_conv2d", (9, 8), 4, 4, (3, 3), (2, 2),
                               (2, 2, 2, 2), (2, 2), (0.0, INF), True),
    "conv_pointwise_low_shift": ("conv2d", (5, 3), 16, 7, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1),
                                 (-INF, INF), False),
    "conv_3x3_clip": ("conv2d", (6, 5), 4, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1),
                      (-0.05, 0.05), False),
    "dw_3x3_relu": ("depthwise_conv2d", (5, 6), 8, 8, (3, 3), (2, 1), (1, 1, 1, 1), (1, 1),
                    (0.0, INF), False),
    "dw_3x3_clip": ("depthwise_conv2d", (6, 5), 8, 8, (3, 3), (1, 1), (0, 1, 1, 0), (1, 1),
                    (-0.05, 0.05), False),
    "dw_3x3_low_shift": ("depthwise_conv2d", (6, 5), 8, 8, (3, 3), (1, 1), (1, 1, 1, 1),
                         (1, 1), (-INF, INF), False),
}
# output scales this small make multipliers >= 1 (shift >= 0): the acc32 layers whose
# R = reduced * 2^(32 - total) does not fit int32 keep the SMLAL requantization
SPREAD = {"conv_pointwise_low_shift": 1 / 400, "dw_3x3_low_shift": 1 / 200}


def _graph(name: str) -> Graph:
    rng = np.random.default_rng(300 + list(CASES).index(name))
    g = conv_graph(rng, *CASES[name], spread=SPREAD.get(name))
    node = next(n for n in g.nodes if n.op in fast_s16.OPS)
    choice = select_kernels(g, "dense")[node.name]
    assert choice.fast and choice.kernel == f"{node.op}.s16", choice
    assert fast_s16.acc32(node) != CASES[name][-1]      # big bias: the int64 tail
    g.storage = "dense"
    return g


@pytest.mark.parametrize("name", CASES)
def test_host(name, tmp_path, host_cache):
    g = _graph(name)
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, np.random.default_rng(1)):
        assert_bit_exact(run, feed)


@pytest.mark.parametrize("machine", ["netduinoplus2", "lm3s6965evb"])
@pytest.mark.parametrize("name", CASES)
def test_qemu(name, machine, tmp_path):
    from ..backend.test_qemu import _need_toolchain
    from ..compression.test_packed_dsp import _build, _check, _run
    _need_toolchain()
    g = _graph(name)
    feed = [np.random.default_rng(2).integers(-128, 128, v.shape).astype(np.int8)
            for v in g.inputs]
    _check(g, feed, _run(_build(g, feed, tmp_path, machine), machine))


# int16 add (TFLM's general-scale AddElementwise<int16_t>): on DSP cores one SMMLAR + ASR per
# rescale (runtime/tinyc_add_s16.c); same shapes and activations as test_ops.test_add_s16
# (equal input scales: both rescales are exact, the no-rounding variant of the kernel)
ADD16 = {"same": ((1, 4, 5, 6), (-INF, INF)), "bcast_c_relu": ((1, 1, 1, 6), (0.0, INF)),
         "bcast_w_clip": ((1, 4, 1, 6), (-1.0, 1.0)), "equal_scales": ((1, 4, 5, 6), (0.0, INF))}


def _add16_graph(name: str) -> Graph:
    from .test_ops import emit16, finish, int8_in
    shape_b, act = ADD16[name]
    rng = np.random.default_rng(len(shape_b) + shape_b[2])
    g = Graph("add")
    _, a16 = int8_in(g, "a", (1, 4, 5, 6), rng)
    s16 = a16.q.s if name == "equal_scales" else float(rng.uniform(1e-5, 2e-4))
    _, b16 = int8_in(g, "b", shape_b, rng, s16=s16)
    s_out = max(a16.q.s, b16.q.s) * rng.uniform(1.2, 2.0)
    g = finish(g, emit16(g, "add", [a16, b16], {"act": act}, s_out), rng)
    g.outputs = [g.nodes[2].outputs[0]]         # the int16 sums themselves, every bit
    g.storage = "dense"
    return g


@pytest.mark.parametrize("machine", ["netduinoplus2", "lm3s6965evb"])
@pytest.mark.parametrize("name", ADD16)
def test_add16_qemu(name, machine, tmp_path, monkeypatch):
    """The int16 output read back whole (the harness's main holds int8 outputs: its output
    buffer becomes int16, printed as its bytes)."""
    from ..backend import test_qemu
    from ..compression import test_packed_dsp
    test_qemu._need_toolchain()
    g = _add16_graph(name)
    n = g.outputs[0].type.nbytes // 2

    def main16(g_, feed_):
        text = test_qemu._main(g_, feed_)
        return (text.replace(f"static int8_t out[{2 * n}];", f"static int16_t out[{n}];")
                .replace(f"put_hex(out, {2 * n})", f"put_hex((const int8_t *)out, {2 * n})"))

    monkeypatch.setattr(test_packed_dsp, "_main", main16)
    feed = [np.random.default_rng(3).integers(-128, 128, v.shape).astype(np.int8)
            for v in g.inputs]
    elf = test_packed_dsp._build(g, feed, tmp_path, machine)
    test_packed_dsp._check(g, feed, test_packed_dsp._run(elf, machine))
