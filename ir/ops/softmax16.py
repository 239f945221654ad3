"""softmax16: TFLite Micro's int16 SOFTMAX (16x8 models; micro/kernels/softmax_common.cc
Prepare, reference_ops::SoftmaxInt16), over the last axis. Input and output zero points 0,
output scale 2^-15.

Two 513-entry int16 tables built in Prepare by LUTPopulate<int16_t> (float32 arithmetic,
kernels/internal/common.h), the same for every model:
  EXP_LUT           exp(v) for v in [-10, 0]    (input scale 10/65535, zero point 32767,
                                                 output scale 2/65535, zero point 0)
  ONE_OVER_1PX_LUT  1 / (1 + v) for v in [0, 1] (input scale 1/65535, zero point -32768,
                                                 output scale 2/65535)
LUTLookup(v, lut): index 256 + (v >> 7), offset v & 127, base + ((slope * offset + 64) >> 7).

Per row: diff = x - max(row) scaled by QuantizeMultiplier(double(s_in) * beta / (10 / 65535))
(MultiplyByQuantizedMultiplier), + 32767, saturated to int16, EXP_LUT; sum (int32);
reciprocal from ONE_OVER_1PX_LUT of the sum normalised by its leading zeros; each exp times
the reciprocal, rounded right by 31 - clz(sum), clamped to [0, 32767].
"""
from __future__ import annotations

import math

import numpy as np

from .. import qmath
from .registry import op, same_as_input

_F = np.float32


def _round(x) -> np.float32:
    """TfLiteRound on a float32 (std::round: halves away from zero), exactly."""
    return _F(qmath.round_half_away(float(x)))


def _expf(v) -> np.float32:
    return _F(math.exp(float(v)))


def _one_over_one_plus(v) -> np.float32:
    return _F(_F(1.0) / _F(_F(1.0) + _F(v)))


def lut_populate_int16(input_scale, input_zp: int, output_scale, output_zp: int, fn
                       ) -> np.ndarray:
    """TFLM detail::LUTPopulateInt16<float> (kernels/internal/common.h), step by step in
    float32: 512 samples with a bias that halves the interpolation error at each midpoint,
    and the function at input_max."""
    s_in, s_out = _F(input_scale), _F(output_scale)
    input_min = _F(s_in * _F(-32768 - input_zp))
    input_max = _F(s_in * _F(32767 - input_zp))
    output_min = _F(s_out * _F(-32768 - output_zp))
    output_max = _F(s_out * _F(32767 - output_zp))
    nb_steps = 512
    step = _F((input_max - input_min) / _F(nb_steps))
    half_step = _F(step / _F(2))
    inv = _F(_F(65536) / _F(output_max - output_min))
    lut = np.zeros(nb_steps + 1, np.int16)
    for i in range(nb_steps):
        at = _F(input_min + _F(_F(i) * step))
        val = fn(at)
        val_mid = fn(_F(at + half_step))
        val_next = fn(_F(input_min + _F(_F(i + 1) * step)))
        sample = _round(_F(val * inv))
        interp = _round(_F(_F(_F(val_next * inv) + sample) / _F(2)))
        mid = _round(_F(val_mid * inv))
        bias = _round(_F(_F(interp - mid) / _F(2)))
        lut[i] = int(min(max(float(_F(sample - bias)), -32768.0), 32767.0))
    lut[nb_steps] = int(min(max(float(_round(_F(fn(input_max) * inv))), -32768.0), 32767.0))
    return lut


_RANGE = 65535                      # int16 max - int16 min, an int as in TFLM
EXP_LUT = lut_populate_int16(_F(_F(10.0) / _F(_RANGE)), 32767, _F(_F(2.0) / _F(_RANGE)), 0,
                             _expf)
ONE_OVER_1PX_LUT = lut_populate_int16(_F(_F(1.0) / _F(_RANGE)), -32768,
                                      _F(_F(2.0) / _F(_RANGE)), 0, _one_over_one_plus)


def lut_lookup16(v, lut: np.ndarray) -> np.ndarray:
    """TFLM LUTLookup(int16_t, const int16_t*): 9-bit index, 7-bit linear interpolation."""
    v = np.asarray(v, np.int64)
    lut = lut.astype(np.int64)
    index = 256 + (v >> 7)
    offset = v & 0x7F
    base = lut[index]
    slope = ((lut[index + 1] - base + 32768) & 0xFFFF) - 32768      # int16_t slope
    out = base + ((slope * offset + 64) >> 7)
    return ((out + 32768) & 0xFFFF) - 32768                          # static_cast<int16_t>


def softmax16_int(node, x):
    a = node.attrs
    x = np.asarray(x, np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = qmath.requantize(diff, a["input_multiplier"], a["input_left_shift"])
    exp = lut_lookup16(np.clip(scaled + 32767, -32768, 32767), EXP_LUT)
    total = qmath.wrap_int32(exp.sum(axis=-1, keepdims=True))
    hp1 = qmath.count_leading_zeros32(total)
    shifted = qmath.wrap_int32(((total << (hp1 - 1)) + (1 << 13)) >> 14)
    recip = lut_lookup16(np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767),
                         ONE_OVER_1PX_LUT)
    right = 31 - hp1
    y = qmath.wrap_int32((exp * recip + (np.int64(1) << (right - 1))) >> right)
    return np.clip(y, 0, 32767).astype(np.int64)


def softmax16_float(node, x):
    z = (x.astype(np.float64) - x.max(axis=-1, keepdims=True)) * node.attrs.get("beta", 1.0)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


@op("softmax16", run_float=softmax16_float, run_int=softmax16_int,
    int_attrs=("input_multiplier", "input_left_shift"),
    int16=True, int16_layer=True, trainable=False,
    trainable_note="16x8 TFLite imports only")
def softmax16(inputs, attrs):
    """softmax16(x) {beta}: softmax over the last axis on int16 (TFLM's 16x8 SOFTMAX: exp and
    1/(1+x) tables, zero points 0, Q0.15 output)"""
    return same_as_input(inputs, attrs)
