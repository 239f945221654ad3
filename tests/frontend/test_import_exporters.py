"""Models written by mainstream exporters (made by make_models.py, stored in models/):
PyTorch TorchScript (opset 13, 17, and 13 without constant folding), PyTorch dynamo (opset 18),
and ONNX Runtime's quantize_static (QDQ, per-channel, int8 and uint8 activations)."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from tinyc.frontend import load_onnx
from tinyc.ir import DType, verify

from .util import check_float, interpret_qdq, ops_of, random_feeds, session

MODELS = pathlib.Path(__file__).resolve().parent / "models"
FLOAT = sorted(p.name for p in MODELS.glob("*.onnx") if "_qdq" not in p.name)
QDQ = sorted(p.name for p in MODELS.glob("*_qdq_*.onnx"))


def test_models_are_there():
    assert len(FLOAT) == 16 and len(QDQ) == 8, "run tests/frontend/make_models.py"


@pytest.mark.parametrize("name", FLOAT)
def test_float_export_matches_onnxruntime(name):
    g = check_float(MODELS / name)
    for n in g.nodes:                     # layout changes only at the graph input
        if n.op == "transpose":
            assert n.inputs[0] in g.inputs, f"{n} is not at the input"
    if name.startswith("graynet"):        # C == 1: NCHW -> NHWC is a free reshape
        assert "transpose" not in ops_of(g)
    if name.startswith("convnet"):
        assert ops_of(g).count("transpose") == 1


@pytest.mark.parametrize("name", QDQ)
def test_ort_qdq_model(name):
    path = MODELS / name
    g = verify(load_onnx(path))
    assert g.io_quant == {}               # float I/O: quantize_static keeps the model's I/O
    for node in g.nodes:
        if node.op in ("conv2d", "depthwise_conv2d", "fully_connected"):
            assert node.inputs[0].q is not None
            w, b = node.inputs[1], node.inputs[2]
            assert w.dtype is DType.INT8 and w.q.axis == (3 if "depth" in node.op else 0)
            assert len(w.q.scale) == w.shape[w.q.axis] and set(w.q.zero_point) == {0}
            if b.dtype is not DType.FLOAT32:      # a MatMul+Add bias may be a (u)int8 tensor
                assert b.dtype is DType.INT32 and len(b.q.scale) == b.shape[0]
    sess = session(path)
    y = g.outputs[0]
    for seed in range(3):
        feeds = random_feeds(g, seed)
        want = sess.run(None, feeds)[0]
        got = interpret_qdq(g, feeds)[0]
        tol = 2 * y.q.s if y.q else 0.01 * np.abs(want).max()      # mlp ends in a float tanh
        assert np.abs(got - want).max() <= tol
