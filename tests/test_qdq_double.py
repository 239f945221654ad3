"""Issue 15: one tensor quantized twice with two (scale, zero point) for two consumers (pt2e's
XNNPACKQuantizer writes this): the second quantization is an int8 -> int8 requantize; the model
compiles without calibration data and agrees with ONNX Runtime's run."""
from __future__ import annotations

import numpy as np
from onnx import helper

import tinyc

from .frontend.test_import_qdq import const_dq, int_weights, qdq
from .frontend.util import make_model, rand, session


def _model():
    nw, iw = const_dq("W", int_weights((4, 3, 3, 3)), np.full(4, 0.003), axis=0)
    n0, i0, xd = qdq("in", "x", 0.02, 3)
    n1, i1, c1 = qdq("c1", "c", 0.03, -5)          # c for the MaxPool
    n2, i2, c2 = qdq("c2", "c", 0.05, 10)          # the same c again, for the Sigmoid
    n3, i3, pd = qdq("pool", "p", 0.03, -5)
    n4, i4, sd = qdq("sig", "s", 1 / 256, -128)
    node = helper.make_node
    nodes = nw + n0 + [node("Conv", [xd, "W"], ["c"], pads=[1, 1, 1, 1])] + n1 + n2 + [
        node("MaxPool", [c1], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        node("Sigmoid", [c2], ["s"])] + n3 + n4 + [
        node("Flatten", [pd], ["y1"]), node("Flatten", [sd], ["y2"])]
    return make_model(nodes, {"x": [1, 3, 4, 4]}, ["y1", "y2"], {**iw, **i0, **i1, **i2,
                                                                  **i3, **i4})


def test_tensor_quantized_twice_becomes_a_requantize(tmp_path):
    import onnx
    path = tmp_path / "double.onnx"
    onnx.save(_model(), path)
    m = tinyc.compile(path)                        # no calib
    assert "lut" in {n.op for n in m.graph.nodes}          # the int8 -> int8 requantize
    sess = session(str(path))
    x = rand(64, 3, 4, 4, seed=1)
    want = [np.concatenate(o) for o in zip(*[sess.run(None, {"x": x[i:i + 1]})
                                               for i in range(len(x))])]
    got = m.interpret(x, batch=True)
    # y1: within 1 step of 0.03. y2: the requantized Sigmoid input is within 1 step (0.05) of
    # ORT's direct Q, so the Sigmoid output within 0.25 * 0.05 (its largest slope) + 1 step
    for g, w, tol in zip(got, want, (0.03, 0.25 * 0.05 + 1 / 256)):
        assert np.abs(np.asarray(g).reshape(w.shape) - w).max() <= tol * 1.001
    assert (np.asarray(got[1]).reshape(want[1].shape) == want[1]).mean() > 0.8


def test_pt2e_transpose_matmul_add_relu_in_float_before_q(tmp_path):
    """pt2e: `DQ -> Flatten -> MatMul(Transpose(W)) -> Add -> Relu -> Q` runs in float: the
    Relu's output quantization is implied back to the Add (exact: a clamp commutes with
    quantization); compiles with no calibration data, within 1 LSB of ORT."""
    import onnx
    nf, if_ = const_dq("F", int_weights((5, 3 * 16), seed=1), np.full(5, 0.002), axis=0)
    n0, i0, xd = qdq("in", "x", 0.02, 3)
    n1, i1, yd = qdq("out", "r", 0.01, -128)
    node = helper.make_node
    nodes = nf + n0 + [node("Flatten", [xd], ["f"]),
                       node("Transpose", ["F"], ["Ft"], perm=[1, 0]),
                       node("MatMul", ["f", "Ft"], ["mm"]), node("Add", ["mm", "fb"], ["a"]),
                       node("Relu", ["a"], ["r"])] + n1
    model = make_model(nodes, {"x": [1, 3, 4, 4]}, {yd: [1, 5]},
                       {**if_, **i0, **i1, "fb": rand(5, seed=3) * 0.1})
    path = tmp_path / "mm.onnx"
    onnx.save(model, path)
    m = tinyc.compile(path)
    sess = session(str(path))
    x = rand(64, 3, 4, 4, seed=2)
    want = np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])
    got = np.asarray(m.interpret(x, batch=True)).reshape(want.shape)
    assert np.abs(got - want).max() <= 0.01 * 1.001
