"""The float ceiling of a compressed student's architecture (issue 19): the digits model with
prune_structured=0.75 (its channels as compression leaves them) trained in float from scratch
(He init, zero biases) with labels for many epochs — no quantization, no teacher. When the
fine-tuned int8 student cannot come within a point of the float model, this says whether the
architecture itself can.

    python -m tests.finetune.ceiling [digits.onnx|ds_net.onnx|res_net.onnx] [--epochs 100]
    python -m tests.finetune.ceiling MODEL --recipe [--no-labels]

--recipe: instead, the fine-tuning recipe itself (10 epochs, the pruned float weights as start,
distillation from the float model, labels unless --no-labels) without fake quantization: the
float accuracy the pruned architecture reaches the way its int8 model is trained, so the
difference to the fine-tuned int8 model is what quantization costs, and the difference to the
float model what the architecture costs.

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


def recipe_float(file: str, labels: bool = True, epochs: int = 10,
                 setting: dict | None = None) -> float:
    """Test accuracy of the pruned student fine-tuned as tinyc.compile(finetune=) does, with
    no fake quantization (the training Net built with quant=False)."""
    import functools

    import tinyc.passes.finetune.train as train_mod
    setting = setting or {"prune_structured": 0.75}
    saved = train_mod.Net
    train_mod.Net = functools.partial(Net, quant=False)
    try:
        m = tinyc.compile(DIGITS / file, calib=DIGITS / "calib.npz", finetune=epochs,
                          train=DIGITS / "train.npz" if labels else None, progress=None,
                          **setting)
    finally:
        train_mod.Net = saved
    g, te = m.finetuned_graph, np.load(DIGITS / "test.npz")
    env, _ = Net(g, quant=False).forward({g.inputs[0].name: te["input"]})
    pred = env[id(g.outputs[0])].reshape(len(te["label"]), -1).argmax(1)
    return 100.0 * float(np.mean(pred == te["label"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="digits.onnx")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--recipe", action="store_true",
                    help="the fine-tuning recipe without fake quantization (module doc)")
    ap.add_argument("--no-labels", action="store_true")
    a = ap.parse_args()
    if a.recipe:
        acc = recipe_float(a.model, not a.no_labels, a.epochs or 10)
        print(f"{a.model} prune_structured=0.75, fine-tuning recipe in float "
              f"({'no labels' if a.no_labels else 'labels'}): test accuracy {acc:.2f} %")
    else:
        ceiling(a.model, a.epochs or 100)


if __name__ == "__main__":
    main()
