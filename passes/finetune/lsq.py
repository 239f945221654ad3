"""Learned activation ranges (LSQ, Esser et al. 2020, with the asymmetric range of LSQ+).

An activation's quantization is parametrised by its range (lo, hi): the forward pass quantizes
with exactly the QParams the compiler derives from that range (calibrate.qparams_from_range:
scale = (hi - lo) / 255 in float32, zero point nudged to an integer), and the fine-tuned graph
carries those QParams on its float activations, so quantize uses them instead of calibrating.

Backward (straight-through rounding, as LSQ): with s = (hi - lo) / 255 and the zero point
zp = qmin - lo / s taken as continuous, y = s * (round(x / s + zp) - zp) gives
    inside the range   dy/dx = 1,  dy/dhi = (round(r) - r) / 255,  dy/dlo = -(round(r) - r) / 255
    below it (y = lo)  dy/dx = 0,  dy/dlo = 1
    above it (y = hi)  dy/dx = 0,  dy/dhi = 1
where r = x / s + zp, round(r) - r = (y_q - x) / s read off the fake-quantized output. The
range gradients are multiplied by LSQ's gradient scale 1 / sqrt(N * Q_p) (N: elements of
the activation per sample, Q_p = 255 levels) so the range moves at a rate comparable to the
weights whatever the tensor size."""
from __future__ import annotations

import numpy as np

LEVELS = 255


def lsq_grad(dy: np.ndarray, x: np.ndarray, yq: np.ndarray, inside: np.ndarray,
             lo: float, hi: float, scale: float, grad_scale: bool = True) -> np.ndarray:
    """[dL/dlo, dL/dhi] for y_q = fake-quant(x) with range (lo, hi) and step `scale`, given
    dL/dy_q. inside: the straight-through mask (values not clipped)."""
    dy = dy.astype(np.float64)
    err = (yq.astype(np.float64) - x.astype(np.float64)) / float(scale)
    below = ~inside & (x < 0.5 * (lo + hi))
    above = ~inside & ~below
    de = float(np.sum(dy * err * inside)) / LEVELS
    g = np.array([-de + float(np.sum(dy * below)), de + float(np.sum(dy * above))])
    if grad_scale:
        n = x[0].size if x.ndim > 1 else x.size
        g /= np.sqrt(n * LEVELS)
    return g
