"""The emitted C on Cortex-M in QEMU gives the IR's bits: Cortex-M4 and M33 (DSP path:
SXTAB16/SMLAD dot products) and Cortex-M3 (portable path), built with arm-none-eabi-gcc and
the bare-metal harness: boards/ (startup, semihosting, cost counter) and tests/qemu_harness
(linker scripts of the QEMU machines, run.sh)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from needs import missing, need_tools

from tinyc.backend_c import emit_c
from tinyc.ir import interpret

from .graphs import mini_net
from .harness import reuse_plan
from .test_conv import CONV_CASES, DW_CASES, Conv, _conv_graph
from .test_fast import (FAST_CONV, FAST_DW, NO_SUM_Q, add_graph, constant_channels_graph,
                        fc_graph)

REPO = Path(__file__).resolve().parents[2]
BOARDS_DIR = REPO / "boards"                    # startup.c, semihost.[ch], cost.h
QEMU_DIR = REPO / "tests" / "qemu_harness"      # ld/<machine>.ld, run.sh
MACHINES = {"netduinoplus2": "cortex-m4", "mps2-an505": "cortex-m33", "lm3s6965evb": "cortex-m3"}


def _fc_127(g):
    """The fully-connected weights clipped to [-127, 127] (TFLite's int8 weight range), so that
    the pair-packed kernel takes the layer."""
    w = g.nodes[0].inputs[1]
    w.data = np.clip(w.data, -127, 127).astype(np.int8)
    return g

MAIN = """#include <stdint.h>
#include "semihost.h"
#include "cost.h"
#include "model.h"
{inputs}
{outputs}
static void put_hex(const int8_t *p, int n)
{{
    static const char digits[] = "0123456789abcdef";
    char buf[3] = {{0, 0, 0}};
    int i;
    for (i = 0; i < n; ++i) {{
        buf[0] = digits[((uint8_t)p[i]) >> 4];
        buf[1] = digits[((uint8_t)p[i]) & 15];
        sh_puts(buf);
    }}
}}

int main(void)
{{
    uint32_t t0;
    uint32_t t1;
    cost_init();
    t0 = cost_now();
    tinyc_model_invoke({args});
    t1 = cost_now();
{prints}    sh_kv("cost_" COST_UNIT, t1 - t0);
    return 0;
}}
"""


def _main(g, feed) -> str:
    ins = [f"in{i}" for i in range(len(g.inputs))] if len(g.inputs) > 1 else ["in"]
    outs = [f"out{i}" for i in range(len(g.outputs))] if len(g.outputs) > 1 else ["out"]
    inputs = "".join(f"static const int8_t {n}[{x.size}] = {{{', '.join(map(str, x.ravel()))}}};\n"
                     for n, x in zip(ins, feed))
    outputs = "".join(f"static int8_t {n}[{v.type.nbytes}];\n" for n, v in zip(outs, g.outputs))
    prints = "".join(f'    sh_puts("{n}="); put_hex({n}, {v.type.nbytes}); sh_puts("\\n");\n'
                     for n, v in zip(outs, g.outputs))
    return MAIN.format(inputs=inputs, outputs=outputs, prints=prints, args=", ".join(ins + outs))


def _build(g, feed, work: Path, machine: str, extra=()) -> Path:
    c_dir = work / "model"
    plan = reuse_plan(g)
    emit_c(g, plan, c_dir, options={"selection": plan.selection})
    (work / "main.c").write_text(_main(g, feed))
    cpu = ["-mcpu=" + MACHINES[machine], "-mthumb", "-mfloat-abi=soft", "-O2"]
    strict = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
    objs = []
    for i, src in enumerate([*sorted(c_dir.rglob("*.c")), work / "main.c"]):
        objs.append(work / f"{i}.o")
        subprocess.run(["arm-none-eabi-gcc", *cpu, *strict, *extra, f"-I{c_dir}",
                        f"-I{BOARDS_DIR}", cost_flag(machine), "-c", str(src),
                        "-o", str(objs[-1])], check=True)
    elf = work / f"{machine}.elf"
    subprocess.run(link_command(cpu, machine, objs, elf), check=True)
    return elf


def cost_flag(machine: str) -> str:
    """boards/cost.h's counter: TIM2 counts instructions on netduinoplus2, SysTick elsewhere."""
    return "-DTINYC_COUNTER_TIM2" if machine == "netduinoplus2" else "-DTINYC_COUNTER_SYSTICK"


def link_command(cpu: list[str], machine: str, objs, elf: Path) -> list[str]:
    """arm-none-eabi-gcc linking objs with boards/ startup and semihosting for the machine."""
    return ["arm-none-eabi-gcc", *cpu, "-std=c11", "-ffreestanding", "-g", cost_flag(machine),
            f"-I{BOARDS_DIR}", f"-T{QEMU_DIR / 'ld' / (machine + '.ld')}", f"-L{QEMU_DIR / 'ld'}",
            "-nostartfiles", "-Wl,--gc-sections", str(BOARDS_DIR / "startup.c"),
            str(BOARDS_DIR / "semihost.c"), *map(str, objs), "-lc", "-lgcc", "-o", str(elf)]


def _run(elf: Path, machine: str) -> dict[str, str]:
    res = subprocess.run([str(QEMU_DIR / "run.sh"), machine, str(elf)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "QEMU_TIMEOUT": "60"})
    assert res.returncode == 0, (res.returncode, res.stdout[-500:], res.stderr[-500:])
    return dict(re.findall(r"(\w+)=(\S*)", res.stdout))   # "out=<hex>" lines, " key=v" pairs


def _need_toolchain() -> None:
    need_tools("arm-none-eabi-gcc", "qemu-system-arm")
    if not (QEMU_DIR / "run.sh").exists():
        missing(f"no QEMU harness at {QEMU_DIR}")


GRAPHS = {
    "mini_net": lambda rng: mini_net(rng),
    "conv_deep_k": lambda rng: _conv_graph("conv2d", rng, CONV_CASES["deep_k"]),
    "conv_dilation_hw": lambda rng: _conv_graph("conv2d", rng, CONV_CASES["dilation_hw"]),
    "conv_stride2_asym": lambda rng: _conv_graph("conv2d", rng, CONV_CASES["stride2_asym"]),
    "dw_5x5": lambda rng: _conv_graph("depthwise_conv2d", rng, DW_CASES["5x5_asym"]),
    "dw_dilation_hw": lambda rng: _conv_graph("depthwise_conv2d", rng, DW_CASES["dilation_hw"]),
    "dw_m2": lambda rng: _conv_graph("depthwise_conv2d", rng, DW_CASES["m2_stride2"]),
    # the fast kernels' corners (DSP path on M4 / M33, portable on M3)
    "fast_conv_k27": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["k27_tail"][0]),
    "fast_conv_c1": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["c1_10x4_s2"][0]),
    "fast_conv_1x1": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["pointwise_c64"][0]),
    "fast_conv_dil": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["dilated_c4"][0]),
    "fast_conv_relu": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["relu_narrow"][0]),
    "fast_conv_const": constant_channels_graph,
    "fast_dw_3x3": lambda rng: _conv_graph("depthwise_conv2d", rng,
                                           FAST_DW["3x3_c8_interior"][0]),
    "fast_dw_s2": lambda rng: _conv_graph("depthwise_conv2d", rng, FAST_DW["3x3_s2_c16"][0]),
    "fast_dw_5x5": lambda rng: _conv_graph("depthwise_conv2d", rng, FAST_DW["5x5_c4"][0]),
    "fast_dw_relu": lambda rng: _conv_graph("depthwise_conv2d", rng,
                                            FAST_DW["relu_narrow"][0]),
    "fast_dw3_w5": lambda rng: _conv_graph("depthwise_conv2d", rng, FAST_DW["3x3_w5_kws"][0]),
    "fast_dw3_w7": lambda rng: _conv_graph("depthwise_conv2d", rng, FAST_DW["3x3_w7"][0]),
    "fast_dw3_w3": lambda rng: _conv_graph("depthwise_conv2d", rng, FAST_DW["3x3_w3"][0]),
    "fast_dw3_w1": lambda rng: _conv_graph("depthwise_conv2d", rng, FAST_DW["3x3_w1"][0]),
    "fast_dw3_s2_w9": lambda rng: _conv_graph("depthwise_conv2d", rng,
                                              FAST_DW["3x3_s2_w9"][0]),
    "fast_fc_640": lambda rng: fc_graph(rng, 1, 640, 128),
    "fast_fc_tails": lambda rng: fc_graph(rng, 3, 33, 10, act=(-5, 127)),
    # 25 groups of four k: the 16-group pass and the one-group loop in one call
    "fast_fc_k100": lambda rng: _fc_127(fc_graph(rng, 2, 100, 12)),
    "fast_add_bcast": lambda rng: add_graph(rng, (1, 3, 3, 8), (1, 1, 1, 8)),
    "fast_add_sum_4k": lambda rng: add_graph(rng, (1, 16, 16, 16), (1, 16, 16, 16)),
    "fast_add_sum_tail3": lambda rng: add_graph(rng, (1, 3, 5, 7), (1, 3, 5, 7)),
    "fast_add_sum_relu": lambda rng: add_graph(rng, (2, 1, 1, 6), (2, 1, 1, 6), act="relu"),
    "fast_add_lut": lambda rng: add_graph(rng, (1, 3, 5, 7), (1, 3, 5, 7), q=NO_SUM_Q),
    # rows of eight k (tinyc_k8_chan): a partial block and an odd channel count
    "fast_conv_k8_tail": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["pix_tail_1"][0]),
    "fast_conv_k8_odd": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["pix_exact_6"][0]),
    # a last block of <= 3 pixels (tinyc_conv_block3): short and long rows
    "fast_conv_tail3_k16": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["tail3_k16"][0]),
    "fast_conv_tail3_k64": lambda rng: _conv_graph("conv2d", rng, FAST_CONV["tail3_k64"][0]),
}


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_qemu_bit_exact(make, machine, rng, tmp_path):
    _need_toolchain()
    g = make(rng)
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    got = _run(_build(g, feed, tmp_path, machine), machine)
    want = interpret(g, feed)
    names = [f"out{i}" for i in range(len(want))] if len(want) > 1 else ["out"]
    for n, w in zip(names, want):
        assert bytes.fromhex(got[n]) == w.tobytes(), n


def test_qemu_dsp_path_is_faster(rng, tmp_path):
    """Same bits with and without the DSP dot product on Cortex-M4; fewer instructions with."""
    _need_toolchain()
    g = _conv_graph("conv2d", rng, CONV_CASES["deep_k"])
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    dsp = _run(_build(g, feed, tmp_path / "a", "netduinoplus2"), "netduinoplus2")
    ref = _run(_build(g, feed, tmp_path / "b", "netduinoplus2", ["-DTINYC_PORTABLE"]),
               "netduinoplus2")
    assert dsp["out"] == ref["out"] == interpret(g, feed)[0].tobytes().hex()
    assert int(dsp["cost_tim2"]) < 0.8 * int(ref["cost_tim2"]), (dsp, ref)


def _random_fast_case(rng, depthwise: bool) -> Conv:
    """A random layer the fast kernels take: depthwise 3x3-ish with channels % 4 == 0 and
    multiplier 1, or any convolution (stride, padding, dilation, in_c 1..9)."""
    kh, kw = ((3, 3) if rng.random() < 0.7 else tuple(int(k) for k in rng.integers(1, 5, 2)))
    dil = (1, 1) if rng.random() < 0.7 else tuple(int(d) for d in rng.integers(1, 3, 2))
    pads = tuple(int(p) for p in rng.integers(0, 3, 4))
    h = int(rng.integers(max(1, dil[0] * (kh - 1) + 1 - pads[0] - pads[2]), 12))
    w = int(rng.integers(max(1, dil[1] * (kw - 1) + 1 - pads[1] - pads[3]), 12))
    c = 4 * int(rng.integers(1, 5)) if depthwise else int(rng.integers(1, 10))
    zp_in, zp_out = (int(z) for z in rng.integers(-128, 128, 2))
    return Conv((int(rng.integers(1, 3)), h, w, c), 1 if depthwise else int(rng.integers(1, 14)),
                (kh, kw), tuple(int(s) for s in rng.integers(1, 3, 2)), pads, dil, zp_in, zp_out,
                bias=bool(rng.integers(2)))


@pytest.mark.parametrize("machine", ["netduinoplus2", "lm3s6965evb"])
@pytest.mark.parametrize("op", ["conv2d", "depthwise_conv2d"])
@pytest.mark.parametrize("seed", range(4))
def test_qemu_random_fast(op, seed, machine, tmp_path):
    """Random shapes through the fast kernels: the DSP path (M4: asm GEMM, every depthwise
    window shape) and the portable path (M3) give interpret()'s bits."""
    _need_toolchain()
    rng = np.random.default_rng(5000 + seed + 100 * (op == "conv2d"))
    g = _conv_graph(op, rng, _random_fast_case(rng, op == "depthwise_conv2d"))
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    got = _run(_build(g, feed, tmp_path, machine), machine)
    assert "_fast_s8(" in (tmp_path / "model" / "model.c").read_text()
    assert bytes.fromhex(got["out"]) == interpret(g, feed)[0].tobytes()
