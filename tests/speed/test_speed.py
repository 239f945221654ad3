"""Speed budgets (issue 5): one inference of each MLPerf Tiny model in QEMU on the STM32F405
(Cortex-M4, -icount shift=0, TIM2 = instructions), dense weights as in BENCHMARKS.md.
The budgets are half of TFLite Micro + CMSIS-NN's count on the same emulator and compiler
(issue 5's goal; ad with its pair-packed fully-connected kernel, BENCHMARKS_NOTES.md). The
counts are exact (QEMU -icount), so the budgets are not timing-flaky. The per-layer profile
(TINYC_PROFILE) must account for the inference but for the input / output copies."""
from __future__ import annotations


import numpy as np
import pytest
from needs import need_tools

import tinyc
from tinyc.bench import TFLM, layer_instructions

# x TFLM + CMSIS-NN instructions; ad 0.6: its fully-connected kernel loads in runs of single
# LDRs (more instructions, fewer est. cycles: issue 17, BENCHMARKS_NOTES.md fully connected)
BUDGET = {"kws": 0.5, "vww": 0.5, "ic": 0.5, "ad": 0.6}
# Issue 17 made estimated Cortex-M4 cycles the metric (tinyc/cycles.py over the exact QEMU
# trace). TFLM + CMSIS-NN's own estimate with the same model, as issue 17 states it: kws 8.76 M,
# vww 27.80 M, ic 35.14 M, ad 0.73 M cycles. The budget is a regression guard (tinyc is at
# 0.51-0.55x), not the goal (0.75x the best published latency: BENCHMARKS.md).
TFLM_CYCLES = {"kws": 8.76e6, "vww": 27.80e6, "ic": 35.14e6, "ad": 0.73e6}
CYCLE_BUDGET = 0.6                                          # x TFLM + CMSIS-NN est. cycles


@pytest.fixture(scope="module", params=sorted(BUDGET))
def measured(request, models_dir, tmp_path_factory):
    need_tools("arm-none-eabi-gcc", "qemu-system-arm")
    name = request.param
    m = tinyc.compile(models_dir / "mlperf-tiny" / f"{name}_int8_qdq.onnx", board="stm32",
                      progress=None, storage="dense")
    zeros = [np.full(s.shape, s.zero_point, np.int8) for s in m.inputs]
    m.run_qemu(zeros[0])
    return name, m, m.last_qemu.instructions[0], tmp_path_factory.mktemp(name)


def test_instructions_within_budget(measured):
    name, _, insns, _ = measured
    budget = BUDGET[name] * TFLM[name]["insns"]
    assert insns <= budget, (f"{name}: {insns:,} instructions, budget {budget:,.0f} "
                             f"({BUDGET[name]} x TFLM+CMSIS-NN {TFLM[name]['insns']:,})")


def test_estimated_cycles_within_budget(measured):
    from tinyc.cycles import firmware_cycles
    name, m, _, _ = measured
    cycles = firmware_cycles(m.last_qemu.elfs[:1], m.board, m.name).cycles[0]
    budget = CYCLE_BUDGET * TFLM_CYCLES[name]
    assert 0 < cycles <= budget, (f"{name}: {cycles:,} est. M4 cycles, budget {budget:,.0f} "
                                  f"({CYCLE_BUDGET} x TFLM+CMSIS-NN {TFLM_CYCLES[name]:,.0f})")


def test_layer_profile_adds_up(measured):
    name, m, insns, work = measured
    layers = layer_instructions(m, m.c_dir(), work)
    assert len(layers) == len(m.graph.nodes) and all(t >= 0 for t in layers)
    outside = insns - sum(layers)           # the input and output copies, the hook calls
    assert 0 <= outside <= max(0.02 * insns, 20000), (name, sum(layers), insns)
    heavy = [n for n, t in zip(m.graph.nodes, layers) if n.op in ("conv2d", "fully_connected")]
    assert heavy and min(t for n, t in zip(m.graph.nodes, layers) if n in heavy) > 0
