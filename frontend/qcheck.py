"""Quantization parameters as files give them (TFLite tensors, ONNX DequantizeLinear of a
constant), checked before anything computes with them: positive finite scales, zero points
in the integer type's range, as many zero points as scales, one scale per channel."""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..ir import QParams

ZP_RANGES = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767),
             "UINT16": (0, 65535)}


def check_qparams(scale, zero_point, axis: int, dtype: str, shape: tuple, where: str,
                  cls=ModelError) -> QParams:
    """QParams from a file's scales and zero points (no zero points: 0; one for many scales:
    repeated), or `cls` saying what is wrong with them."""
    with np.errstate(invalid="ignore"):          # a signalling NaN warns when widened
        scale = np.asarray(scale, np.float64).reshape(-1)
    zp = np.asarray(zero_point).reshape(-1)
    bad = scale[~(np.isfinite(scale) & (scale > 0))]
    if bad.size:
        raise cls(f"{where}: quantization scale {float(bad[0])} — expected a positive, "
                  "finite scale (TFLite int8 spec); quantize the model again")
    if zp.size == 0 or (zp.size == 1 and scale.size > 1):
        zp = np.resize(zp if zp.size else np.zeros(1, np.int64), scale.size)
    if zp.size != scale.size:
        raise cls(f"{where}: {scale.size} quantization scales and {zp.size} zero points — "
                  "expected as many of each")
    lo, hi = ZP_RANGES.get(dtype, (-2**31, 2**31 - 1))
    if zp.size and not (lo <= zp.min() and zp.max() <= hi):
        out = int(zp[(zp < lo) | (zp > hi)][0])
        raise cls(f"{where}: zero point {out} out of the {dtype.lower()} range [{lo}, {hi}]")
    if scale.size > 1 and not (0 <= axis < len(shape) and shape[axis] == scale.size):
        raise cls(f"{where}: {scale.size} per-channel scales on dimension {axis} of shape "
                  f"{list(shape)} — expected one per channel")
    return QParams(tuple(float(s) for s in scale), tuple(int(z) for z in zp),
                   axis if scale.size > 1 else None)


def check_dq_const(x: np.ndarray, scale, zero_point, axis: int, where: str) -> QParams:
    """An ONNX DequantizeLinear of the constant x: a scalar scale (per tensor) or one per
    channel of `axis` (ignored per tensor), checked as above."""
    scale = np.asarray(scale)
    rank = max(x.ndim, 1)
    if scale.ndim > 1 or (scale.size > 1 and not -rank <= axis < rank):
        raise ModelError(f"{where}: scale of shape {list(scale.shape)} on axis {axis} of a "
                         f"rank-{x.ndim} tensor — expected a scalar or one scale per channel")
    zp = np.zeros(0, np.int64) if zero_point is None else zero_point
    return check_qparams(scale, zp, axis % rank, x.dtype.name.upper(), x.shape, where)
