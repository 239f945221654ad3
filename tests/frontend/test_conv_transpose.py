"""ONNX ConvTranspose -> IR transpose_conv2d (the op TFLite TRANSPOSE_CONV maps onto, TFLM-exact
in tests/tflite): float semantics == onnxruntime for strides, pads, output_padding, output_shape, SAME auto_pad, with
and without bias; the int8 build's host C == the golden model and stays within quantization steps
of onnxruntime; unsupported attributes are refused by name."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.errors import TinycError
from tinyc.frontend import load_onnx

from .util import check_float, make_model, rand, session


def _model(c_in=3, c_out=5, hw=(4, 5), k=(3, 3), bias=True, **attrs):
    ins = ["x", "W", "B"] if bias else ["x", "W"]
    inits = {"W": rand(c_in, c_out, *k, seed=1) * 0.3}
    if bias:
        inits["B"] = rand(c_out, seed=2) * 0.1
    nodes = [h.make_node("ConvTranspose", ins, ["y"], **attrs)]
    return make_model(nodes, {"x": [1, c_in, *hw]}, ["y"], inits)


CASES = {
    "s1": {},
    "s2": {"strides": [2, 2]},
    "s2_pads": {"strides": [2, 2], "pads": [1, 1, 1, 1]},
    "s2_output_padding": {"strides": [2, 2], "pads": [1, 0, 1, 2], "output_padding": [1, 1]},
    "s12_asym": {"strides": [1, 2], "pads": [0, 2, 1, 0]},
    "valid": {"strides": [2, 2], "auto_pad": "VALID"},
    "same_upper": {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
    "same_lower": {"strides": [2, 2], "auto_pad": "SAME_LOWER"},
    "same_upper_k4": {"strides": [2, 1], "auto_pad": "SAME_UPPER", "kernel_shape": [3, 3]},
    "output_shape": {"strides": [2, 2], "output_shape": [8, 9]},
    "output_shape_padding": {"strides": [3, 2], "output_shape": [10, 10],
                             "output_padding": [1, 1]},
    "output_shape_implicit": {"strides": [2, 3], "output_shape": [10, 15]},
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("bias", [True, False])
def test_float_matches_onnxruntime(name, bias):
    g = check_float(_model(bias=bias, **CASES[name]))
    assert [n.op for n in g.nodes if n.op == "transpose_conv2d"] == ["transpose_conv2d"]


def test_even_kernel_float():
    check_float(_model(4, 2, (3, 3), (4, 4), strides=[2, 2], pads=[1, 1, 1, 1]))


@pytest.mark.parametrize("name", ["s2_pads", "s2_output_padding"])
def test_int8_build(name, tmp_path):
    model = _model(**CASES[name])
    path = tmp_path / "tconv.onnx"
    path.write_bytes(model.SerializeToString())
    m = tinyc.compile(path, calib={"x": np.stack([rand(3, 4, 5, seed=s) for s in range(32)])},
                      progress=None)
    want_fn = session(model)
    for seed in (90, 91):
        x = rand(1, 3, 4, 5, seed=seed)
        xq = m.inputs[0].quantize(x)
        np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
        want = want_fn.run(None, {"x": x})[0]
        assert np.abs(m.interpret(x) - want).max() <= 4 * m.outputs[0].scale


@pytest.mark.parametrize("attrs,words", [
    ({"output_shape": [20, 11]}, "output_shape"),
])
def test_refused_clearly(attrs, words):
    """(group > 1 and dilation > 1 are supported: tests/frontend/test_nd_ops.py.)"""
    with pytest.raises(TinycError, match=words) as e:
        load_onnx(_model(**attrs))
    assert "ConvTranspose" in str(e.value)


def test_int16_activations(tmp_path):
    """activations="int16": the 16x8 kernel (tinyc_transpose_conv_s16) runs, host C ==
    golden, closer to onnxruntime than int8."""
    model = _model(**CASES["s2_output_padding"])
    path = tmp_path / "tconv16.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(3, 4, 5, seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None, activations="int16")
    assert "tinyc_transpose_conv_s16(" in (m.c_dir() / "model.c").read_text()
    x = rand(1, 3, 4, 5, seed=93)
    xq = m.inputs[0].quantize(x)
    np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
    want = session(model).run(None, {"x": x})[0]
    assert np.abs(m.interpret(x) - want).max() <= 2 * m.outputs[0].scale


def test_qdq_int8_weights_per_channel(tmp_path):
    """int8 x -> DQ -> ConvTranspose (DQ int8 weights per output channel, ONNX axis 1) -> Q:
    the file's weight bytes and scales are kept; within one output step of onnxruntime."""
    from onnx import TensorProto
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, (3, 4, 3, 3)).astype(np.int8)
    nodes = [h.make_node("DequantizeLinear", ["x", "xs", "xz"], ["x_dq"]),
             h.make_node("DequantizeLinear", ["w", "ws", "wz"], ["w_dq"], axis=1),
             h.make_node("ConvTranspose", ["x_dq", "w_dq"], ["r"], strides=[2, 2],
                         pads=[1, 1, 0, 0]),
             h.make_node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    inits = {"xs": np.float32(0.03), "xz": np.int8(2), "w": w,
             "ws": rng.uniform(0.002, 0.01, 4).astype(np.float32), "wz": np.zeros(4, np.int8),
             "ys": np.float32(0.05), "yz": np.int8(-3)}
    model = make_model(nodes, {"x": [1, 3, 4, 5]}, {"y": None}, inits, itype=TensorProto.INT8)
    path = tmp_path / "tconv_qdq.onnx"
    path.write_bytes(model.SerializeToString())
    m = tinyc.compile(path, progress=None)
    tc = next(n for n in m.graph.nodes if n.op == "transpose_conv2d")
    np.testing.assert_array_equal(tc.inputs[1].data, w.transpose(1, 2, 3, 0))
    x = rng.integers(-128, 128, (4, 1, 3, 4, 5)).astype(np.int8)
    got = np.asarray(m.interpret(x, batch=True))
    np.testing.assert_array_equal(np.asarray(m.run_host(x, batch=True)), got)
    sess = session(model)
    want = np.stack([sess.run(None, {"x": s})[0] for s in x])
    assert np.abs(got.reshape(want.shape).astype(int) - want.astype(int)).max() <= 1


def test_windows_are_the_layer_as_a_matrix():
    """tconv_windows (compensation's input rows) · weights == the op's own float sums."""
    from tinyc.ir.ops.tconv import _acc, tconv_windows
    g = load_onnx(_model(**CASES["s2_output_padding"]))
    node = next(n for n in g.nodes if n.op == "transpose_conv2d")
    x = rand(*node.inputs[0].shape, seed=4).astype(np.float64)
    w = node.inputs[1].data.astype(np.float64)
    got = np.einsum("nyxhwc,ohwc->nyxo", tconv_windows(node, x), w)
    np.testing.assert_allclose(got, _acc(node, x, w, np.float64), atol=1e-9)


def _conv_then_tconv():
    nodes = [h.make_node("Conv", ["x", "W0"], ["c"], pads=[1, 1, 1, 1]),
             h.make_node("Relu", ["c"], ["r"]),
             h.make_node("ConvTranspose", ["r", "W", "B"], ["y"], strides=[2, 2],
                         pads=[1, 1, 1, 1], output_padding=[1, 1])]
    return make_model(nodes, {"x": [1, 3, 4, 5]}, ["y"],
                      {"W0": rand(8, 3, 3, 3, seed=5) * 0.3, "W": rand(8, 5, 3, 3, seed=1) * 0.3,
                       "B": rand(5, seed=2) * 0.1})


@pytest.mark.parametrize("kw", [{"weights": "int4"}, {"cluster": 16}, {"prune": 0.5},
                                {"prune_structured": 0.25}])
def test_compression_options(kw, tmp_path):
    """Compression (GPTQ re-fit on tconv_windows, int4, clustering; pruning and channel removal
    of the conv before it): host C == golden, output still close to onnxruntime."""
    model = _conv_then_tconv()
    path = tmp_path / "ct.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(3, 4, 5, seed=s) for s in range(64)])}
    m = tinyc.compile(path, calib=calib, progress=None, **kw)
    x = rand(1, 3, 4, 5, seed=3)                   # a calibration sample: no clipping
    xq = m.inputs[0].quantize(x)
    np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
    want = session(model).run(None, {"x": x})[0]
    assert np.abs(m.interpret(x) - want).max() <= 0.2 * np.abs(want).max()


def test_int4_compensation_uses_the_transposed_windows(tmp_path):
    """GPTQ on the tconv's own windows lowers the int4 error against onnxruntime (wrong input
    rows would not fit the layer, or would not help)."""
    model = _conv_then_tconv()
    path = tmp_path / "ct.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(3, 4, 5, seed=s) for s in range(64)])}
    xs = [rand(1, 3, 4, 5, seed=s) for s in range(8)]
    sess = session(model)
    errs = []
    for comp in (False, True):
        m = tinyc.compile(path, calib=calib, progress=None, weights="int4", compensate=comp)
        errs.append(np.mean([np.abs(m.interpret(x) - sess.run(None, {"x": x})[0]).mean()
                             for x in xs]))
    assert errs[1] < 0.9 * errs[0], errs


def test_batch_pinned_per_image():
    """A batch-3 ConvTranspose model pinned to batch 1: each sample == onnxruntime's row."""
    from tinyc.ir import interpret
    model = _model(**CASES["s2_pads"])
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 3
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 3
    x = rand(3, 3, 4, 5, seed=6)
    want = session(model).run(None, {"x": x})[0]
    g = load_onnx(model, input_shapes={"x": (1, 3, 4, 5)})
    for i in range(3):
        np.testing.assert_allclose(interpret(g, {"x": x[i:i + 1]})[0], want[i:i + 1],
                                   rtol=1e-4, atol=1e-5)
