"""prune: unstructured pruning of conv2d / fully_connected weights, without retraining.

Which weights: by magnitude (|w| smallest) or by OBS saliency (w² / [H⁻¹]ᵢᵢ: the growth of the
layer's output error on the calibration samples when w alone is removed and the others are
re-fit), per layer (every layer loses the same fraction) or global (one threshold over every
layer's saliency relative to that layer's output energy, at most MAX_LAYER_SPARSITY each).

Compensation (on by default): OBS pruning of a layer of at most OBC_MAX_K inputs runs Optimal
Brain Compression's greedy (compensate.obc_greedy: per output channel, one weight at a time,
each removal the cheapest by its exact cost with the others re-fit), every channel losing the
same share (the remainder going to the channels whose next removal costs least); larger layers
run SparseGPT's column-by-column prune-and-update. Then, for layers of at most REFIT_MAX_K
inputs, the kept weights (and the bias) of every output channel are re-fit exactly by least
squares to the reference outputs (compensate.obs_refit). Without compensation the pruned
weights are simply zeroed.

Pruned weights are exact zeros of the int8 weights; backend_c/formats.py stores a layer in the
sparse format only where that is smaller than dense.
"""
from __future__ import annotations

import numpy as np

from ..errors import TinycError
from .compensate import _prepare, obc_greedy, obs_refit, sparsegpt

PRUNE_METHODS = ("obs", "magnitude")
PRUNE_SCOPES = ("layer", "global")
MAX_LAYER_SPARSITY = 0.95
REFIT_MAX_K = 1024
OBC_MAX_K = 600


def check_sparsity(s, what: str = "prune") -> float:
    if not isinstance(s, (int, float)) or not 0.0 <= float(s) < 1.0:
        raise TinycError(f"{what}: sparsity must be a number in [0, 1), got {s!r}")
    return float(s)


def _lowest(score: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the round(fraction · size) lowest scores (ties broken by position)."""
    n = int(round(score.size * fraction))
    mask = np.zeros(score.size, bool)
    mask[np.argsort(score.ravel(), kind="stable")[:n]] = True
    return mask.reshape(score.shape)


def saliency(w: np.ndarray, H: np.ndarray, lam: float, method: str) -> np.ndarray:
    """Per-weight cost of removal [O, K]: w² (magnitude) or w² / [(H + λI)⁻¹]ᵢᵢ (OBS)."""
    k = w.shape[1] - 1
    if method == "magnitude":
        return w[:, :k] ** 2
    hinv = np.diag(np.linalg.inv(_prepare(H, lam)))[:k]
    return w[:, :k] ** 2 / hinv


def prune_rows(w: np.ndarray, H: np.ndarray, B: np.ndarray, lam: float, sparsity: float,
               method: str, compensate: bool) -> tuple[np.ndarray, np.ndarray]:
    """Prune `sparsity` of w [O, K+1]'s first K columns. Returns (w, pruned mask [O, K])."""
    k = w.shape[1] - 1
    if method == "obs" and compensate and k <= OBC_MAX_K:
        pruned_w, mask = w, obc_mask(w, H, lam, sparsity)
    elif method == "obs" and compensate:
        pruned_w, mask = sparsegpt(w, H, sparsity, lam)
    else:
        mask = _lowest(saliency(w, H, lam, method), sparsity)
        pruned_w = w.copy()
        pruned_w[:, :k][mask] = 0.0
    if compensate and k <= REFIT_MAX_K:
        keep = np.concatenate([~mask, np.ones((w.shape[0], 1), bool)], axis=1)
        pruned_w = obs_refit(H, B, w, lam, keep)
    return pruned_w, mask


def obc_mask(w: np.ndarray, H: np.ndarray, lam: float, sparsity: float) -> np.ndarray:
    """The pruned mask [O, K] of round(sparsity · O · K) weights by compensate.obc_greedy:
    floor(sparsity · K) per channel, and one more in the channels whose next step costs least."""
    o, k = w.shape[0], w.shape[1] - 1
    total = int(round(o * k * sparsity))
    each = min(total // o, k)
    extra = total - each * o
    order, cost = obc_greedy(w, H, lam, min(each + (extra > 0), k))
    n = np.full(o, each)
    if extra and each < k:
        n[np.argsort(cost[:, each], kind="stable")[:extra]] += 1
    mask = np.zeros((o, k), bool)
    for r in range(o):
        mask[r, order[r, :n[r]]] = True
    return mask


LEVELS = np.round(np.arange(0.0, MAX_LAYER_SPARSITY + 1e-9, 0.05), 2)


def error_curve(w: np.ndarray, H: np.ndarray, lam: float, method: str) -> np.ndarray:
    """Relative output error of pruning w [O, K+1] to each of LEVELS (with compensation):
    (ŵ − w) H (ŵ − w)ᵀ over the output variance Σ wHwᵀ − n·(w·mean x)²."""
    n, mean = H[-1, -1], H[-1, :] / max(H[-1, -1], 1.0)
    var = float(np.einsum("ok,kj,oj->", w, H, w) - n * np.sum((w @ mean) ** 2))
    k = w.shape[1] - 1
    if method == "obs" and k <= OBC_MAX_K:
        return obc_curve(w, H, lam) / max(var, 1e-30)
    B = H @ w.T
    errs = []
    for level in LEVELS:
        wp = prune_rows(w, H, B, lam, float(level), method, True)[0] if level else w
        d = wp - w
        errs.append(float(np.einsum("ok,kj,oj->", d, H, d)))
    return np.asarray(errs) / max(var, 1e-30)


def obc_curve(w: np.ndarray, H: np.ndarray, lam: float) -> np.ndarray:
    """The output error of obc_mask at each of LEVELS, from one greedy run: every removal's
    exact cost, summed over the cheapest round(level · O · K) steps taken channel by channel
    in turn (the share of each plus the cheapest next steps, as obc_mask)."""
    o, k = w.shape[0], w.shape[1] - 1
    steps = min(k, int(np.ceil(LEVELS[-1] * k)) + 1)
    _, cost = obc_greedy(w, H, lam, steps)
    cum = np.concatenate([np.zeros((o, 1)), np.cumsum(cost, axis=1)], axis=1)
    errs = []
    for level in LEVELS:
        total = int(round(o * k * level))
        each = min(total // o, steps)
        extra = total - each * o
        e = cum[:, each].sum()
        if extra and each < steps:
            e += np.sort(cost[:, each])[:extra].sum()
        errs.append(float(e))
    return np.asarray(errs)


def allocate_global(layers: dict[str, tuple[np.ndarray, np.ndarray, float]], sparsity: float,
                    method: str) -> dict[str, float]:
    """Per-layer sparsities (on LEVELS) that prune `sparsity` of all the weights together.

    layers: name -> (w [O, K+1], H, λ). Each layer's relative output error is measured at every
    level (error_curve: the joint effect of pruning and re-fit, not a per-weight estimate);
    then, greedily, the layer whose next level adds the least error per weight removed goes up
    a level until enough weights are gone."""
    curves = {name: error_curve(w, H, lam, method) for name, (w, H, lam) in layers.items()}
    sizes = {name: w[:, :-1].size for name, (w, _, _) in layers.items()}
    level = {name: 0 for name in layers}
    target = sparsity * sum(sizes.values())
    removed = 0.0
    while removed < target - 0.5:
        def cost(name):
            i = level[name]
            if i + 1 >= len(LEVELS):
                return np.inf
            gain = (LEVELS[i + 1] - LEVELS[i]) * sizes[name]
            return (curves[name][i + 1] - curves[name][i]) / gain
        best = min(layers, key=cost)
        if not np.isfinite(cost(best)):
            break
        removed += (LEVELS[level[best] + 1] - LEVELS[level[best]]) * sizes[best]
        level[best] += 1
    return {name: float(LEVELS[i]) for name, i in level.items()}
