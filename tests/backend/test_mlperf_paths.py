"""The MLPerf Tiny models through the fast kernels on every path: the portable C on a
Cortex-M3 (lm3s6965, no DSP extension) gives TFLite Micro's outputs too. (The DSP path on
Cortex-M4 and M33 and the host build are tests/test_mlperf.py.) vww and ad do not fit the
lm3s6965's 256 KiB of flash."""
from __future__ import annotations

import numpy as np
import pytest

import tinyc


@pytest.mark.parametrize("name", ["kws", "ic"])
def test_portable_path_on_m3_equals_tflm(name, models_dir):
    folder = models_dir / "mlperf-tiny"
    ref = np.load(folder / f"{name}_ref.npz")
    m = tinyc.compile(folder / f"{name}_int8_qdq.onnx", board="lm3s6965", progress=None)
    kernels = {p.name for p in (m.c_dir() / "kernels").iterdir()}
    assert "tinyc_conv2d_fast_s8.c" in kernels
    got = m.run_qemu(ref["inputs"], batch=True)
    want = ref["outputs_tflm"]
    assert np.array_equal(np.asarray(got).reshape(want.shape), want)
