#!/usr/bin/env python3
"""Train the bundled example model and write digits.onnx, calib.npz and test.npz.

A small CNN with BatchNorm on scikit-learn's handwritten digits (8x8 grayscale, 10 classes).
Only needed to *remake* the shipped files; using them needs no torch:

    python -m pip install torch==2.13.0 scikit-learn   # exactly that pin (CPU wheel)
    python examples/digits/make_model.py

Deterministic: fixed seeds, deterministic algorithms, one thread. The files it writes:

    digits.onnx  opset 13, input "input" [1,1,8,8] float32 NCHW (pixels in [0,1]),
                 output "logits" [1,10]; Conv+BatchNormalization+Relu, a depthwise Conv
                 (group=16), GlobalAveragePool, Flatten, Gemm
    calib.npz    input [200,1,8,8] float32 (training samples, for calibration)
    test.npz     input [360,1,8,8] float32, label [360] int64 (the held-out test split)
    train.npz    input [1437,1,8,8] float32, label [1437] int64 (the training split, for
                 fine-tuning: tinyc.compile(..., finetune=10, train=...); needs only sklearn)
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import warnings

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SEED = 0
N_CALIB = 200
N_TEST = 360


def load_split():
    """The digits data set as (x_train, y_train, x_test, y_test); x float32 [N,1,8,8] in [0,1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=N_TEST, random_state=SEED, stratify=y)
    return x_tr, y_tr, x_te, y_te


def make_net():
    import torch.nn as nn

    def conv_bn_relu(cin, cout, stride=1, groups=1):
        return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, groups=groups, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *conv_bn_relu(1, 8),                    # 8x8x8
        *conv_bn_relu(8, 16, stride=2),         # 16x4x4
        *conv_bn_relu(16, 16, groups=16),       # depthwise 3x3
        nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),  # pointwise
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # GlobalAveragePool + Flatten
        nn.Linear(32, 10),
    )


def train(x_tr, y_tr, epochs: int):
    import torch

    torch.manual_seed(SEED)
    net = make_net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).split(32):
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
        sched.step()
    return net.eval()


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == labels).mean())


def export(net, path: pathlib.Path) -> None:
    import onnx
    import torch

    dummy = torch.zeros(1, 1, 8, 8)
    warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")
    warnings.filterwarnings("ignore", message=".*constant folding be turned off")
    # PRESERVE keeps BatchNormalization nodes (EVAL would fold them into the convs, and
    # folding BatchNorm is tinyc's job); the net is in eval mode, so they carry the running stats.
    torch.onnx.export(net, (dummy,), str(path), dynamo=False, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    model = onnx.load(str(path))
    model.producer_name = "tinyc examples/digits/make_model.py"
    del model.metadata_props[:]
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def onnxruntime_logits(path: pathlib.Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("-o", "--out", type=pathlib.Path, default=HERE)
    args = ap.parse_args()

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    x_tr, y_tr, x_te, y_te = load_split()
    net = train(x_tr, y_tr, args.epochs)
    with torch.no_grad():
        acc_torch = accuracy(net(torch.from_numpy(x_te)).numpy(), y_te)

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "digits.onnx"
    export(net, onnx_path)
    acc_ort = accuracy(onnxruntime_logits(onnx_path, x_te), y_te)

    np.savez_compressed(args.out / "calib.npz", input=np.ascontiguousarray(x_tr[:N_CALIB]))
    np.savez_compressed(args.out / "train.npz", input=np.ascontiguousarray(x_tr), label=y_tr)
    np.savez_compressed(args.out / "test.npz", input=np.ascontiguousarray(x_te),
                        label=np.ascontiguousarray(y_te))

    print(f"train {len(x_tr)}  test {len(x_te)}  calib {N_CALIB}")
    print(f"float accuracy (torch):       {acc_torch:.4f}")
    print(f"float accuracy (onnxruntime): {acc_ort:.4f}")
    print(f"wrote {onnx_path}, calib.npz, test.npz in {args.out}")
    if abs(acc_torch - acc_ort) > 1e-9:
        raise SystemExit("onnxruntime and torch disagree on the test split")


if __name__ == "__main__":
    main()
