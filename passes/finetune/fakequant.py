"""Fake quantization with straight-through gradients, as the compiler will quantize.

Weights (one parametrisation per layer, chosen from what compression left in the graph):
  FloatWeights   float weights: per-channel symmetric int8 as quantize.quantize_weight
                 computes it (scale = max|w| / 127 in float32, round, clip to +-127); the
                 scale follows the weights; straight-through rounding.
  GridWeights    int8 / int4 weights with QParams (compression's output): the scales are
                 fixed, a float latent weight is rounded to the grid (+-qmax) each step;
                 pruned weights (zeros of a sparse layer) stay zero.
  PaletteWeights clustered layers (cluster=K): weight[c, j] = scale[c] * round(book[idx]);
                 the K shared values and the per-channel scales (as log-scales) are trained,
                 the assignments idx stay fixed; a pruned layer's 0 entry stays 0.
Bias: rounded to the int32 grid of in_scale * w_scale[c] (quantize.quantize_bias).
Activations: asymmetric int8 with TFLite's range rule (calibrate.qparams_from_range) from
ranges tracked as moving averages of the batch min/max; outputs of ops with a fixed output
quantization (OpDef.fixed_q) or that keep their input's (OpDef.same_q) are quantized so.
"""
from __future__ import annotations

import numpy as np

from ...ir import OPS, QParams


def fq_act(x: np.ndarray, q: QParams, qmin: int = -128, qmax: int = 127,
           raw: bool = False):
    """(fake-quantized x, straight-through mask) for per-tensor (scale, zero point) q.
    raw: round the stored value x / s + zp (the integer kernel divides raw sums: average
    pooling), else x / s before the zero point is added (requantization)."""
    s, zp = np.float64(q.s), q.zp
    t = _half_away(x / s + zp) if raw else _half_away(x / s) + zp
    y = ((np.clip(t, qmin, qmax) - zp) * s).astype(x.dtype)
    return y, (t >= qmin) & (t <= qmax)


def _half_away(r):
    r = np.asarray(r, np.float64)
    a = np.abs(r)                   # sign(r) * floor(|r| + 0.5 + 1e-9), in place
    a += 0.5
    a += 1e-9
    np.floor(a, out=a)
    return np.copysign(a, r, out=a)


def fq_requant(y: np.ndarray, q: QParams, multiplier: np.ndarray, qmin: int = -128,
               qmax: int = 127):
    """fq_act for a layer's output, rounding as the integer kernel does: the accumulator
    times multiplier[c] (= in_scale * w_scale[c] / out_scale) is rounded twice — by the
    doubling high multiply at 2^-k LSB (k: QuantizeMultiplier's right shift) and by the
    rounding right shift. A float fake quantizer rounds once; values within 2^-k-1 LSB below
    a half round the other way in the kernel (here they agree)."""
    s, zp = np.float64(q.s), q.zp
    r = y.astype(np.float64) / s
    k = np.maximum(-np.frexp(np.asarray(multiplier, np.float64))[1], 0)
    p = np.ldexp(1.0, k)
    t = _half_away(_half_away(r * p) / p) + zp
    out = ((np.clip(t, qmin, qmax) - zp) * s).astype(y.dtype)
    return out, (t >= qmin) & (t <= qmax)


def _axis_shape(ndim: int, axis: int) -> list[int]:
    shape = [1] * ndim
    shape[axis] = -1
    return shape


class FloatWeights:
    kind = "float"

    def __init__(self, node):
        from ...ir.interpret import float_data
        self.axis = OPS[node.op].layer.weight_axis
        self.params = {"w": float_data(node.inputs[1]).astype(np.float32).copy()}

    def scale(self):
        w = self.params["w"].astype(np.float64)
        moved = np.moveaxis(w, self.axis, 0).reshape(w.shape[self.axis], -1)
        s = np.abs(moved).max(axis=1) / 127.0
        return np.where(s > 0, s, 1.0).astype(np.float32)

    def w_scale(self, n_out):
        return self.scale().astype(np.float64)

    def forward(self, dtype=np.float32):
        w = self.params["w"]
        s = self.scale().reshape(_axis_shape(w.ndim, self.axis)).astype(np.float64)
        return (np.clip(np.round(w.astype(np.float64) / s), -127, 127) * s).astype(dtype)

    def backward(self, dw):
        return {"w": dw}

    def store(self, g, node):
        node.replace_input(1, g.const(node.inputs[1].name, self.params["w"].copy()))


class GridWeights:
    kind = "grid"

    def __init__(self, node, qmax: int, sparse: bool):
        w = node.inputs[1]
        self.axis, self.qmax, self.q = w.q.axis, qmax, w.q
        self.s = self._scale_array(w.data.ndim)
        self.mask = (w.data != 0) if sparse else np.ones(w.data.shape, bool)
        self.params = {"w": (w.data * self.s).astype(np.float32)}

    def _scale_array(self, ndim):
        s = np.asarray(self.q.scale, np.float64)
        return s.reshape(_axis_shape(ndim, self.axis)) if self.axis is not None else s

    def w_scale(self, n_out):
        return np.broadcast_to(np.asarray(self.q.scale, np.float64), (n_out,))

    def ints(self):
        return np.clip(np.round(self.params["w"] / self.s), -self.qmax, self.qmax) * self.mask

    def forward(self, dtype=np.float32):
        return (self.ints() * self.s).astype(dtype)

    def backward(self, dw):
        t = self.params["w"] / self.s
        return {"w": dw * self.mask * (np.abs(t) <= self.qmax + 0.5)}

    def store(self, g, node):
        w = node.inputs[1]
        node.replace_input(1, g.const(w.name, self.ints().astype(np.int8), self.q))


class PaletteWeights:
    """weight = scale[c] * book[a] with a = the nearest entry to the latent weight / scale[c],
    re-assigned every step (straight-through); book entries and log-scales trained too."""
    kind = "palette"

    def __init__(self, node, sparse: bool, init: np.ndarray | None = None):
        w = node.inputs[1]
        self.axis, self.shape = w.q.axis, w.data.shape
        book = np.unique(w.data.astype(np.int64))
        self.mask = (w.data != 0) if sparse else np.ones(w.data.shape, bool)
        self.frozen = (book == 0) if sparse else np.zeros(book.size, bool)
        s = np.asarray(w.q.scale, np.float64)
        latent = w.data.astype(np.float64)
        self.params = {"u": latent.astype(np.float32),      # latent weights in int8 units
                       "book": book.astype(np.float32), "log_s": np.log(s).astype(np.float32)}

    def _shape(self, s):
        return s.reshape(_axis_shape(len(self.shape), self.axis)) if self.axis is not None \
            else s

    def _s(self):
        s = np.exp(self.params["log_s"].astype(np.float64))
        return self._shape(s.astype(np.float32).astype(np.float64))   # float32 QParams

    def _book(self):
        return np.clip(np.round(self.params["book"].astype(np.float64)), -127, 127)

    def assign(self):
        """Index of the nearest (rounded) entry to each latent weight in int8 units."""
        book = self._book()
        order = np.argsort(book, kind="stable")
        b = book[order]
        u = self.params["u"]
        k = np.searchsorted((b[1:] + b[:-1]) / 2, u) if b.size > 1 else np.zeros(u.shape, int)
        return order[k]

    def ints(self):
        return self._book()[self.assign()] * self.mask

    def w_scale(self, n_out):
        s = np.exp(self.params["log_s"].astype(np.float64)).astype(np.float32)
        return np.broadcast_to(s.astype(np.float64), (n_out,))

    def forward(self, dtype=np.float32):
        return (self.ints() * self._s()).astype(dtype)

    def backward(self, dw):
        dw = dw.astype(np.float64) * self.mask
        s = self._s()
        idx = self.assign()
        dbook = np.bincount(idx.ravel(), (dw * s).ravel(), self.params["book"].size)
        dbook[self.frozen] = 0.0
        ds = dw * self.ints()
        if self.axis is not None:
            ds = np.moveaxis(ds, self.axis, 0).reshape(ds.shape[self.axis], -1).sum(axis=1)
        else:
            ds = np.array([ds.sum()])
        return {"u": (dw * s).astype(np.float32), "book": dbook.astype(np.float32),
                "log_s": (ds * np.exp(self.params["log_s"].astype(np.float64)))
                .astype(np.float32)}

    def store(self, g, node):
        w = node.inputs[1]
        s = tuple(float(np.float32(v)) for v in np.exp(self.params["log_s"].astype(np.float64)))
        q = QParams(s, (0,) * len(s), self.axis)
        node.replace_input(1, g.const(w.name, self.ints().astype(np.int8), q))


def weights_for(node, info: dict | None, init: np.ndarray | None = None):
    """The parametrisation of a layer's weights: float weights train freely (quantized as
    quantize will); compressed (integer) weights keep their grid, mask or palette.
    info: the compression report's entry for the layer ({"config": "K=2 ...", ...}); init:
    the layer's float weights before compression (unused: palette latents that started from
    them, or from them kept inside compression's assignment cells, trained worse on digits
    than latents starting at compression's GPTQ assignment)."""
    w = node.inputs[1]
    cfg = (info or {}).get("config", "")
    sparse = "sparse" in cfg
    if w.dtype.is_float or (cfg == "int8" and w.q.axis is not None):
        return FloatWeights(node)      # dense int8 per channel: as quantize would store it
    if cfg.startswith("K="):
        ok = init is not None and init.shape == w.shape
        return PaletteWeights(node, sparse, init if ok else None)
    return GridWeights(node, 7 if cfg.startswith("int4") else 127, sparse)


def fq_bias(b: np.ndarray, in_scale: float, w_scale: np.ndarray) -> np.ndarray:
    """The bias on its int32 grid in_scale * w_scale[c] (quantize.quantize_bias)."""
    bs = np.float64(in_scale) * w_scale.astype(np.float64)
    return (np.round(b.astype(np.float64) / bs) * bs).astype(b.dtype)

