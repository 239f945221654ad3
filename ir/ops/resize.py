"""resize: ONNX's general Resize of H and W (NHWC) as separable per-axis tap tables.

The frontend computes, per resized axis and per output index o, K source indices and K weights
from the ONNX formula in float64 (`axis_taps`: every coordinate_transformation_mode, nearest /
linear / cubic, cubic_coeff_a, exclude_outside, antialias, tf_crop_and_resize's roi); an output
index whose source coordinate falls outside the input (tf_crop_and_resize) is *extrapolated*
(index -1): the output there is extrapolation_value.

Float: y[n, i, j, c] = sum_a sum_b wh[i, a] ww[j, b] x[n, hi[i, a], wi[j, b], c]
(extrapolated row or column: extrapolation_value) — ONNX's reference, which resizes one axis
after the other, computes the same sum.

Integer (int8 in and out, bit-exact with runtime/tinyc_resize_s8.c):
  Wh, Ww = round(w 2^16) per axis, the largest weight of each output index adjusted so that
      its K weights sum to exactly 2^16 (a constant input stays exact)
  t   = sum_b Ww[j, b] (x[.., hi, wi[j, b], c] - zp_in)                   (int32)
  acc = sum_a Wh[i, a] t_a                                                (int64, exact)
  y   = clamp(zp_out + requantize(round_half_away(acc / 2^16), M, shift))  (TFLM's
      MultiplyByQuantizedMultiplier, M 2^(shift - 31) = s_in / (s_out 2^16))
  extrapolated: clamp(zp_out + round_half_away(extrapolation_value / s_out))
No float, no division. Nearest is one tap of weight 1: with s_out == s_in it is a pure
gather, bit-exact with the float op.
Error bound against the float op on the dequantized int8 input (v: the exact result in output
steps): |y - v| <= 0.5 + 255 (s_in / s_out) (E_h S_w + E_w S_h + E_h E_w) + 2^-16, with
S = max_o sum |w| and E = max_o sum |W / 2^16 - w| (<= K 2^-16) per axis: for linear and cubic
(K <= 4, S <= 1.3) and s_in ~ s_out that is < 0.55 steps, so y is within 1 step of round(v)
(tests/frontend/test_resize_general.py checks it on random data).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import TensorType
from .registry import op, require

W_BITS = 16                        # per-axis weight precision (Q16)
RESIZE_INT_ATTRS = ("in_offset", "out_offset", "multiplier", "shift", "extrapolation_q")

_NEAREST = {"round_prefer_floor": lambda f: f > 0.5, "round_prefer_ceil": lambda f: f >= 0.5,
            "floor": lambda f: np.zeros_like(f, bool), "ceil": lambda f: f > 0}
COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
               "asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn")


def source_coords(in_size: int, out_size: int, scale: float, coord: str, roi=(0.0, 1.0)):
    """ONNX Resize: the source coordinate of each output index (float64) and which are
    extrapolated (tf_crop_and_resize: outside [0, in_size - 1]). `scale` is the axis' scale
    factor (out / in for sizes); the length ONNX's formulas divide by is scale * in_size (its
    reference's output_width, fractional when a scale does not give a whole size)."""
    o = np.arange(out_size, dtype=np.float64)
    width = float(scale) * in_size
    extra = np.zeros(out_size, bool)
    if coord == "align_corners":
        x = np.zeros_like(o) if width == 1 else o * (in_size - 1) / (width - 1)
    elif coord == "asymmetric":
        x = o / scale
    elif coord == "tf_crop_and_resize":      # roi in its tensor's type (float32), as
        r0, r1 = roi                            # ONNX's reference computes with it
        x = (np.full_like(o, (r1 - r0) * (in_size - 1) / 2) if width == 1
             else o * (r1 - r0) * (in_size - 1) / (width - 1)) + r0 * (in_size - 1)
        extra = (x < 0) | (x > in_size - 1)
    elif coord == "pytorch_half_pixel":
        x = np.full_like(o, -0.5) if width == 1 else (o + 0.5) / scale - 0.5
    elif coord == "half_pixel":
        x = (o + 0.5) / scale - 0.5
    elif coord == "half_pixel_symmetric":
        offset = in_size / 2 * (1 - out_size / width)
        x = offset + (o + 0.5) / scale - 0.5
    elif coord == "tf_half_pixel_for_nn":
        x = (o + 0.5) / scale
    else:
        raise ValueError(coord)
    return x, extra


def _cubic(d: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with coefficient a at distances d."""
    d = np.abs(d)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def axis_taps(in_size: int, out_size: int, scale: float, mode: str, coord: str, *,
              nearest_mode: str = "round_prefer_floor", cubic_a: float = -0.75,
              exclude_outside: bool = False, antialias: bool = False, roi=(0.0, 1.0)):
    """ONNX Resize along one axis: (index [out, K] (-1: extrapolated), weight [out, K] float64).
    The window of an output index starts left of its source coordinate x: left = floor(x)
    (x - 1 when x is whole), ratio r = x - left in (0, 1]; tap i reads left + i at distance
    (i - r) * s (s: min(scale, 1) with antialias, else 1), its weight the kernel there
    (linear: 1 - |d|, cubic: Keys' with cubic_coeff_a), normalised to sum 1 (antialias,
    exclude_outside). Indices past the border are clamped (ONNX pads with the edge values)."""
    x, extra = source_coords(in_size, out_size, scale, coord, roi)
    base = np.floor(x)
    if mode == "nearest":
        idx = (base + _NEAREST[nearest_mode](x - base)).astype(np.int64)[:, None]
        w = np.ones((out_size, 1))
    else:
        whole = x == base
        left = (base - whole).astype(np.int64)
        r = np.where(whole, 1.0, x - base)
        s = min(float(scale), 1.0) if antialias else 1.0
        reach = 1 if mode == "linear" else 2
        start = int(np.floor(-reach / s) + 1) if antialias else 1 - reach
        taps = np.arange(start, 2 - start)
        dist = (taps[None, :] - r[:, None]) * s
        if mode == "linear":
            w = np.clip(1 - np.abs(dist), 0, 1)
        elif mode == "cubic":
            w = _cubic(dist, float(cubic_a))
        else:
            raise ValueError(mode)
        idx = left[:, None] + taps[None, :]
        if exclude_outside:
            w = np.where((idx < 0) | (idx >= in_size), 0.0, w)
        if antialias or exclude_outside:
            tot = w.sum(axis=1, keepdims=True)
            w = w / np.where(tot == 0, 1.0, tot)
    idx = np.where(extra[:, None], -1, np.clip(idx, 0, in_size - 1))
    return idx.astype(np.int64), w


def int_weights(weights, k: int) -> np.ndarray:
    """The Q16 integer weights [out, k] of float weights (flat): rounded, then the largest of
    each output index adjusted so that they sum to exactly 2^16."""
    w = np.asarray(weights, np.float64).reshape(-1, k)
    q = np.round(w * (1 << W_BITS)).astype(np.int64)
    big = np.argmax(np.abs(w), axis=1)
    rows = np.arange(len(w))
    q[rows, big] += (1 << W_BITS) - q.sum(axis=1)
    return q


def _tables(node, shape):
    a = node.attrs
    out = []
    for key, d in (("h", 1), ("w", 2)):
        k = int(a[f"k{key}"])
        out.append((np.asarray(a[f"{key}_index"], np.int64).reshape(-1, k),
                    np.asarray(a[f"{key}_weight"], np.float64).reshape(-1, k)))
    return out


def _extrapolated(node):
    (hi, _), (wi, _) = _tables(node, None)
    return (hi[:, 0] < 0)[None, :, None, None] | (wi[:, 0] < 0)[None, None, :, None]


def _weighted(x, hi, hw, wi, ww):
    """sum_a sum_b hw[i, a] ww[j, b] x[:, hi[i, a], wi[j, b]] (indices -1 read row 0)."""
    hi, wi = np.maximum(hi, 0), np.maximum(wi, 0)
    t = np.einsum("nhjbc,jb->nhjc", x[:, :, wi], ww)          # along W
    return np.einsum("niajc,ia->nijc", t[:, hi], hw)           # along H


def resize_float(node, x):
    (hi, hw), (wi, ww) = _tables(node, x.shape)
    y = _weighted(x.astype(np.float64), hi, hw, wi, ww)
    y = np.where(_extrapolated(node), float(node.attrs.get("extrapolation_value", 0.0)), y)
    return y.astype(np.float32)


def resize_int(node, x):
    a = node.attrs
    (hi, hw), (wi, ww) = _tables(node, x.shape)
    d = x.astype(np.int64) + int(a["in_offset"])
    acc = _weighted(d, hi, int_weights(hw, hw.shape[1]), wi, int_weights(ww, ww.shape[1]))
    half = np.int64(1) << (W_BITS - 1)
    mag = (np.abs(acc) + half) >> W_BITS
    acc32 = np.where(acc >= 0, mag, -mag)
    y = qmath.requantize(acc32, a["multiplier"][0], a["shift"][0]) + int(a["out_offset"])
    y = np.where(_extrapolated(node), int(a["extrapolation_q"]), y)
    lo, hi_ = node.outputs[0].dtype.qrange
    return np.clip(y, lo, hi_).astype(x.dtype)


@op("resize", run_float=resize_float, run_int=resize_int, int_attrs=RESIZE_INT_ATTRS,
    channel_tie=True)
def resize(inputs, attrs):
    """resize(x NHWC) {h_index, h_weight, kh, w_index, w_weight, kw (flat per-axis tap
    tables, index -1: extrapolated), extrapolation_value} — ONNX's general Resize (nearest,
    linear, cubic, antialias, every coordinate mode) with its own integer form"""
    x = inputs[0]
    require(len(x.shape) == 4, "resize", "input rank", 4, len(x.shape))
    out = []
    for key, d in (("h", x.shape[1]), ("w", x.shape[2])):
        k = int(attrs[f"k{key}"])
        ix, wt = tuple(attrs[f"{key}_index"]), tuple(attrs[f"{key}_weight"])
        require(k >= 1 and len(ix) == len(wt) and len(ix) % k == 0 and len(ix) > 0, "resize",
                f"{key} tables", f"n * k{key} indices and weights", (len(ix), len(wt), k))
        require(all(-1 <= int(i) < d for i in ix), "resize", f"{key}_index",
                f"indices in [-1, {d})", ix)
        out.append(len(ix) // k)
    return [TensorType(x.dtype, (x.shape[0], out[0], out[1], x.shape[3]))]
