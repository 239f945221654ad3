"""Random small float ONNX graphs for property tests (hypothesis strategies), and a host
builder that compiles many tinyc models into one cffi extension.

A graph is a chain of layers on an NCHW input, some of them branching and joining again:
conv (any kernel 1..3, stride 1..2, asymmetric pads, with or without bias, Relu / Relu6),
depthwise conv, max / average pooling (pads not counted), residual add (x + conv(x)), two-branch
add (conv(x) + depthwise(x)), global average pooling, and a fully connected head (Flatten + Gemm,
or MatMul + Add). Weights are drawn at random scales, calibration data at random ranges and
offsets, so scales, zero points and requantization multipliers vary widely.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper


@dataclass
class Net:
    """An ONNX graph being drawn: nodes, initializers, the current tensor and its shape."""
    rng: np.random.Generator
    shape: tuple[int, int, int, int]
    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    t: str = "x"
    n: int = 0
    log: list = field(default_factory=list)

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, base: str, a: np.ndarray) -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(a.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def weights(self, shape, gain: float) -> np.ndarray:
        fan_in = int(np.prod(shape[1:]))
        return self.rng.normal(0.0, gain / np.sqrt(fan_in), shape)


def _out(size: int, k: int, s: int, p0: int, p1: int) -> int:
    return (size + p0 + p1 - k) // s + 1


@st.composite
def conv_params(draw, net: Net, depthwise: bool = False, same: bool = False):
    c, h, w = net.shape[1:]
    if same:
        return dict(k=3, s=1, pads=(1, 1, 1, 1), cout=c)
    k = draw(st.integers(1, min(3, h + 2, w + 2)))
    s = draw(st.integers(1, 2))
    pads = tuple(draw(st.integers(0, k - 1)) for _ in range(4))
    if _out(h, k, s, pads[0], pads[2]) < 1 or _out(w, k, s, pads[1], pads[3]) < 1:
        pads = (k - 1,) * 4
    cout = c if depthwise else draw(st.integers(1, 6))
    return dict(k=k, s=s, pads=pads, cout=cout)


def conv(net: Net, x: str, p: dict, gain: float, bias: bool, act: str,
         depthwise: bool = False) -> str:
    c = net.shape[1]
    k, s, (t, l, b, r), cout = p["k"], p["s"], p["pads"], p["cout"]
    w = net.weights((cout, 1 if depthwise else c, k, k), gain)
    ins = [x, net.const("w", w)] + ([net.const("b", net.rng.normal(0, 0.2 * gain, cout))]
                                    if bias else [])
    y = net.node("Conv", ins, kernel_shape=[k, k], strides=[s, s], pads=[t, l, b, r],
                 group=c if depthwise else 1)
    net.shape = (1, cout, _out(net.shape[2], k, s, t, b), _out(net.shape[3], k, s, l, r))
    if act == "relu":
        y = net.node("Relu", [y])
    elif act == "relu6":
        y = net.node("Clip", [y, net.const("lo", np.array(0.0)), net.const("hi", np.array(6.0))])
    return y


@st.composite
def layer(draw, net: Net) -> None:
    kind = draw(st.sampled_from(["conv", "dw", "maxpool", "avgpool", "residual", "branch"]))
    gain = draw(st.sampled_from([0.05, 0.5, 1.0, 2.0, 8.0]))
    act = draw(st.sampled_from(["none", "relu", "relu6"]))
    bias = draw(st.booleans())
    net.log.append((kind, gain, act, bias))
    if kind in ("conv", "dw"):
        p = draw(conv_params(net, depthwise=kind == "dw"))
        net.t = conv(net, net.t, p, gain, bias, act, depthwise=kind == "dw")
    elif kind in ("maxpool", "avgpool"):
        h, w = net.shape[2:]
        k = draw(st.integers(1, min(3, h, w)))
        s = draw(st.integers(1, 3))
        pads = [draw(st.integers(0, k // 2)) for _ in range(4)]
        op = "MaxPool" if kind == "maxpool" else "AveragePool"
        net.t = net.node(op, [net.t], kernel_shape=[k, k], strides=[s, s], pads=pads)
        net.shape = (1, net.shape[1], _out(h, k, s, pads[0], pads[2]),
                     _out(w, k, s, pads[1], pads[3]))
    else:
        x, shape = net.t, net.shape
        a = conv(net, x, draw(conv_params(net, same=True)), gain, bias, "none")
        if kind == "residual":
            b = x
        else:
            net.shape = shape
            b = conv(net, x, draw(conv_params(net, depthwise=True, same=True)), gain, bias,
                     "none", depthwise=True)
        net.t = net.node("Add", [a, b])
        if act == "relu":
            net.t = net.node("Relu", [net.t])


@st.composite
def head(draw, net: Net) -> None:
    kind = draw(st.sampled_from(["none", "gap_gemm", "flatten_gemm", "matmul_add"]))
    net.log.append(("head", kind))
    if kind == "none":
        return
    c, h, w = net.shape[1:]
    if kind == "gap_gemm":
        net.t = net.node("Flatten", [net.node("GlobalAveragePool", [net.t])])
        k = c
    else:
        net.t = net.node("Flatten", [net.t])
        k = c * h * w
    n = draw(st.integers(1, 6))
    gain = draw(st.sampled_from([0.1, 1.0, 4.0]))
    if kind == "matmul_add":
        y = net.node("MatMul", [net.t, net.const("w", net.weights((n, k), gain).T)])
        net.t = net.node("Add", [y, net.const("b", net.rng.normal(0, 0.1, n))])
    else:
        net.t = net.node("Gemm", [net.t, net.const("w", net.weights((n, k), gain)),
                                  net.const("b", net.rng.normal(0, 0.1, n))], transB=1)
    if draw(st.booleans()):
        net.t = net.node("Relu", [net.t])
    net.shape = (1, n, 1, 1)


@dataclass
class Case:
    model: onnx.ModelProto
    calib: np.ndarray          # [N, C, H, W] float32
    x: np.ndarray              # [M, 1, C, H, W] int8 test inputs
    log: list

    def __repr__(self) -> str:
        return f"Case(input {list(self.calib.shape[1:])}, layers {self.log})"


@st.composite
def graphs(draw) -> Case:
    seed = draw(st.integers(0, 2**32 - 1))
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 8)), draw(st.integers(1, 8))
    net = Net(np.random.default_rng(seed), (1, c, h, w))
    for _ in range(draw(st.integers(1, 4))):
        draw(layer(net))
    draw(head(net))
    if not net.nodes:
        net.t = net.node("Relu", ["x"])
    g = helper.make_graph(net.nodes, "random", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, c, h, w])], [helper.make_tensor_value_info(
            net.t, TensorProto.FLOAT, None)], net.inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    model = onnx.shape_inference.infer_shapes(model)
    lo = draw(st.sampled_from([-10.0, -1.0, -0.1, 0.0, 0.5]))
    span = draw(st.sampled_from([0.01, 0.5, 2.0, 20.0]))
    calib = net.rng.uniform(lo, lo + span, (3, c, h, w)).astype(np.float32)
    x = net.rng.integers(-128, 128, (4, 1, c, h, w)).astype(np.int8)
    return Case(model, calib, x, net.log)


# -- many models, one extension -------------------------------------------------------------

def build_many(c_dirs: list[Path], cache_dir, cflags=()) -> list:
    """HostModels for several emitted C folders, compiled into one cffi extension (one
    compiler run instead of one per model). Models must have distinct names; files with the
    same name and content (shared runtime kernels) are compiled once. The build is cached by
    content in the order of the files' paths: give the folders stable, sorted names."""
    from tinyc.backend_c import host
    headers, sources, seen = [], [], {}
    for d in c_dirs:
        d = Path(d).resolve()
        hs = [h for h in sorted(d.glob("*.h")) if "_invoke(" in h.read_text(errors="replace")]
        headers.append((d, hs[0]))
        for f in sorted(d.rglob("*.c")):
            key = (f.name, hashlib.sha256(f.read_bytes()).hexdigest())
            if key not in seen:
                seen[key] = f
                sources.append(f)
    parsed = [host._parse_header(h.read_text(encoding="ascii")) for _, h in headers]
    names = [p[0] for p in parsed]
    assert len(set(names)) == len(names), f"model names must differ: {names}"
    cdef = "\n".join(p[1] for p in parsed)
    source = "".join(f'#include "{h.name}"\n' for _, h in headers)   # no paths: cacheable
    depends = [f for d, _ in headers for f in sorted(d.rglob("*.h"))]
    module = host.build_module("batch", cdef, source, sources, [d for d, _ in headers],
                               (*host.DEFAULT_CFLAGS, *cflags), cache_dir, depends=depends)
    return [host.HostModel(module, p[0], p[2], p[3], d) for p, (d, _) in zip(parsed, headers)]
