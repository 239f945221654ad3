"""Issue 15: tf2onnx of a Keras/TFLite int8 model (scripts/make_tf2onnx_models.py: six Keras
digits nets, TFLiteConverter full-integer int8 with float I/O, `tf2onnx.convert --tflite`).
Agreement with ORT's int8 run of the ONNX files is in tests/test_quantizers.py (variant
"tf2onnx"); here the stronger check that these ONNX files are TFLite models: tinyc compiles the
.onnx and the .tflite it came from to the same outputs, and both equal the TFLite Micro
interpreter bit for bit on the 200 held-out digits (tinyc keeps TFLM's rounding for files whose
producer is tf2onnx, frontend/onnx.py `ort_rounding`)."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

import tinyc

HERE = pathlib.Path(__file__).parent / "qdq_models"
MODELS = ("cnn", "dwsep", "resnet", "mlp", "autoenc", "mixed")


def _tflm(path: pathlib.Path, x: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(path.read_bytes())
    out = []
    for k in range(len(x)):
        it.set_input(x[k:k + 1].reshape(1, 8, 8, 1), 0)
        it.invoke()
        out.append(np.array(it.get_output(0)))
    return np.concatenate(out)


def test_six_models_there():
    assert {p.stem for p in HERE.glob("*_tf2onnx.onnx")} == {f"{m}_tf2onnx" for m in MODELS}
    assert {p.stem for p in HERE.glob("*_tf2onnx.tflite")} == {f"{m}_tf2onnx" for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_onnx_equals_tflite_equals_tflm(model):
    x = np.load(HERE / "ref.npz")["input"]
    onnx_m = tinyc.compile(HERE / f"{model}_tf2onnx.onnx", progress=None)      # no calib data
    tfl_m = tinyc.compile(HERE / f"{model}_tf2onnx.tflite", progress=None)
    want = _tflm(HERE / f"{model}_tf2onnx.tflite", x)
    got_onnx = np.asarray(onnx_m.interpret(x, batch=True)).reshape(want.shape)
    got_tfl = np.asarray(tfl_m.interpret(x, batch=True)).reshape(want.shape)
    assert np.array_equal(got_tfl, want), f"{model}: tinyc(tflite) != TFLM on " \
        f"{int((got_tfl != want).any(1).sum())} inputs"
    assert np.array_equal(got_onnx, want), f"{model}: tinyc(onnx) != TFLM on " \
        f"{int((got_onnx != want).any(1).sum())} inputs"
    # the same integer ops (tf2onnx's Squeeze after the pool is a free reshape; the schedule
    # may order independent branches differently)
    ops = [sorted(n.op for n in m.graph.nodes if n.op != "reshape") for m in (onnx_m, tfl_m)]
    assert ops[0] == ops[1]
    host = np.asarray(onnx_m.run_host(x[:16], batch=True)).reshape(want[:16].shape)
    assert np.array_equal(host, want[:16])
