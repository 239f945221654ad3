"""ONNX LeakyRelu and Elu — each added with one IR registry entry (ir/ops/eltwise.py) and one
frontend function (frontend/onnx_ops.py), nothing else: the float import matches onnxruntime,
the int8 build (a lookup table) is within a quantization step of it, host C equals the golden
model, and batch pinning accepts it."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.frontend import load_onnx

from .util import check_float, make_model, rand, session

OPS = {"LeakyRelu": ("leaky_relu", 0.1), "Elu": ("elu", 0.7)}     # ONNX op: IR op, alpha


@pytest.fixture(params=sorted(OPS))
def onnx_op(request) -> str:
    return request.param


def _model(op: str, batch: int = 1):
    nodes = [h.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
             h.make_node(op, ["c"], ["y"], alpha=OPS[op][1])]
    return make_model(nodes, {"x": [batch, 3, 6, 6]}, ["y"], {"W": rand(4, 3, 3, 3, seed=1) * 0.3})


def test_float_import_matches_onnxruntime(onnx_op):
    g = check_float(_model(onnx_op))
    assert [n.op for n in g.nodes if n.op != "transpose"] == ["conv2d", OPS[onnx_op][0]]


def test_int8_build_matches_onnxruntime_and_host_c(onnx_op, tmp_path):
    model = _model(onnx_op)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(3, 6, 6, seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None)
    assert [n.op for n in m.graph.nodes if n.op != "transpose"] == ["conv2d", "lut"]
    x = rand(1, 3, 6, 6, seed=99)
    want = session(model).run(None, {"x": x})[0]
    got = m.interpret(x)
    lut = next(n for n in m.graph.nodes if n.op == "lut")
    step = max(lut.inputs[0].q.s, lut.outputs[0].q.s)    # int8 steps of the table's ends
    assert np.abs(got - want).max() <= 3 * step, (np.abs(got - want).max(), step)
    xq = m.inputs[0].quantize(x)
    np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))


@pytest.mark.parametrize("batch", [3])
def test_batch_pinning_derives_the_rule(onnx_op, batch):
    g = load_onnx(_model(onnx_op, batch), input_shapes={"x": (1, 3, 6, 6)})
    assert g.inputs[0].shape[0] == 1
