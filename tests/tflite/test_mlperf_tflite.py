"""Issue 9 acceptance: the four MLPerf Tiny int8 .tflite files compile straight from the
flatbuffer and are bit-exact with TFLite Micro (`outputs_tflm` in <m>_ref.npz) in the golden
model, in host C and in QEMU; and they compile to the same thing as the int8 QDQ ONNX files
(identical outputs, same arena)."""
from __future__ import annotations

import numpy as np
import pytest

import tinyc

MODELS = ["kws", "vww", "ic", "ad"]


def _mismatch(got, want) -> str:
    got, want = np.asarray(got).reshape(want.shape), np.asarray(want)
    bad = np.argwhere(got != want)
    rows = sorted({int(i[0]) for i in bad})
    first = tuple(bad[0]) if len(bad) else None
    return (f"{len(bad)} of {want.size} values differ (rows {rows}); first at {first}: "
            f"got {got[first] if first else '-'}, want {want[first] if first else '-'}")


def _assert_equal(got, want):
    want = np.asarray(want)
    assert np.array_equal(np.asarray(got).reshape(want.shape), want), _mismatch(got, want)


@pytest.fixture(scope="module", params=MODELS)
def mlperf(request, models_dir, tfl):
    name = request.param
    folder = models_dir / "mlperf-tiny"
    ref = np.load(folder / f"{name}_ref.npz")
    m = tinyc.compile(folder / f"{name}_int8.tflite", board="stm32")
    return name, m, ref


def test_io_quantization_is_the_models(mlperf):
    _, m, ref = mlperf
    assert m.inputs[0].dtype == "int8" and m.outputs[0].dtype == "int8"
    assert m.inputs[0].shape == (1, *ref["inputs"].shape[1:])
    assert np.float32(m.inputs[0].scale) == ref["input_scale"]
    assert m.inputs[0].zero_point == ref["input_zero_point"]
    assert np.float32(m.outputs[0].scale) == ref["output_scale"]
    assert m.outputs[0].zero_point == ref["output_zero_point"]


def test_golden_model_equals_tflm(mlperf):
    _, m, ref = mlperf
    _assert_equal(m.interpret(ref["inputs"], batch=True), ref["outputs_tflm"])


def test_host_c_equals_tflm(mlperf):
    _, m, ref = mlperf
    _assert_equal(m.run_host(ref["inputs"], batch=True), ref["outputs_tflm"])


def test_qemu_equals_tflm(mlperf):
    _, m, ref = mlperf
    _assert_equal(m.run_qemu(ref["inputs"], batch=True, board="stm32"), ref["outputs_tflm"])


def test_same_as_the_qdq_onnx(mlperf, models_dir):
    """The .tflite and the tf2onnx QDQ export of it compile to the same integer program."""
    name, m, ref = mlperf
    onnx_m = tinyc.compile(models_dir / "mlperf-tiny" / f"{name}_int8_qdq.onnx", board="stm32")
    assert m.report["arena_bytes"] == onnx_m.report["arena_bytes"]
    assert [n.op for n in m.graph.nodes] == [n.op for n in onnx_m.graph.nodes]
    rng = np.random.default_rng(9)
    x = np.concatenate([ref["inputs"],
                        rng.integers(-128, 128, (8,) + ref["inputs"].shape[1:], dtype=np.int8)])
    _assert_equal(m.interpret(x, batch=True), np.asarray(onnx_m.interpret(x, batch=True)))
