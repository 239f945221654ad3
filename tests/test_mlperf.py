"""Issue 3 acceptance: the four MLPerf Tiny int8 QDQ models are bit-exact with TFLite Micro
(`outputs_tflm` in <m>_ref.npz) in the golden model, in host C and in QEMU on Cortex-M4/M33."""
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
            f"got {got[first] if first else '-'}, TFLM {want[first] if first else '-'}")


@pytest.fixture(scope="module", params=MODELS)
def mlperf(request, models_dir):
    name = request.param
    folder = models_dir / "mlperf-tiny"
    ref = np.load(folder / f"{name}_ref.npz")
    m = tinyc.compile(folder / f"{name}_int8_qdq.onnx", board="stm32")
    return name, m, ref


def test_io_quantization_is_the_models(mlperf):
    _, m, ref = mlperf
    assert m.inputs[0].dtype == "int8"
    assert np.float32(m.inputs[0].scale) == ref["input_scale"]
    assert m.inputs[0].zero_point == ref["input_zero_point"]
    assert np.float32(m.outputs[0].scale) == ref["output_scale"]
    assert m.outputs[0].zero_point == ref["output_zero_point"]


def test_golden_model_equals_tflm(mlperf):
    _, m, ref = mlperf
    got = m.interpret(ref["inputs"], batch=True)
    want = ref["outputs_tflm"]
    assert np.array_equal(np.asarray(got).reshape(want.shape), want), _mismatch(got, want)


def test_host_c_equals_tflm(mlperf):
    _, m, ref = mlperf
    got = m.run_host(ref["inputs"], batch=True)
    want = ref["outputs_tflm"]
    assert np.array_equal(np.asarray(got).reshape(want.shape), want), _mismatch(got, want)


@pytest.mark.parametrize("board", ["stm32", "mps2-an505"])
def test_qemu_equals_tflm(mlperf, board):
    _, m, ref = mlperf
    got = m.run_qemu(ref["inputs"], batch=True, board=board)
    want = ref["outputs_tflm"]
    assert np.array_equal(np.asarray(got).reshape(want.shape), want), _mismatch(got, want)
