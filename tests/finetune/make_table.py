"""The fine-tuning table (issue 19, acceptance 2): float / PTQ / fine-tuned host-C test
accuracy on digits for the example CNN and the two students of make_students.py, with
cluster=2 and prune_structured=0.75, fine-tuned 10 epochs with labels (train.npz) and without
(the calibration data, distillation alone).

    python -m tests.finetune.make_table [--epochs 10] > table.md
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tinyc

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
MODELS = {"digits CNN (example)": "digits.onnx", "depthwise-separable": "ds_net.onnx",
          "residual": "res_net.onnx"}
SETTINGS = {"cluster=2": {"cluster": 2}, "prune_structured=0.75": {"prune_structured": 0.75}}


def _acc(m, x, y) -> float:
    return 100.0 * float(np.mean(m.run_host(x, batch=True).reshape(len(x), -1).argmax(1) == y))


def rows(epochs: int = 10):
    t = np.load(DIGITS / "test.npz")
    x, y = t["input"], t["label"]
    calib, train = DIGITS / "calib.npz", DIGITS / "train.npz"
    for label, file in MODELS.items():
        path = DIGITS / file
        base = tinyc.compile(path, calib=calib, progress=None)
        fl = 100.0 * float(np.mean(base.run_float(x, batch=True).reshape(len(x), -1)
                                   .argmax(1) == y))
        for sname, kw in SETTINGS.items():
            ptq = _acc(tinyc.compile(path, calib=calib, progress=None, **kw), x, y)
            t0 = time.perf_counter()
            lab = tinyc.compile(path, calib=calib, progress=None, finetune=epochs, train=train,
                                **kw)
            t_lab = time.perf_counter() - t0
            unl = tinyc.compile(path, calib=calib, progress=None, finetune=epochs, **kw)
            yield (label, sname, fl, ptq, _acc(lab, x, y), _acc(unl, x, y), t_lab)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    a = ap.parse_args()
    print("| model | setting | float | PTQ | fine-tuned, labels | fine-tuned, no labels "
          "| time (labels) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows(a.epochs):
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} % | {r[3]:.2f} % | {r[4]:.2f} % | {r[5]:.2f} % "
              f"| {r[6]:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
