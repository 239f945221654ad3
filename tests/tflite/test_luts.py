"""tflite_luts: TFLM's integer LOGISTIC / TANH / HARD_SWISH / QUANTIZE as 256-entry tables.
Exactness against TFLM is test_ops_tflm.py's job (it needs tflite-micro); here, without any
optional package: the tables are sane (monotone, within 1 LSB of the real function) and the
fixed-point pieces are gemmlowp's at known points."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.frontend import tflite_luts as L
from tinyc.ir import QParams

SCALES = [(0.003, -128), (0.02, 0), (0.0625, 17), (0.1, -40), (0.25, 90)]


def _real(q: QParams) -> np.ndarray:
    return (np.arange(-128, 128) - q.zp) * float(np.float32(q.s))


@pytest.mark.parametrize("s, zp", SCALES)
def test_logistic_and_tanh_tables(s, zp):
    q = QParams((s,), (zp,))
    x = _real(q)
    for table, ref, (s_out, zp_out) in (
            (L.logistic_table(q), 1 / (1 + np.exp(-x)), (1 / 256, -128)),
            (L.tanh_table(q), np.tanh(x), (1 / 128, 0))):
        t = np.asarray(table)
        assert np.all(np.diff(t) >= 0)
        want = np.clip(np.round(ref / s_out) + zp_out, -128, 127)
        assert np.abs(t - want).max() <= 1


@pytest.mark.parametrize("s, zp", SCALES)
def test_hard_swish_table(s, zp):
    q_in, q_out = QParams((s,), (zp,)), QParams((s / 2,), (-100,))
    x = _real(q_in)
    want = np.clip(np.round(x * np.clip(x + 3, 0, 6) / 6 / q_out.s) + q_out.zp, -128, 127)
    assert np.abs(np.asarray(L.hard_swish_table(q_in, q_out)) - want).max() <= 1


def test_hard_swish_refuses_what_tflm_refuses():
    with pytest.raises(ValueError, match="exponent"):
        L.hard_swish_table(QParams((1.0,), (0,)), QParams((1e-6,), (0,)))


def test_requantize_and_identity_tables():
    assert L.identity_table() == tuple(range(-128, 128))
    q = QParams((0.05,), (3,))
    assert L.requantize_table(q, q) == L.identity_table()
    t = np.asarray(L.requantize_table(q, QParams((0.1,), (-5,))))
    want = np.clip(np.floor((np.arange(-128, 128) - 3) / 2 + 0.5) - 5, -128, 127)
    assert np.array_equal(t, want)       # gemmlowp's high mul: halves round toward +inf


def test_fixed_point_functions_at_known_points():
    one_q4 = 1 << 27                                     # 1.0 in FixedPoint<int32, 4>
    y = L.fixed_logistic(np.array([0, one_q4, -one_q4]), 4) / 2**31
    assert y[0] == 0.5
    assert abs(y[1] - 1 / (1 + np.exp(-1))) < 1e-6 and abs(y[2] - 1 / (1 + np.exp(1))) < 1e-6
    t = L.fixed_tanh(np.array([0, one_q4, -one_q4]), 4) / 2**31
    assert t[0] == 0 and abs(t[1] - np.tanh(1)) < 1e-6 and t[2] == -t[1]


def test_int16_fixed_point_helpers():
    assert L.srdhm16(-32768, -32768) == 32767 and L.sdhm16(-32768, -32768) == 32767
    assert L.srdhm16(16384, 16384) == 8192 and L.srdhm16(3, 16384) == 2    # 1.5 -> 2
    assert L.sdhm16(3, 16384) == 1 and L.sdhm16(-3, 16384) == -1          # toward zero


def test_softmax16_tables_are_tflm_lutpopulate():
    """16x8 SOFTMAX's tables (ir/ops/softmax16.py): the same with the C library's expf (what
    TFLM's std::exp(float) calls) as with float64 exp rounded to float32, and within 1 LSB of
    the real functions at the table's nodes (the bias moves nodes by at most 1)."""
    import ctypes
    import ctypes.util

    from tinyc.ir.ops.softmax16 import EXP_LUT, ONE_OVER_1PX_LUT, lut_populate_int16
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.expf.restype, libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
    f = np.float32
    again = lut_populate_int16(f(f(10.0) / f(65535)), 32767, f(f(2.0) / f(65535)), 0,
                               lambda v: f(libm.expf(float(v))))
    assert np.array_equal(again, EXP_LUT)
    v = np.linspace(-10.0, 0.0, 513)
    assert np.abs(EXP_LUT - np.round(np.exp(v) * 32767.5)).max() <= 1
    v = np.linspace(0.0, 1.0, 513)
    assert np.abs(ONE_OVER_1PX_LUT - np.round(32767.5 / (1 + v))).max() <= 1
