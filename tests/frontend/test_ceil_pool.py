"""ceil_mode pooling whose last window would start in the right padding: ONNX opset 22,
onnxruntime and PyTorch drop that window at every opset, ONNX's shape inference before opset 22
keeps it (frontend/onnx_ceil.py). Models that declare the dropping rule's shapes (as exporters
and ONNX's backend cases do) import at opsets 13..21: float == onnxruntime, output shape ==
the declared one, int8 host C == interpret() and onnxruntime on the int8 input's real values
(max pooling exactly, average within half an output step)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper as h

import tinyc
from tinyc.frontend import load_onnx

from .util import check_float, rand, session


def _model(op, x_shape, y_shape, opset, relu=True, **attrs):
    """op -> (Relu), with the declared shapes of ONNX's case (the dropping rule)."""
    nodes = [h.make_node(op, ["x"], ["p" if relu else "y"], **attrs)]
    vis = []
    if relu:
        nodes.append(h.make_node("Relu", ["p"], ["y"]))
        vis = [h.make_tensor_value_info("p", onnx.TensorProto.FLOAT, y_shape)]
    g = h.make_graph(nodes, "t", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, x_shape)],
                     [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, y_shape)],
                     value_info=vis)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    return m


CASES = {   # ONNX's test_maxpool_2d_ceil_output_size_reduce_by_one / _last_window_starts_on_pad
    "maxpool_reduce_by_one": ("MaxPool", (1, 1, 2, 2), (1, 1, 1, 1),
                              dict(kernel_shape=[1, 1], strides=[2, 2], ceil_mode=1)),
    "avgpool_last_window_on_pad": ("AveragePool", (1, 3, 2, 2), (1, 3, 1, 1),
                                   dict(kernel_shape=[3, 3], strides=[3, 3], pads=[1, 1, 1, 1],
                                        ceil_mode=1, count_include_pad=1)),
    "maxpool_one_dim_drops": ("MaxPool", (1, 2, 7, 8), (1, 2, 4, 3),
                              dict(kernel_shape=[2, 2], strides=[2, 3], pads=[1, 0, 1, 1],
                                   ceil_mode=1)),
    "avgpool_1d": ("AveragePool", (1, 2, 8), (1, 2, 3),
                   dict(kernel_shape=[2], strides=[3], pads=[1, 1], ceil_mode=1)),
    "maxpool_3d": ("MaxPool", (1, 1, 2, 6, 6), (1, 1, 1, 3, 3),
                   dict(kernel_shape=[1, 2, 2], strides=[2, 2, 2], ceil_mode=1)),
}


@pytest.mark.parametrize("opset", [13, 19, 21])
@pytest.mark.parametrize("name", sorted(CASES))
def test_float_matches_onnxruntime(name, opset):
    op, xs, ys, attrs = CASES[name]
    model = _model(op, xs, ys, opset, **attrs)
    with pytest.raises(onnx.shape_inference.InferenceError):   # ONNX's rule before opset 22
        onnx.shape_inference.infer_shapes(model, strict_mode=True)
    g = check_float(model)
    assert tuple(session(model).run(None, {"x": rand(*xs)})[0].shape) == ys
    assert [n.op for n in g.nodes if "pool" in n.op]


@pytest.mark.parametrize("name", sorted(CASES))
def test_int8_host_c_and_onnxruntime(name, tmp_path):
    op, xs, ys, attrs = CASES[name]
    model = _model(op, xs, ys, 19, relu=False, **attrs)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(*xs[1:], seed=s) for s in range(16)])}
    m = tinyc.compile(path, calib=calib, progress=None, name="ceilpool")
    sess = session(model)
    for seed in (0, 1):
        xq = m.inputs[0].quantize(rand(*xs, seed=seed))
        got = m.interpret(xq)
        np.testing.assert_array_equal(m.run_host(xq), got)
        x_real = m.inputs[0].dequantize(xq).astype(np.float32).reshape(xs)
        want = sess.run(None, {"x": x_real})[0]
        y = m.outputs[0].dequantize(got).reshape(want.shape)
        bound = 0.0 if op == "MaxPool" else 0.5
        assert np.abs(y - want).max() / m.outputs[0].scale <= bound + 1e-3


def test_rule_kept_where_no_window_drops():
    """ceil_mode without a dropped window: the import is unchanged (one more output)."""
    model = _model("MaxPool", (1, 1, 5, 5), (1, 1, 3, 3), 13, kernel_shape=[2, 2],
                   strides=[2, 2], ceil_mode=1)
    g = load_onnx(model)
    assert tuple(g.outputs[0].shape) in ((1, 3, 3, 1), (1, 1, 3, 3))
    check_float(model)


def test_static_batch_pinned():
    """A static batch N = 2 pinned to 1 (batch.pin_batch infers shapes the same way): each
    sample's float output == onnxruntime's."""
    model = _model("MaxPool", (2, 1, 2, 2), (2, 1, 1, 1), 19, kernel_shape=[1, 1],
                   strides=[2, 2], ceil_mode=1)
    g = load_onnx(model, input_shapes={"x": (1, 1, 2, 2)})
    x = rand(2, 1, 2, 2, seed=3)
    want = session(model).run(None, {"x": x})[0]
    from tinyc.ir import interpret
    got = np.concatenate([np.asarray(interpret(g, [x[i:i + 1]])[0]).reshape(1, 1, 1, 1)
                          for i in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_two_dropping_pools_in_a_row():
    """The second pool's input shape follows the first pool's dropping rule (no declared
    intermediate shapes): float == onnxruntime, output shape as onnxruntime's."""
    nodes = [h.make_node("MaxPool", ["x"], ["p"], kernel_shape=[1, 1], strides=[2, 2],
                         ceil_mode=1),
             h.make_node("AveragePool", ["p"], ["y"], kernel_shape=[2, 2], strides=[2, 2],
                         pads=[0, 0, 1, 1], ceil_mode=1)]
    g = h.make_graph(nodes, "t", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                           (1, 1, 6, 6))],
                     [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, (1, 1, 2, 2))])
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 19)])
    model.ir_version = 8
    want = session(model).run(None, {"x": rand(1, 1, 6, 6)})[0]
    assert want.shape == (1, 1, 2, 2)
    check_float(model)
