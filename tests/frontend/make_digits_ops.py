"""Make the digits classifiers of tests/frontend/digits_models/ (run once; the tests need no torch).

    pip install torch==2.13.0 onnxscript     # onnxscript: for the dynamo exporter
    python tests/frontend/make_digits_ops.py

Five small PyTorch classifiers, trained (seeded, a few epochs, CPU) on the bundled digits data
(examples/digits/train.npz), that together use every op issue 15 added. Each is exported with
both PyTorch exporters: TorchScript (`dynamo=False`, opset 17) and dynamo (opset 18). The float
accuracy each file reaches on test.npz (onnxruntime) is printed and written to accuracy.txt;
tests/frontend/test_digits_exporters.py recomputes it.

- conv1d: the 8x8 image as 8 rows of 8 (rank 3): Conv1d + LeakyReLU, MaxPool1d, Conv1d + ELU,
  AvgPool1d, Linear;
- conv2d: Conv2d + PReLU, grouped Conv2d + Hardswish, MaxPool2d, ConvTranspose2d + SiLU,
  interpolate (nearest; bilinear with align_corners False and True), Conv3d + MaxPool3d on the
  image as a 1x8x8 volume, softmax over the channel axis, mean / amax / sum over chosen axes;
- attention: rows as 8 tokens, Linear, LayerNorm, q/k/v by torch.chunk, MatMul of two
  activations, softmax over the last axis, torch.split, slicing, index_select, GELU (tanh),
  mean over the tokens;
- recurrent: bidirectional LSTM over the 8 rows, GRU, the last step;
- mlp: LeakyReLU, ELU, SELU, Softplus, GELU (erf), Mish, SiLU, Hardswish, PReLU.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "digits_models"
DIGITS = HERE.parent.parent / "examples" / "digits"


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(8, 24, 3, padding=1)
        self.c2 = nn.Conv1d(24, 24, 3, padding=1)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        x = x.reshape(x.shape[0], 8, 8)
        x = F.max_pool1d(F.leaky_relu(self.c1(x), 0.1), 2)
        x = F.avg_pool1d(F.elu(self.c2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class Conv2dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.act1 = nn.PReLU(8)
        self.g = nn.Conv2d(8, 8, 3, padding=1, groups=4)
        self.t = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.c3 = nn.Conv3d(1, 4, (1, 3, 3), padding=(0, 1, 1))
        self.c4 = nn.Conv2d(8 + 8 + 4, 12, 3, padding=1)
        self.fc = nn.Linear(12 + 4 + 12, 10)

    def forward(self, x):
        a = self.act1(self.c1(x))                                   # 8x8x8
        b = F.max_pool2d(F.hardswish(self.g(a)), 2)                 # 8x4x4
        c = F.silu(self.t(b))                                       # 8x8x8
        n = F.interpolate(b, scale_factor=2.0, mode="nearest")      # 8x8x8
        up = F.interpolate(b, size=(8, 8), mode="bilinear", align_corners=False)
        up2 = F.interpolate(b, size=(8, 8), mode="bilinear", align_corners=True)
        v = F.max_pool3d(torch.relu(self.c3(x.unsqueeze(1))), (1, 2, 2))   # 4x1x4x4
        v = F.interpolate(v.squeeze(2), size=(8, 8), mode="nearest")       # 4x8x8
        h = torch.cat([c + n, up + up2, v], dim=1)
        h = torch.relu(self.c4(h))                                  # 12x8x8
        w = torch.softmax(h, dim=1)                                 # softmax over channels
        f1 = (h * w).mean(dim=(2, 3))                               # 12
        f2 = h.amax(dim=(1, 3)).reshape(-1, 2, 4).sum(dim=1)        # 4 (rows folded)
        f3 = h.amax(dim=(2, 3))                                     # 12
        return self.fc(torch.cat([f1, f2, f3], dim=1))


class AttentionNet(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.d = d
        self.emb = nn.Linear(8, d)
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1, self.ff2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)
        self.register_buffer("pick", torch.tensor([0, 2, 4, 6, 7]))
        self.fc = nn.Linear(d + d // 2 + 5 * d, 10)

    def forward(self, x):
        t = self.emb(x.reshape(x.shape[0], 8, 8))                   # tokens: rows
        q, k, v = torch.chunk(self.qkv(self.ln1(t)), 3, dim=-1)
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d), dim=-1)
        t = t + att @ v
        t = t + self.ff2(F.gelu(self.ff1(self.ln2(t)), approximate="tanh"))
        lo, hi = torch.split(t, [self.d // 2, self.d // 2], dim=-1)
        g = t.mean(dim=1)
        s = (lo[:, 1:7] + hi[:, 1:7]).mean(dim=1)                   # slicing
        sel = torch.index_select(t, 1, self.pick).flatten(1)
        return self.fc(torch.cat([g, s, sel], dim=1))


class RecurrentNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(32, 16, batch_first=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        s = x.reshape(x.shape[0], 8, 8)                             # 8 rows as a sequence
        h = self.lstm(s)[0]
        h = self.gru(h)[0]
        return self.fc(h[:, -1])


class ActMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(64, 40)] + [nn.Linear(40, 40) for _ in range(8)])
        self.prelu = nn.PReLU()
        self.out = nn.Linear(40, 10)

    def forward(self, x):
        acts = [lambda v: F.leaky_relu(v, 0.05), F.elu, F.selu, F.softplus, F.gelu, F.mish,
                F.silu, F.hardswish, self.prelu]
        x = torch.flatten(x, 1)
        for fc, act in zip(self.fcs, acts):
            x = act(fc(x))
        return self.out(x)


NETS = {"conv1d": Conv1dNet, "conv2d": Conv2dNet, "attention": AttentionNet,
        "recurrent": RecurrentNet, "mlp": ActMlp}
EXPORTS = {"ts17": dict(dynamo=False, opset_version=17),
           "dynamo18": dict(dynamo=True, opset_version=18, external_data=False)}


def load(name):
    with np.load(DIGITS / f"{name}.npz") as d:
        return {k: d[k] for k in d}


def train(model: nn.Module, epochs: int = 30) -> nn.Module:
    tr = load("train")
    x, y = torch.from_numpy(tr["input"]), torch.from_numpy(tr["label"])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(32):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def ort_accuracy(path: pathlib.Path) -> float:
    import onnxruntime as ort
    te = load("test")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    pred = [sess.run(None, {"x": s[None]})[0].argmax() for s in te["input"]]
    return float((np.array(pred) == te["label"]).mean() * 100)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    torch.set_num_threads(1)
    lines = []
    for name, cls in NETS.items():
        torch.manual_seed(0)
        model = train(cls())
        x = torch.from_numpy(load("test")["input"][:1])
        for tag, kw in EXPORTS.items():
            path = OUT / f"{name}_{tag}.onnx"
            torch.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"],
                              **kw)
            line = f"{path.name}: {path.stat().st_size} bytes, float top-1 " \
                   f"{ort_accuracy(path):.2f} % (onnxruntime, test.npz)"
            print(line, flush=True)
            lines.append(line)
    (OUT / "accuracy.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
