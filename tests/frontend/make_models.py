"""Make the small ONNX test models in tests/frontend/models/ (run once; the tests need no torch).

    pip install torch==2.13.0 onnxscript     # onnxscript: for the dynamo exporter
    python tests/frontend/make_models.py

Float models come from PyTorch's two exporters: TorchScript (`dynamo=False`, opsets 13 and 17)
and dynamo (opset 18). QDQ models come from ONNX Runtime's quantize_static (QDQ format,
per-channel weights) applied to the TorchScript opset-13 float models: int8 activations after
ORT's quant_pre_process, uint8 activations without it.
"""
from __future__ import annotations

import pathlib

import numpy as np
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent / "models"


class ConvNet(nn.Module):
    """Conv+BN+ReLU, depthwise+ReLU6, MaxPool, residual Add, BN, Concat, AvgPool, Sigmoid,
    HardSwish, GlobalAvgPool, Flatten, Linear, Softmax."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU6())
        self.pw = nn.Conv2d(8, 8, 1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.branch = nn.Conv2d(8, 4, 3, stride=2, padding=1)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        x = self.stem(x)
        x = self.bn(x + self.pw(self.dw(x)))
        a = self.pool(x)
        b = torch.sigmoid(self.branch(x))
        x = nn.functional.hardswish(self.avg(torch.cat([a, b], dim=1)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.head(x), dim=-1)


class GrayNet(nn.Module):
    """A 1-channel input (the NCHW->NHWC change is a free reshape), strided conv, mean, view."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, stride=2)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        y = torch.relu(self.conv(x)).mean(dim=(2, 3), keepdim=True)
        return self.fc(y.view(y.size(0), -1))


class Mlp(nn.Module):
    """Linear layers on a flat input, BatchNorm1d on a 2-D tensor, Hardsigmoid, Tanh."""

    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.fc2 = nn.Linear(20, 16), nn.BatchNorm1d(16), nn.Linear(16, 4)

    def forward(self, x):
        x = nn.functional.hardsigmoid(self.bn(self.fc1(x)))
        return torch.tanh(self.fc2(x))


class SeqNet(nn.Module):
    """Linear on a 3-D tensor (MatMul + Add), Softmax over the last axis."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(8, 6), nn.Linear(6, 5)

    def forward(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=-1)


MODELS = {"convnet": (ConvNet, (1, 3, 16, 16)), "graynet": (GrayNet, (1, 1, 12, 12)),
          "mlp": (Mlp, (1, 20)), "seqnet": (SeqNet, (1, 4, 8))}
EXPORTS = {"ts13": dict(dynamo=False, opset_version=13),
           "ts17": dict(dynamo=False, opset_version=17),
           "ts13nofold": dict(dynamo=False, opset_version=13, do_constant_folding=False),
           "dynamo18": dict(dynamo=True, opset_version=18, external_data=False)}


def randomize_bn(model: nn.Module) -> None:
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def export_float() -> list[pathlib.Path]:
    made = []
    for name, (cls, shape) in MODELS.items():
        torch.manual_seed(0)
        model = cls()
        randomize_bn(model)
        model.eval()
        x = torch.randn(*shape)
        for tag, kw in EXPORTS.items():
            path = OUT / f"{name}_{tag}.onnx"
            torch.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"],
                              **kw)
            made.append(path)
    return made


def quantize_qdq(src: pathlib.Path, dst: pathlib.Path, activation_type, preprocess) -> None:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if preprocess:                      # turns MatMul+Add into Reshape-Gemm-Reshape
        quant_pre_process(str(src), str(dst))
        src = dst

    shape = [d.dim_value for d in onnx.load(src).graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(0)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": rng.standard_normal(shape).astype(np.float32)}
                            for _ in range(16)])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=getattr(QuantType, activation_type),
                    weight_type=QuantType.QInt8)


def export_qdq() -> list[pathlib.Path]:
    made = []
    for name in MODELS:
        for act, pre in (("QInt8", True), ("QUInt8", False)):
            dst = OUT / f"{name}_ort_qdq_{act[1:].lower()}.onnx"
            quantize_qdq(OUT / f"{name}_ts13.onnx", dst, act, pre)
            made.append(dst)
    return made


class BiLstm(nn.Module):
    """A bidirectional LSTM (batch first) and a Linear on its last step (both directions)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 8, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1])


LSTM_OUT = OUT.parent / "lstm_models"


def export_lstm() -> list[pathlib.Path]:
    """torch.nn.LSTM(bidirectional=True) from both exporters (tests/frontend/test_lstm_onnx.py),
    in their own folder: the LSTM has no QDQ variant."""
    LSTM_OUT.mkdir(exist_ok=True)
    torch.manual_seed(0)
    model = BiLstm().eval()
    x = torch.randn(1, 6, 5)
    made = []
    for tag, kw in {"ts14": dict(dynamo=False, opset_version=14),
                    "dynamo18": dict(dynamo=True, opset_version=18, external_data=False)}.items():
        path = LSTM_OUT / f"bilstm_{tag}.onnx"
        torch.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"], **kw)
        made.append(path)
    return made


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for path in export_float() + export_qdq() + export_lstm():
        print(f"{path.relative_to(OUT.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
