#!/usr/bin/env python3
"""Train the two extra digits models of the fine-tuning measurements with tinyc's own numpy
training code (passes/finetune: forward/backward over the IR, Adam; no torch):

    ds_net.onnx   depthwise-separable: conv 3x3 1->32, [depthwise 3x3, pointwise 1x1] x3
                  (32->64, 64->64 with the depthwise at stride 2, 64->64), GAP, FC 64->10;
                  0.32 M MACs per sample (the issue's speed example, tests/finetune)
    res_net.onnx  residual: conv 3x3 1->32, two residual blocks (conv 3x3, conv 3x3, + skip,
                  relu), conv 3x3 32->64 stride 2, GAP, FC 64->10; 2.7 M MACs per sample

Widths (ARCH): wide enough that their 75 %-pruned architectures (8 / 16 channels) keep the
capacity to come near the float model (python -m tests.finetune.ceiling); the first students
(16 / 32 channels, 4 / 8 after pruning) could not (docs/finetune.md).

Input "input" [1,1,8,8] float NCHW as digits.onnx, output "logits" [1,10]. Trained on
train.npz only (cross-entropy, 40 epochs, seed 0, float32, one BLAS thread); two runs give
identical bytes.

    python examples/digits/make_students.py
"""
from __future__ import annotations

import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SEED, EPOCHS, BATCH, LR = 0, 40, 32, 3e-3
ARCH = {"ds": {"width": (32, 64), "extra": 1}, "res": {"width": (32, 64), "blocks": 2}}


def _onnx(kind: str, rng, arch: dict):
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []

    def init(name, shape, fan_in):
        a = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        inits.append(numpy_helper.from_array(a, name))
        return name

    def conv(x, cin, cout, k=3, stride=1, group=1, relu=True, name=""):
        w = init(f"{name}_w", (cout, cin // group, k, k), cin // group * k * k)
        b = f"{name}_b"
        inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), b))
        y = f"{name}_y"
        nodes.append(helper.make_node("Conv", [x, w, b], [y], strides=[stride, stride],
                                      pads=[k // 2] * 4, group=group, name=name))
        if relu:
            nodes.append(helper.make_node("Relu", [y], [f"{name}_r"]))
            return f"{name}_r"
        return y
    a, b = arch["width"]
    x = conv("input", 1, a, name="c0")
    if kind == "ds":
        x = conv(x, a, a, group=a, name="dw1")
        x = conv(x, a, b, k=1, name="pw1")
        x = conv(x, b, b, stride=2, group=b, name="dw2")
        x = conv(x, b, b, k=1, name="pw2")
        for i in range(3, 3 + arch.get("extra", 0)):
            x = conv(x, b, b, group=b, name=f"dw{i}")
            x = conv(x, b, b, k=1, name=f"pw{i}")
        c = b
    else:
        for i in range(1, 1 + arch.get("blocks", 2)):
            h = conv(x, a, a, name=f"r{i}a")
            h = conv(h, a, a, relu=False, name=f"r{i}b")
            nodes.append(helper.make_node("Add", [x, h], [f"r{i}_sum"]))
            nodes.append(helper.make_node("Relu", [f"r{i}_sum"], [f"r{i}_out"]))
            x = f"r{i}_out"
        x = conv(x, a, b, stride=2, name="c3")
        c = b
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"]))
    w = init("fc_w", (10, c), c)
    inits.append(numpy_helper.from_array(np.zeros(10, np.float32), "fc_b"))
    nodes.append(helper.make_node("Gemm", ["flat", w, "fc_b"], ["logits"], transB=1))
    g = helper.make_graph(nodes, f"digits_{kind}",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def train(kind: str, arch: dict | None = None, out_dir: pathlib.Path = HERE) -> pathlib.Path:
    import tempfile

    import onnx

    from tinyc.passes.finetune.distill import ce_loss
    from tinyc.passes.finetune.net import Net
    from tinyc.passes.finetune.train import Adam
    from tinyc.passes.manager import run_passes
    from tinyc.pipeline import FLOAT_PASSES, load_model
    from tinyc.qdq_export import export_float
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "init.onnx"
        onnx.save(_onnx(kind, rng, arch or ARCH[kind]), str(p))
        g = run_passes(load_model(p), FLOAT_PASSES)
    tr = np.load(HERE / "train.npz")
    x, y = tr["input"], tr["label"]
    net = Net(g, quant=False)
    params = net.params()
    adam = Adam(params, {k: LR for k in params})
    steps, step = EPOCHS * ((len(x) + BATCH - 1) // BATCH), 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(x))
        for i in range(0, len(x), BATCH):
            j = order[i:i + BATCH]
            env, tape = net.forward({"input": x[j]})
            _, grad = ce_loss(env[id(net.logits)], y[j])
            adam.step(net.backward(tape, {id(net.logits): grad}),
                      0.5 * (1 + np.cos(np.pi * step / steps)))
            step += 1
    net.store(g)
    out = out_dir / f"{kind}_net.onnx"
    export_float(g, out)
    return out


def main() -> None:
    import onnxruntime as ort
    from tinyc.finetune import blas_threads
    t = np.load(HERE / "test.npz")
    for kind in ("ds", "res"):
        with blas_threads(1):           # float32 sums in one order: identical bytes
            path = train(kind)
        s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        pred = np.array([s.run(None, {"input": t["input"][i:i + 1]})[0].argmax()
                         for i in range(len(t["input"]))])
        print(f"wrote {path.name}: float test accuracy {100 * np.mean(pred == t['label']):.2f} %")


if __name__ == "__main__":
    main()
