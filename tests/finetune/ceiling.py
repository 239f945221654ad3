"""The float ceiling of a compressed student's architecture (issue 19): the digits model with
prune_structured=0.75 (its channels as compression leaves them) trained in float from scratch
(He init, zero biases) with labels for many epochs — no quantization, no teacher. When the
fine-tuned int8 student cannot come within a point of the float model, this says whether the
architecture itself can.

    python -m tests.finetune.ceiling [digits.onnx|ds_net.onnx|res_net.onnx] [--epochs 100]

Prints the test accuracy (float, the 360 held-out digits) every 20 epochs and at the end.
Deterministic (seed 0, one BLAS thread). Not a test.
"""
from __future__ import annotations

import argparse

import numpy as np

import tinyc
from tinyc.finetune import blas_threads
from tinyc.passes.finetune.distill import ce_loss
from tinyc.passes.finetune.net import Net
from tinyc.passes.finetune.train import Adam

from .make_table import DIGITS


def he_init(params: dict[str, np.ndarray], rng) -> None:
    """Weights N(0, 2 / fan_in) (fan_in: the weight's size over its output channels; a
    depthwise (1, kh, kw, C) weight: kh * kw), biases 0."""
    for k, a in params.items():
        if k.endswith("/w"):
            fan_in = a.size // a.shape[-1] if a.shape[0] == 1 else a.size // a.shape[0]
            a[...] = rng.standard_normal(a.shape) * np.sqrt(2.0 / fan_in)
        elif k.endswith("/bias"):
            a[...] = 0.0


def ceiling(file: str, epochs: int = 100, setting: dict | None = None, lr: float = 3e-3,
            batch: int = 32, report=print) -> float:
    setting = setting or {"prune_structured": 0.75}
    m = tinyc.compile(DIGITS / file, calib=DIGITS / "calib.npz", finetune=1, progress=None,
                      **setting)
    g = m.finetuned_graph                  # the compressed architecture, float weights
    net = Net(g, quant=False)
    rng = np.random.default_rng(0)
    params = net.params()
    he_init(params, rng)
    tr, te = np.load(DIGITS / "train.npz"), np.load(DIGITS / "test.npz")
    xt, yt, name = tr["input"], tr["label"], g.inputs[0].name
    steps = epochs * ((len(xt) + batch - 1) // batch)
    adam = Adam(params, {k: lr for k in params})

    def test_acc() -> float:
        env, _ = net.forward({name: te["input"]})
        pred = env[id(net.logits)].reshape(len(te["label"]), -1).argmax(1)
        return 100.0 * float(np.mean(pred == te["label"]))
    step, acc = 0, 0.0
    with blas_threads(1):
        for ep in range(1, epochs + 1):
            perm = rng.permutation(len(xt))
            for i in range(0, len(xt), batch):
                j = perm[i:i + batch]
                env, tape = net.forward({name: xt[j]})
                _, grad = ce_loss(env[id(net.logits)], yt[j])
                adam.step(net.backward(tape, {id(net.logits): grad}),
                          0.5 * (1 + np.cos(np.pi * step / steps)))
                step += 1
            if ep % 20 == 0 or ep == epochs:
                acc = test_acc()
                report(f"{file} {setting}: epoch {ep}: float test accuracy {acc:.2f} %")
    return acc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="digits.onnx")
    ap.add_argument("--epochs", type=int, default=100)
    a = ap.parse_args()
    ceiling(a.model, a.epochs)


if __name__ == "__main__":
    main()
