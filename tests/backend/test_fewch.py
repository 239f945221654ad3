"""The few-input-channel conv kernel (runtime/tinyc_conv2d_fewch_s8.c, backend_c/fewch.py):
which layers take it, that it never needs more arena than the GEMM fast kernel, and host C ==
interpret (portable path) and QEMU == interpret (DSP path on the M4 / M33, portable on the M3)
on its corners: 1/2/3 input channels, stride 1/2, padding on every side, odd output widths (a
last single pixel), chunks that split a row, batches, a narrow activation, no bias."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from tinyc.backend_c import fast, fewch
from tinyc.backend_c.select import select_kernels
from tinyc.ir import interpret

from .harness import check_graph
from .test_conv import SAME, Conv, _conv_graph
from .test_qemu import MACHINES, _build, _need_toolchain, _run



@pytest.fixture(autouse=True)
def _enabled(monkeypatch):
    """fewch.ENABLED is on by default; test_off checks the GEMM fallback with it off."""
    monkeypatch.setattr(fewch, "ENABLED", True)


def test_off(rng, tmp_path, monkeypatch):
    """Turned off, a 3-channel first conv keeps the GEMM fast kernel."""
    monkeypatch.setattr(fewch, "ENABLED", False)
    g = _conv_graph("conv2d", rng, CASES["vww_like_c3_s2"])
    assert not fewch.applies(g.nodes[0])
    text = _model_c(g, tmp_path)
    assert "tinyc_conv2d_fewch_s8(" not in text and "tinyc_conv2d_fast_s8(" in text


CASES = {
    "vww_like_c3_s2": Conv((1, 17, 17, 3), 8, (3, 3), (2, 2), (0, 0, 1, 1), zp_in=-128,
                           zp_out=-128),
    "ic_like_c3_s1_same": Conv((1, 9, 11, 3), 16, (3, 3), pads=SAME, zp_in=7, zp_out=-3),
    "c1_10x3_s2": Conv((1, 13, 10, 1), 8, (10, 3), (2, 2), (4, 1, 5, 1), zp_in=-83,
                       zp_out=-128),
    "c2_5x5_odd_w": Conv((2, 7, 9, 2), 4, (5, 5), (1, 2), (2, 2, 2, 2), zp_in=127,
                         zp_out=5),
    "c1_3x3_w1": Conv((1, 5, 1, 1), 4, (3, 3), pads=SAME, zp_in=0, zp_out=0),
    "c3_1x1": Conv((1, 4, 5, 3), 12, (1, 1), zp_in=-5, zp_out=9, bias=False),
    "c3_relu_narrow": Conv((1, 8, 7, 3), 8, (3, 3), (2, 1), (1, 0, 1, 2), zp_in=-3,
                           zp_out=-30, act="relu", spread=80),
    "c3_wide_chunked": Conv((1, 5, 70, 3), 4, (3, 3), (1, 1), SAME, zp_in=20, zp_out=-1),
    # kws's first conv (10x4, one channel, stride 2): 5-pixel x 1-channel passes (k4 40)
    "kws_like_c1_10x4_s2": Conv((2, 13, 10, 1), 8, (10, 4), (2, 2), (4, 1, 5, 1), zp_in=-83,
                                zp_out=-128),
    "c1_10x4_s2_w11": Conv((1, 12, 22, 1), 12, (10, 4), (2, 2), (4, 1, 5, 1), zp_in=100,
                           zp_out=3, act="relu", spread=80),
}


def _model_c(g, tmp_path) -> str:
    from tinyc.backend_c import emit_c

    from .harness import sequential_plan
    emit_c(g, sequential_plan(g), tmp_path / "probe")
    return (tmp_path / "probe" / "model.c").read_text()


@pytest.mark.parametrize("name", CASES)
def test_fewch_host(name, rng, tmp_path, host_cache):
    g = _conv_graph("conv2d", rng, CASES[name])
    node = g.nodes[0]
    assert fewch.applies(node)
    assert fewch.scratch_bytes(node, fewch.chunk(node, fast.conv2d_scratch(node))) \
        <= fast.conv2d_scratch(node)
    assert "tinyc_conv2d_fewch_s8(" in _model_c(g, tmp_path)
    assert "few input channels" in select_kernels(g, "dense")[node.name].why   # the report's
    check_graph(g, tmp_path / "c", host_cache, rng)


def test_fewch_chunk_splits_rows(rng):
    """The wide case's row does not fit the GEMM kernel's scratch in one chunk."""
    node = _conv_graph("conv2d", rng, CASES["c3_wide_chunked"]).nodes[0]
    assert 2 <= fewch.chunk(node, fast.conv2d_scratch(node)) < 70


@pytest.mark.parametrize("case", [Conv((1, 6, 6, 4), 8, (3, 3), pads=SAME),      # 4 channels
                                  Conv((1, 6, 6, 3), 6, (3, 3), pads=SAME),      # out % 4
                                  Conv((1, 9, 9, 3), 4, (3, 3), pads=SAME, dil=(2, 2)),
                                  Conv((1, 13, 10, 1), 8, (10, 4), (2, 2)),    # rows of 4k
                                  Conv((1, 6, 6, 2), 4, (3, 2), pads=SAME)])
def test_fewch_not_taken(case, rng, tmp_path):
    g = _conv_graph("conv2d", rng, case)
    assert not fewch.applies(g.nodes[0])
    assert "few input channels" not in select_kernels(g, "dense")[g.nodes[0].name].why
    assert "tinyc_conv2d_fewch_s8(" not in _model_c(g, tmp_path)


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("name", ["vww_like_c3_s2", "ic_like_c3_s1_same", "c1_10x3_s2",
                                  "c2_5x5_odd_w", "c3_relu_narrow", "c3_wide_chunked",
                                  "kws_like_c1_10x4_s2", "c1_10x4_s2_w11"])
def test_fewch_qemu(name, machine, rng, tmp_path):
    _need_toolchain()
    g = _conv_graph("conv2d", rng, CASES[name])
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    got = _run(_build(g, feed, tmp_path, machine), machine)
    assert "tinyc_conv2d_fewch_s8(" in (tmp_path / "model" / "model.c").read_text()
    assert bytes.fromhex(got["out"]) == interpret(g, feed)[0].tobytes()


def _text_bytes(c_dir, tmp_path) -> int:
    """.text bytes of the model's copy of the kernel, arm-none-eabi-gcc -O2 for the M4."""
    obj = tmp_path / f"{c_dir.name}.o"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                    "-mfpu=fpv4-sp-d16", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    "-c", str(c_dir / "kernels" / "tinyc_conv2d_fewch_s8.c"), "-o", str(obj)],
                   check=True)
    out = subprocess.run(["arm-none-eabi-size", str(obj)], check=True, capture_output=True,
                         text=True).stdout
    return int(out.splitlines()[1].split()[0])


def test_copy_compiles_only_its_passes(rng, tmp_path):
    """A model's copy of the kernel defines the unrolled pass its layers run and no other
    (fewch.PASSES), so a model that runs none carries no unrolled code: its copy is smaller."""
    from tinyc.backend_c import emit_c

    from .harness import sequential_plan
    _need_toolchain()
    sizes = {}
    for name, macros in [("vww_like_c3_s2", ["TINYC_FEWCH_K28_S18"]),
                         ("ic_like_c3_s1_same", ["TINYC_FEWCH_K28_S9"]),
                         ("kws_like_c1_10x4_s2", ["TINYC_FEWCH_K40_S20"]), ("c1_10x3_s2", [])]:
        g = _conv_graph("conv2d", rng, CASES[name])
        emit_c(g, sequential_plan(g), tmp_path / name)
        text = (tmp_path / name / "kernels" / "tinyc_conv2d_fewch_s8.c").read_text()
        assert re.findall(r"^#define (TINYC_FEWCH_\w+) 1", text, re.M) == macros, name
        assert fewch.pass_macro(g.nodes[0]) == (macros[0] if macros else None)
        sizes[name] = _text_bytes(tmp_path / name, tmp_path)
    # one 3x3x3 pass (14 tap pairs x 11 instructions, 6 requantizations) each
    assert sizes["vww_like_c3_s2"] > sizes["c1_10x3_s2"] + 500, sizes
    assert sizes["ic_like_c3_s1_same"] > sizes["c1_10x3_s2"] + 500, sizes
    assert sizes["kws_like_c1_10x4_s2"] > sizes["c1_10x3_s2"] + 500, sizes
