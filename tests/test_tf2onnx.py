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


def _int_concat_model(s2: float, z2: int):
    """tf2onnx's form of TFLite's int8 CONCATENATION: Q(a), Q(b) -> Concat (int8) -> DQ."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    inits = [numpy_helper.from_array(np.array(v, t), n) for n, v, t in
             (("s1", 0.05, np.float32), ("z1", 3, np.int8), ("s2", s2, np.float32),
              ("z2", z2, np.int8))]
    nodes = [helper.make_node("QuantizeLinear", ["a", "s1", "z1"], ["aq"]),
             helper.make_node("QuantizeLinear", ["b", "s2", "z2"], ["bq"]),
             helper.make_node("Concat", ["aq", "bq"], ["c"], axis=3, name="cat"),
             helper.make_node("DequantizeLinear", ["c", "s1", "z1"], ["y"])]
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4, 4, c])
          for n, c in (("a", 2), ("b", 3), ("y", 5))]
    g = helper.make_graph(nodes, "int_concat", io[:2], io[2:], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)],
                          producer_name="tf2onnx")
    onnx.checker.check_model(m)
    return m


def test_integer_concat_moves_bytes(tmp_path):
    """Concat of int8 tensors with one quantization is exact: tinyc == ONNX Runtime."""
    import onnx
    import onnxruntime as ort
    path = tmp_path / "m.onnx"
    onnx.save(_int_concat_model(0.05, 3), path)
    rng = np.random.default_rng(15)
    a = rng.uniform(-6, 6, (8, 1, 4, 4, 2)).astype(np.float32)
    b = rng.uniform(-6, 6, (8, 1, 4, 4, 3)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = np.stack([sess.run(None, {"a": a[i], "b": b[i]})[0] for i in range(8)])
    m = tinyc.compile(path, progress=None)
    assert np.array_equal(np.asarray(m.interpret([a, b], batch=True)).reshape(want.shape), want)


def test_integer_concat_of_different_quantization_is_refused(tmp_path):
    import onnx
    path = tmp_path / "m.onnx"
    onnx.save(_int_concat_model(0.1, 0), path)
    with pytest.raises(tinyc.errors.ModelError, match=r"(?s)'cat'.*Concat.*different quantization"):
        tinyc.compile(path, progress=None)


def test_mixed_qemu_equals_tflm():
    """Integer Concat, HardSwish / Sigmoid tables, the sigmoid gate's Mul on the target."""
    x = np.load(HERE / "ref.npz")["input"][:8]
    m = tinyc.compile(HERE / "mixed_tf2onnx.onnx", progress=None)
    want = _tflm(HERE / "mixed_tf2onnx.tflite", x)
    assert np.array_equal(np.asarray(m.run_qemu(x, batch=True)).reshape(want.shape), want)
