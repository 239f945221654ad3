"""Results table of the compression options on examples/digits (passes/NOTES_COMPRESSION.md).

    python -m tests.compression.make_table [--no-qemu]

For each configuration: stored weights bytes, MACs executed, measured flash of the model
(linked firmware minus an empty one), instructions of one inference in QEMU (STM32F405, TIM2),
top-1 accuracy of the integer model on the 360 test samples (float: 98.06%). Not a test.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import tinyc

ROOT = Path(__file__).resolve().parents[2]
D = ROOT / "examples" / "digits"

CONFIGS = [
    ("int8 (default)", {}),
    ("int8, bias correction", {"bias_correction": True}),
    ("int8, GPTQ", {"compensate": True}),
    ("int8, per-tensor", {"per_tensor": True}),
    ("int8, calib percentile", {"calib_method": "percentile"}),
    ("int8, calib mse", {"calib_method": "mse"}),
    ("int4, rounding", {"weights": "int4", "compensate": False, "bias_correction": False}),
    ("int4, rounding + bias corr.", {"weights": "int4", "compensate": False}),
    ("int4, GPTQ", {"weights": "int4"}),
    ("K=16", {"cluster": 16}),
    ("K=8", {"cluster": 8}),
    ("K=4", {"cluster": 4}),
    ("K=4, no compensation", {"cluster": 4, "compensate": False, "bias_correction": False}),
    ("prune 50% OBS", {"prune": 0.5}),
    ("prune 50% magnitude, no comp.", {"prune": 0.5, "prune_method": "magnitude",
                                        "compensate": False}),
    ("prune 70% OBS", {"prune": 0.7}),
    ("prune 70% OBS global", {"prune": 0.7, "prune_scope": "global"}),
    ("prune 90% OBS", {"prune": 0.9}),
    ("prune 90% OBS, storage small", {"prune": 0.9, "storage": "small"}),
    ("prune 70% OBS global, storage small", {"prune": 0.7, "prune_scope": "global",
                                             "storage": "small"}),
    ("prune 50% + int4", {"prune": 0.5, "weights": "int4"}),
    ("channels -25%", {"prune_structured": 0.25}),
    ("channels -25%, no comp.", {"prune_structured": 0.25, "compensate": False}),
    ("channels -50%", {"prune_structured": 0.5}),
    ("channels -25% + int4", {"prune_structured": 0.25, "weights": "int4"}),
    ("channels -25% + K=8", {"prune_structured": 0.25, "cluster": 8}),
    ("search, max drop 1%", {"max_accuracy_drop": 0.01}),
    ("search, max drop 3%", {"max_accuracy_drop": 0.03}),
    ("search, max drop 3%, storage small", {"max_accuracy_drop": 0.03, "storage": "small"}),
]


def row(label: str, kw: dict, x, y, qemu: bool) -> str:
    m = tinyc.compile(D / "digits.onnx", calib=D / "calib.npz", progress=None, **kw)
    out = np.asarray(m.interpret(x, batch=True)).reshape(len(y), -1)
    acc = float(np.mean(out.argmax(1) == y))
    flash = instr = "-"
    if qemu:
        with tempfile.TemporaryDirectory() as t:
            m.write(t, measure=True)
        flash = f"{m.report['memory']['flash_bytes']:,}"
        q = m.inputs[0].quantize(x[0].reshape(m.inputs[0].shape))[None]
        assert np.array_equal(m.run_qemu(q, batch=True), m.interpret(q, batch=True))
        instr = f"{int(np.mean(m.last_qemu.instructions)):,}"
    fmts = ",".join(f["format"] for f in m.report["weight_formats"])
    return (f"| {label} | {m.report['weights_bytes']:,} | {m.report['macs']:,} | {flash} | "
            f"{instr} | {100 * acc:.2f}% | {fmts} |")


def main(argv: list[str]) -> None:
    with np.load(D / "test.npz") as t:
        x, y = t["input"], t["label"]
    print("| configuration | weights B | MACs | flash B | instructions | accuracy | "
          "formats (conv0,conv1,dw,pw,fc) |")
    print("|---|---|---|---|---|---|---|")
    for label, kw in CONFIGS:
        print(row(label, kw, x, y, "--no-qemu" not in argv), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
