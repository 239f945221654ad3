"""The Winograd F(2x2, 3x3) conv kernel (weight format "wino", storage="speed";
backend_c/wino.py, runtime/tinyc_conv2d_wino_s8.c): the transformed weights give exactly the
direct convolution's sums (numpy, against a plain int64 convolution), which layers take it and
why not, host C == interpret() bit for bit on random 3x3 stride-1 convs (portable path); the
DSP (Cortex-M4) and portable (Cortex-M3) paths in QEMU == interpret()."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.backend_c import wino
from tinyc.ir import interpret
from tinyc.backend_c.select import select_kernels

from .harness import check_graph, equals_tflm, mlperf_speed
from .test_conv import Conv, _conv_graph

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.int64)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.int64)


def _direct(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[out_c, 2, 2] sums of the 3x3 filters w [out_c, 3, 3, in_c] over the 4x4 patch d."""
    out = np.zeros((w.shape[0], 2, 2), np.int64)
    for i in range(2):
        for j in range(2):
            out[:, i, j] = np.einsum("ohwi,hwi->o", w, d[i:i + 3, j:j + 3])
    return out


@pytest.mark.parametrize("seed", range(4))
def test_transform_is_exact(seed):
    """A^T [U . (B^T d B)] A == 4 x the direct sums, for extreme and random values."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-128, 128, (5, 3, 3, 7)).astype(np.int64)
    if seed == 0:
        w[:] = -128
    d = rng.integers(-255, 256, (4, 4, 7)).astype(np.int64)
    u = wino.transform(w).reshape(5, 4, 4, 7)
    v = np.einsum("rh,hwi,cw->rci", BT, d, BT)
    m = np.einsum("orci,rci->orc", u, v)
    y = np.einsum("ir,orc,jc->oij", AT, m, AT)
    assert np.array_equal(y, 4 * _direct(d, w))
    assert np.abs(u).max() <= 9 * 128 and np.abs(v).max() <= 4 * 255


CASES = {
    "ic_like_16": Conv((1, 8, 8, 16), 16, (3, 3), pads=(1, 1, 1, 1), zp_in=-128, zp_out=-128,
                       act="relu"),
    "odd_hw": Conv((1, 7, 5, 8), 6, (3, 3), pads=(1, 1, 1, 1), zp_in=5, zp_out=-3),
    "valid": Conv((1, 9, 6, 4), 5, (3, 3), zp_in=-1, zp_out=2),
    "cin1_cout1": Conv((1, 5, 6, 1), 1, (3, 3), pads=(1, 1, 1, 1), zp_in=127, zp_out=-128),
    "cin3_odd": Conv((2, 6, 7, 3), 7, (3, 3), pads=(1, 1, 1, 1), zp_in=-20, zp_out=30),
    "cin6_asym": Conv((1, 6, 6, 6), 9, (3, 3), pads=(2, 1, 0, 1), zp_in=-128, zp_out=5,
                      act=(-100, 90)),
    "cin64": Conv((1, 4, 4, 64), 64, (3, 3), pads=(1, 1, 1, 1), zp_in=-128, zp_out=-128,
                  act="relu", bias=False),
    "tiny": Conv((1, 3, 3, 4), 2, (3, 3), pads=(1, 1, 1, 1), zp_in=3, zp_out=3),
}


def _wino_graph(rng, case: Conv):
    """The case with storage="wino" (the format wherever it applies; storage="speed" takes it
    only where wino.wins)."""
    g = _conv_graph("conv2d", rng, case)
    g.storage = "wino"
    choice = select_kernels(g, "wino")[g.nodes[0].name]
    assert choice.kernel == "conv2d.wino" and choice.weight_format == "wino", choice.why
    return g


@pytest.mark.parametrize("name", CASES)
def test_wino_host(name, tmp_path, host_cache):
    rng = np.random.default_rng(list(CASES).index(name) + 4100)
    check_graph(_wino_graph(rng, CASES[name]), tmp_path / "c", host_cache, rng)


def test_speed_takes_wino_where_it_wins(rng):
    """storage="speed": 3x3 stride-1 convs with >= 8 input channels (a multiple of 4); other
    layers keep their kernels; storage="dense" / "auto" never take it."""
    for case, want in ((CASES["ic_like_16"], True), (CASES["cin64"], True),
                       (CASES["cin3_odd"], False), (CASES["cin6_asym"], False),
                       (Conv((1, 8, 8, 16), 8, (3, 3), (2, 2), (1, 1, 1, 1)), False),
                       (Conv((1, 8, 8, 16), 8, (3, 3), pads=(2, 2, 2, 2), dil=(2, 2)), False),
                       (Conv((1, 8, 8, 16), 8, (1, 1)), False)):
        g = _conv_graph("conv2d", rng, case)
        name = g.nodes[0].name
        assert (select_kernels(g, "speed")[name].kernel == "conv2d.wino") == want, case
        for storage in ("dense", "auto"):
            assert select_kernels(g, storage)[name].weight_format != "wino"


def test_wino_refuses(rng):
    """Where it cannot run: a clear reason, and storage="wino" falls back to dense."""
    g = _conv_graph("conv2d", rng, Conv((1, 6, 6, 8), 4, (3, 3), (2, 2), (1, 1, 1, 1)))
    assert wino.why_not(g.nodes[0]) == "stride or dilation is not 1"
    choice = select_kernels(g, "wino")[g.nodes[0].name]
    assert choice.weight_format == "dense" and choice.kernel == "conv2d"
    g = _conv_graph("conv2d", rng, Conv((1, 6, 6, 8), 4, (1, 3), pads=(0, 1, 0, 1)))
    assert wino.why_not(g.nodes[0]) == "not a 3x3 filter"


def _random_case(rng) -> Conv:
    """A random 3x3 stride-1 conv: in/out channels 1..64, odd or even H and W, SAME, valid or
    uneven padding, zero points, relu or a narrow clamp or none, with or without bias."""
    cin, cout = (int(c) for c in rng.integers(1, 65, 2))
    pads = ((1, 1, 1, 1), (0, 0, 0, 0), tuple(int(p) for p in rng.integers(0, 3, 4)))[
        int(rng.integers(3))]
    h = int(rng.integers(max(1, 3 - pads[0] - pads[2]), 11))
    w = int(rng.integers(max(1, 3 - pads[1] - pads[3]), 11))
    act = (None, "relu", (-60, 70))[int(rng.integers(3))]
    zp_in, zp_out = (int(z) for z in rng.integers(-128, 128, 2))
    return Conv((int(rng.integers(1, 3)), h, w, cin), cout, (3, 3), pads=pads, zp_in=zp_in,
                zp_out=zp_out, act=act, bias=bool(rng.integers(4)))


@pytest.mark.parametrize("seed", range(10))
def test_wino_random_host(seed, tmp_path, host_cache):
    """Host C (portable path) == interpret() on random layers, per-channel scales."""
    rng = np.random.default_rng(8800 + seed)
    check_graph(_wino_graph(rng, _random_case(rng)), tmp_path / "c", host_cache, rng)


QEMU_CASES = {"ic_like_16": lambda rng: CASES["ic_like_16"],
              "cin6_asym": lambda rng: CASES["cin6_asym"],
              "cin3_odd": lambda rng: CASES["cin3_odd"],
              "random": _random_case}


@pytest.mark.parametrize("machine", ["netduinoplus2", "lm3s6965evb"])
@pytest.mark.parametrize("name", QEMU_CASES)
def test_wino_qemu(name, machine, tmp_path):
    """The DSP path (Cortex-M4: SXTAB16 / SADD16 / SMLAD asm) and the portable path
    (Cortex-M3) in QEMU == interpret()."""
    from .test_qemu import _build, _need_toolchain, _run
    _need_toolchain()
    rng = np.random.default_rng(9900 + list(QEMU_CASES).index(name))
    g = _wino_graph(rng, QEMU_CASES[name](rng))
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    got = _run(_build(g, feed, tmp_path, machine), machine)
    assert "tinyc_conv2d_wino_s8(" in (tmp_path / "model" / "model.c").read_text()
    assert bytes.fromhex(got["out"]) == interpret(g, feed)[0].tobytes()


@pytest.fixture(scope="module")
def ic_speed(models_dir):
    return mlperf_speed(models_dir, "ic")


def test_ic_speed_takes_wino(ic_speed):
    m, _ = ic_speed
    wino_layers = [c for c in m.kernels.values() if c.kernel == "conv2d.wino"]
    assert len(wino_layers) == 4           # its four 3x3 stride-1 convs with 16..64 channels


def test_ic_speed_host_equals_tflm(ic_speed):
    assert equals_tflm(*ic_speed, "host")


@pytest.mark.parametrize("board", ["stm32", "lm3s6965"])
def test_ic_speed_qemu_equals_tflm(ic_speed, board):
    """Cortex-M4 (DSP path) and Cortex-M3 (portable path) run the Winograd kernel with TFLite
    Micro's bits."""
    assert equals_tflm(*ic_speed, board)
