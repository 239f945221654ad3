"""The packed-weight kernels (s4, cb, sparse, mask) on Cortex-M in QEMU give interpret()'s bits:
the DSP paths (Cortex-M4 netduinoplus2, M7 mps2-an500, M33 mps2-an505: SXTAB16/SMLAD window
loops of tinyc_packed.c and the SMLAL requantization of tinyc_packed.h) and the portable path
(Cortex-M3 lm3s6965evb). One firmware per format and machine runs every conv2d / depthwise / fully
connected case of the backend tests side by side (one graph, one input and one output per
case). Also: the DSP requantization against tinyc_requantize on random and extreme values,
and the DSP path is faster than the portable one (TINYC_PORTABLE) on the M4."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyc.backend_c import emit_c
from tinyc.backend_c.formats import choose_formats
from tinyc.backend_c.select import scratch_sizes, select_kernels
from tinyc.ir import Graph, interpret
from tinyc.passes.plan_memory import plan_memory

from ..backend.harness import dense_requant, int8_input, set_q
from ..backend.test_conv import CONV_CASES, DW_CASES, FC_CASES, _act
from ..backend.test_qemu import BOARDS_DIR, _main, _need_toolchain, _run, cost_flag, link_command
from .test_formats import _values

MACHINES = {"netduinoplus2": "cortex-m4", "mps2-an500": "cortex-m7",
            "mps2-an505": "cortex-m33", "lm3s6965evb": "cortex-m3"}
OPS = {"s4": ("conv2d", "depthwise_conv2d", "fully_connected"),
       "cb": ("conv2d", "depthwise_conv2d", "fully_connected"),
       "mask": ("conv2d", "fully_connected"), "sparse": ("conv2d", "fully_connected")}
# Layers for the DSP paths' corners beyond the backend cases: blocks of 4 / 2 / 1 output
# pixels, run lengths with and without a tail of 1..3, every pixel at a border, stride 2.
EXTRA_CONV = {
    "wide_row_c3": ((1, 6, 13, 3), 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), -5, 7),
    "c16_s2": ((1, 9, 11, 16), 6, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 100, -3),
    "c5_1x3": ((1, 3, 10, 5), 4, (1, 3), (1, 1), (0, 0, 0, 0), (1, 1), -128, 0),
    "c7_dil": ((1, 8, 14, 7), 3, (2, 3), (1, 1), (0, 2, 0, 2), (1, 2), 17, 9),
}


def _conv_layer(g: Graph, tag: str, op: str, rng, fmt: str, shape, ch, kernel, stride, pads,
                dil, zp_in, zp_out, act=None, bias=True, spread=50.0):
    x = int8_input(g, f"{tag}_x", shape, zp_in)
    if op == "conv2d":
        channels, w_shape = ch, (ch, *kernel, shape[3])
        k = int(np.prod(kernel)) * shape[3]
    else:
        channels, w_shape, k = shape[3] * ch, (1, *kernel, shape[3] * ch), int(np.prod(kernel))
    w = g.const(f"{tag}_w", _values(rng, w_shape, fmt, 0.4))
    b = g.const(f"{tag}_b", rng.integers(-4000, 4000, channels).astype("int32")) \
        if bias else None
    m, s = dense_requant(rng, k, channels, spread)
    lo, hi = _act(act, zp_out)
    y = g.emit(op, [x, w, b], {"stride": stride, "pads": pads, "dilation": dil,
                               "in_offset": -zp_in, "out_offset": zp_out, "multiplier": m,
                               "shift": s, "act_min": lo, "act_max": hi})
    return set_q(y, zp_out)


def _fc_layer(g: Graph, tag: str, rng, fmt: str, case):
    batch, k, o, zp_in, zp_out, act, bias, spread, _ = case
    x = int8_input(g, f"{tag}_x", (batch, k), zp_in)
    w = g.const(f"{tag}_w", _values(rng, (o, k), fmt, 0.4))
    b = g.const(f"{tag}_b", rng.integers(-4000, 4000, o).astype("int32")) if bias else None
    m, s = dense_requant(rng, k, o, spread)
    lo, hi = _act(act, zp_out)
    y = g.emit("fully_connected", [x, w, b], {"in_offset": -zp_in, "out_offset": zp_out,
                                              "multiplier": m, "shift": s,
                                              "act_min": lo, "act_max": hi})
    return set_q(y, zp_out)


FC_EXTRA = {"k8_odd_o": (1, 8, 3, 5, 0, None, True, 50, False),
            "k67": (2, 67, 9, -20, 3, None, True, 50, False),
            "k129": (1, 129, 5, 0, 0, None, False, 50, False)}


def packed_graph(fmt: str, rng) -> Graph:
    """Every backend case (and the extra corners) of every op the format has, one layer each."""
    g = Graph(f"packed_{fmt}")
    outs = []
    for op in OPS[fmt]:
        if op == "fully_connected":
            for name, case in {**FC_CASES, **FC_EXTRA}.items():
                outs.append(_fc_layer(g, f"fc_{name}", rng, fmt, case))
            continue
        cases = CONV_CASES if op == "conv2d" else DW_CASES
        for name, c in cases.items():
            outs.append(_conv_layer(g, f"{op[:2]}_{name}", op, rng, fmt, c.shape, c.ch,
                                    c.kernel, c.stride, c.pads, c.dil, c.zp_in, c.zp_out,
                                    c.act, c.bias, c.spread))
        if op == "conv2d":
            for name, args in EXTRA_CONV.items():
                outs.append(_conv_layer(g, f"cx_{name}", op, rng, fmt, *args))
    g.outputs = outs
    rows = choose_formats(g, fmt)
    assert {r["format"] for r in rows} == {fmt}, rows
    g.storage = fmt                      # for _build's select_kernels
    return g


def _build(g: Graph, feed, work: Path, machine: str, extra=()) -> Path:
    """The model (a real plan with the arena scratch of the buffered kernels) and a main
    that prints every output, for the machine; -Wconversion as well as the backend flags."""
    c_dir = work / "model"
    sel = select_kernels(g, g.storage)
    emit_c(g, plan_memory(g, scratch=scratch_sizes(sel)), c_dir, options={"selection": sel})
    (work / "main.c").write_text(_main(g, feed))
    cpu = ["-mcpu=" + MACHINES[machine], "-mthumb", "-mfloat-abi=soft", "-O2"]
    strict = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
    cost = cost_flag(machine)
    objs = []
    for i, src in enumerate([*sorted(c_dir.rglob("*.c")), work / "main.c"]):
        objs.append(work / f"{i}.o")
        conv = ["-Wconversion"] if src.parent.name == "kernels" else []
        subprocess.run(["arm-none-eabi-gcc", *cpu, *strict, *conv, *extra, f"-I{c_dir}",
                        f"-I{c_dir / 'kernels'}", f"-I{BOARDS_DIR}", cost, "-c", str(src),
                        "-o", str(objs[-1])], check=True)
    elf = work / f"{machine}.elf"
    subprocess.run(link_command(cpu, machine, objs, elf), check=True)
    return elf


def _check(g: Graph, feed, got: dict) -> None:
    want = interpret(g, feed)
    names = [f"out{i}" for i in range(len(want))] if len(want) > 1 else ["out"]
    bad = [v.producer.name for n, w, v in zip(names, want, g.outputs)
           if bytes.fromhex(got[n]) != w.tobytes()]
    assert not bad, f"layers differing from interpret(): {bad}"


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("fmt", OPS)
def test_packed_kernels_in_qemu(fmt, machine, tmp_path):
    _need_toolchain()
    rng = np.random.default_rng(8000 + list(OPS).index(fmt))
    g = packed_graph(fmt, rng)
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    _check(g, feed, _run(_build(g, feed, tmp_path, machine), machine))


@pytest.mark.parametrize("fmt", ["s4", "cb", "mask"])
def test_dsp_path_is_faster(fmt, tmp_path):
    """Same bits with and without the DSP path on the M4, fewer instructions with it."""
    _need_toolchain()
    rng = np.random.default_rng(8100)
    g = Graph("ic_like")
    outs = [_conv_layer(g, "a", "conv2d", rng, fmt, (1, 16, 16, 16), 16, (3, 3), (1, 1),
                        (1, 1, 1, 1), (1, 1), -3, 5)]
    if fmt != "mask":
        outs.append(_fc_layer(g, "fc", rng, fmt, (1, 256, 32, 7, -1, None, True, 50, False)))
    g.outputs = outs
    g.storage = fmt
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    runs = {}
    for name, extra in [("dsp", ()), ("portable", ("-DTINYC_PORTABLE",))]:
        (tmp_path / name).mkdir()
        runs[name] = _run(_build(g, feed, tmp_path / name, "netduinoplus2", extra),
                          "netduinoplus2")
        _check(g, feed, runs[name])
    dsp, ref = int(runs["dsp"]["cost_tim2"]), int(runs["portable"]["cost_tim2"])
    assert dsp < 0.6 * ref, (dsp, ref)


REQUANT_MAIN = r"""#include <stdint.h>
#include "semihost.h"
#include "tinyc_packed.h"

static uint32_t s = 2463534242u;
static uint32_t rnd(void)
{
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

static const int32_t EDGE[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1,
                               INT32_MIN + 1, 1 << 30, -(1 << 30), 12345, -12345};

int main(void)
{
    int32_t bad = 0;
    int32_t n;
    for (n = 0; n < 200000; ++n) {
        const uint32_t r = rnd();
        const int32_t acc = (n & 3) == 0 ? EDGE[rnd() % 13u]
                          : (int32_t)(rnd() >> (r & 31u)) * ((r & 32u) ? -1 : 1);
        const int32_t m = (n & 7) == 1 ? (int32_t)(rnd() % 3u) + INT32_MAX - 2
                        : (n & 7) == 2 ? (int32_t)(rnd() % 4u) : (int32_t)(rnd() >> 1);
        const int32_t shift = (int32_t)(rnd() % 62u) - 31;
        const int32_t off = (int32_t)(rnd() % 256u) - 128;
        tinyc_activation act;
        tinyc_pk_rq q;
        int32_t lo = (int32_t)(rnd() % 256u) - 128;
        int32_t hi = (int32_t)(rnd() % 256u) - 128;
        if (lo > hi) {
            const int32_t t = lo;
            lo = hi;
            hi = t;
        }
        if (n & 8) {
            lo = -128;
            hi = 127;
        }
        act.min = lo;
        act.max = hi;
        tinyc_pk_rq_init(&q, m, shift, off, &act);
        if (tinyc_pk_requant(acc, &q)
            != tinyc_clamp_s8(tinyc_requantize(acc, m, shift), off, lo, hi)) {
            ++bad;
        }
    }
    sh_kv("cases", n);
    sh_kv("bad", bad);
    return 0;
}
"""


@pytest.mark.parametrize("machine", ["netduinoplus2", "mps2-an505"])
def test_dsp_requantization(machine, tmp_path):
    """tinyc_pk_requant (SMLAL + shifts) == tinyc_clamp_s8(tinyc_requantize(...)) for every
    multiplier >= 0: random accumulators, multipliers, shifts in [-31, 30] and extremes."""
    _need_toolchain()
    from tinyc.runtime import runtime_file
    for name in ("tinyc_packed.h", "tinyc_dot.h", "tinyc_dsp.h", "tinyc_nn.h", "tinyc_requant.h",
                 "tinyc_window.h"):
        (tmp_path / name).write_text(runtime_file(name).read_text())
    (tmp_path / "main.c").write_text(REQUANT_MAIN)
    cpu = ["-mcpu=" + MACHINES[machine], "-mthumb", "-mfloat-abi=soft", "-O2"]
    elf = tmp_path / "rq.elf"
    subprocess.run(["arm-none-eabi-gcc", *cpu, "-std=c99", "-Wall", "-Wextra", "-Werror",
                    "-ffreestanding", f"-I{tmp_path}", f"-I{BOARDS_DIR}", "-c",
                    str(tmp_path / "main.c"), "-o", str(tmp_path / "main.o")], check=True)
    subprocess.run(link_command(cpu, machine, [tmp_path / "main.o"], elf), check=True)
    got = _run(elf, machine)
    assert got["cases"] == "200000" and got["bad"] == "0", got
