"""Issue 13 acceptance: the memory plan puts the arena and the stack into named regions of the
chip, refuses what fits no region (naming them), and the linked firmware agrees with the plan
(`arm-none-eabi-size -A`: the arena section's size and address) in QEMU and for the chip."""
import json
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import tinyc
from tinyc.errors import BoardError
from tinyc.firmware import link, model_sources
from tinyc.report import format_summary
from tinyc.target import load_board

from .conftest import needs_tools


def big_conv(path, side: int):
    """[1,3,side,side] -> Conv 3->8 (pad 1) -> Relu -> GlobalAveragePool -> Gemm 8->4: the
    arena holds the input and the conv output, about 11 * side^2 bytes."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array((rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32), "w")
    fw = numpy_helper.from_array((rng.standard_normal((4, 8)) * 0.3).astype(np.float32), "fw")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], "conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], "relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], "gap"),
             helper.make_node("Flatten", ["g"], ["f"], "flat"),
             helper.make_node("Gemm", ["f", "fw"], ["y"], "fc", transB=1)]
    g = helper.make_graph(
        nodes, "big_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                          [1, 3, side, side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w, fw])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path, {"x": rng.random((4, 1, 3, side, side)).astype(np.float32)}


def test_150kb_arena_is_refused_for_the_f405_naming_the_regions(tmp_path):
    path, calib = big_conv(tmp_path / "big.onnx", 116)
    with pytest.raises(BoardError) as e:
        tinyc.compile(path, board="stm32", calib=calib, progress=None)
    msg = str(e.value)
    needed = int(msg.split("the arena needs ")[1].split(" B")[0].replace(",", ""))
    assert 140_000 < needed < 160_000
    assert "stm32f405" in msg and "sram 131,072 B @0x20000000" in msg
    assert "ccm 65,536 B @0x10000000" in msg and "Biggest tensors: c " in msg
    m = tinyc.compile(path, board="stm32l4r5", calib=calib, progress=None)  # 192 KiB SRAM1
    assert m.memory_plan.arena == "sram1"


def sections(elf) -> dict[str, tuple[int, int]]:
    """`arm-none-eabi-size -A`: {section: (size, address)}."""
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    rows = (line.split() for line in out.splitlines())
    return {r[0]: (int(r[1]), int(r[2])) for r in rows if len(r) == 3 and r[0].startswith(".")}


@needs_tools
def test_arena_in_ccm_runs_in_qemu_and_links_for_the_chip(tmp_path):
    path, calib = big_conv(tmp_path / "mid.onnx", 72)           # arena 57,504 B
    board = load_board("stm32", ram_size="56K")                 # SRAM too small: CCM
    m = tinyc.compile(path, board=board, calib=calib, progress=None)
    arena = m.plan.arena_bytes
    assert (m.memory_plan.arena, m.memory_plan.stack) == ("ccm", "sram")
    out = m.write(tmp_path / "out")
    regions = {g["name"]: g for g in json.loads((out / "report.json").read_text())["regions"]}
    assert regions["ccm"]["holds"] == ["arena"] and regions["ccm"]["used_bytes"] == arena
    assert regions["ccm"]["used_percent"] == round(100 * arena / 65536, 1)
    assert regions["sram"]["holds"] == ["stack"]
    page = (out / "report.html").read_text()
    assert "Memory regions of stm32f405" in page and "<td>ccm</td><td>0x10000000</td>" in page
    summary = format_summary(m)
    assert re.search(rf"ccm\s+0x10000000\s+65,536\s+{arena:,}\s+[\d.]+%\s+arena", summary)
    text = (out / "stm32f405.ld").read_text()
    assert "CCM        (rwx) : ORIGIN = 0x10000000, LENGTH = 64K" in text
    assert re.search(r"\.tinyc_arena \(NOLOAD\)[^}]*\}\s*> CCM", text)

    x = calib["x"][0]
    assert np.array_equal(m.run_qemu(x), m.run_host(x))        # QEMU: CCM @0x20020000
    fw = m.last_qemu.elfs[0]
    size, addr = sections(fw)[".tinyc_arena"]
    assert arena <= size < arena + 8 and addr == 0x20020000
    assert 0x20000000 <= sections(fw)[".stack"][1] < 0x20000000 + 56 * 1024

    chip = link(board, [fw.parent / "tinyc_fw_main.c", fw.parent / "tinyc_fw_inputs.c",
                        *model_sources(out)], tmp_path / "chip.elf", [out, out / "kernels"],
                script=out / "stm32f405.ld")                    # the chip's script, as built
    size, addr = sections(chip)[".tinyc_arena"]
    assert arena <= size < arena + 8 and addr == 0x10000000
    assert 0x20000000 <= sections(chip)[".stack"][1] < 0x20000000 + 56 * 1024


@needs_tools
def test_region_qemu_lacks_is_linked_and_sized_not_run(tmp_path):
    path, calib = big_conv(tmp_path / "huge.onnx", 150)        # arena 247,980 B
    m = tinyc.compile(path, board="stm32l4r5", calib=calib, progress=None)
    assert m.memory_plan.arena == "sram3"                      # SRAM1 192 KiB is too small
    out = m.write(tmp_path / "out", measure=True)              # sized with the chip's map
    report = json.loads((out / "report.json").read_text())
    assert report["memory"]["ram_static_bytes"] >= m.plan.arena_bytes
    assert report["memory"]["stack_bytes"] is None             # no QEMU run
    assert [g["holds"] for g in report["regions"] if g["name"] == "sram3"] == [["arena"]]
    with pytest.raises(BoardError, match="sram3, which QEMU netduinoplus2 does not simulate"):
        m.run_qemu(calib["x"][0])
