"""cluster: k-means weight sharing — a layer's int8 weights take at most K distinct values.

The codebook lives in the integer domain of the layer's int8 quantization: channel c's real
weights are scale[c] · codebook[index], so one codebook of K int8 values serves every channel
(per-channel scales stay, the requantization is unchanged) and the IR's integer semantics are
those of any int8 layer — interpret stays the golden model. Stored as ceil(log2 K)-bit indices
plus the K-byte codebook (backend_c/formats.py, format "cb").

The codebook is a 1-D k-means (Lloyd) over the weights divided by their channel's int8 scale,
each weighted by its importance (diag H · scale², the output error a unit change causes),
initialised at weighted quantiles, centroids rounded to distinct integers in [-127, 127].
The values are then assigned by GPTQ (passes/compensate.py) with the codebook as the grid,
so that assignment errors are compensated on the weights not yet assigned.
"""
from __future__ import annotations

import numpy as np

from ..errors import TinycError

MAX_K = 256


def check_k(k: int) -> int:
    if not isinstance(k, (int, np.integer)) or not 2 <= int(k) <= MAX_K:
        raise TinycError(f"cluster: K must be an integer in [2, {MAX_K}], got {k!r}")
    return int(k)


def _weighted_quantiles(u: np.ndarray, wt: np.ndarray, qs: np.ndarray) -> np.ndarray:
    order = np.argsort(u, kind="stable")
    cdf = np.cumsum(wt[order])
    cdf = cdf / cdf[-1]
    return u[order][np.minimum(np.searchsorted(cdf, qs), u.size - 1)]


def _lloyd(u: np.ndarray, wt: np.ndarray, cents: np.ndarray, fixed_zero: bool,
           iters: int) -> np.ndarray:
    for _ in range(iters):
        cents = np.unique(cents)
        mids = (cents[1:] + cents[:-1]) / 2
        idx = np.searchsorted(mids, u)
        sums = np.bincount(idx, wt * u, cents.size)
        cnt = np.bincount(idx, wt, cents.size)
        new = np.where(cnt > 0, sums / np.maximum(cnt, 1e-300), cents)
        if fixed_zero:
            new[np.argmin(np.abs(cents))] = 0.0
        if np.allclose(new, cents):
            return new
        cents = new
    return cents


def kmeans_codebook(u: np.ndarray, weight: np.ndarray | None, k: int,
                    fixed_zero: bool = False, iters: int = 50) -> np.ndarray:
    """At most k distinct integers in [-127, 127] that represent the values u (int8 units)
    with the least weighted squared error. fixed_zero: 0 is one of them (pruned weights)."""
    u = np.asarray(u, np.float64).ravel()
    wt = np.ones_like(u) if weight is None else np.asarray(weight, np.float64).ravel() + 1e-12
    if u.size == 0:
        return np.zeros(1, np.int8)
    n_free = k - 1 if fixed_zero else k
    cents = _weighted_quantiles(u, wt, (np.arange(n_free) + 0.5) / n_free)
    if fixed_zero:
        cents = np.append(cents, 0.0)
    cents = _lloyd(u, wt, cents, fixed_zero, iters)
    return np.unique(np.clip(np.round(cents), -127, 127)).astype(np.int8)


def nearest(values: np.ndarray, book: np.ndarray) -> np.ndarray:
    """Each value replaced by the nearest codebook entry (ties: the smaller one)."""
    b = np.sort(book.astype(np.float64))
    if b.size == 1:
        return np.full_like(np.asarray(values, np.float64), b[0])
    mids = (b[1:] + b[:-1]) / 2
    return b[np.searchsorted(mids, values, side="left")]
