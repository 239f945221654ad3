"""Small float ONNX models for tinyc's tests, built with onnx.helper (no torch), and their data.

Each builder returns an `onnx.ModelProto` that passes `onnx.checker.check_model(full_check=True)`,
with weights from a seeded RNG (He init, so activations stay O(1)) and a classifier head fitted
to the data (so that test samples spread over the classes); the same seed gives the same model.
Batch is fixed to 1, layout NCHW, as exporters write it. Inputs are named "input", outputs "probs".

    cnn()       Conv+BatchNormalization+Relu, depthwise Conv (group), MaxPool, AveragePool,
                Flatten, Gemm, Softmax                                     (opset 13)
    cnn_gap()   the same body with GlobalAveragePool + Reshape instead of AveragePool + Flatten
    mlp()       Gemm, MatMul+Add, Relu, Clip(0, 6) (ReLU6), Softmax         (opset 13)
    resnet()    Pad, Conv, residual Add + Relu, Sigmoid gate with Mul, HardSwish, Concat,
                GlobalAveragePool, Flatten, Gemm, Softmax                  (opset 14: HardSwish)

Data: `calib_data(model, n, seed)` and `test_data(model, n, seed)` give `{input name: float32
array [n, *shape[1:]]}` (the .npz layout tinyc reads: one array per input, samples along axis 0),
drawn inside the model's input range (metadata "tinyc.input_range", default [-1, 1]) with some
structure (smooth patterns, per-sample brightness) so that different samples get different classes.
Calibration and test streams never share a seed. `run_onnxruntime` / `run_reference` evaluate a
model sample by sample and return `{output name: array [n, *shape[1:]]}`.
"""
from __future__ import annotations

import os
import pathlib
from typing import Callable, Mapping, Union

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 8                      # readable by every onnxruntime >= 1.10
INPUT_RANGE_KEY = "tinyc.input_range"

ModelLike = Union[onnx.ModelProto, str, os.PathLike]


class _Builder:
    """Accumulates nodes and initializers; names are unique and readable (conv1.w, conv1 ...)."""

    def __init__(self, seed: int, inp: tuple[str, list[int]], opset: int = 13,
                 input_range: tuple[float, float] = (-1.0, 1.0)):
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.inp = inp
        self.opset = opset
        self.input_range = input_range
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    # -- layers ---------------------------------------------------------------------------
    def conv(self, x: str, name: str, cin: int, cout: int, k: int, *, stride: int = 1,
             pad: int | None = None, group: int = 1, bias: bool = True, gain: float = 2.0) -> str:
        pad = k // 2 if pad is None else pad
        fan_in = (cin // group) * k * k
        w = self.rng.normal(0.0, np.sqrt(gain / fan_in), (cout, cin // group, k, k))
        inputs = [x, self.const(f"{name}.w", w.astype(np.float32))]
        if bias:
            inputs.append(self.const(f"{name}.b", self.rng.normal(0.0, 0.05, cout).astype(np.float32)))
        return self.node("Conv", inputs, name, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=group, dilations=[1, 1])

    def batchnorm(self, x: str, name: str, c: int) -> str:
        r = self.rng
        scale = r.uniform(0.5, 1.5, c).astype(np.float32)
        beta = r.normal(0.0, 0.1, c).astype(np.float32)
        mean = r.normal(0.0, 0.1, c).astype(np.float32)
        var = r.uniform(0.5, 1.5, c).astype(np.float32)
        ins = [x] + [self.const(f"{name}.{p}", a) for p, a in
                     (("scale", scale), ("bias", beta), ("mean", mean), ("var", var))]
        return self.node("BatchNormalization", ins, name, epsilon=1e-5)

    def gemm(self, x: str, name: str, cin: int, cout: int, gain: float = 2.0) -> str:
        """Gemm as exporters write a Linear layer: B stored [out, in], transB=1."""
        w = self.rng.normal(0.0, np.sqrt(gain / cin), (cout, cin)).astype(np.float32)
        b = self.rng.normal(0.0, 0.05, cout).astype(np.float32)
        return self.node("Gemm", [x, self.const(f"{name}.w", w), self.const(f"{name}.b", b)], name,
                         transB=1)

    def head(self, x: str, name: str, cin: int, cout: int, logit_std: float = 2.0) -> str:
        """The classifier Gemm, fitted to the data so that its logits spread over the classes.

        Random weights on random-ish data give logits dominated by a common offset: every
        sample lands in one class, and float-vs-int8 agreement would be trivially perfect.
        So the features `x` are computed (onnx.reference) on samples from a stream of their
        own, centred by the bias, and each class's weights scaled to a logit std of
        `logit_std` across samples. Deterministic like everything else here.
        """
        body = helper.make_model(
            helper.make_graph(
                list(self.nodes), "body",
                [helper.make_tensor_value_info(self.inp[0], TensorProto.FLOAT, self.inp[1])],
                [helper.make_empty_tensor_value_info(x)], initializer=list(self.inits)),
            opset_imports=[helper.make_opsetid("", self.opset)], ir_version=IR_VERSION)
        samples = _samples(np.random.default_rng([0, self.seed]), 64, self.inp[1][1:],
                           *self.input_range)
        feats = run_reference(body, {self.inp[0]: samples})[x].reshape(64, -1)
        mu = feats.mean(axis=0)
        w = self.rng.normal(0.0, np.sqrt(1.0 / cin), (cout, cin))
        spread = ((feats - mu) @ w.T).std(axis=0) + 1e-6
        w = w * (logit_std / spread)[:, None]
        b = -w @ mu + self.rng.normal(0.0, 0.1, cout)
        return self.node("Gemm", [x, self.const(f"{name}.w", w.astype(np.float32)),
                                  self.const(f"{name}.b", b.astype(np.float32))], name, transB=1)

    def matmul_add(self, x: str, name: str, cin: int, cout: int, gain: float = 2.0) -> str:
        """MatMul + Add as tf2onnx writes a dense layer: B stored [in, out]."""
        w = self.rng.normal(0.0, np.sqrt(gain / cin), (cin, cout)).astype(np.float32)
        b = self.rng.normal(0.0, 0.05, cout).astype(np.float32)
        mm = self.node("MatMul", [x, self.const(f"{name}.w", w)], f"{name}.matmul")
        return self.node("Add", [mm, self.const(f"{name}.b", b)], name)

    def model(self, graph_name: str, out: tuple[str, list[int]]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info(self.inp[0], TensorProto.FLOAT, self.inp[1])],
            [helper.make_tensor_value_info(out[0], TensorProto.FLOAT, out[1])],
            initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="tinyc tests/models.py", ir_version=IR_VERSION)
        lo, hi = self.input_range
        helper.set_model_props(m, {INPUT_RANGE_KEY: f"{lo},{hi}"})
        onnx.checker.check_model(m, full_check=True)
        return m


# -- the models -------------------------------------------------------------------------------

def cnn(seed: int = 0, *, global_pool: bool = False) -> onnx.ModelProto:
    """[1,3,16,16] -> [1,10] probabilities.

    conv1 3x3 3->8 +BN+Relu, dw 3x3 (group 8) +BN+Relu, pw 1x1 8->16 +Relu, MaxPool 2x2,
    conv3 3x3 stride 2 16->16 +Relu, then AveragePool 2x2 + Flatten + Gemm(64->10)
    (or, with global_pool, GlobalAveragePool + Reshape + Gemm(16->10)), Softmax.
    """
    b = _Builder(seed, ("input", [1, 3, 16, 16]))
    x = "input"
    x = b.node("Relu", [b.batchnorm(b.conv(x, "conv1", 3, 8, 3, bias=False), "bn1", 8)], "relu1")
    x = b.node("Relu", [b.batchnorm(b.conv(x, "dw2", 8, 8, 3, group=8), "bn2", 8)], "relu2")
    x = b.node("Relu", [b.conv(x, "pw2", 8, 16, 1)], "relu2b")
    x = b.node("MaxPool", [x], "maxpool", kernel_shape=[2, 2], strides=[2, 2])         # 16x8x8
    x = b.node("Relu", [b.conv(x, "conv3", 16, 16, 3, stride=2)], "relu3")             # 16x4x4
    if global_pool:
        x = b.node("GlobalAveragePool", [x], "gap")                                     # 16x1x1
        x = b.node("Reshape", [x, b.const("flat_shape", np.array([1, 16], np.int64))], "flat")
        x = b.head(x, "fc", 16, 10)
    else:
        x = b.node("AveragePool", [x], "avgpool", kernel_shape=[2, 2], strides=[2, 2])  # 16x2x2
        x = b.node("Flatten", [x], "flat", axis=1)
        x = b.head(x, "fc", 64, 10)
    b.node("Softmax", [x], "probs", axis=-1)
    return b.model("cnn_gap" if global_pool else "cnn", ("probs", [1, 10]))


def cnn_gap(seed: int = 0) -> onnx.ModelProto:
    return cnn(seed, global_pool=True)


def mlp(seed: int = 0) -> onnx.ModelProto:
    """[1,64] -> [1,10] probabilities: Gemm 64->32 +Relu, MatMul+Add 32->32 +Clip(0,6), Gemm, Softmax."""
    b = _Builder(seed, ("input", [1, 64]), input_range=(0.0, 1.0))
    x = b.node("Relu", [b.gemm("input", "fc1", 64, 32)], "relu1")
    x = b.matmul_add(x, "fc2", 32, 32, gain=80.0)   # wide enough that the 6 clips
    lo, hi = b.const("relu6.min", np.array(0.0, np.float32)), b.const("relu6.max", np.array(6.0, np.float32))
    x = b.node("Clip", [x, lo, hi], "relu6")
    x = b.head(x, "fc3", 32, 10)
    b.node("Softmax", [x], "probs", axis=-1)
    return b.model("mlp", ("probs", [1, 10]))


def resnet(seed: int = 0) -> onnx.ModelProto:
    """[1,3,16,16] -> [1,10] probabilities; a residual block, a gated branch and a concat.

    Pad 1 + conv0 3x3 pad 0 3->8 +Relu = a
    a -> conv 3x3 +Relu -> conv 3x3 -> Add(a) -> Relu = r
    r * Sigmoid(conv 1x1 r) = g        HardSwish(conv 1x1 r) = h
    Concat(g, h) -> conv 3x3 stride 2 16->16 +Relu -> Add(+ conv 1x1 stride 2 projection of the
    concat) -> Relu -> GlobalAveragePool -> Flatten -> Gemm 16->10 -> Softmax
    """
    b = _Builder(seed, ("input", [1, 3, 16, 16]), opset=14)
    x = b.node("Pad", ["input", b.const("pad0.pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))],
               "pad0", mode="constant")                                                 # 3x18x18
    a = b.node("Relu", [b.conv(x, "conv0", 3, 8, 3, pad=0)], "relu0")                  # 8x16x16
    y = b.node("Relu", [b.conv(a, "res1a", 8, 8, 3)], "res1a.relu")
    y = b.conv(y, "res1b", 8, 8, 3, gain=1.0)
    r = b.node("Relu", [b.node("Add", [y, a], "res1.add")], "res1.relu")
    gate = b.node("Sigmoid", [b.conv(r, "gate", 8, 8, 1, gain=1.0)], "gate.sigmoid")
    g = b.node("Mul", [r, gate], "gated")
    h = b.node("HardSwish", [b.conv(r, "branch", 8, 8, 1)], "branch.hswish")
    x = b.node("Concat", [g, h], "concat", axis=1)                                      # 16x16x16
    y = b.node("Relu", [b.conv(x, "down", 16, 16, 3, stride=2)], "down.relu")          # 16x8x8
    y = b.conv(y, "down2", 16, 16, 3, gain=1.0)
    s = b.conv(x, "proj", 16, 16, 1, stride=2, pad=0, gain=1.0)
    x = b.node("Relu", [b.node("Add", [y, s], "res2.add")], "res2.relu")
    x = b.node("GlobalAveragePool", [x], "gap")
    x = b.node("Flatten", [x], "flat", axis=1)
    x = b.head(x, "fc", 16, 10)
    b.node("Softmax", [x], "probs", axis=-1)
    return b.model("resnet", ("probs", [1, 10]))


BUILDERS: dict[str, Callable[..., onnx.ModelProto]] = {
    "cnn": cnn, "cnn_gap": cnn_gap, "mlp": mlp, "resnet": resnet,
}


def build(name: str, seed: int = 0) -> onnx.ModelProto:
    return BUILDERS[name](seed)


def save(model: onnx.ModelProto, path: Union[str, os.PathLike]) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


# -- data -------------------------------------------------------------------------------------

def _as_model(model: Union[ModelLike, str]) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, str) and model in BUILDERS:
        return BUILDERS[model]()
    return onnx.load(str(model))


def graph_inputs(model: ModelLike) -> list[tuple[str, list[int]]]:
    """(name, shape) of the real inputs (not initializers); unknown dims read as 1."""
    m = _as_model(model)
    inits = {t.name for t in m.graph.initializer}
    out = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in vi.type.tensor_type.shape.dim]
        out.append((vi.name, dims))
    return out


def input_range(model: ModelLike) -> tuple[float, float]:
    m = _as_model(model)
    for p in m.metadata_props:
        if p.key == INPUT_RANGE_KEY:
            lo, hi = (float(v) for v in p.value.split(","))
            return lo, hi
    return -1.0, 1.0


def _sample(rng: np.random.Generator, shape: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
    """One input sample with structure that survives pooling, inside [lo, hi].

    Images (C,H,W): a per-sample brightness per channel, a smooth low-resolution pattern
    (a 4x4 grid blown up to H x W) and some pixel noise. Vectors: a per-sample offset plus
    noise. Uniform noise alone would average out in global pooling and make every sample
    look the same to the classifier head.
    """
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    if len(shape) == 3:
        c, h, w = shape
        grid = rng.uniform(-1.0, 1.0, (c, 4, 4))
        smooth = np.kron(grid, np.ones((-(-h // 4), -(-w // 4))))[:, :h, :w]
        z = 0.3 * rng.uniform(-1, 1, (c, 1, 1)) + 0.5 * smooth + 0.2 * rng.uniform(-1, 1, shape)
    else:
        z = 0.4 * rng.uniform(-1, 1) + 0.6 * rng.uniform(-1, 1, shape)
    return np.clip(mid + half * z, lo, hi)


def _samples(rng: np.random.Generator, n: int, shape, lo: float, hi: float) -> np.ndarray:
    return np.stack([_sample(rng, tuple(shape), lo, hi) for _ in range(n)]).astype(np.float32)


def _data(model: ModelLike, n: int, seed: int, stream: int) -> dict[str, np.ndarray]:
    m = _as_model(model)
    rng = np.random.default_rng([stream, seed])
    return {name: _samples(rng, n, shape[1:], *input_range(m)) for name, shape in graph_inputs(m)}


def calib_data(model: ModelLike, n: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """Calibration samples: {input name: float32 [n, *shape[1:]]}, as in a --calib .npz."""
    return _data(model, n, seed, stream=1)


def test_data(model: ModelLike, n: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Evaluation samples, never the same as calib_data's for any seeds."""
    return _data(model, n, seed, stream=2)


test_data.__test__ = False  # not a pytest test


def save_npz(path: Union[str, os.PathLike], data: Mapping[str, np.ndarray]) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **data)
    return path


# -- float references -------------------------------------------------------------------------

def _per_sample(run, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = len(next(iter(data.values())))
    outs: dict[str, list[np.ndarray]] = {}
    for i in range(n):
        for name, y in run({k: v[i:i + 1] for k, v in data.items()}).items():
            outs.setdefault(name, []).append(np.asarray(y))
    return {k: np.concatenate(v) for k, v in outs.items()}


def run_onnxruntime(model: ModelLike, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run `model` on each sample (batch 1) with onnxruntime; outputs stacked along axis 0."""
    import onnxruntime as ort

    m = _as_model(model)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return _per_sample(lambda feed: dict(zip(names, sess.run(names, feed))), data)


def _batchnorm_inference_op():
    """BatchNormalization in inference mode, overriding onnx.reference's own for opsets 9-13.

    onnx 1.23's reference BatchNormalization_9 takes the schema default momentum=0.9 as a
    request for training mode and normalises with blended batch statistics, so any opset<14
    model with BatchNormalization gets wrong outputs (onnx/onnx PR #8442 fixes it). A node with
    one output is inference mode: y = scale * (x - mean) / sqrt(var + eps) + bias.
    """
    from onnx.reference.op_run import OpRun

    class BatchNormalization(OpRun):
        op_domain = ""

        def _run(self, x, scale, bias, mean, var, epsilon=1e-5, momentum=None, training_mode=None,
                 **_legacy):
            if len(self.onnx_node.output) != 1 or training_mode:
                raise NotImplementedError("BatchNormalization in training mode")
            c = (-1,) + (1,) * (x.ndim - 2)
            eps = 1e-5 if epsilon is None else epsilon
            y = scale.reshape(c) * (x - mean.reshape(c)) / np.sqrt(var.reshape(c) + eps) + bias.reshape(c)
            return (y.astype(x.dtype),)

    return BatchNormalization


def run_reference(model: ModelLike, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run `model` on each sample with onnx's pure-numpy ReferenceEvaluator (BatchNormalization
    fixed, see _batchnorm_inference_op)."""
    from onnx.reference import ReferenceEvaluator

    m = _as_model(model)
    ev = ReferenceEvaluator(m, new_ops=[_batchnorm_inference_op()])
    names = [o.name for o in m.graph.output]
    return _per_sample(lambda feed: dict(zip(names, ev.run(names, feed))), data)
