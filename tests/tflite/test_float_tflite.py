"""Float .tflite models (issue 16): lowered to the float IR the ONNX frontend builds, then
quantized from calibration data like a float ONNX model (`tinyc build m.tflite --calib`).

Checks, each against an independent reference:
- the float graph (Model.run_float) == the TFLite Micro interpreter running the float model
  (float kernels), to 1e-5 relative, per op;
- int8 after calibration: within FLOAT_STEPS (layers: LAYER_STEPS) output quantization steps of the float model on
  the calibration samples themselves (no clipping), and host C == the golden model, bit for bit;
- the float digits model (examples/digits/digits_float.tflite, BatchNorm folded from
  digits.onnx by examples/digits/make_tflite.py): TFLM float == onnxruntime on digits.onnx,
  and int8 accuracy on test.npz within 1 point of float, through `tinyc build --calib` too."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyc
from tinyc.errors import ModelError
from tinyc.frontend.tflite import load_tflite

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits"
F32 = {"dtype": "FLOAT32"}
SAME, VALID, RELU, RELU6 = 0, 1, 1, 3
FLOAT_STEPS = 3          # int8 vs float, in output steps (one op, calibrated range) ...
LAYER_STEPS = 6          # ... a conv/depthwise/FC sums 24-27 quantized products


def _w(rng, shape, scale=0.3):
    return rng.normal(0, scale, shape).astype(np.float32)


def _conv(b, rng):
    x, y = b.tensor("x", (1, 9, 7, 3), **F32), b.tensor("y", (1, 5, 4, 5), **F32)
    b.op("CONV_2D", [x, b.const("w", _w(rng, (5, 3, 3, 3))), b.const("b", _w(rng, 5))], [y],
         "Conv2DOptions", Padding=SAME, StrideW=2, StrideH=2, DilationWFactor=1,
         DilationHFactor=1, FusedActivationFunction=RELU6)
    return [x], [y]


def _depthwise(b, rng):
    x, y = b.tensor("x", (1, 6, 6, 4), **F32), b.tensor("y", (1, 6, 6, 8), **F32)
    b.op("DEPTHWISE_CONV_2D", [x, b.const("w", _w(rng, (1, 3, 3, 8))),
                               b.const("b", _w(rng, 8))], [y], "DepthwiseConv2DOptions",
         Padding=SAME, StrideW=1, StrideH=1, DepthMultiplier=2, FusedActivationFunction=RELU,
         DilationWFactor=1, DilationHFactor=1)
    return [x], [y]


def _fully_connected(b, rng):
    x, y = b.tensor("x", (1, 2, 2, 6), **F32), b.tensor("y", (1, 10), **F32)
    b.op("FULLY_CONNECTED", [x, b.const("w", _w(rng, (10, 24))), b.const("b", _w(rng, 10))],
         [y], "FullyConnectedOptions", FusedActivationFunction=0)
    return [x], [y]


def _pool(kind):
    def case(b, rng):
        x, y = b.tensor("x", (1, 8, 8, 3), **F32), b.tensor("y", (1, 4, 4, 3), **F32)
        b.op(kind, [x], [y], "Pool2DOptions", Padding=SAME, StrideW=2, StrideH=2,
             FilterWidth=3, FilterHeight=3, FusedActivationFunction=0)
        return [x], [y]
    return case


def _binary(kind, options=None, const=False):
    def case(b, rng):
        x = b.tensor("x", (1, 4, 4, 3), **F32)
        x2 = b.const("c", _w(rng, (3,), 1.0)) if const else b.tensor("x2", (1, 4, 4, 3), **F32)
        y = b.tensor("y", (1, 4, 4, 3), **F32)
        b.op(kind, [x, x2], [y], options, **({"FusedActivationFunction": 0} if options else {}))
        return ([x] if const else [x, x2]), [y]
    return case


def _unary(kind, options=None, shape=(1, 4, 4, 3), **fields):
    def case(b, rng):
        x, y = b.tensor("x", shape, **F32), b.tensor("y", shape, **F32)
        b.op(kind, [x], [y], options, **fields)
        return [x], [y]
    return case


def _reshape(b, rng):
    x, y = b.tensor("x", (1, 4, 4, 3), **F32), b.tensor("y", (1, 48), **F32)
    b.op("RESHAPE", [x, b.const("shape", np.array([1, 48], np.int32))], [y])
    return [x], [y]


def _pad(b, rng):
    x, y = b.tensor("x", (1, 4, 4, 3), **F32), b.tensor("y", (1, 5, 7, 3), **F32)
    b.op("PAD", [x, b.const("p", np.array([[0, 0], [1, 0], [2, 1], [0, 0]], np.int32))], [y])
    return [x], [y]


def _concat(b, rng):
    x, x2 = b.tensor("x", (1, 4, 4, 3), **F32), b.tensor("x2", (1, 4, 4, 2), **F32)
    y = b.tensor("y", (1, 4, 4, 5), **F32)
    b.op("CONCATENATION", [x, x2], [y], "ConcatenationOptions", Axis=3)
    return [x, x2], [y]


def _mean(b, rng):
    x, y = b.tensor("x", (1, 5, 5, 4), **F32), b.tensor("y", (1, 4), **F32)
    b.op("MEAN", [x, b.const("axes", np.array([1, 2], np.int32))], [y], "ReducerOptions",
         KeepDims=False)
    return [x], [y]


def _transpose(b, rng):
    x, y = b.tensor("x", (1, 4, 3, 2), **F32), b.tensor("y", (1, 2, 4, 3), **F32)
    b.op("TRANSPOSE", [x, b.const("perm", np.array([0, 3, 1, 2], np.int32))], [y])
    return [x], [y]


CASES = {
    "conv": _conv, "depthwise": _depthwise, "fully_connected": _fully_connected,
    "avg_pool": _pool("AVERAGE_POOL_2D"), "max_pool": _pool("MAX_POOL_2D"),
    "add": _binary("ADD", "AddOptions"), "mul_const": _binary("MUL", "MulOptions", const=True),
    "sub": _binary("SUB", "SubOptions"), "minimum": _binary("MINIMUM"),
    "maximum_const": _binary("MAXIMUM", const=True), "reshape": _reshape,
    "softmax": _unary("SOFTMAX", "SoftmaxOptions", (1, 10), Beta=1.0),
    "logistic": _unary("LOGISTIC"), "tanh": _unary("TANH"), "relu": _unary("RELU"),
    "relu6": _unary("RELU6"), "hard_swish": _unary("HARD_SWISH"),
    "leaky_relu": _unary("LEAKY_RELU", "LeakyReluOptions", Alpha=0.2), "elu": _unary("ELU"),
    "pad": _pad, "concat": _concat, "mean": _mean, "transpose": _transpose,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_float_op(name, builder, tflm, tmp_path, caplog):
    caplog.set_level(logging.ERROR, "tinyc")
    rng = np.random.default_rng(sorted(CASES).index(name))
    b = builder.TflBuilder()
    ins, outs = CASES[name](b, rng)
    data = b.build(ins, outs)
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    probe = load_tflite(path)
    n = 32
    xs = [rng.normal(0, 1.5, (n, *v.shape)).astype(np.float32) for v in probe.inputs]
    m = tinyc.compile(path, calib={v.name: x for v, x in zip(probe.inputs, xs)}, progress=None)
    assert all(s.dtype == "float32" for s in (*m.inputs, *m.outputs))
    arg = xs if len(xs) > 1 else xs[0]
    yf, yq = m.run_float(arg, batch=True), m.interpret(arg, batch=True)
    it = tflm.Interpreter.from_bytes(data)
    for k in range(n):
        for i, x in enumerate(xs):
            it.set_input(x[k], i)
        it.invoke()
        want = it.get_output(0)
        np.testing.assert_allclose(yf[k].reshape(want.shape), want, rtol=1e-5, atol=1e-5)
    step = m.outputs[0].scale
    err = np.abs(yq - yf).max() / step
    bound = LAYER_STEPS if name in ("conv", "depthwise", "fully_connected") else FLOAT_STEPS
    assert err <= bound, f"{name}: int8 off float by {err:.1f} output steps"
    c = m.run_host([x[:4] for x in xs] if len(xs) > 1 else xs[0][:4], batch=True)
    assert np.array_equal(c, yq[:4]), f"{name}: host C != golden model"


def test_hybrid_still_refused(builder, tmp_path):
    b = builder.TflBuilder()
    x, y = b.tensor("x", (1, 4), **F32), b.tensor("y", (1, 3), **F32)
    w = b.const("w", np.ones((3, 4), np.int8), scale=0.1)
    b.op("FULLY_CONNECTED", [x, w], [y], "FullyConnectedOptions")
    path = tmp_path / "m.tflite"
    path.write_bytes(b.build([x], [y]))
    with pytest.raises(ModelError, match="hybrid"):
        tinyc.compile(path, calib={"x": np.ones((4, 1, 4), np.float32)}, progress=None)


@pytest.fixture(scope="module")
def digits_data():
    d = np.load(DIGITS / "test.npz")
    c = np.load(DIGITS / "calib.npz")["input"]
    # the ONNX model's [N, 1, 8, 8] as the .tflite's NHWC [N, 8, 8, 1] (one channel: a reshape)
    return d["input"].reshape(-1, 8, 8, 1), d["label"], c.reshape(-1, 8, 8, 1)


def test_digits_file_is_what_the_script_makes(tfl):
    sys.path.insert(0, str(DIGITS))
    try:
        import make_tflite
    finally:
        sys.path.remove(str(DIGITS))
    assert make_tflite.build() == (DIGITS / "digits_float.tflite").read_bytes()


def test_digits_float_tflite_equals_onnxruntime(tflm, digits_data):
    ort = pytest.importorskip("onnxruntime")
    x, _, _ = digits_data
    it = tflm.Interpreter.from_bytes((DIGITS / "digits_float.tflite").read_bytes())
    s = ort.InferenceSession(str(DIGITS / "digits.onnx"))
    for k in range(0, len(x), 12):
        it.set_input(x[k:k + 1], 0)
        it.invoke()
        want = s.run(None, {"input": x[k].reshape(1, 1, 8, 8)})[0]
        np.testing.assert_allclose(it.get_output(0), want, rtol=1e-4, atol=1e-4)


def test_digits_int8_accuracy_within_1_point(tfl, digits_data, caplog):
    caplog.set_level(logging.ERROR, "tinyc")
    x, labels, calib = digits_data
    m = tinyc.compile(DIGITS / "digits_float.tflite", calib={"input": calib}, progress=None)
    yf, yq = m.run_float(x, batch=True), m.interpret(x, batch=True)
    acc_f = float((yf.reshape(len(x), -1).argmax(1) == labels).mean() * 100)
    acc_q = float((yq.reshape(len(x), -1).argmax(1) == labels).mean() * 100)
    assert acc_f > 95 and acc_q >= acc_f - 1, (acc_f, acc_q)
    assert np.array_equal(m.run_host(x[:40], batch=True), yq[:40])


def test_digits_cli_build_with_calib(tfl, digits_data, tmp_path):
    _, _, calib = digits_data
    np.savez(tmp_path / "calib.npz", input=calib)
    r = subprocess.run([sys.executable, "-m", "tinyc.cli", "build",
                        str(DIGITS / "digits_float.tflite"), "--calib", str(tmp_path / "calib.npz"),
                        "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "model.c").is_file()
    r = subprocess.run([sys.executable, "-m", "tinyc.cli", "build",
                        str(DIGITS / "digits_float.tflite"), "-o", str(tmp_path / "o2")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "calibration data is needed" in r.stderr
