"""Single ops and small patterns built with onnx.helper: IR interpret() equals onnxruntime."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

from .util import check_float, make_model, ops_of, rand

node = h.make_node


def conv_w(o, c, k=3, seed=1):
    return rand(o, c, k, k, seed=seed) * 0.3


@pytest.mark.parametrize("trans_a,trans_b,c_shape", [(0, 0, (5,)), (0, 1, (1, 5)),
                                                      (1, 0, (5,)), (1, 1, None)])
def test_gemm(trans_a, trans_b, c_shape):
    b = rand(5, 6) if trans_b else rand(6, 5)
    inits = {"B": b}
    ins = ["xt" if trans_a else "x", "B"]
    if c_shape:
        inits["C"] = rand(*c_shape, seed=2)
        ins.append("C")
    nodes = [node("Transpose", ["x"], ["xt"], perm=[1, 0])] if trans_a else []
    nodes.append(node("Gemm", ins, ["y"], alpha=0.5, beta=2.0, transA=trans_a, transB=trans_b))
    g = check_float(make_model(nodes, {"x": [1, 6]}, ["y"], inits))
    assert ops_of(g) == ["fully_connected"] or ops_of(g) == ["reshape", "fully_connected"]


def test_matmul_add_becomes_fully_connected_with_bias():
    nodes = [node("MatMul", ["x", "W"], ["m"]), node("Add", ["m", "b"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 8]}, ["y"], {"W": rand(8, 4), "b": rand(4)}))
    assert ops_of(g) == ["fully_connected"] and g.nodes[0].inputs[2] is not None
    assert g.outputs[0].name == "y"


def test_matmul_on_3d_input():
    nodes = [node("MatMul", ["x", "W"], ["m"]), node("Add", ["m", "b"], ["y"])]
    check_float(make_model(nodes, {"x": [1, 3, 8]}, ["y"], {"W": rand(8, 4), "b": rand(4)}))


@pytest.mark.parametrize("auto_pad", ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_auto_pad_and_stride(auto_pad):
    kw = {"pads": [1, 0, 2, 1]} if auto_pad == "NOTSET" else {}
    nodes = [node("Conv", ["x", "W", "B"], ["y"], strides=[2, 2], auto_pad=auto_pad,
                  dilations=[1, 2] if auto_pad == "NOTSET" else [1, 1], **kw)]
    check_float(make_model(nodes, {"x": [1, 3, 9, 10]}, ["y"],
                           {"W": conv_w(4, 3), "B": rand(4)}))


def test_depthwise_conv_with_multiplier():
    nodes = [node("Conv", ["x", "W"], ["y"], group=3, pads=[1, 1, 1, 1])]
    g = check_float(make_model(nodes, {"x": [1, 3, 6, 6]}, ["y"], {"W": conv_w(6, 1)}))
    assert "depthwise_conv2d" in ops_of(g)


def test_nhwc_input_transpose_is_layout_only():
    """tf2onnx's pattern: NHWC input -> Transpose -> Conv ... -> Transpose -> NHWC output."""
    nodes = [node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             node("Conv", ["t", "W"], ["c"], pads=[1, 1, 1, 1]), node("Relu", ["c"], ["r"]),
             node("Transpose", ["r"], ["y"], perm=[0, 2, 3, 1])]
    g = check_float(make_model(nodes, {"x": [1, 5, 5, 3]}, ["y"], {"W": conv_w(4, 3)}))
    assert ops_of(g) == ["conv2d", "relu"]


def test_nchw_model_has_one_transpose_at_the_input_and_free_flatten():
    nodes = [node("Conv", ["x", "W"], ["c"]), node("GlobalAveragePool", ["c"], ["p"]),
             node("Flatten", ["p"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 3, 6, 6]}, ["y"], {"W": conv_w(4, 3)}))
    assert ops_of(g) == ["transpose", "conv2d", "avg_pool2d", "reshape"]


@pytest.mark.parametrize("shape,pads,value", [
    ((1, 3, 5, 5), [0, 0, 1, 2, 0, 0, 2, 1], 0.5), ((1, 6), [0, 2, 0, 1], -1.0)])
def test_pad(shape, pads, value):
    inits = {"pads": np.array(pads, np.int64), "v": np.array(value, np.float32)}
    nodes = [node("Pad", ["x", "pads", "v"], ["y"], mode="constant")]
    check_float(make_model(nodes, {"x": list(shape)}, ["y"], inits))


def test_pad_before_conv_keeps_nhwc():
    inits = {"pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "W": conv_w(4, 3)}
    nodes = [node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             node("Pad", ["t", "pads"], ["p"]), node("Conv", ["p", "W"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 5, 5, 3]}, ["y"], inits))
    assert ops_of(g) == ["pad", "conv2d", "transpose"]


@pytest.mark.parametrize("opset,keepdims", [(13, 1), (13, 0), (18, 1), (18, 0)])
def test_reduce_mean_over_spatial_axes(opset, keepdims):
    inits = {"W": conv_w(4, 3)}
    if opset >= 18:
        inits["axes"] = np.array([2, 3], np.int64)
        rm = node("ReduceMean", ["c", "axes"], ["y"], keepdims=keepdims)
    else:
        rm = node("ReduceMean", ["c"], ["y"], axes=[-2, -1], keepdims=keepdims)
    nodes = [node("Conv", ["x", "W"], ["c"]), rm]
    g = check_float(make_model(nodes, {"x": [1, 3, 7, 6]}, ["y"], inits, opset))
    assert "avg_pool2d" in ops_of(g)


@pytest.mark.parametrize("kind,kw", [
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
    ("AveragePool", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0)),
    ("AveragePool", dict(kernel_shape=[2, 2], auto_pad="SAME_UPPER")),
    ("MaxPool", dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1])),
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
    ("GlobalMaxPool", {}), ("GlobalAveragePool", {})])
def test_pools(kind, kw):
    check_float(make_model([node(kind, ["x"], ["y"], **kw)], {"x": [1, 3, 8, 7]}, ["y"]))


@pytest.mark.parametrize("opset,axis,shape", [(11, 1, (1, 2, 3, 4)), (11, None, (1, 5)),
                                              (13, 1, (1, 3, 2, 2)), (13, -1, (1, 7))])
def test_softmax(opset, axis, shape):
    kw = {} if axis is None else {"axis": axis}
    check_float(make_model([node("Softmax", ["x"], ["y"], **kw)], {"x": list(shape)}, ["y"],
                           opset=opset))


def test_softmax_after_conv_moves_axis():
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Softmax", ["c"], ["y"], axis=1)]
    check_float(make_model(nodes, {"x": [1, 3, 4, 4]}, ["y"], {"W": conv_w(5, 3)}))


@pytest.mark.parametrize("opset,lo,hi", [(11, 0.0, 6.0), (13, -0.5, None), (21, None, 0.5)])
def test_clip(opset, lo, hi):
    inits = {k: np.array(v, np.float32) for k, v in (("lo", lo), ("hi", hi)) if v is not None}
    ins = ["x", "lo" if lo is not None else "", "hi" if hi is not None else ""]
    check_float(make_model([node("Clip", ins, ["y"])], {"x": [1, 8]}, ["y"], inits, opset))


@pytest.mark.parametrize("op,kw", [("Relu", {}), ("Sigmoid", {}), ("Tanh", {}),
                                   ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
                                   ("HardSwish", {}), ("LeakyRelu", {"alpha": 0.2}),
                                   ("LeakyRelu", {}), ("Identity", {}), ("Dropout", {})])
def test_unary(op, kw):
    nodes = [node("Conv", ["x", "W"], ["c"]), node(op, ["c"], ["y"], **kw)]
    check_float(make_model(nodes, {"x": [1, 3, 5, 5]}, ["y"], {"W": conv_w(4, 3)}, opset=14))


@pytest.mark.parametrize("op", ["Add", "Mul", "Sub", "Div"])
@pytest.mark.parametrize("cshape", [(), (4, 1, 1), (1, 4, 1, 1), (3,)])
def test_binary_with_broadcast_constant(op, cshape):
    c = rand(*cshape, seed=3) + (3.0 if op == "Div" else 0.0)
    nodes = [node("Conv", ["x", "W"], ["c"]), node(op, ["c", "k"], ["y"])]
    check_float(make_model(nodes, {"x": [1, 3, 5, 5]}, ["y"], {"W": conv_w(4, 3), "k": c}))


def test_residual_add_and_concat_stay_nhwc():
    inits = {"W1": conv_w(4, 3), "W2": conv_w(4, 4, seed=2)}
    nodes = [node("Conv", ["x", "W1"], ["a"], pads=[1, 1, 1, 1]),
             node("Conv", ["a", "W2"], ["b"], pads=[1, 1, 1, 1]), node("Add", ["a", "b"], ["s"]),
             node("Concat", ["s", "a"], ["y"], axis=1)]
    g = check_float(make_model(nodes, {"x": [1, 3, 5, 5]}, ["y"], inits))
    assert ops_of(g).count("transpose") == 2       # the input and the output only


def test_batchnorm_on_2d_and_4d():
    c = 4
    bn = {f"{k}{i}": np.abs(rand(c, seed=i + 5)) + 0.5 for i in range(4) for k in "p"}
    nodes = [node("Conv", ["x", "W"], ["c"]),
             node("BatchNormalization", ["c", "p0", "p1", "p2", "p3"], ["b"], epsilon=1e-3),
             node("GlobalAveragePool", ["b"], ["g"]), node("Flatten", ["g"], ["f"]),
             node("BatchNormalization", ["f", "p3", "p2", "p1", "p0"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 3, 5, 5]}, ["y"], {"W": conv_w(c, 3), **bn}))
    assert ops_of(g).count("batch_norm") == 2


def test_squeeze_unsqueeze_reshape():
    inits = {"ax": np.array([2, 3], np.int64), "s": np.array([0, -1], np.int64)}
    nodes = [node("Squeeze", ["x", "ax"], ["a"]), node("Unsqueeze", ["a", "ax"], ["b"]),
             node("Reshape", ["b", "s"], ["y"])]
    check_float(make_model(nodes, {"x": [1, 6, 1, 1]}, ["y"], inits))


def test_constant_subgraph_is_folded():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Cast/Range/Div/ConstantOfShape."""
    one = h.make_tensor("one", 7, [1], [1])
    nodes = [node("Shape", ["x"], ["shp"]),
             node("Constant", [], ["i0"], value_int=0),
             node("Gather", ["shp", "i0"], ["n"], axis=0),
             node("Unsqueeze", ["n", "ax0"], ["n1"]),
             node("Constant", [], ["m1"], value_ints=[-1]),
             node("Concat", ["n1", "m1"], ["newshape"], axis=0),
             node("Reshape", ["x", "newshape"], ["flat"]),
             node("ConstantOfShape", ["len"], ["ones"], value=one),
             node("Cast", ["ones"], ["onesf"], to=1),
             node("Range", ["r0", "r1", "r2"], ["rng"]),
             node("Div", ["rng", "onesf"], ["k"]),
             node("Mul", ["flat", "k"], ["y"])]
    inits = {"ax0": np.array([0], np.int64), "len": np.array([12], np.int64),
             "r0": np.float32(0), "r1": np.float32(12), "r2": np.float32(1)}
    g = check_float(make_model(nodes, {"x": [1, 3, 2, 2]}, {"y": [1, 12]}, inits))
    assert ops_of(g) == ["reshape", "mul"]


def test_opset_21_model():
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Relu", ["c"], ["y"])]
    check_float(make_model(nodes, {"x": [1, 3, 5, 5]}, ["y"], {"W": conv_w(2, 3)}, opset=21))


def test_pinned_dynamic_batch():
    nodes = [node("Conv", ["x", "W"], ["y"])]
    m = make_model(nodes, {"x": ["N", 3, 5, 5]}, ["y"], {"W": conv_w(2, 3)})
    g = check_float(m, input_shapes={"x": (1, 3, 5, 5)})
    assert g.inputs[0].shape == (1, 3, 5, 5)
