"""ONNX Runtime's float32 averages of int8 values, in numpy float32 (the golden model of the
avg_pool2d attr "ort_float", set by the ONNX QDQ import with ort_exact; frontend/qdq_ort_float.py).
The C does the same IEEE single-precision steps in integers (runtime/tinyc_ort_float.h).

ORT_FLOAT_REDUCE_MEAN (1): DequantizeLinear -> ReduceMean over H, W -> QuantizeLinear, which
ORT runs in float: each value (x - zp) * s in float32, summed per NCHW row by Eigen's vectorized
sum (SSE packets of 4: two packet accumulators from the row's first 16-byte aligned element,
then their sum, its four lanes as (l0 + l2) + (l1 + l3), then the unaligned head and tail one
by one), / count (ReduceAggregatorMean::FastReduceKR), / s, rounded half to even, + zp (MLAS).
ORT_FLOAT_QLINEAR_AVG (2): ORT's QLinearAveragePool (uint8 only; int8 files run it after the
s8 -> u8 conversion): each value (x - zp) * s in float32, summed in window order (rows, then
columns; padding skipped), / count, then nearbyint(y / s + zp_u8) clamped to [0, 255].
"""
from __future__ import annotations

import numpy as np

ORT_FLOAT_REDUCE_MEAN = 1
ORT_FLOAT_QLINEAR_AVG = 2
F32 = np.float32


def _eigen_sum(d: np.ndarray, start: int) -> np.ndarray:
    """Eigen's redux sum (LinearVectorizedTraversal, 4-float packets) of d[..., :n], whose first
    element sits `start` floats past a 16-byte boundary (the first aligned index: (-start) % 4)."""
    n = d.shape[-1]
    a = min((-start) % 4, n)
    size4 = ((n - a) // 4) * 4
    size8 = ((n - a) // 8) * 8
    if size4 == 0:
        s = d[..., 0]
        for i in range(1, n):
            s = F32(s + d[..., i])
        return s
    p0 = d[..., a:a + 4]
    if size4 > 4:
        p1 = d[..., a + 4:a + 8]
        for i in range(a + 8, a + size8, 8):
            p0 = F32(p0 + d[..., i:i + 4])
            p1 = F32(p1 + d[..., i + 4:i + 8])
        p0 = F32(p0 + p1)
        if size4 > size8:
            p0 = F32(p0 + d[..., a + size8:a + size8 + 4])
    s = F32(F32(p0[..., 0] + p0[..., 2]) + F32(p0[..., 1] + p0[..., 3]))
    for i in list(range(a)) + list(range(a + size4, n)):
        s = F32(s + d[..., i])
    return s


def ort_float_average(mode: int, windows: np.ndarray, count: np.ndarray, zp: int, scale: float,
                      out_zp: int, out_scale: float) -> np.ndarray:
    """int8 windows [N, OH, OW, KH, KW, C] (padding: zp) -> the rounded averages [N, OH, OW, C]
    as int64 in the int8 view, before the output clamp; count [N, OH, OW, 1] the unpadded taps;
    (zp, scale) the input's quantization, (out_zp, out_scale) the output's (QLinearAveragePool
    may rescale)."""
    s, so = F32(scale), F32(out_scale)
    d = F32(F32(windows.astype(np.int64) - zp) * s)          # int - zp is exact in float32
    n, oh, ow, kh, kw, c = d.shape
    d = np.moveaxis(d.reshape(n, oh, ow, kh * kw, c), 3, -1)  # [N, OH, OW, C, taps]
    cnt = F32(count.astype(np.float32))
    if mode == ORT_FLOAT_REDUCE_MEAN:
        rows = np.arange(n * c).reshape(n, 1, 1, c) * (kh * kw)   # each row's first element
        total = np.empty(d.shape[:-1], np.float32)
        for start in np.unique(rows % 4):
            sel = np.broadcast_to(rows % 4 == start, total.shape)
            total[sel] = _eigen_sum(d[sel], int(start))
        v = F32(F32(total / cnt) / so)
        return np.rint(v).astype(np.int64) + out_zp
    total = np.zeros(d.shape[:-1], np.float32)
    for i in range(kh * kw):                                  # padded taps add +0.0: exact
        total = F32(total + d[..., i])
    zp_u8 = F32(out_zp + 128)
    v = F32(F32(F32(total / cnt) / so) + zp_u8)
    return np.clip(np.rint(v), 0, 255).astype(np.int64) - 128
