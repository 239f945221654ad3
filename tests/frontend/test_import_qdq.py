"""QDQ patterns built with onnx.helper: uint8 graph I/O, per-channel weights, int32 biases, and
PyTorch pt2e-style float islands (float bias, Pad/Sigmoid/Softmax between DQ and Q,
DequantizeLinear(W) -> Transpose -> MatMul + float Add)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto
from onnx import helper as h

from tinyc.frontend import load_onnx
from tinyc.ir import DType, QParams, verify

from .util import interpret_qdq, make_model, ops_of, rand, session

node = h.make_node


def qdq(name, src, scale, zp, dtype=np.int8):
    """Q -> DQ of activation `src`; returns (nodes, inits, dequantized name)."""
    inits = {f"{name}_s": np.float32(scale), f"{name}_z": np.array(zp, dtype)}
    nodes = [node("QuantizeLinear", [src, f"{name}_s", f"{name}_z"], [f"{name}_q"]),
             node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_dq"])]
    return nodes, inits, f"{name}_dq"


def const_dq(name, data, scale, axis=None):
    """DequantizeLinear of an integer constant (per-channel when scale is an array)."""
    scale = np.asarray(scale, np.float32)
    zp = np.zeros(scale.shape, data.dtype)
    kw = {"axis": axis} if axis is not None else {}
    inits = {f"{name}_i": data, f"{name}_s": scale, f"{name}_z": zp}
    return ([node("DequantizeLinear", [f"{name}_i", f"{name}_s", f"{name}_z"], [name], **kw)],
            inits)


def int_weights(shape, seed=0):
    return np.random.default_rng(seed).integers(-127, 128, shape).astype(np.int8)


def test_uint8_io_per_channel_conv_int32_bias():
    w_s = np.linspace(0.002, 0.004, 4).astype(np.float32)
    in_s = np.float32(0.02)
    nw, iw = const_dq("W", int_weights((4, 3, 3, 3)), w_s, axis=0)
    nb, ib = const_dq("B", np.arange(-2, 2, dtype=np.int32) * 50, in_s * w_s, axis=0)
    nodes = nw + nb + [
        node("DequantizeLinear", ["x", "xs", "xz"], ["xd"]),
        node("Conv", ["xd", "W", "B"], ["c"], pads=[1, 1, 1, 1]), node("Relu", ["c"], ["r"]),
        node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    inits = {**iw, **ib, "xs": in_s, "xz": np.uint8(128), "ys": np.float32(0.01),
             "yz": np.uint8(0)}
    m = make_model(nodes, {"x": [1, 3, 5, 5]}, {"y": None}, inits, itype=TensorProto.UINT8)
    g = verify(load_onnx(m))
    y = g.outputs[0]
    assert g.io_dtype == {"x": DType.UINT8, "y": DType.UINT8}
    f32 = lambda v: float(np.float32(v))      # noqa: E731
    assert g.io_quant == {"x": QParams((f32(in_s),), (0,)), "y": QParams((f32(0.01),), (-128,))}
    conv = g.nodes[ops_of(g).index("conv2d")]
    w, b = conv.inputs[1], conv.inputs[2]
    assert w.dtype is DType.INT8 and w.q.axis == 0 and w.q.scale == tuple(map(float, w_s))
    assert b.dtype is DType.INT32 and b.q.axis == 0
    xi = np.random.default_rng(0).integers(0, 256, (1, 3, 5, 5)).astype(np.uint8)
    want = session(m).run(None, {"x": xi})[0].astype(np.float32)
    got = interpret_qdq(g, {"x": (xi.astype(np.float32) - 128) * in_s})[0]
    assert np.abs(np.round(got / y.q.s + y.q.zp) + 128 - want).max() <= 1


def test_pt2e_style_float_islands():
    nw, iw = const_dq("W", int_weights((4, 3, 3, 3)), np.full(4, 0.003), axis=0)
    nf, if_ = const_dq("F", int_weights((5, 4 * 9), seed=1), np.full(5, 0.002), axis=0)
    n0, i0, xd = qdq("in", "x", 0.02, 3)
    n1, i1, cd = qdq("conv", "c", 0.03, -5)
    n2, i2, sd = qdq("sig", "s", 1 / 256, -128)
    n3, i3, ad = qdq("fc", "a", 0.05, 2)
    pads = np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)
    nodes = nw + nf + n0 + [
        node("Pad", [xd, "pads"], ["p"]),
        node("Conv", ["p", "W", "bias"], ["c"])] + n1 + [
        node("Sigmoid", [cd], ["s"])] + n2 + [
        node("Flatten", [sd], ["f"]), node("Transpose", ["F"], ["Ft"], perm=[1, 0]),
        node("MatMul", ["f", "Ft"], ["mm"]), node("Add", ["mm", "fb"], ["a"])] + n3 + [
        node("Softmax", [ad], ["y"])]
    inits = {**iw, **if_, **i0, **i1, **i2, **i3, "pads": pads, "bias": rand(4) * 0.1,
             "fb": rand(5, seed=3) * 0.1}
    m = make_model(nodes, {"x": [1, 3, 3, 3]}, ["y"], inits)
    g = verify(load_onnx(m))
    assert g.io_quant == {} and g.inputs[0].q == QParams((float(np.float32(0.02)),), (3,))
    conv = g.nodes[ops_of(g).index("conv2d")]
    assert conv.inputs[1].dtype is DType.INT8 and conv.inputs[2].dtype is DType.FLOAT32
    fc = g.nodes[ops_of(g).index("fully_connected")]
    w = fc.inputs[1]
    assert w.dtype is DType.INT8 and w.shape == (5, 36) and w.q.axis == 0
    assert fc.outputs[0].q == QParams((float(np.float32(0.05)),), (2,))
    assert {"pad", "sigmoid", "softmax"} <= set(ops_of(g))
    feeds = {"x": rand(1, 3, 3, 3, seed=4)}
    want = session(m).run(None, feeds)[0]
    got = interpret_qdq(g, feeds)[0]
    assert np.abs(got - want).max() <= 1e-5


@pytest.mark.parametrize("zp,hi,exact", [(100, 200, True), (40, 256, False)])
def test_uint8_weights_with_zero_point_become_int8_with_zero_point_0(zp, hi, exact, tmp_path):
    """The int8 kernels take weights with zero point 0: uint8 weights W with zero point z
    become W - z (exact when it fits int8), else that channel is re-quantized."""
    import tinyc
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(0)
    w = rng.integers(0, hi, (16, 4)).astype(np.uint8)
    inits = {"w": w, "ws": np.float32(0.01), "wz": np.uint8(zp)}
    nx, ix, x = qdq("x", "in", 0.02, 0)
    ny, iy, _ = qdq("y", "mm", 0.05, 0)
    nodes = nx + [node("DequantizeLinear", ["w", "ws", "wz"], ["wd"]),
                  node("MatMul", [x, "wd"], ["mm"])] + ny
    path = tmp_path / "u8w.onnx"
    onnx.save(make_model(nodes, {"in": [1, 16]}, {"y_dq": [1, 4]}, {**inits, **ix, **iy},
                         opset=19), path)
    wc = next(n.inputs[1] for n in load_onnx(path).nodes if n.op == "fully_connected")
    assert set(wc.q.zero_point) == {0}
    if exact:
        assert np.array_equal(wc.data.T, w.astype(np.int32) - zp)
        assert wc.q.scale == (float(np.float32(0.01)),)
    m = tinyc.compile(path, progress=None)
    xs = rng.uniform(-2, 2, (50, 1, 16)).astype(np.float32)
    ref = ReferenceEvaluator(str(path))
    want = np.stack([ref.run(None, {"in": a})[0] for a in xs])
    steps = np.abs(m.interpret(xs, batch=True) - want) / 0.05
    assert steps.max() <= (1 if exact else 3), steps.max()
