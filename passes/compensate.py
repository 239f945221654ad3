"""compensate: calibration data instead of retraining (OBS / GPTQ re-fit, bias correction).

A linear layer (an op with OpDef.layer: conv2d, depthwise_conv2d, fully_connected) computes,
per output channel,
y = X w + b with X its input patches (im2col rows). Over the calibration samples, with the bias
as a column of ones appended to X (so w has K+1 entries, the bias last):

    H = Xᵀ X   (K+1 × K+1)          B = Xᵀ Y_ref   (K+1 × O)

X comes from the graph being compressed (earlier layers already compressed: their error is
seen), Y_ref is the same layer's pre-activation output in the reference graph. The weights
that best reproduce the reference outputs minimise ||Y_ref − X wᵀ||² + λ||w − w0||², a ridge
toward the current weights w0 (λ = damping · mean diag H, larger when there are few rows):

    (H + λI) w = B + λ w0                         ridge_fit
    the same equations on a support S             obs_refit (Optimal Brain Surgeon re-fit)
    prune one weight at a time per row, exact     obc_greedy (Optimal Brain Compression:
      OBS update of the rest and of H_S⁻¹           exact error of every step, K ≤ a few 100)
    prune one column at a time, spreading the     sparsegpt (OBS saliency w² / [H⁻¹]ᵢᵢ,
      error over later columns through chol(H⁻¹)    SparseGPT's column-wise update)
    round one column at a time, the same way      gptq (the bias column last, never rounded:
                                                    bias correction comes for free)
    b += mean(Y_ref − X ŵ)                        bias_correction (no re-fit)

Per-channel layers (Layer.per_channel: depthwise) are one such problem per channel (K = kh·kw
taps of one input channel).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..ir import Graph, Node
from ..ir.interpret import float_data
from ..ir.ops import OPS, from_layer_matrix, layer_matrix
from ..ir.ops.conv import patches

DAMP = 0.01


# -- a layer as a matrix ------------------------------------------------------------------

def weight_matrix(node: Node) -> tuple[np.ndarray, np.ndarray]:
    """(W [O, K], b [O]) in float64: output channels as rows (ir.ops.layer_matrix)."""
    w2 = layer_matrix(node, float_data(node.inputs[1]).astype(np.float64))
    b = node.input(2)
    bias = np.zeros(w2.shape[0]) if b is None else float_data(b).astype(np.float64)
    return w2, bias


def from_matrix(node: Node, w2: np.ndarray) -> np.ndarray:
    """The inverse of weight_matrix's reshape: [O, K] back to the node's weight layout."""
    return from_layer_matrix(node, w2)


def layer_inputs(node: Node, x: np.ndarray) -> np.ndarray:
    """The input rows of one sample: [R, K], or [R, K, C_out] (per-channel layers)."""
    layer = OPS[node.op].layer
    if not layer.window:
        return x.reshape(x.shape[0], -1).astype(np.float64)
    a = node.attrs
    kernel = node.inputs[1].shape[1:3]
    p = layer.windows(node, x.astype(np.float64)) if layer.windows is not None else \
        patches(x.astype(np.float64), kernel, a["stride"], a["pads"], a["dilation"], 0.0)
    if not layer.per_channel:
        return p.reshape(-1, int(np.prod(p.shape[3:])))
    out_c = node.inputs[1].shape[3]
    p = p[..., np.arange(out_c) // (out_c // x.shape[3])]
    return p.reshape(-1, kernel[0] * kernel[1], out_c)


def with_ones(x: np.ndarray) -> np.ndarray:
    """Append the bias input (a column of ones) along axis 1."""
    ones = np.ones((x.shape[0], 1) + x.shape[2:])
    return np.concatenate([x, ones], axis=1)


def linear_out(node: Node, xa: np.ndarray, w2: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pre-activation outputs [R, O] from input rows with the ones column."""
    wa = np.concatenate([w2, b[:, None]], axis=1)
    if OPS[node.op].layer.per_channel:
        return np.einsum("rkc,ck->rc", xa, wa)
    return xa @ wa.T


# -- statistics over the calibration samples ------------------------------------------------

@dataclass
class Stats:
    """H [K+1, K+1] (depthwise: [C, K+1, K+1]), B [K+1, O] (depthwise: [C, K+1]) or None,
    rows: the number of input rows accumulated."""
    H: np.ndarray
    B: np.ndarray | None
    rows: int

    def blocks(self, node: Node):
        """(rows of W, H, B) problems: one, or one per channel for per-channel layers."""
        if not OPS[node.op].layer.per_channel:
            yield slice(None), self.H, self.B
            return
        for c in range(self.H.shape[0]):
            yield slice(c, c + 1), self.H[c], None if self.B is None else self.B[c][:, None]


def _accumulate(node: Node, xs: list, refs: list | None, ref_node: Node | None,
                rows_of_ref: np.ndarray | None) -> Stats:
    dw = OPS[node.op].layer.per_channel
    H = B = None
    rows = 0
    ref_w = weight_matrix(ref_node) if ref_node is not None else None
    for i, x in enumerate(xs):
        xa = with_ones(layer_inputs(node, x))
        h = np.einsum("rkc,rjc->ckj", xa, xa) if dw else xa.T @ xa
        H = h if H is None else H + h
        rows += xa.shape[0]
        if refs is None:
            continue
        y = linear_out(ref_node, with_ones(layer_inputs(ref_node, refs[i])), *ref_w)
        if rows_of_ref is not None:
            y = y[:, rows_of_ref]
        b = np.einsum("rkc,rc->ck", xa, y) if dw else xa.T @ y
        B = b if B is None else B + b
    return Stats(H, B, rows)


# -- the sequential executor ----------------------------------------------------------------

def _run(node: Node, env: dict, n: int) -> None:
    for i in range(n):
        args = [None if v is None else float_data(v) if v.is_const else env[id(v)][i]
                for v in node.inputs]
        while args and args[-1] is None:
            args.pop()
        out = OPS[node.op].run_float(node, *args)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for v, a in zip(node.outputs, outs):
            env.setdefault(id(v), []).append(np.asarray(a, np.float32).reshape(v.shape))


def _last_uses(g: Graph) -> dict[int, int]:
    last = {}
    for step, node in enumerate(g.nodes):
        for v in node.inputs:
            if v is not None and not v.is_const:
                last[id(v)] = step
    for v in g.outputs:
        last[id(v)] = len(g.nodes)
    return last


class Runner:
    """Runs one graph node by node over all samples, keeping activations until last use."""

    def __init__(self, g: Graph, samples: list[dict[str, np.ndarray]]):
        self.g, self.n = g, len(samples)
        self.env = {id(v): [np.asarray(s[v.name], np.float32).reshape(v.shape) for s in samples]
                    for v in g.inputs}
        self.last = _last_uses(g)
        self.nodes = {n.name: n for n in g.nodes}

    def inputs_of(self, node: Node) -> list[np.ndarray]:
        return self.env[id(node.inputs[0])]

    def step(self, index: int) -> None:
        node = self.g.nodes[index]
        _run(node, self.env, self.n)
        for v in node.inputs:
            if v is not None and not v.is_const and self.last.get(id(v), -1) <= index:
                self.env.pop(id(v), None)


def sequential(g: Graph, samples: list[dict[str, np.ndarray]], targets: set[str],
               fit: Callable[[Node, Stats], None], ref: Graph | None = None,
               out_index: dict[str, np.ndarray] | None = None) -> None:
    """Run g over the samples node by node; before each target node runs, call fit(node,
    stats) with its statistics (B against ref's node of the same name when ref is given;
    out_index[name]: which reference output channels the node still computes)."""
    run = Runner(g, samples)
    ref_run = Runner(ref, samples) if ref is not None else None
    for i, node in enumerate(list(g.nodes)):
        if node.name in targets:
            rnode = ref_run.nodes[node.name] if ref_run else None
            refs = ref_run.inputs_of(rnode) if ref_run else None
            rows = (out_index or {}).get(node.name)
            fit(node, _accumulate(node, run.inputs_of(node), refs, rnode, rows))
        run.step(i)
        if ref_run:
            ref_run.step(ref.nodes.index(ref_run.nodes[node.name]))


# -- the solvers ------------------------------------------------------------------------------

def damping(H: np.ndarray, rows: int, damp: float = DAMP) -> float:
    """λ: damp · mean diag(H), raised when there are fewer rows than parameters."""
    k = H.shape[0]
    return damp * max(1.0, 4.0 * k / max(rows, 1)) * float(np.mean(np.diag(H))) + 1e-12


def _prepare(H: np.ndarray, lam: float) -> np.ndarray:
    Hd = H + lam * np.eye(H.shape[0])
    dead = np.diag(H) <= 0
    Hd[dead, dead] = 1.0
    return Hd


def ridge_fit(H: np.ndarray, B: np.ndarray, w0: np.ndarray, lam: float) -> np.ndarray:
    """argmin ||Y − X wᵀ||² + λ||w − w0||² for every row of w0 [O, K+1]."""
    Hd = _prepare(H, lam)
    return np.linalg.solve(Hd, B + lam * w0.T).T


def obs_refit(H: np.ndarray, B: np.ndarray, w0: np.ndarray, lam: float,
              keep: np.ndarray) -> np.ndarray:
    """The ridge fit restricted, row by row, to keep [O, K+1] (False entries become 0)."""
    Hd = _prepare(H, lam)
    rhs = B + lam * w0.T
    w = np.zeros_like(w0)
    for r in range(w0.shape[0]):
        s = np.flatnonzero(keep[r])
        if s.size:
            w[r, s] = np.linalg.solve(Hd[np.ix_(s, s)], rhs[s, r])
    return w


def _chol_inv_upper(H: np.ndarray, lam: float) -> np.ndarray:
    """The upper Cholesky factor U of (H + λI)⁻¹ (U[i, i:] drives GPTQ's updates)."""
    Hd = _prepare(H, lam)
    return np.linalg.cholesky(np.linalg.inv(Hd)).T


def sparsegpt(w: np.ndarray, H: np.ndarray, sparsity: float, lam: float,
              block: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Prune `sparsity` of the first K columns of w [O, K+1] by OBS saliency, block by block,
    compensating each pruned weight on the columns after it. Returns (w, pruned mask [O, K])."""
    w = w.copy()
    k = w.shape[1] - 1
    U = _chol_inv_upper(H, lam)
    mask = np.zeros((w.shape[0], k), bool)
    for i1 in range(0, k, block):
        i2 = min(i1 + block, k)
        d = np.diag(U)[i1:i2]
        score = (w[:, i1:i2] / d) ** 2
        n_prune = int(round(score.size * sparsity))
        if n_prune:
            cut = np.partition(score.ravel(), n_prune - 1)[n_prune - 1]
            mask[:, i1:i2] = score <= cut
        for i in range(i1, i2):
            q = np.where(mask[:, i], 0.0, w[:, i])
            err = (w[:, i] - q) / U[i, i]
            w[:, i:] -= np.outer(err, U[i, i:])
            w[:, i] = q
    return w, mask


def obc_greedy(w: np.ndarray, H: np.ndarray, lam: float, steps: int,
               chunk: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Optimal Brain Compression's greedy pruning of each row of w [O, K+1] (the bias, last,
    never pruned): `steps` times, remove the weight of least OBS cost w_i² / [H_S⁻¹]_ii, move
    the others by the exact OBS update and drop i from the inverse of H (λ-damped) on the
    support S. Returns (order [O, steps]: the removed columns in turn, cost [O, steps]: each
    removal's exact growth of the damped objective (ŵ − w)(H + λI)(ŵ − w)ᵀ)."""
    k = w.shape[1] - 1
    steps = min(int(steps), k)
    hinv = np.linalg.inv(_prepare(H, lam))
    order = np.zeros((w.shape[0], steps), np.int64)
    cost = np.zeros((w.shape[0], steps))
    for r0 in range(0, w.shape[0], chunk):
        rows = slice(r0, min(r0 + chunk, w.shape[0]))
        order[rows], cost[rows] = _obc_rows(w[rows].copy(), hinv, k, steps)
    return order, cost


def _obc_rows(w: np.ndarray, hinv: np.ndarray, k: int, steps: int):
    n = w.shape[0]
    at = np.arange(n)
    hi = np.repeat(hinv[None], n, axis=0)
    alive = np.ones((n, k), bool)
    order, cost = np.zeros((n, steps), np.int64), np.zeros((n, steps))
    for s in range(steps):
        d = np.einsum("rii->ri", hi)[:, :k]
        score = np.where(alive, w[:, :k] ** 2 / np.where(alive, d, 1.0), np.inf)
        i = np.argmin(score, axis=1)
        order[:, s], cost[:, s] = i, score[at, i]
        col = hi[at, :, i]
        w -= (w[at, i] / col[at, i])[:, None] * col
        hi -= col[:, :, None] * col[:, None, :] / col[at, i][:, None, None]
        w[at, i], hi[at, i, :], hi[at, :, i], alive[at, i] = 0.0, 0.0, 0.0, False
        hi[at, i, i] = 1.0
    return order, cost


def gptq(w: np.ndarray, H: np.ndarray, quantize_col: Callable[[int, np.ndarray], np.ndarray],
         lam: float, pruned: np.ndarray | None = None, act_order: bool = True) -> np.ndarray:
    """Round the first K columns of w [O, K+1] with quantize_col(j, column) -> rounded column,
    largest diag(H) first, each rounding error spread over the columns not yet rounded (the
    bias column last). Pruned [O, K] entries are rounded to 0."""
    k = w.shape[1] - 1
    order = np.argsort(-np.diag(H)[:k], kind="stable") if act_order else np.arange(k)
    perm = np.concatenate([order, [k]])
    wp = w[:, perm].copy()
    U = _chol_inv_upper(H[np.ix_(perm, perm)], lam)
    for i in range(k):
        j = perm[i]
        q = quantize_col(j, wp[:, i])
        if pruned is not None:
            q = np.where(pruned[:, j], 0.0, q)
        err = (wp[:, i] - q) / U[i, i]
        wp[:, i:] -= np.outer(err, U[i, i:])
        wp[:, i] = q
    out = np.empty_like(wp)
    out[:, perm] = wp
    return out


def bias_correction(H: np.ndarray, B: np.ndarray, wq: np.ndarray) -> np.ndarray:
    """The bias change that makes the mean output equal the reference's: mean(Y_ref − X ŵ)."""
    n = H[-1, -1]
    return (B[-1, :] - wq @ H[-1, :]) / max(n, 1.0)
