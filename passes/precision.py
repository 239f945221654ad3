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

from ..errors import QuantizationError, TinycError
from ..ir import OPS, Graph, Node, QParams
from .cluster import check_k, kmeans_codebook, nearest
from .compensate import (DAMP, Stats, bias_correction, damping, from_matrix, gptq, ridge_fit,
                         weight_matrix)
from .prune import prune_rows
from .validation import ALPHA, Evaluator, split_validation

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


# -- mixed precision: the search ----------------------------------------------------------------

LADDER = (LayerConfig(8), LayerConfig(4), LayerConfig(8, cluster=8), LayerConfig(8, cluster=4),
          LayerConfig(8, sparsity=0.9))


def config_bytes(cfg: LayerConfig, shape: tuple[int, ...], out_c: int) -> float:
    """Estimated stored weight bytes of a layer under cfg (backend_c/formats.py sizes)."""
    n = float(np.prod(shape))
    dense = n if cfg.bits == 8 else n / 2
    if cfg.cluster:
        dense = min(dense, cfg.cluster + n * np.ceil(np.log2(cfg.cluster)) / 8 + 1)
    if cfg.sparsity:
        dense = min(dense, 2 * (1 - cfg.sparsity) * n + 2 * out_c)
    return dense


def _candidates(layers: dict, sparse: bool, int16=()) -> dict:
    """{(layer, ladder step): stored bytes saved} of the steps the search may try (sparse
    steps only when the weights will be stored sparse: storage="small")."""
    steps = {}
    for name, (shape, out_c, op) in layers.items():
        full = config_bytes(LADDER[0], shape, out_c)
        for k in range(1, len(LADDER)):
            saved = full - config_bytes(LADDER[k], shape, out_c)
            if name in int16 or saved <= 0 or (LADDER[k].sparsity and
                                                (not OPS[op].layer.prunable or not sparse)):
                continue
            steps[(name, k)] = saved
    return steps


def _sensitivities(ev: Evaluator, steps: dict, base_mse: float, int16=()) -> dict:
    """Output MSE growth of each (layer, ladder step) alone, per stored byte saved."""
    return {(name, k): max(ev({name: LADDER[k]}, int16).mse - base_mse, 0.0) / saved
            for (name, k), saved in steps.items()}


def _next(score: dict, name: str, k: int) -> int | None:
    """The next ladder step of a layer that was measured (saves bytes, applies to the op)."""
    return next((j for j in range(k + 1, len(LADDER)) if (name, j) in score), None)


def int16_groups(g: Graph) -> dict[str, frozenset]:
    """The int16 candidates: each layer with a 16x8 form together with the layer(s) producing
    its input (through reshape/pools), so that the tensor between them is int16 at both ends
    (a conversion back to int8 in between would lose what int16 gained)."""
    groups = {}
    for node in g.nodes:
        if not OPS[node.op].int16 or node.attrs.get("activations") == "int16":
            continue
        group, todo = {node.name}, [v for v in node.inputs if v is not None and not v.is_const]
        while todo:
            p = todo.pop().producer
            if p is None or not (OPS[p.op].int16 or OPS[p.op].int16_follow):
                continue
            if OPS[p.op].int16:
                group.add(p.name)
            if OPS[p.op].int16_follow:
                todo.append(p.inputs[0])
        groups[node.name] = frozenset(group)
    return groups


def promote_int16(ev: Evaluator, groups: dict[str, frozenset], configs: dict,
                  base: tuple[float, float], target: float) -> tuple[set, list[dict]]:
    """int16 activations where int8 loses most: when the int8 model misses the target, each
    candidate (a layer and its input's producer, int16_groups) alone with int16 activations
    is measured (output MSE vs float); in order of the largest MSE drop, candidates are
    promoted (kept when the accuracy does not fall) until the target is met.
    Returns (the layers promoted, the steps tried)."""
    acc, mse0 = base[0], base[1]
    if acc >= target or not groups:
        return set(), []
    gain, tried = {}, []
    for name, grp in groups.items():
        try:
            gain[name] = mse0 - ev(configs, grp)[1]
        except QuantizationError as e:            # e.g. a 16x8 multiplier out of range
            gain[name] = 0.0
            tried.append({"layer": name, "config": "int16 activations", "error": str(e),
                          "kept": False})
    chosen: set = set()
    for name in sorted((n for n in groups if gain[n] > 0), key=lambda n: (-gain[n], n)):
        if groups[name] <= chosen:
            continue
        trial_acc = ev(configs, chosen | groups[name])[0]
        kept = trial_acc >= acc
        tried.append({"layer": name, "config": "int16 activations",
                      "layers": sorted(groups[name]), "accuracy": trial_acc,
                      "mse_gain": gain[name], "kept": kept})
        if kept:
            chosen, acc = chosen | groups[name], trial_acc
        if acc >= target:
            break
    return chosen, tried


def search_precision(g: Graph, samples, base, max_drop: float, val,
                     calib_method: str = "minmax", storage: str = "auto"):
    """Greedy mixed precision: every layer starts at int8; when the int8 model's measured
    accuracy misses the target, the layers where int8 activations lose most get int16
    activations (promote_int16; they are then not compressed). Then the (layer, next ladder
    step) with the least measured output error per byte saved is tried on the whole model and
    kept when the conservative estimate of the accuracy drop (validation.drop_estimate: the
    observed drop, and a confidence bound from every sample's margin and the output error, at
    level ALPHA / the number of steps that may be tried) stays within max_drop; a layer whose
    step fails stops. Nothing is tried when the int8 model's own estimate is over the budget
    (too few samples to tell). Returns (base with per-layer overrides, report); the int16
    layers are annotated on g (node.attrs["activations"], read by quantize)."""
    from dataclasses import replace

    from .compress import targets
    from .quantize import mark_activations
    if not 0.0 <= float(max_drop) < 1.0:
        raise TinycError(f"max_accuracy_drop must be a fraction in [0, 1), got {max_drop!r}")
    fit, data = split_validation(g, samples, val)
    ev = Evaluator(g, samples, fit, base, data, calib_method)
    layers = {n.name: (n.inputs[1].shape, n.outputs[0].shape[-1], n.op) for n in targets(g)}
    state = {name: 0 for name in layers}
    configs = lambda st: {n: LADDER[k] for n, k in st.items()}          # noqa: E731
    first = ev(configs(state))
    target = ev.float_accuracy() - float(max_drop)
    wide, tried = promote_int16(ev, int16_groups(g), configs(state), first, target)
    steps = _candidates(layers, storage == "small", wide)
    ev.alpha = ALPHA / max(len(steps), 1)
    start = ev(configs(state), wide)
    score = _sensitivities(ev, steps, start.mse, wide) if start.drop <= max_drop else {}
    stopped = set(wide)
    while True:
        moves = [(score[(n, _next(score, n, k))], n) for n, k in state.items()
                 if n not in stopped and _next(score, n, k) is not None]
        if not moves:
            break
        _, name = min(moves)
        trial = {**state, name: _next(score, name, state[name])}
        s = ev(configs(trial), wide)
        tried.append({"layer": name, "config": LADDER[trial[name]].describe(),
                      "accuracy": s.accuracy, "drop": s.drop, "bound": s.bound,
                      "kept": s.drop <= max_drop})
        if s.drop <= max_drop:
            state = trial
        else:
            stopped.add(name)
    mark_activations(g, {n: "int16" for n in wide})
    report = {"float_accuracy": ev.float_accuracy(), "int8_accuracy": first.accuracy,
              "start_drop": start.drop, "target_accuracy": target, "max_drop": max_drop,
              "alpha": ev.alpha, "samples": len(ev.feeds), "held_out": len(ev.held),
              "evaluations": ev.runs, "steps": tried,
              "layers": {n: LADDER[k].describe() for n, k in state.items()},
              "activations": {n: "int16" for n in sorted(wide)}}
    return replace(base, overrides=configs(state)), report
