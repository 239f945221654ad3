"""SVDF (issue 16): the int8 form with int16 (or int8) weights_time and state. Bit-exactness with TFLite
Micro is in test_ops_tflm.py (cases svdf, svdf_rank1_relu, svdf_rank3; the oracle is reset
before every sample) and test_ops_qemu.py; here the state semantics and the refusals.

State: TFLM keeps SVDF's state (a variable tensor) between invokes; a tinyc model keeps no
state between calls, so each inference equals a fresh TFLM interpreter's first invoke (state
reset to 0). A stream of frames through TFLM without reset differs from the second frame on."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import tinyc
from tinyc.errors import ModelError


def _model(builder, tmp_path, wt_dtype="INT16", state_zp=0, bias_scale=None, state_dtype=None):
    b = builder.TflBuilder()
    rng = np.random.default_rng(3)
    x = b.tensor("x", (1, 6), scale=0.05, zp=3)
    wf = b.const("wf", rng.integers(-127, 128, (4, 6)).astype(np.int8), scale=0.01)
    if wt_dtype == "INT16":
        wt = b.const("wt", rng.integers(-30000, 30000, (4, 3)).astype(np.int16), scale=3e-5)
        s_state, st = 1e-3, "INT16"
    else:
        wt = b.const("wt", rng.integers(-127, 128, (4, 3)).astype(np.int8), scale=0.008)
        s_state, st = 0.05, "INT8"
    s_b = bias_scale or float(np.float32(s_state) * b.tensors[wt]["scale"][0])
    bias = b.const("b", rng.integers(-500, 500, 2).astype(np.int32), scale=s_b)
    state = b.tensor("state", (1, 12), dtype=state_dtype or st, scale=s_state, zp=state_zp, variable=True)
    y = b.tensor("y", (1, 2), scale=0.25, zp=-5)
    b.op("SVDF", [x, wf, wt, bias, state], [y], "SVDFOptions", Rank=2)
    data = b.build([x], [y])
    path = tmp_path / "svdf.tflite"
    path.write_bytes(data)
    return path, data


def test_each_inference_is_a_fresh_interpreter(builder, tflm, tmp_path, caplog):
    caplog.set_level(logging.ERROR, "tinyc")
    path, data = _model(builder, tmp_path)
    m = tinyc.compile(path, progress=None)
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, (6, 1, 6)).astype(np.int8)
    stream = tflm.Interpreter.from_bytes(data)
    streamed, fresh = [], []
    for x in xs:
        stream.set_input(x, 0)
        stream.invoke()
        streamed.append(stream.get_output(0).copy())
        it = tflm.Interpreter.from_bytes(data)
        it.set_input(x, 0)
        it.invoke()
        fresh.append(it.get_output(0))
    got, got_c = m.interpret(xs, batch=True), m.run_host(xs, batch=True)
    assert np.array_equal(got, np.stack(fresh)) and np.array_equal(got_c, got)
    assert np.array_equal(got[0], streamed[0])               # the first frame: the same
    assert not np.array_equal(got[1:], np.stack(streamed[1:]))   # then TFLM's state differs


@pytest.mark.parametrize("kw, match", [
    ({"wt_dtype": "INT8", "state_dtype": "INT16"},
     r"SVDF.*state: expected a per-tensor quantized int8"),
    ({"state_dtype": "INT8"}, r"SVDF.*state: expected a per-tensor quantized int16"),
    ({"state_zp": 4}, r"SVDF.*state zero point 4"),
    ({"bias_scale": 1e-3}, r"SVDF.*bias scale .* is not state scale x weights_time scale")])
def test_unsupported_svdf_is_named(builder, tmp_path, kw, match):
    path, _ = _model(builder, tmp_path, **kw)
    with pytest.raises(ModelError, match=match):
        tinyc.compile(path, progress=None)


def test_float_form_follows_the_integer_one(builder, tmp_path, caplog):
    """The IR's float svdf (Model.run_float: a fresh zero state, dequantized weights) is within
    3 output steps of the integer form on the same inputs."""
    caplog.set_level(logging.ERROR, "tinyc")
    path, _ = _model(builder, tmp_path)
    m = tinyc.compile(path, progress=None)
    x = np.random.default_rng(1).integers(-128, 128, (20, 1, 6)).astype(np.int8)
    yq = m.outputs[0].dequantize(m.interpret(x, batch=True))
    yf = m.run_float(m.inputs[0].dequantize(x), batch=True)
    assert np.abs(yq - yf).max() <= 3 * m.outputs[0].scale


def test_int8_state_with_zero_point_each_inference_fresh(builder, tflm, tmp_path, caplog):
    """int8 weights_time and state (TFLM EvalIntegerSvdfReference<int8_t>; the state resets to
    its zero point): every inference == a fresh TFLM interpreter, golden and host C."""
    caplog.set_level(logging.ERROR, "tinyc")
    path, data = _model(builder, tmp_path, wt_dtype="INT8", state_zp=-7)
    m = tinyc.compile(path, progress=None)
    xs = np.random.default_rng(5).integers(-128, 128, (6, 1, 6)).astype(np.int8)
    want = []
    for x in xs:
        it = tflm.Interpreter.from_bytes(data)
        it.set_input(x, 0)
        it.invoke()
        want.append(it.get_output(0))
    got = m.interpret(xs, batch=True)
    assert np.array_equal(got, np.stack(want)) and np.array_equal(m.run_host(xs, batch=True), got)
