"""The 1x1 conv kernel with pre-widened weights (weight format "pw", storage="speed";
backend_c/pw.py, runtime/tinyc_conv2d_pw_s8.c): the stream's doubled int16 weights in the
kernel's pass order give exactly 2 x the direct convolution's sums (numpy, against a plain int64
dot product), which layers take it and why not, host C (portable path) == interpret() bit for
bit, the DSP (Cortex-M4: every pass variant of in_c) and portable (Cortex-M3) paths in QEMU ==
interpret(), kws with storage="speed" == TFLite Micro."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.backend_c import pw
from tinyc.backend_c.select import select_kernels
from tinyc.ir import Graph, interpret

from .harness import (check_graph, dense_requant, equals_tflm, int8_input, mlperf_speed,
                      random_int8, set_q)
from .test_conv import Conv, _act, _conv_graph


def _pw_graph(rng, case: Conv):
    """The case with storage="pw" (the format wherever it applies; storage="speed" takes it
    only where pw.wins)."""
    g = _conv_graph("conv2d", rng, case)
    g.storage = "pw"
    choice = select_kernels(g, "pw")[g.nodes[0].name]
    assert choice.kernel == "conv2d.pw" and choice.weight_format == "pw", choice.why
    return g


def test_stream_gives_the_sums(rng):
    """Read as the kernel reads it (per channel pair: 2 biases, per k-pair the pair's weight
    words against the three pixels' words {c0, c2}, {c1, c3} of each group of four input
    channels, then the rq rows), the stream gives 2 x (bias + sum w (x + offset)) and the
    fast kernels' rq rows."""
    g = _conv_graph("conv2d", rng, Conv((1, 1, 3, 12), 5, (1, 1), zp_in=-128, zp_out=3))
    node = g.nodes[0]
    w = node.inputs[1].data.astype(np.int64).reshape(5, 12)
    w[0] = -128                                                   # extreme weights
    node.inputs[1].data[...] = w.reshape(5, 1, 1, 12)
    bias = node.inputs[2].data.astype(np.int64)
    x = rng.integers(-128, 128, (3, 12)) + 128                    # x + input offset
    rec = pw.stream(node).reshape(3, -1)                          # 3 pairs (an odd last one)
    k2 = 6
    xw = np.stack([x[:, 4 * (j // 2) + j % 2 + 2 * np.arange(2)] for j in range(k2)])
    for cp in range(3):
        words = rec[cp, 2:2 + 2 * k2].astype("<i4").view("<i2").reshape(k2, 2, 2)
        for c in range(2):
            co = 2 * cp + c
            got = rec[cp, c] + np.einsum("jl,jtl->t", words[:, c].astype(np.int64), xw)
            want = 2 * (bias[co] + w[co] @ x.T) if co < 5 else np.zeros(3, np.int64)
            assert np.array_equal(got, want), (cp, c)
    rq = rec[:, 2 + 2 * k2:].reshape(6, 3)[:5]
    from tinyc.backend_c import fast
    assert np.array_equal(rq, fast._conv_spec(node)[2])


CASES = {
    "kws_like_64": Conv((1, 5, 5, 64), 64, (1, 1), zp_in=-128, zp_out=-128, act="relu"),
    "in96_odd_out": Conv((2, 2, 4, 96), 7, (1, 1), zp_in=5, zp_out=-3),
    "in12_narrow": Conv((1, 3, 5, 12), 10, (1, 1), zp_in=127, zp_out=2, act=(-70, 60)),
    "in4_out1": Conv((1, 1, 2, 4), 1, (1, 1), zp_in=-1, zp_out=0, bias=False),
    "in128": Conv((1, 3, 3, 128), 6, (1, 1), zp_in=-128, zp_out=-128, act="relu"),
    "stride2_batch2": Conv((2, 7, 6, 16), 9, (1, 1), (2, 2), zp_in=-128, zp_out=-128),
    "stride_1x2": Conv((1, 5, 7, 32), 8, (1, 1), (1, 2), zp_in=3, zp_out=1, act="relu"),
}


@pytest.mark.parametrize("name", CASES)
def test_pw_host(name, tmp_path, host_cache):
    rng = np.random.default_rng(list(CASES).index(name) + 5100)
    check_graph(_pw_graph(rng, CASES[name]), tmp_path / "c", host_cache, rng)


def test_speed_takes_pw_where_it_wins(rng):
    """storage="speed": 1x1 unpadded convs (any stride) with >= 8 input channels (a multiple
    of 4); other layers keep their kernels; storage="dense" / "auto" never take it."""
    for case, want in ((CASES["kws_like_64"], True), (CASES["in96_odd_out"], True),
                       (CASES["in12_narrow"], True), (CASES["in4_out1"], False),
                       (Conv((1, 4, 4, 16), 8, (1, 1)), True),
                       (Conv((1, 4, 4, 32), 8, (1, 1), (2, 2)), True),
                       (Conv((1, 4, 4, 32), 8, (1, 1), pads=(1, 1, 1, 1)), False),
                       (Conv((1, 4, 4, 36), 8, (3, 3), pads=(1, 1, 1, 1)), False)):
        g = _conv_graph("conv2d", rng, case)
        name = g.nodes[0].name
        assert (select_kernels(g, "speed")[name].kernel == "conv2d.pw") == want, case
        for storage in ("dense", "auto"):
            assert select_kernels(g, storage)[name].weight_format != "pw"


def test_pw_refuses(rng):
    """Where it cannot run: a clear reason, and storage="pw" falls back to dense."""
    for case, why in ((Conv((1, 6, 6, 8), 4, (1, 1), dil=(2, 2)), "dilation is not 1"),
                      (Conv((1, 6, 6, 8), 4, (1, 1), pads=(0, 1, 0, 1)), "padding"),
                      (Conv((1, 6, 6, 6), 4, (1, 1)), "input channels not a multiple of 4"),
                      (Conv((1, 6, 6, 8), 4, (3, 3)), "not a 1x1 filter")):
        g = _conv_graph("conv2d", rng, case)
        assert pw.why_not(g.nodes[0]) == why
        choice = select_kernels(g, "pw")[g.nodes[0].name]
        assert choice.weight_format == "dense" and choice.kernel == "conv2d", case
        assert f"no pw: {why}" in choice.weights["why"]


def _chain(rng) -> Graph:
    """64 -> 128 -> 32 -> 96 -> 12 -> 33 channels, 1x1 convs over 2 x 5 x 5 pixels (blocks of
    three: a last block of two), the last with stride 2 (2 x 3 x 3 pixels): the five pass
    variants of the DSP path (in_c 64, a multiple of 64, 32, of 16, other), an odd out_c, zero
    points at the ends, relu and a narrow clamp."""
    g = Graph("pw_chain")
    x = int8_input(g, "x", (2, 5, 5, 64), -128)
    zps = (-128, 7, -5, 3, -2, 127)
    acts = ("relu", None, "relu", None, (-90, 80))
    for i, (cin, cout) in enumerate(((64, 128), (128, 32), (32, 96), (96, 12), (12, 33))):
        w = g.const(f"w{i}", random_int8(rng, (cout, 1, 1, cin)))
        b = g.const(f"b{i}", rng.integers(-4000, 4000, cout).astype("int32"))
        m, s = dense_requant(rng, cin, cout)
        lo, hi = _act(acts[i], zps[i + 1])
        x = g.emit("conv2d", [x, w, b], {"stride": (2, 2) if i == 4 else (1, 1),
                                         "pads": (0, 0, 0, 0),
                                         "dilation": (1, 1), "in_offset": -zps[i],
                                         "out_offset": zps[i + 1], "multiplier": m, "shift": s,
                                         "act_min": lo, "act_max": hi})
        set_q(x, zps[i + 1])
    g.outputs = [x]
    g.storage = "pw"
    assert all(c.kernel == "conv2d.pw" for c in select_kernels(g, "pw").values())
    return g


def test_chain_host(tmp_path, host_cache):
    rng = np.random.default_rng(5200)
    check_graph(_chain(rng), tmp_path / "c", host_cache, rng)


@pytest.mark.parametrize("machine", ["netduinoplus2", "lm3s6965evb"])
def test_pw_qemu(machine, tmp_path):
    """The DSP path (Cortex-M4: LDR runs + SMLAD, the requantization asm) and the portable
    path (Cortex-M3) in QEMU == interpret()."""
    from .test_qemu import _build, _need_toolchain, _run
    _need_toolchain()
    rng = np.random.default_rng(5300)
    g = _chain(rng)
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    got = _run(_build(g, feed, tmp_path, machine), machine)
    assert (tmp_path / "model" / "model.c").read_text().count("tinyc_conv2d_pw_s8(") == 5
    assert bytes.fromhex(got["out"]) == interpret(g, feed)[0].tobytes()


@pytest.fixture(scope="module")
def kws_speed(models_dir):
    return mlperf_speed(models_dir, "kws")


def test_kws_speed_takes_pw(kws_speed):
    m, _ = kws_speed
    assert sum(c.kernel == "conv2d.pw" for c in m.kernels.values()) == 4   # its 1x1 64 -> 64


@pytest.mark.parametrize("where", ["host", "stm32"])
def test_kws_speed_equals_tflm(kws_speed, where):
    """Host C (portable path) and QEMU Cortex-M4 (DSP path) give TFLite Micro's outputs."""
    assert equals_tflm(*kws_speed, where)


def test_speed_keeps_the_depthwise_rings_whole(kws_speed, models_dir):
    """storage="speed" trades RAM for cycles: kws's depthwise 3x3 layers keep their whole
    ring of rows (dense trims it to a block of channels so as not to raise the arena)."""
    import tinyc
    from tinyc.backend_c.select import scratch_sizes, select_kernels
    dense = tinyc.compile(models_dir / "mlperf-tiny" / "kws_int8_qdq.onnx", board="stm32",
                          storage="dense")
    speed, _ = kws_speed
    full = scratch_sizes(select_kernels(speed.graph, "speed"))
    dws = [n.name for n in speed.graph.nodes if n.op == "depthwise_conv2d"]
    assert len(dws) == 4
    for name in dws:
        assert speed.kernels[name].scratch == full[name] > dense.kernels[name].scratch > 0
    assert speed.plan.arena_bytes > dense.plan.arena_bytes
