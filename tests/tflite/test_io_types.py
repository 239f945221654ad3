"""Model I/O in the model's own type (issue 16): a uint8 or int16 .tflite input/output is
uint8_t / int16_t in the generated C API, in tinyc.Model (interpret, run_host) and in the host
runner; int8 models keep int8_t. Bit-exactness against TFLite Micro is in test_ops_tflm.py
(cases uint8_io, uint8_same_scale, int16_io, int16_in_uint8_out) and test_ops_qemu.py."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import tinyc
from tinyc.errors import ModelError, UnsupportedOpError


def _compile(cases, name, tmp_path, seed=0):
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(cases.CASES[name](np.random.default_rng(seed)))
    return tinyc.compile(path, progress=None)


@pytest.fixture
def cases(tfl, caplog):
    caplog.set_level(logging.ERROR, "tinyc")
    import tfl_cases
    return tfl_cases


@pytest.mark.parametrize("name, sig, ins, outs", [
    ("uint8_io", "const uint8_t *in, uint8_t *out", ["uint8"], ["uint8"]),
    ("int16_io", "const int16_t *in, int16_t *out", ["int16"], ["int16"]),
    ("int16_in_uint8_out", "const int16_t *in, uint8_t *out", ["int16"], ["uint8"]),
    ("conv", "const int8_t *in, int8_t *out", ["int8"], ["int8"]),
    ("softmax_int8_int16", "const int8_t *in, int16_t *out", ["int8"], ["int16"])])
def test_c_api_takes_the_models_own_types(cases, tmp_path, name, sig, ins, outs):
    m = _compile(cases, name, tmp_path)
    assert [s.dtype for s in m.inputs] == ins and [s.dtype for s in m.outputs] == outs
    header = (m.write(tmp_path / "c", host=True) / "model.h").read_text()
    assert f"void tinyc_model_invoke({sig});" in header
    for k, t in (("IN0", ins[0]), ("OUT0", outs[0])):
        typed = f"#define TINYC_MODEL_{k}_TYPE {t}_t" in header
        assert typed == (t != "int8")            # int8 headers are as before
    rng = np.random.default_rng(1)
    spec = m.inputs[0]
    info = np.iinfo(spec.np_dtype)
    x = rng.integers(info.min, int(info.max) + 1, (3, *spec.shape)).astype(spec.np_dtype)
    y, y_c = m.interpret(x, batch=True), m.run_host(x, batch=True)
    assert y.dtype == y_c.dtype == m.outputs[0].np_dtype
    assert np.array_equal(y, y_c)
    # float in, float out: quantized with the model's own scale and zero point
    xf = m.inputs[0].dequantize(x)
    assert np.array_equal(m.interpret(xf, batch=True), m.outputs[0].dequantize(y))


def test_uint8_zero_point_is_the_files(cases, tmp_path):
    m = _compile(cases, "uint8_io", tmp_path)
    assert 0 <= m.inputs[0].zero_point <= 255 and 0 <= m.outputs[0].zero_point <= 255
    header = (m.write(tmp_path / "c", host=True) / "model.h").read_text()
    assert f"TINYC_MODEL_IN0_ZERO_POINT ({m.inputs[0].zero_point})" in header


def test_int16_with_zero_point_is_refused(builder, tmp_path):
    b = builder.TflBuilder()
    x16 = b.tensor("x", (1, 8), dtype="INT16", scale=0.001, zp=5)
    x = b.tensor("x_q", (1, 8), scale=0.05, zp=0)
    b.op("QUANTIZE", [x16], [x])
    path = tmp_path / "m.tflite"
    path.write_bytes(b.build([x16], [x]))
    with pytest.raises(ModelError, match=r"input tensor 'x'.*int16 with zero point 5.*symmetric"):
        tinyc.compile(path, progress=None)


def test_int16_op_without_an_int16_form_is_refused(builder, tmp_path):
    """16x8 models import the ops with an IR int16 form; another int16 op is named."""
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 8), scale=0.05, zp=0)
    x16 = b.tensor("x16", (1, 8), dtype="INT16", scale=0.0005, zp=0)
    y16 = b.tensor("y16", (1, 8), dtype="INT16", scale=0.0005, zp=0)
    b.op("QUANTIZE", [x], [x16])
    b.op("ELU", [x16], [y16])
    path = tmp_path / "m.tflite"
    path.write_bytes(b.build([x], [y16]))
    with pytest.raises(UnsupportedOpError, match=r"ELU.*int16 activations are not supported"):
        tinyc.compile(path, progress=None)


def test_onnx_uint8_model_io_is_uint8_too(tmp_path, caplog):
    """The same rule for ONNX: a QDQ model with uint8 input/output takes and returns uint8
    (C API, golden model, host C), and equals onnxruntime."""
    caplog.set_level(logging.ERROR, "tinyc")
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from tests.frontend.test_import_qdq import const_dq, int_weights, make_model, node
    w_s, in_s = np.linspace(0.002, 0.004, 4).astype(np.float32), np.float32(0.02)
    nw, iw = const_dq("W", int_weights((4, 3, 3, 3)), w_s, axis=0)
    nb, ib = const_dq("B", np.arange(-2, 2, dtype=np.int32) * 50, in_s * w_s, axis=0)
    nodes = nw + nb + [node("DequantizeLinear", ["x", "xs", "xz"], ["xd"]),
                       node("Conv", ["xd", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
                       node("Relu", ["c"], ["r"]), node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    inits = {**iw, **ib, "xs": in_s, "xz": np.uint8(128), "ys": np.float32(0.01),
             "yz": np.uint8(0)}
    path = tmp_path / "u8.onnx"
    onnx.save(make_model(nodes, {"x": [1, 3, 5, 5]}, {"y": None}, inits,
                         itype=onnx.TensorProto.UINT8), path)
    m = tinyc.compile(path, progress=None)
    assert (m.inputs[0].dtype, m.inputs[0].zero_point) == ("uint8", 128)
    header = (m.write(tmp_path / "c", host=True) / "model.h").read_text()
    assert "void tinyc_model_invoke(const uint8_t *in, uint8_t *out);" in header
    x = np.random.default_rng(0).integers(0, 256, (1, 3, 5, 5)).astype(np.uint8)
    want = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    got = m.interpret(x)
    assert got.dtype == np.uint8 and np.array_equal(got, want)
    assert np.array_equal(m.run_host(x), got)


def test_16x8_float_io_takes_float_and_int16_in_c(cases, tflm, tmp_path):
    """A 16x8 model with float I/O (QUANTIZE float -> int16, DEQUANTIZE int16 -> float), as
    the int8 float-I/O models: tinyc.Model takes and returns float32 (quantized with the int16
    scale), the C API int16_t; == TFLite Micro on float inputs (on the int16 grid)."""
    m = _compile(cases, "float_io_16x8_softmax", tmp_path)
    assert [(s.dtype, s.np_dtype) for s in m.inputs + m.outputs] == [
        ("float32", np.dtype(np.int16))] * 2
    header = (m.write(tmp_path / "c", host=True) / "model.h").read_text()
    assert "void tinyc_model_invoke(const int16_t *in, int16_t *out);" in header
    q = np.random.default_rng(2).integers(-32768, 32768, (4, *m.inputs[0].shape))
    xf = m.inputs[0].dequantize(q.astype(np.int16))
    y, y_c = m.interpret(xf, batch=True), m.run_host(xf, batch=True)
    assert y.dtype == np.float32 and np.array_equal(y, y_c)
    data = cases.CASES["float_io_16x8_softmax"](np.random.default_rng(0))
    for k in range(len(xf)):
        it = tflm.Interpreter.from_bytes(data)
        it.set_input(xf[k], 0)
        it.invoke()
        assert np.array_equal(it.get_output(0), y[k])


def test_softmax_int8_int16_output_zero_point(cases, tmp_path):
    """The int8 -> int16 SOFTMAX output keeps TFLM's zero point -32768 (scale 1/65536) in
    tinyc.Model and the header; its probabilities dequantize to rows summing to ~1."""
    m = _compile(cases, "softmax_int8_int16", tmp_path)
    out = m.outputs[0]
    assert (out.dtype, out.zero_point, out.scale) == ("int16", -32768, 1 / 65536)
    header = (m.write(tmp_path / "c", host=True) / "model.h").read_text()
    assert "TINYC_MODEL_OUT0_ZERO_POINT (-32768)" in header
    x = np.random.default_rng(2).integers(-128, 128, m.inputs[0].shape).astype(np.int8)
    p = out.dequantize(m.run_host(x))
    assert np.allclose(p.sum(axis=-1), 1.0, atol=2e-3)
