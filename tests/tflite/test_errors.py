""".tflite files tinyc cannot compile give one clear error naming the op or tensor: an
UnsupportedOpError / ModelError from the API, `error: ...` and exit 2 from the CLI."""
from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest

import tinyc
from tinyc.errors import ModelError, QuantizationError, UnsupportedOpError
from tinyc.frontend.tflite import load_tflite


def tinyc_cli(*args):
    return subprocess.run([sys.executable, "-m", "tinyc.cli", *map(str, args)],
                          capture_output=True, text=True)


def _assert_user_error(r, *needles):
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def _save(tmp_path, data: bytes, name: str = "m.tflite"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def patch_opcode(tfl, data: bytes, old: str, new: str) -> bytes:
    """The model with every operator code `old` rewritten to `new`, in place in the bytes
    (OperatorCode: deprecated_builtin_code int8 at vtable slot 4, builtin_code int32 at 10)."""
    model = tfl.Model.GetRootAs(data, 0)
    old_code, new_code = getattr(tfl.BuiltinOperator, old), getattr(tfl.BuiltinOperator, new)
    out, patched = bytearray(data), 0
    for j in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(j)
        if max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()) != old_code:
            continue
        for slot, fmt, value in ((4, "<b", min(new_code, 127)), (10, "<i", new_code)):
            off = oc._tab.Offset(slot)
            if off:
                struct.pack_into(fmt, out, oc._tab.Pos + off, value)
                patched += 1
    assert patched, f"no {old} operator code to patch"
    return bytes(out)


def _conv_model(builder, x_dtype="INT8", w_quantized=True, float_bias=False):
    """x -> CONV_2D 1x1 -> y, with float or int8 activations / weights as asked."""
    b = builder.TflBuilder()
    q = {} if x_dtype != "INT8" else {"scale": 0.1, "zp": 0}
    x = b.tensor("x", (1, 4, 4, 2), dtype=x_dtype, **q)
    if w_quantized:
        w = b.const("w", np.ones((3, 1, 1, 2), np.int8), scale=[0.01] * 3, zp=[0] * 3)
    else:
        w = b.const("w", np.ones((3, 1, 1, 2), np.float32))
    bias = b.const("b", np.zeros(3, np.float32)) if float_bias else \
        b.const("b", np.zeros(3, np.int32), scale=[0.001] * 3, zp=[0] * 3)
    y = b.tensor("y", (1, 4, 4, 3), dtype=x_dtype, **q)
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", Padding=1, StrideW=1, StrideH=1,
         DilationWFactor=1, DilationHFactor=1)
    return b.build([x], [y])


def test_unsupported_builtin_op_is_named(tmp_path, builder):
    b = builder.TflBuilder()
    x, y = b.tensor("x", (1, 8), scale=0.1), b.tensor("y", (1, 8), scale=0.1)
    b.op("FLOOR_MOD", [x, x], [y])
    path = _save(tmp_path, b.build([x], [y]))
    with pytest.raises(UnsupportedOpError, match=r"operator #0 FLOOR_MOD .*'y'.*"
                                                 r"not supported.*CONV_2D"):
        tinyc.compile(path)
    _assert_user_error(tinyc_cli("build", path, "-o", tmp_path / "out"),
                       "FLOOR_MOD", "not supported")


def test_patched_opcode_in_a_real_model(tmp_path, models_dir, tfl):
    """kws with its SOFTMAX operator code rewritten to LOCAL_RESPONSE_NORMALIZATION (a
    controlled byte edit)."""
    data = (models_dir / "mlperf-tiny" / "kws_int8.tflite").read_bytes()
    path = _save(tmp_path, patch_opcode(tfl, data, "SOFTMAX", "LOCAL_RESPONSE_NORMALIZATION"),
                 "kws.tflite")
    with pytest.raises(UnsupportedOpError,
                       match=r"operator #12 LOCAL_RESPONSE_NORMALIZATION \(output 'Identity'\): "
                             r"op LOCAL_RESPONSE_NORMALIZATION is not"):
        tinyc.compile(path)
    _assert_user_error(tinyc_cli("inspect", path), "LOCAL_RESPONSE_NORMALIZATION", "operator #12")


def test_float_model_needs_calibration(tmp_path, builder):
    """A float model compiles from calibration data (test_float_tflite.py); without: one
    clear error naming the float tensors and --calib."""
    path = _save(tmp_path, _conv_model(builder, "FLOAT32", w_quantized=False, float_bias=True))
    with pytest.raises(QuantizationError, match=r"is a float model .*e\.g\. x, y\) — "
                                                r"calibration data is needed: pass --calib"):
        tinyc.compile(path)
    _assert_user_error(tinyc_cli("build", path, "-o", tmp_path / "out"), "float model",
                       "--calib")


def test_hybrid_model(tmp_path, builder):
    """Float activations with int8 weights (dynamic-range quantization, like kws_float)."""
    path = _save(tmp_path, _conv_model(builder, "FLOAT32", w_quantized=True, float_bias=True))
    with pytest.raises(ModelError, match=r"tensor 'x' .* this is a hybrid \(dynamic-range "
                                         r"quantized\) model"):
        tinyc.compile(path)
    _assert_user_error(tinyc_cli("inspect", path), "hybrid")


def test_float_weights_with_int8_activations(tmp_path, builder):
    path = _save(tmp_path, _conv_model(builder, "INT8", w_quantized=False))
    with pytest.raises(ModelError, match=r"weights must be a quantized int8 constant, got "
                                         r"tensor 'w' \(float32"):
        tinyc.compile(path)


def test_weights_dequantized_at_run_time(tmp_path, builder):
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 4), dtype="FLOAT32")
    w8 = b.const("w8", np.ones((2, 4), np.int8), scale=0.1)
    w = b.tensor("w", (2, 4), dtype="FLOAT32")
    y = b.tensor("y", (1, 2), dtype="FLOAT32")
    b.op("DEQUANTIZE", [w8], [w])
    b.op("FULLY_CONNECTED", [x, w], [y], "FullyConnectedOptions")
    with pytest.raises(ModelError, match=r"DEQUANTIZE of the constant tensor 'w8'.*float model"):
        load_tflite(b.build([x], [y]))


def test_int16_activations(builder):
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 8), dtype="INT16", scale=0.001)
    y = b.tensor("y", (1, 8), dtype="INT16", scale=0.001)
    b.op("ELU", [x], [y])
    with pytest.raises(UnsupportedOpError, match=r"ELU.*tensor 'x' \(int16\[1, 8\]\): int16 "
                                                 r"activations are not supported"):
        load_tflite(b.build([x], [y]))


@pytest.mark.parametrize("kind", ["TANH", "LOGISTIC"])
def test_int16_tanh_logistic_output_scale(builder, kind):
    """TFLM's int16 TANH / LOGISTIC Prepare needs the output at 2^-15: refused otherwise."""
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 8), dtype="INT16", scale=0.001)
    y = b.tensor("y", (1, 8), dtype="INT16", scale=0.001)
    b.op(kind, [x], [y])
    with pytest.raises(ModelError, match=rf"{kind}.*int16 output scale 0.001.*needs 2\^-15"):
        load_tflite(b.build([x], [y]))


def test_concat_of_differently_quantized_inputs(builder):
    b = builder.TflBuilder()
    x1, x2 = b.tensor("a", (1, 2), scale=0.1), b.tensor("b", (1, 2), scale=0.2)
    y = b.tensor("y", (1, 4), scale=0.1)
    b.op("CONCATENATION", [x1, x2], [y], "ConcatenationOptions", Axis=1)
    with pytest.raises(ModelError, match=r"CONCATENATION.*tensor 'b'.*need them equal"):
        load_tflite(b.build([x1, x2], [y]))


def test_reduce_max_that_requantizes_is_refused(builder):
    """TFLite Micro's REDUCE_MAX needs the output quantized as the input."""
    b = builder.TflBuilder()
    x, y = b.tensor("x", (1, 3, 3, 4), scale=0.1), b.tensor("y", (1, 3, 3), scale=0.2)
    axes = b.const("axes", np.array([3], np.int32))
    b.op("REDUCE_MAX", [x, axes], [y], "ReducerOptions", KeepDims=False)
    with pytest.raises(ModelError, match=r"REDUCE_MAX.*needs them equal"):
        load_tflite(b.build([x], [y]))


def test_not_a_tflite_file(tmp_path, tfl):
    path = _save(tmp_path, b"\x00" * 64)
    with pytest.raises(ModelError, match="not a TFLite flatbuffer"):
        tinyc.compile(path)
    _assert_user_error(tinyc_cli("inspect", path), "not a TFLite flatbuffer")


def test_missing_tflite_package_names_pip_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tflite", None)         # `import tflite` fails
    path = _save(tmp_path, b"TFL3")
    with pytest.raises(ModelError, match=r"pip install tflite"):
        tinyc.compile(path)


@pytest.mark.parametrize("cut", [0.999, 0.5, 0.01])
def test_truncated_real_model(models_dir, tfl, cut):
    """The issue #16 crash (struct.error from the generated accessors) is a clear error."""
    from tinyc.frontend.tflite_reader import TfliteFormatError
    data = (models_dir / "mlperf-tiny" / "kws_int8.tflite").read_bytes()
    with pytest.raises(TfliteFormatError, match="outside the file .* truncated or damaged"):
        load_tflite(data[:int(len(data) * cut)])


def test_real_model_operator_reading_a_missing_tensor(models_dir, tfl):
    """kws with operator 0's first input index overwritten: named, with the tensor count."""
    from tinyc.frontend.tflite_reader import TfliteFormatError
    data = (models_dir / "mlperf-tiny" / "kws_int8.tflite").read_bytes()
    model = tfl.Model.GetRootAs(data, 0)
    op = model.Subgraphs(0).Operators(0)
    at = op._tab.Vector(op._tab.Offset(6))               # operator 0's input vector
    n = model.Subgraphs(0).TensorsLength()
    bad = data[:at] + struct.pack("<i", 1000) + data[at + 4:]
    with pytest.raises(TfliteFormatError, match=rf"operator #0 input 0: tensor index 1000 out "
                                                rf"of range \({n} tensors\)"):
        load_tflite(bad)


@pytest.mark.parametrize("op, out_q, match", [
    ("SOFTMAX", None, r"SOFTMAX.*activation tensor 'y16' \(int16\[1, 6\]\) with quantization "
                      r"None in an op with int16 activations"),
    ("RSQRT", None, r"RSQRT.*tensor 'y16'.*quantization None"),
    ("SOFTMAX", "int8", r"SOFTMAX.*tensor 'y16' \(int8\[1, 6\]\).*int16 activations only")])
def test_16x8_op_with_a_bad_activation_is_named(builder, tmp_path, op, out_q, match):
    """A 16x8 op whose output int16 tensor lost its quantization, or is int8 beside an int16
    input (found by the fuzz test: the int8 path read a missing q) -> ModelError naming it."""
    b = builder.TflBuilder()
    x = b.tensor("x16", (1, 6), dtype="INT16", scale=0.001, zp=0)
    y = b.tensor("y16", (1, 6), dtype="INT16") if out_q is None else \
        b.tensor("y16", (1, 6), scale=1 / 256, zp=-128)
    b.op(op, [x], [y], *(("SoftmaxOptions",) if op == "SOFTMAX" else ()),
         **({"Beta": 1.0} if op == "SOFTMAX" else {}))
    path = tmp_path / "m.tflite"
    path.write_bytes(b.build([x], [y]))
    with pytest.raises(ModelError, match=match):
        tinyc.compile(path, progress=None)


@pytest.mark.parametrize("src,dst", [("INT8", "INT32"), ("INT16", "INT32"), ("INT32", "INT8"),
                                     ("INT32", "INT16")])
def test_quantize_int32_forms_are_refused(builder, src, dst):
    """TFLM's QUANTIZE also converts to and from int32; tinyc has no int32 activations."""
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 8), dtype=src, scale=0.01, zp=0)
    y = b.tensor("y", (1, 8), dtype=dst, scale=0.02, zp=0)
    b.op("QUANTIZE", [x], [y])
    if src == "INT32":          # an int32 model input: refused before QUANTIZE
        with pytest.raises(ModelError, match=r"input tensor 'x' \(int32\[1, 8\]\): expected "
                           "int8"):
            load_tflite(b.build([x], [y]))
        return
    with pytest.raises(UnsupportedOpError, match=r"QUANTIZE \(output 'y'\).*"
                       rf"{src.lower()}.*{dst.lower()}.*int32 activations"):
        load_tflite(b.build([x], [y]))


@pytest.mark.parametrize("src", ["INT8", "UINT8", "INT16"])
def test_dequantize_inside_the_graph_is_refused(builder, src):
    """int8 / uint8 / int16 -> float feeding a float op: a float computation tinyc does not
    run (it runs integer graphs); refused naming the reading op."""
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 8), dtype=src, scale=0.01, zp=128 if src == "UINT8" else 0)
    f = b.tensor("f", (1, 8), dtype="FLOAT32")
    y = b.tensor("y", (1, 8), dtype="FLOAT32")
    b.op("DEQUANTIZE", [x], [f])
    b.op("LOGISTIC", [f], [y])
    with pytest.raises(ModelError, match=r"DEQUANTIZE \(output 'f'\).*inside the graph \(read "
                       r"by operator #1 LOGISTIC\).*outputs only"):
        load_tflite(b.build([x], [y]))


def test_quantize_to_uint8_from_uint8_is_refused(builder):
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 8), dtype="UINT8", scale=0.01, zp=128)
    y = b.tensor("y", (1, 8), dtype="UINT8", scale=0.02, zp=100)
    b.op("QUANTIZE", [x], [y])
    with pytest.raises(UnsupportedOpError, match=r"QUANTIZE.*uint8 from int8 only"):
        load_tflite(b.build([x], [y]))


def _softmax8_16(builder, zp=-32768, scale=1 / 65536, reader=None):
    b = builder.TflBuilder()
    x = b.tensor("x", (1, 10), scale=0.05, zp=0)
    y = b.tensor("y", (1, 10), dtype="INT16", scale=scale, zp=zp)
    b.op("SOFTMAX", [x], [y], "SoftmaxOptions", Beta=1.0)
    if reader is None:
        return b.build([x], [y])
    z = b.tensor("z", (1, 10), scale=1 / 256, zp=-128)
    b.op(reader, [y], [z])
    return b.build([x], [z])


@pytest.mark.parametrize("zp,scale", [(0, 1 / 65536), (-32768, 1 / 32768)])
def test_softmax_int8_int16_output_q_as_tflm(builder, zp, scale):
    with pytest.raises(ModelError, match=r"SOFTMAX.*TFLite Micro needs scale 1/65536 and zero "
                                         r"point -32768"):
        load_tflite(_softmax8_16(builder, zp, scale))


@pytest.mark.parametrize("reader", ["QUANTIZE", "RELU"])
def test_softmax_int8_int16_read_by_another_op_is_refused(builder, reader):
    """The asymmetric int16 (zero point -32768) is a model output only."""
    with pytest.raises(UnsupportedOpError, match=rf"SOFTMAX.*zero point -32768\) read by "
                       rf"operator #1 {reader}.*model output only"):
        load_tflite(_softmax8_16(builder, reader=reader))
