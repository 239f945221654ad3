"""Issue 15's ops as PyTorch's two exporters write them, in trained digits classifiers.

tests/frontend/digits_models/: five PyTorch nets (make_digits_ops.py: conv1d, conv2d extras,
attention block, LSTM + GRU, activations MLP) trained on examples/digits, each exported by
TorchScript (opset 17) and dynamo (opset 18). For every file: tinyc.compile with calib.npz;
int8 top-1 on the 360 test digits within 1 point of the float file's top-1 by onnxruntime
(computed here); host C == interpret() on all 360 test inputs; QEMU == host C on a few inputs
for one file per net.
"""
from __future__ import annotations

import pathlib

import numpy as np
import onnx
import pytest

import tinyc

from .util import session

# slow: ten PyTorch exports compiled and run on all 360 test digits (~1.5 min): run by hand with `python -m pytest -m slow tests/frontend/test_digits_exporters.py` (CI stays under 30 minutes)
pytestmark = pytest.mark.slow

MODELS = pathlib.Path(__file__).resolve().parent / "digits_models"
NETS = ("conv1d", "conv2d", "attention", "recurrent", "mlp")
FILES = [f"{n}_{t}" for n in NETS for t in ("ts17", "dynamo18")]
QEMU_FILES = [f"{n}_{t}" for n, t in zip(NETS, ("dynamo18", "ts17", "dynamo18", "ts17",
                                                "dynamo18"))]
# IR ops each net must reach (so the file exercises the op it was made for)
OPS = {"conv1d": {"conv2d", "max_pool2d", "avg_pool2d", "lut"},
       "conv2d": {"conv3d", "max_pool3d", "prelu", "transpose_conv2d", "resize_nearest",
                  "resize_bilinear", "softmax", "reduce_max", "sum"},
       "attention": {"batch_matmul", "softmax", "layer_norm", "slice", "gather", "mean"},
       "recurrent": {"lstm", "gru"},
       "mlp": {"lut", "prelu"}}


@pytest.fixture(scope="module")
def digits(example_dir):
    with np.load(example_dir / "calib.npz") as c, np.load(example_dir / "test.npz") as t:
        return c["input"], t["input"], t["label"]


_compiled: dict = {}


def _compile(name: str, digits):
    if name not in _compiled:
        path = MODELS / f"{name}.onnx"
        _compiled[name] = tinyc.compile(path, calib={"x": digits[0]}, progress=None)
    return _compiled[name]


def test_files_are_small_and_from_both_exporters():
    for name in FILES:
        path = MODELS / f"{name}.onnx"
        assert path.stat().st_size < 100_000, (name, path.stat().st_size)
        m = onnx.load(str(path))
        opset = {o.domain: o.version for o in m.opset_import}[""]
        assert opset == (17 if name.endswith("ts17") else 18), (name, opset)
        assert m.producer_name == "pytorch", m.producer_name


@pytest.mark.parametrize("name", FILES)
def test_int8_accuracy_within_one_point_and_host_c_equals_interpret(name, digits):
    _, x, y = digits
    sess = session(onnx.load(str(MODELS / f"{name}.onnx")))
    flt = np.array([sess.run(None, {"x": s[None]})[0].argmax() for s in x])
    m = _compile(name, digits)
    xq = m.inputs[0].quantize(x)
    want = m.interpret(xq, batch=True)
    q = np.asarray(want).reshape(len(x), -1).argmax(1)
    acc_f, acc_q = (flt == y).mean() * 100, (q == y).mean() * 100
    assert acc_f >= 90, (name, acc_f)
    assert acc_q >= acc_f - 1.0, (name, acc_f, acc_q)
    ops = {n.op for n in m.graph.nodes}
    missing = OPS[name.split("_")[0]] - ops
    assert not missing, (name, missing, sorted(ops))
    np.testing.assert_array_equal(m.run_host(xq, batch=True), want)


@pytest.mark.parametrize("name", QEMU_FILES)
def test_qemu_equals_host_c(name, digits):
    m = _compile(name, digits)
    xq = m.inputs[0].quantize(digits[1][:3])
    host = m.run_host(xq, batch=True)
    np.testing.assert_array_equal(host, m.interpret(xq, batch=True))
    np.testing.assert_array_equal(m.run_qemu(xq, batch=True), host)


def test_mish_node_matches_onnxruntime():
    """ONNX Mish (opset 18, as the dynamo exporter writes it) imports as x tanh(softplus(x))."""
    from onnx import helper as h

    from .util import check_float
    g = h.make_graph([h.make_node("Mish", ["x"], ["y"])], "mish",
                     [h.make_tensor_value_info("x", 1, [1, 4, 16])],
                     [h.make_tensor_value_info("y", 1, [1, 4, 16])])
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 18)])
    model.ir_version = 9
    graph = check_float(model, rtol=1e-5)
    assert [n.op for n in graph.nodes if n.op != "reshape"] == ["elementwise_fn"]
