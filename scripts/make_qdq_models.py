#!/usr/bin/env python3
"""Make the quantizers' QDQ test models (issue 15): six small float nets trained on
scikit-learn's digits, quantized by each tool, with ONNX Runtime's int8 outputs on 200 held-out
digits as the reference. Only needed to *remake* the files under tests/qdq_models/; the tests
need no torch:

    python -m pip install torch==2.13.0 scikit-learn     # exactly that pin (CPU wheel)
    python -m pip install torchao onnxscript nncf        # pt2e, the dynamo exporter, NNCF
    python scripts/make_qdq_models.py                    # [--only ort|pt2e|nncf]

Models (input "input" [1,1,8,8] float32 in [0,1], output "logits" [1,10]):
    cnn        Conv-Relu, Conv(stride 2)-Relu, Flatten, Gemm
    dwsep      Conv-Relu, depthwise Conv(stride 2)-Relu, pointwise Conv-Relu, GlobalAveragePool,
               Gemm
    resnet     Conv-Relu, a residual block (Conv-Relu-Conv + skip, Add, Relu), pool, Gemm
    mlp        Flatten, Gemm-Relu, Gemm-Relu, Gemm
    autoenc    encoder Gemm-BatchNorm-Relu to an 8-wide code, decoder Gemm-BatchNorm-Relu, head
    mixed      Pad, Conv-HardSwish, sigmoid gate (x * Sigmoid(Conv1x1 x)), Concat, MaxPool,
               Flatten, MatMul + Add (a weight matrix, not nn.Linear)

Quantizers (file tests/qdq_models/<model>_<variant>.onnx):
    ort_qdq_s8       quantize_static QDQ, per-tensor, QInt8 activations
    ort_qdq_u8_pc    QDQ, per-channel, QUInt8 activations, after quant_pre_process
    ort_qdq_sym      QDQ, per-channel, ActivationSymmetric + WeightSymmetric
    ort_qdq_pair     QDQ, per-tensor, AddQDQPairToWeight
    ort_qop_s8_pc    QOperator, per-channel, QInt8 activations
    ort_qop_u8       QOperator, per-tensor, QUInt8 activations, after quant_pre_process
    pt2e             torch pt2e XNNPACKQuantizer (symmetric per-channel weights), prepare_pt2e /
                     convert_pt2e, torch.onnx.export (dynamo; torchao + onnxscript installed)
    nncf             NNCF post-training quantization of the float ONNX file (nncf.quantize,
                     nncf 3.4.0): it quantizes layer inputs only, so the logits stay float
                     (tinyc: the range the last Gemm can reach, int16 logits); mixed's
                     float Conv -> HardSwish / Sigmoid and dwsep's per-channel quantized
                     depthwise input are implied / folded (docs/frontend.md)
tests/qdq_models/ref.npz: input [200,1,8,8] (held-out digits), label [200], and per file
"<model>_<variant>": ORT's output [200,10] of that file.
"""
from __future__ import annotations

import argparse
import pathlib
import random
import sys
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "qdq_models"
sys.path.insert(0, str(ROOT / "examples" / "digits"))
SEED = 0
N_REF = 200
N_CALIB = 100


def nets():
    import torch
    import torch.nn as nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
            self.c1 = nn.Conv2d(8, 8, 3, padding=1)
            self.c2 = nn.Conv2d(8, 8, 3, padding=1)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 10))

        def forward(self, x):
            x = self.stem(x)
            y = self.c2(torch.relu(self.c1(x)))
            return self.head(torch.relu(x + y))

    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3)
            self.gate = nn.Conv2d(8, 8, 1)
            self.side = nn.Conv2d(8, 4, 1)
            self.w = nn.Parameter(torch.randn(12 * 16, 10) * 0.05)
            self.b = nn.Parameter(torch.zeros(10))

        def forward(self, x):
            x = nn.functional.pad(x, (1, 1, 1, 1))
            x = nn.functional.hardswish(self.conv(x))
            g = x * torch.sigmoid(self.gate(x))
            x = torch.cat([g, self.side(x)], dim=1)
            x = nn.functional.max_pool2d(x, 2).flatten(1)
            return torch.matmul(x, self.w) + self.b

    return {
        "cnn": lambda: nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                     nn.Flatten(), nn.Linear(256, 10)),
        "dwsep": lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                       nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16),
                                       nn.ReLU(), nn.Conv2d(16, 32, 1), nn.ReLU(),
                                       nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)),
        "resnet": Residual,
        "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(),
                                     nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10)),
        "autoenc": lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32),
                                         nn.ReLU(), nn.Linear(32, 8), nn.BatchNorm1d(8),
                                         nn.ReLU(), nn.Linear(8, 32), nn.BatchNorm1d(32),
                                         nn.ReLU(), nn.Linear(32, 10)),
        "mixed": Mixed,
    }


def train(make, x_tr, y_tr, epochs=40):
    import torch
    torch.manual_seed(SEED)
    net = make()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).split(32):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    return net.eval()


def export_float(net, path: pathlib.Path) -> None:
    import onnx
    import torch
    warnings.filterwarnings("ignore")
    torch.onnx.export(net, (torch.zeros(1, 1, 8, 8),), str(path), dynamo=False,
                      opset_version=13, input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    m = onnx.load(str(path))
    del m.metadata_props[:]
    onnx.save(m, str(path))


ORT_VARIANTS = {
    "ort_qdq_s8": dict(fmt="QDQ", per_channel=False, act="QInt8", pre=False, extra={}),
    "ort_qdq_u8_pc": dict(fmt="QDQ", per_channel=True, act="QUInt8", pre=True, extra={}),
    "ort_qdq_sym": dict(fmt="QDQ", per_channel=True, act="QInt8", pre=False,
                        extra={"ActivationSymmetric": True, "WeightSymmetric": True}),
    "ort_qdq_pair": dict(fmt="QDQ", per_channel=False, act="QInt8", pre=False,
                         extra={"AddQDQPairToWeight": True}),
    "ort_qop_s8_pc": dict(fmt="QOperator", per_channel=True, act="QInt8", pre=False, extra={}),
    "ort_qop_u8": dict(fmt="QOperator", per_channel=False, act="QUInt8", pre=True, extra={}),
}


def ort_quantize(src: pathlib.Path, dst: pathlib.Path, calib: np.ndarray, fmt, per_channel,
                 act, pre, extra) -> None:
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if pre:
        quant_pre_process(str(src), str(dst))
        src = dst

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": calib[i:i + 1]} for i in range(len(calib))])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(src), str(dst), Reader(), quant_format=getattr(QuantFormat, fmt),
                    per_channel=per_channel, activation_type=getattr(QuantType, act),
                    weight_type=QuantType.QInt8, extra_options=extra)


def pt2e_quantize(net, dst: pathlib.Path, calib: np.ndarray) -> None:
    import torch
    try:
        from torch.ao.quantization.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torch.ao.quantization.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer, get_symmetric_quantization_config)
    except ImportError:                 # torch 2.13: pt2e lives in torchao (pip install torchao)
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.testing.pt2e._xnnpack_quantizer import (  # type: ignore
            XNNPACKQuantizer, get_symmetric_quantization_config)
    example = (torch.from_numpy(calib[:1]),)
    gm = torch.export.export(net, example).module()
    q = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    gm = prepare_pt2e(gm, q)
    with torch.no_grad():
        for i in range(len(calib)):
            gm(torch.from_numpy(calib[i:i + 1]))
    gm = convert_pt2e(gm)
    prog = torch.onnx.export(gm, example, dynamo=True, opset_version=18,
                             input_names=["input"], output_names=["logits"])
    prog.save(str(dst))


def nncf_quantize(src: pathlib.Path, dst: pathlib.Path, calib: np.ndarray) -> None:
    import nncf
    import onnx
    data = nncf.Dataset([{"input": calib[i:i + 1]} for i in range(len(calib))])
    onnx.save(nncf.quantize(onnx.load(str(src)), data, subset_size=len(calib)), str(dst))


def ort_outputs(path: pathlib.Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("ort", "pt2e", "nncf"))
    args = ap.parse_args()
    import torch
    from make_model import load_split
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    x_tr, y_tr, x_te, y_te = load_split()
    calib, x_ref, y_ref = x_tr[:N_CALIB], x_te[:N_REF], y_te[:N_REF]
    OUT.mkdir(parents=True, exist_ok=True)
    ref_path = OUT / "ref.npz"
    refs = dict(np.load(ref_path)) if ref_path.exists() else {}
    refs.update(input=x_ref, label=y_ref)
    tmp = OUT / "_float.onnx"
    for name, make in nets().items():
        net = train(make, x_tr, y_tr)
        with torch.no_grad():
            acc = float((net(torch.from_numpy(x_ref)).numpy().argmax(1) == y_ref).mean())
        export_float(net, tmp)
        todo = list(ORT_VARIANTS.items()) if args.only in (None, "ort") else []
        if args.only in (None, "pt2e"):
            todo.append(("pt2e", None))
        if args.only in (None, "nncf"):
            todo.append(("nncf", "nncf"))
        for variant, kw in todo:
            dst = OUT / f"{name}_{variant}.onnx"
            try:
                if kw is None:
                    pt2e_quantize(net, dst, calib)
                elif kw == "nncf":
                    nncf_quantize(tmp, dst, calib)
                else:
                    ort_quantize(tmp, dst, calib, **kw)
                out = ort_outputs(dst, x_ref)
            except Exception as e:          # noqa: BLE001 (report and go on)
                print(f"{dst.name}: FAILED {type(e).__name__}: {str(e)[:200]}")
                dst.unlink(missing_ok=True)
                continue
            refs[f"{name}_{variant}"] = out.astype(np.float32)
            print(f"{dst.name}: {dst.stat().st_size} bytes, float acc {acc:.3f}, "
                  f"int8 acc {(out.argmax(1) == y_ref).mean():.3f}")
    tmp.unlink(missing_ok=True)
    np.savez_compressed(ref_path, **refs)


if __name__ == "__main__":
    main()
