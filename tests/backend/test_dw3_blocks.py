"""The depthwise 3x3 path with its ring over blocks of channels (fast.SCRATCH_STEPS: a ring
smaller than 3 * C * pw int16 that fits under the arena's peak): every block size, the last
block smaller than the others, stride 1 and 2, batches; C == interpret on the host (portable
path) and in QEMU (DSP path on M4 / M33, portable on M3). The MLPerf kws model takes such a
ring (its four depthwise layers: 24-channel blocks under the layer-by-layer arena)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tinyc.backend_c import emit_c, fast
from tinyc.backend_c.select import select_kernels
from tinyc.ir import interpret

from .harness import check_graph, reuse_plan, sequential_plan
from .test_conv import _conv_graph
from .test_fast import FAST_DW

CASES = ["3x3_w5_kws", "3x3_w7", "3x3_s2_c16", "3x3_s2_w6_valid", "3x3_c8_interior"]


def _blocks(g):
    """[(ring bytes, channels per block)] of the graph's depthwise node, every step."""
    node = g.nodes[0]
    pw = fast.dw3_width(node)
    return [(s, s // (6 * pw)) for s in fast.scratch_steps(node)]


def _selection(g, step: int):
    return select_kernels(g, "dense", planned={g.nodes[0].name: step})


def test_steps():
    """Ring sizes of the blocks, largest first, each a multiple of 4 channels below C."""
    rng = np.random.default_rng(0)
    g = _conv_graph("depthwise_conv2d", rng, FAST_DW["3x3_w7"][0])   # C = 12, pw = 10
    assert fast.dw3_width(g.nodes[0]) == 10
    assert _blocks(g) == [(6 * 8 * 10, 8), (6 * 4 * 10, 4)]
    g = _conv_graph("depthwise_conv2d", rng, FAST_DW["5x5_c4"][0])
    assert fast.scratch_steps(g.nodes[0]) == []


@pytest.mark.parametrize("name", CASES)
def test_blocks_host(name, rng, tmp_path, host_cache):
    g = _conv_graph("depthwise_conv2d", rng, FAST_DW[name][0])
    node = g.nodes[0]
    c = node.inputs[0].shape[3]
    assert _blocks(g), name
    for i, (step, cb) in enumerate(_blocks(g)):
        sel = _selection(g, step)
        assert sel[node.name].fast and sel[node.name].scratch == step
        assert fast.dw3_ring_channels(node, step) == cb and cb % 4 == 0 and cb < c
        plan = sequential_plan(g)
        plan.selection = sel
        emit_c(g, plan, tmp_path / f"m{i}", options={"selection": sel})
        assert f".ring_c = {cb}" in (tmp_path / f"m{i}" / "model.c").read_text()
        check_graph(g, tmp_path / f"c{i}", host_cache, rng, samples=2, plan=plan)


QEMU_CASES = {"3x3_w7": 8, "3x3_s2_c16": 4}         # 8 + 4 (2 images); 4 x 4, stride 2


@pytest.mark.parametrize("machine", ["netduinoplus2", "mps2-an505", "lm3s6965evb"])
@pytest.mark.parametrize("name", QEMU_CASES)
def test_blocks_qemu(name, machine, rng, tmp_path):
    from . import test_qemu as q
    q._need_toolchain()
    g = _conv_graph("depthwise_conv2d", rng, FAST_DW[name][0])
    step = next(s for s, cb in _blocks(g) if cb == QEMU_CASES[name])
    sel = _selection(g, step)
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    plan = reuse_plan(g)                            # room for the whole ring; uses less
    c_dir = tmp_path / "model"
    emit_c(g, plan, c_dir, options={"selection": sel})
    assert f".ring_c = {QEMU_CASES[name]}" in (c_dir / "model.c").read_text()
    (tmp_path / "main.c").write_text(q._main(g, feed))
    cpu = ["-mcpu=" + q.MACHINES[machine], "-mthumb", "-mfloat-abi=soft", "-O2"]
    strict = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
    objs = []
    for i, src in enumerate([*sorted(c_dir.rglob("*.c")), tmp_path / "main.c"]):
        objs.append(tmp_path / f"{i}.o")
        subprocess.run(["arm-none-eabi-gcc", *cpu, *strict, f"-I{c_dir}", f"-I{q.BOARDS_DIR}",
                        q.cost_flag(machine), "-c", str(src), "-o", str(objs[-1])], check=True)
    elf = tmp_path / f"{machine}.elf"
    subprocess.run(q.link_command(cpu, machine, objs, elf), check=True)
    got = q._run(elf, machine)
    assert bytes.fromhex(got["out"]) == interpret(g, feed)[0].tobytes()
