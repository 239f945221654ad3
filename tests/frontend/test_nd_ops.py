"""ONNX 3-D Conv / MaxPool / AveragePool (IR conv3d, max_pool3d, avg_pool3d), 2-D and 1-D
pooling with dilation or count_include_pad=1 (3-D pooling with D = 1), and ConvTranspose 1-D,
grouped and dilated (one dense transpose_conv2d), 3-D with stride 1 (conv3d): float
semantics == onnxruntime; int8 builds against onnxruntime run on the int8 input's real values (pools: within half an output step,
the rounding of the average; max pooling exactly), host C == interpret(), QEMU == host C on a
net holding every new kernel, strict C99 with gcc and clang."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.errors import TinycError
from tinyc.frontend import load_onnx

from .util import check_float, make_model, rand, session


def _one(op: str, shape, out: str = "y", inits=None, ins=("x",), **attrs):
    opset = 19 if op == "AveragePool" and "dilations" in attrs else 13   # (AveragePool: 19+)
    return make_model([h.make_node(op, list(ins), [out], **attrs)], {"x": list(shape)}, [out],
                      inits or {}, opset=opset)


def _conv3d(c_in=3, c_out=4, dhw=(5, 6, 5), k=(3, 2, 3), group=1, bias=True, **attrs):
    inits = {"W": rand(c_out, c_in // group, *k, seed=1) * 0.3}
    if bias:
        inits["B"] = rand(c_out, seed=2) * 0.1
    return _one("Conv", (1, c_in, *dhw), inits=inits, ins=("x", "W", "B") if bias else
                ("x", "W"), group=group, **attrs)


def _tconv(c_in=2, c_out=2, size=(4, 5), k=(3, 3), group=1, **attrs):
    inits = {"W": rand(c_in, c_out // group, *k, seed=3) * 0.3, "B": rand(c_out, seed=4) * 0.1}
    return _one("ConvTranspose", (1, c_in, *size), inits=inits, ins=("x", "W", "B"),
                group=group, **attrs)


CONV = {
    "conv3d": _conv3d(),
    "conv3d_no_bias": _conv3d(bias=False),
    "conv3d_stride_pads": _conv3d(strides=[2, 1, 2], pads=[1, 0, 1, 1, 1, 0]),
    "conv3d_dilated": _conv3d(dhw=(6, 6, 7), dilations=[2, 1, 2]),
    "conv3d_groups": _conv3d(c_in=4, c_out=6, group=2),
    "conv3d_depthwise": _conv3d(c_in=3, c_out=3, group=3),
    "conv3d_same_upper": _conv3d(strides=[2, 2, 1], auto_pad="SAME_UPPER"),
}
POOL = {
    "maxpool3d": _one("MaxPool", (1, 3, 5, 6, 5), kernel_shape=[2, 3, 2], strides=[2, 2, 1]),
    "maxpool3d_pads_ceil": _one("MaxPool", (1, 2, 5, 5, 6), kernel_shape=[3, 3, 3],
                                strides=[2, 2, 2], pads=[1, 1, 0, 0, 1, 1], ceil_mode=1),
    "maxpool3d_dilated": _one("MaxPool", (1, 2, 6, 6, 6), kernel_shape=[2, 2, 2],
                              dilations=[2, 1, 3]),
    "avgpool3d": _one("AveragePool", (1, 3, 5, 6, 5), kernel_shape=[2, 3, 2],
                      strides=[2, 2, 1]),
    "avgpool3d_pads": _one("AveragePool", (1, 2, 5, 5, 6), kernel_shape=[3, 3, 3],
                           pads=[1, 1, 1, 1, 1, 1]),
    "avgpool3d_pads_counted": _one("AveragePool", (1, 2, 5, 5, 6), kernel_shape=[3, 3, 3],
                                   pads=[1, 1, 0, 1, 0, 1], count_include_pad=1),
    "avgpool3d_counted_ceil_dilated": _one("AveragePool", (1, 1, 7, 8, 9),
                                           kernel_shape=[3, 2, 3], strides=[2, 3, 2],
                                           dilations=[2, 2, 1], pads=[1, 0, 1, 1, 1, 0],
                                           ceil_mode=1, count_include_pad=1),
    "maxpool2d_dilated": _one("MaxPool", (1, 3, 9, 8), kernel_shape=[3, 2], dilations=[2, 3],
                              pads=[1, 1, 2, 0]),
    "avgpool2d_dilated": _one("AveragePool", (1, 3, 9, 8), kernel_shape=[3, 2],
                              dilations=[2, 3], strides=[2, 1]),
    "avgpool2d_counted": _one("AveragePool", (1, 3, 7, 8), kernel_shape=[3, 3],
                              pads=[1, 2, 1, 0], count_include_pad=1),
    "avgpool2d_counted_same": _one("AveragePool", (1, 2, 7, 8), kernel_shape=[4, 3],
                                   strides=[2, 2], auto_pad="SAME_LOWER", count_include_pad=1),
    "maxpool1d_dilated": _one("MaxPool", (1, 3, 20), kernel_shape=[3], dilations=[4],
                              pads=[2, 1], strides=[2]),
    "avgpool1d_counted": _one("AveragePool", (1, 3, 11), kernel_shape=[4], pads=[2, 1],
                              count_include_pad=1),
}
TCONV = {
    "tconv1d": _tconv(size=(5,), k=(3,), strides=[2], pads=[1, 0]),
    "tconv1d_output_padding": _tconv(size=(5,), k=(4,), strides=[3], output_padding=[1]),
    "tconv1d_output_shape": _tconv(size=(5,), k=(3,), strides=[2], output_shape=[12]),
    "tconv1d_same_dilated": _tconv(size=(6,), k=(3,), strides=[2], dilations=[2],
                                   auto_pad="SAME_LOWER"),
    "tconv_group2": _tconv(c_in=4, c_out=6, group=2, strides=[2, 1]),
    "tconv_dilated": _tconv(dilations=[2, 3], pads=[1, 1, 0, 2]),
    "tconv_group_dilated": _tconv(c_in=4, c_out=4, group=4, dilations=[2, 2], strides=[2, 2],
                                  output_padding=[1, 0]),
}
TCONV3D = {
    "tconv3d": _tconv(size=(3, 4, 5), k=(3, 2, 3)),
    "tconv3d_pads_dilated": _tconv(size=(3, 4, 5), k=(2, 3, 2), pads=[1, 0, 1, 0, 2, 1],
                                   dilations=[2, 1, 2]),
    "tconv3d_group": _tconv(c_in=4, c_out=6, size=(3, 4, 3), k=(2, 2, 2), group=2),
    "tconv3d_same_upper": _tconv(size=(3, 4, 5), k=(2, 3, 2), auto_pad="SAME_UPPER"),
    "tconv3d_output_shape": _tconv(size=(3, 4, 5), k=(3, 3, 3), output_shape=[4, 5, 6]),
}
ALL = {**CONV, **POOL, **TCONV, **TCONV3D}
IR_OP = {"Conv": "conv3d", "MaxPool": "max_pool", "AveragePool": "avg_pool",
         "ConvTranspose": "transpose_conv2d"}


@pytest.mark.parametrize("name", sorted(ALL))
def test_float_matches_onnxruntime(name):
    model = ALL[name]
    g = check_float(model)
    want = "conv3d" if name in TCONV3D else IR_OP[model.graph.node[0].op_type]
    if name.startswith(("maxpool", "avgpool")):
        want += "3d"
    assert [n.op for n in g.nodes if n.op.startswith(want)] == [want]


def _compile(model, tmp_path, name="m"):
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    calib = {"x": np.stack([rand(*shape[1:], seed=s) for s in range(24)])}
    return tinyc.compile(path, calib=calib, progress=None, name=name)


@pytest.mark.parametrize("name", sorted(ALL))
def test_int8_host_c_and_onnxruntime(name, tmp_path):
    """host C == interpret(); against onnxruntime on the int8 input's real values: pools
    within half an output step (max pooling: equal), layers within 2 steps."""
    model = ALL[name]
    m = _compile(model, tmp_path)
    sess = session(model)
    s = m.outputs[0].scale
    for seed in (0, 1):                        # calibration samples: no clipping
        x = rand(*m.inputs[0].shape, seed=seed)
        xq = m.inputs[0].quantize(x)
        got = m.interpret(xq)
        np.testing.assert_array_equal(m.run_host(xq), got)
        x_real = m.inputs[0].dequantize(xq).astype(np.float32).reshape(x.shape)
        want = sess.run(None, {"x": x_real})[0]
        y = m.outputs[0].dequantize(got).reshape(want.shape)
        err = np.abs(y - want).max() / s
        bound = 0.0 if name.startswith("maxpool") else 0.5 if name in POOL else 2.0
        assert err <= bound + 1e-3, (name, err)


def _net():
    """Conv3d -> BatchNormalization -> Relu -> MaxPool 3-D -> AveragePool 3-D (counting its
    padding) -> MaxPool 2-D dilated: every new kernel in one model."""
    c = 4
    nodes = [h.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1, 1, 1]),
             h.make_node("BatchNormalization", ["c", "g", "be", "mu", "var"], ["bn"]),
             h.make_node("Relu", ["bn"], ["r"]),
             h.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2, 2], strides=[1, 2, 2]),
             h.make_node("AveragePool", ["p"], ["a"], kernel_shape=[2, 3, 3],
                         pads=[0, 1, 1, 1, 1, 1], count_include_pad=1),
             h.make_node("Reshape", ["a", "shape"], ["a4"]),
             h.make_node("MaxPool", ["a4"], ["y"], kernel_shape=[2, 2], dilations=[2, 1])]
    inits = {"W": rand(c, 2, 3, 3, 3, seed=5) * 0.3, "B": rand(c, seed=6) * 0.1,
             "g": 1 + 0.1 * rand(c, seed=7), "be": 0.1 * rand(c, seed=8),
             "mu": 0.1 * rand(c, seed=9), "var": 1 + 0.1 * np.abs(rand(c, seed=10)),
             "shape": np.array([1, c * 3, 3, 3], np.int64)}
    return make_model(nodes, {"x": [1, 2, 4, 6, 6]}, ["y"], inits)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return _compile(_net(), tmp_path_factory.mktemp("nd"), "nd_net")


def test_net_float_and_int8(net):
    model = _net()
    check_float(model)
    assert {"conv3d", "max_pool3d", "avg_pool3d"} <= {n.op for n in net.graph.nodes}
    assert "batch_norm" not in {n.op for n in net.graph.nodes}        # folded into conv3d
    x = rand(1, 2, 4, 6, 6, seed=1)             # a calibration sample
    want = session(model).run(None, {"x": x})[0]
    assert np.abs(net.interpret(x) - want).max() <= 3 * net.outputs[0].scale


def test_qemu_equals_host_c_equals_interpret(net):
    xq = net.inputs[0].quantize(np.stack([rand(1, 2, 4, 6, 6, seed=s) for s in (12, 13)]))
    host = net.run_host(xq, batch=True)
    np.testing.assert_array_equal(host, net.interpret(xq, batch=True))
    np.testing.assert_array_equal(net.run_qemu(xq, batch=True), host)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_generated_c_is_strict_c99(net, cc, tmp_path):
    if shutil.which(cc) is None:
        from tests.needs import missing
        missing(f"{cc} not installed")
    d = net.c_dir()
    assert {"nd_net_tinyc_conv3d_s8.c", "nd_net_tinyc_pool3d_s8.c"} <= {p.name for p in
                                                                d.rglob("*.c")}
    flags = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion",
             "-Werror", "-O2", "-c"]
    for src in sorted(d.rglob("*.c")):
        subprocess.run([cc, *flags, str(src), "-o", str(tmp_path / "x.o")], check=True, cwd=d)


def test_conv3d_windows_are_the_layer_as_a_matrix():
    """conv3d_windows (compensation's input rows) . weights == the op's own float sums."""
    from tinyc.ir.ops.nd import conv3d_acc, conv3d_windows
    g = load_onnx(CONV["conv3d_stride_pads"])
    node = next(n for n in g.nodes if n.op == "conv3d")
    x = rand(*node.inputs[0].shape, seed=4).astype(np.float64)
    w = node.inputs[1].data.astype(np.float64)
    p = conv3d_windows(node, x)
    got = p.reshape(-1, int(np.prod(p.shape[3:]))) @ w.reshape(w.shape[0], -1).T
    np.testing.assert_allclose(got.reshape(-1), conv3d_acc(node, x, w, 0.0, np.float64)
                               .reshape(-1), atol=1e-9)


def test_convtranspose_3d_stride_2_refused_clearly():
    model = _one("ConvTranspose", (1, 1, 3, 4, 5), inits={"W": rand(1, 2, 3, 3, 3, seed=1)},
                 ins=("x", "W"), strides=[2, 1, 1])
    with pytest.raises(TinycError, match=r"ConvTranspose.*strides \[2, 1, 1\]\. Only stride 1"):
        load_onnx(model)


def test_maxpool_indices_refused_as_a_type_limit():
    model = make_model([h.make_node("MaxPool", ["x"], ["y", "z"], kernel_shape=[2, 2])],
                       {"x": [1, 2, 4, 4]}, ["y", "z"])
    with pytest.raises(TinycError, match=r"MaxPool.*Indices \('z'\) is used: int64, a type "
                       r"limit"):
        load_onnx(model)
    model.graph.output.pop()                    # Y only: compiles
    assert [n.op for n in load_onnx(model).nodes if n.op == "max_pool2d"] == ["max_pool2d"]


def test_qdq_conv3d_and_counted_avgpool3d(tmp_path):
    """int8 x -> DQ -> Conv 3-D (DQ int8 weights per output channel) -> Q/DQ -> AveragePool 3-D
    (count_include_pad) -> Q, as ONNX Runtime writes it: no calibration, the file's weight
    bytes kept, within 1 LSB of onnxruntime's int8 run, host C == interpret()."""
    from onnx import TensorProto
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, (4, 2, 3, 3, 3)).astype(np.int8)
    nodes = [h.make_node("DequantizeLinear", ["x", "xs", "xz"], ["x_dq"]),
             h.make_node("DequantizeLinear", ["w", "ws", "wz"], ["w_dq"], axis=0),
             h.make_node("Conv", ["x_dq", "w_dq"], ["c"], pads=[1] * 6),
             h.make_node("QuantizeLinear", ["c", "ys", "yz"], ["cq"]),
             h.make_node("DequantizeLinear", ["cq", "ys", "yz"], ["cd"]),
             h.make_node("AveragePool", ["cd"], ["p"], kernel_shape=[2, 2, 2],
                         pads=[1, 1, 1, 0, 0, 0], count_include_pad=1),
             h.make_node("QuantizeLinear", ["p", "ys", "yz"], ["y"])]
    inits = {"xs": np.float32(0.03), "xz": np.int8(2), "w": w,
             "ws": rng.uniform(0.002, 0.01, 4).astype(np.float32), "wz": np.zeros(4, np.int8),
             "ys": np.float32(0.05), "yz": np.int8(-3)}
    model = make_model(nodes, {"x": [1, 2, 4, 5, 5]}, {"y": None}, inits,
                       itype=TensorProto.INT8)
    path = tmp_path / "qdq3d.onnx"
    path.write_bytes(model.SerializeToString())
    m = tinyc.compile(path, progress=None)
    conv = next(n for n in m.graph.nodes if n.op == "conv3d")
    np.testing.assert_array_equal(conv.inputs[1].data, w.transpose(0, 2, 3, 4, 1))
    x = rng.integers(-128, 128, (3, 1, 2, 4, 5, 5)).astype(np.int8)
    got = np.asarray(m.interpret(x, batch=True))
    np.testing.assert_array_equal(np.asarray(m.run_host(x, batch=True)), got)
    sess = session(model)
    want = np.stack([sess.run(None, {"x": s})[0] for s in x])
    assert np.abs(got.reshape(want.shape).astype(int) - want.astype(int)).max() <= 1
