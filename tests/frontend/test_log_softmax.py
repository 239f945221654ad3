"""ONNX LogSoftmax — the IR op log_softmax (ir/ops/softmax.py; TFLite's LOG_SOFTMAX maps to
it, bit-exact with TFLite Micro: tests/tflite): the float import matches onnxruntime, the
int8 build (output scale 16/256, zero point 127) is within a few quantization steps of it
and its host C equals the golden model."""
from __future__ import annotations

import numpy as np
from onnx import helper as h

import tinyc

from .util import check_float, make_model, rand, session


def _model():
    nodes = [h.make_node("Gemm", ["x", "W"], ["z"], transB=1),
             h.make_node("LogSoftmax", ["z"], ["y"], axis=-1)]
    return make_model(nodes, {"x": [1, 16]}, ["y"], {"W": rand(10, 16, seed=3) * 0.5})


def test_float_import_matches_onnxruntime():
    g = check_float(_model())
    assert "log_softmax" in [n.op for n in g.nodes]


def test_int8_build_matches_onnxruntime_and_host_c(tmp_path):
    model = _model()
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(16, seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None)
    node = next(n for n in m.graph.nodes if n.op == "log_softmax")
    assert (node.outputs[0].q.s, node.outputs[0].q.zp) == (16 / 256, 127)
    for seed in (99, 100):
        x = rand(1, 16, seed=seed)
        want = session(model).run(None, {"x": x})[0]
        got = m.interpret(x)
        keep = want > -7.5                     # above the int8 range's floor (-8)
        assert np.abs(got - want)[keep].max() <= 3 * 16 / 256
        xq = m.inputs[0].quantize(x)
        np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
