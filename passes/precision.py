"""precision: how a linear layer's float weights become int8 data — bit width (int8, or int4
values in [-7, 7]), per-channel or per-tensor scales, an optional k-means codebook
(passes/cluster.py), an optional pruning mask (passes/prune.py) — fitted on calibration data.

fit_layer(g, node, stats, cfg, opts) replaces the node's float weights by int8 constants with
their QParams and its bias by a corrected float bias (quantize() turns it into int32), so the
graph flows on exactly like a QDQ model. The integer values are ordinary int8 weights: the IR
semantics and interpret() do not change; only where the values lie (4-bit range, K values,
zeros) lets the backend store them smaller.

Steps per layer (compensate.py has the algebra):
  1. re-fit the float weights to the reference outputs (when earlier layers changed);
  2. prune (SparseGPT / magnitude, then an exact OBS re-fit of the kept weights);
  3. scales: int8 max|w|/127; int4 by a search of the clipping ratio that minimises the
     diag(H)-weighted error; a codebook by weighted k-means in int8 units;
  4. round: GPTQ onto the grid (error spread over later columns and the bias) — or plain
     rounding plus bias correction when compensation is off.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TinycError
from ..ir import OPS, Graph, Node, QParams
from .cluster import check_k, kmeans_codebook, nearest
from .compensate import (DAMP, Stats, bias_correction, damping, from_matrix, gptq, ridge_fit,
                         weight_matrix)
from .prune import prune_rows

WEIGHT_BITS = (8, 4)
CLIP_RATIOS = np.linspace(1.0, 0.5, 26)


@dataclass(frozen=True)
class LayerConfig:
    """What one layer gets: weight bits, unstructured sparsity, codebook size (or None)."""
    bits: int = 8
    sparsity: float = 0.0
    cluster: int | None = None

    def __post_init__(self):
        if self.bits not in WEIGHT_BITS:
            raise TinycError(f"weights: bits must be one of {WEIGHT_BITS}, got {self.bits!r}")
        if self.cluster is not None:
            check_k(self.cluster)

    def describe(self) -> str:
        parts = [f"K={self.cluster}" if self.cluster else f"int{self.bits}"]
        if self.sparsity:
            parts.append(f"{self.sparsity:.0%} sparse")
        return " ".join(parts)


@dataclass(frozen=True)
class FitOptions:
    compensate: bool = True         # ridge re-fit, OBS re-fit after pruning, GPTQ rounding
    bias_correction: bool = True    # without compensation: correct the bias for rounding
    per_tensor: bool = False
    prune_method: str = "obs"
    damp: float = DAMP


# -- scales and grids -------------------------------------------------------------------------

def _round_err(w: np.ndarray, s: np.ndarray, qmax: int, imp: np.ndarray) -> np.ndarray:
    q = np.clip(np.round(w / s[:, None]), -qmax, qmax) * s[:, None]
    return np.sum(imp * (w - q) ** 2, axis=1)


def choose_scales(w: np.ndarray, imp: np.ndarray, qmax: int, per_tensor: bool,
                  search: bool) -> np.ndarray:
    """Symmetric scales [O] for w [O, K]: max|w| / qmax, or (search) the clipping ratio of
    CLIP_RATIOS with the least importance-weighted rounding error, per row or per tensor."""
    amax = np.abs(w).max(axis=1) if w.size else np.zeros(w.shape[0])
    if per_tensor:
        amax = np.full_like(amax, amax.max(initial=0.0))
    amax = np.where(amax > 0, amax, qmax)
    best = amax / qmax
    if search:
        errs = np.stack([_round_err(w, amax * r / qmax, qmax, imp) for r in CLIP_RATIOS])
        if per_tensor:
            errs = np.broadcast_to(errs.sum(axis=1, keepdims=True), errs.shape)
        best = amax * CLIP_RATIOS[np.argmin(errs, axis=0)] / qmax
    return best.astype(np.float32).astype(np.float64)


def layer_grid(w: np.ndarray, imp: np.ndarray, pruned: np.ndarray, cfg: LayerConfig,
               per_tensor: bool) -> tuple[np.ndarray, np.ndarray | None, int]:
    """(scales [O], codebook or None, qmax) of a layer's weights w [O, K]."""
    if cfg.cluster:
        s = choose_scales(w, imp, 127, per_tensor, search=False)
        u, wt = w / s[:, None], imp * s[:, None] ** 2
        book = kmeans_codebook(u[~pruned], wt[~pruned], cfg.cluster, bool(pruned.any()))
        return s, book, 127
    qmax = 127 if cfg.bits == 8 else 7
    return choose_scales(w, imp, qmax, per_tensor, search=cfg.bits < 8), None, qmax


def grid_round(col: np.ndarray, s: np.ndarray, book: np.ndarray | None, qmax: int):
    """Real values of the grid points nearest to col (scales s)."""
    u = col / s
    q = nearest(u, book) if book is not None else np.clip(np.round(u), -qmax, qmax)
    return q * s


# -- one layer ----------------------------------------------------------------------------------

def _importance(node: Node, stats: Stats, shape: tuple[int, int]) -> np.ndarray:
    if OPS[node.op].layer.per_channel:
        return np.stack([np.diag(h)[:-1] for h in stats.H])
    return np.broadcast_to(np.diag(stats.H)[:-1], shape)


def _refit_and_prune(node: Node, stats: Stats, wa: np.ndarray, cfg: LayerConfig,
                     opts: FitOptions) -> np.ndarray:
    """Steps 1-2 in place on wa [O, K+1]; returns the pruned mask [O, K]."""
    pruned = np.zeros((wa.shape[0], wa.shape[1] - 1), bool)
    for rows, H, B in stats.blocks(node):
        B = H @ wa[rows].T if B is None else B
        lam = damping(H, stats.rows, opts.damp)
        w = ridge_fit(H, B, wa[rows], lam) if opts.compensate else wa[rows]
        if cfg.sparsity and OPS[node.op].layer.prunable:
            w, pruned[rows] = prune_rows(w, H, B, lam, cfg.sparsity, opts.prune_method,
                                         opts.compensate)
        wa[rows] = w
    return pruned


def _round_layer(node: Node, stats: Stats, wa: np.ndarray, pruned: np.ndarray,
                 grid: tuple, opts: FitOptions) -> None:
    """Step 4 in place on wa."""
    s_all, book, qmax = grid
    for rows, H, B in stats.blocks(node):
        s = s_all[rows]
        lam = damping(H, stats.rows, opts.damp)
        if opts.compensate:
            wa[rows] = gptq(wa[rows], H, lambda j, col: grid_round(col, s, book, qmax), lam,
                            pruned[rows])
            continue
        w = wa[rows]
        q = np.stack([grid_round(w[:, j], s, book, qmax) for j in range(w.shape[1] - 1)], 1)
        q[pruned[rows]] = 0.0
        w[:, :-1] = q
        if opts.bias_correction and B is not None:
            w[:, -1] += bias_correction(H, B, w)
        wa[rows] = w


def store_layer(g: Graph, node: Node, wa: np.ndarray, scales: np.ndarray,
                per_tensor: bool) -> None:
    """Replace the node's weights by int8 data with QParams and its bias by wa's last column."""
    w = node.inputs[1]
    ints = np.clip(np.round(wa[:, :-1] / scales[:, None]), -127, 127).astype(np.int8)
    s = (float(scales[0]),) if per_tensor else tuple(float(x) for x in scales)
    axis = None if per_tensor else OPS[node.op].layer.weight_axis
    node.replace_input(1, g.const(w.name, from_matrix(node, ints), QParams(s, (0,) * len(s),
                                                                           axis)))
    if len(node.inputs) < 3:
        node.inputs += (None,)
    b = node.inputs[2]
    name = b.name if b is not None else f"{node.name}_bias"
    node.replace_input(2, g.const(name, wa[:, -1].astype(np.float32)))


def fit_layer(g: Graph, node: Node, stats: Stats, cfg: LayerConfig,
              opts: FitOptions) -> dict:
    """Fit, prune and quantize one layer's weights on its statistics (see the module doc)."""
    w2, b = weight_matrix(node)
    wa = np.concatenate([w2, b[:, None]], axis=1)
    pruned = _refit_and_prune(node, stats, wa, cfg, opts)
    imp = _importance(node, stats, w2.shape)
    grid = layer_grid(wa[:, :-1], imp, pruned, cfg, opts.per_tensor)
    _round_layer(node, stats, wa, pruned, grid, opts)
    store_layer(g, node, wa, grid[0], opts.per_tensor)
    zeros = float(np.mean(np.round(wa[:, :-1] / grid[0][:, None]) == 0))
    return {"config": cfg.describe(), "zeros": round(zeros, 4),
            "codebook": None if grid[1] is None else [int(v) for v in grid[1]]}
