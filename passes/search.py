"""search: the mixed-precision search (compile()'s max_accuracy_drop) and compile()'s entry to
compression, compress_model — the orchestration above the per-layer fit (precision.py), the
compression pass (compress.py), quantize and the accuracy estimate (validation.py).
"""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from ..errors import QuantizationError, TinycError
from ..ir import OPS, Graph, QParams, interpret
from .compress import Compression, compress, effective, targets
from .precision import LayerConfig
from .quantize import mark_activations, quantize
from .validation import ALPHA, Score, drop_estimate, split_validation


# -- scoring a configuration --------------------------------------------------------------------

class Evaluator:
    """Scores a set of per-layer configs (and layers with int16 activations): compress (fitted
    on `fit`) + quantize (activation ranges from all the calibration samples, as compile()
    does) a copy of the float graph as compile() would (compress.effective), run the integer
    graph on the scored samples. Returns a Score; alpha is set by the search."""

    def __init__(self, g: Graph, samples, fit, base, data, calib_method: str,
                 alpha: float = ALPHA):
        self.g, self.samples, self.fit, self.base = g, list(samples), fit, base
        self.calib_method = calib_method
        self.feeds, labels, self.held = data
        self.alpha = alpha
        self.float_out = np.stack([np.asarray(interpret(g, f)[0], np.float64).ravel()
                                   for f in self.feeds])
        self.labels = np.asarray(labels).astype(np.int64) if labels is not None else \
            self.float_out.argmax(axis=1)
        self.runs = 0

    def __call__(self, configs: dict, int16=()) -> Score:
        g = mark_activations(copy.deepcopy(self.g), {n: "int16" for n in int16})
        c = effective(replace(self.base, overrides=dict(configs)))
        if c.active:
            g, _ = compress(g, self.fit, c)
        g = quantize(g, self.samples, calib_method=self.calib_method)
        self.runs += 1
        out = np.stack([_dequant(interpret(g, _quant_feed(g, f))[0], g.outputs[0].q).ravel()
                        for f in self.feeds])
        return drop_estimate(self.float_out, out, self.labels, self.held, self.alpha)

    def float_accuracy(self) -> float:
        return float(np.mean(self.float_out.argmax(axis=1) == self.labels))


def _quant_feed(g: Graph, feed: dict) -> dict:
    out = {}
    for v in g.inputs:
        x = np.asarray(feed[v.name], np.float64) / v.q.s
        out[v.name] = np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5) + v.q.zp, -128, 127)
    return out


def _dequant(y: np.ndarray, q: QParams) -> np.ndarray:
    return (y.astype(np.float64) - q.zp) * q.s


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
        if not OPS[node.op].int16_layer or node.attrs.get("activations") == "int16":
            continue
        group, todo = {node.name}, [v for v in node.inputs if v is not None and not v.is_const]
        while todo:
            p = todo.pop().producer
            if p is None or not (OPS[p.op].int16_layer or OPS[p.op].int16_follow):
                continue
            if OPS[p.op].int16_layer:
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
                     calib_method: str = "minmax", storage: str = "auto", progress=None):
    """Greedy mixed precision: every layer starts at int8; when the int8 model's measured
    accuracy misses the target, the layers where int8 activations lose most get int16
    activations (promote_int16; they are then not compressed). Then the (layer, next ladder
    step) with the least measured output error per byte saved is tried on the whole model and
    kept when the conservative estimate of the accuracy drop (validation.drop_estimate: the
    observed drop, and a confidence bound from every sample's margin and the output error, at
    level ALPHA / the number of steps that may be tried) stays within max_drop; a layer whose
    step fails stops. Nothing is tried when the int8 model's own estimate is over the budget
    (too few samples to tell). Returns (base with per-layer overrides, report); the int16
    layers are annotated on g (node.attrs["activations"], read by quantize).
    progress(message), when given, hears of each phase and each step tried."""
    say = progress or (lambda _msg: None)
    if not 0.0 <= float(max_drop) < 1.0:
        raise TinycError(f"max_accuracy_drop must be a fraction in [0, 1), got {max_drop!r}")
    fit, data = split_validation(g, samples, val)
    ev = Evaluator(g, samples, fit, base, data, calib_method)
    layers = {n.name: (n.inputs[1].shape, n.outputs[0].shape[-1], n.op) for n in targets(g)}
    state = {name: 0 for name in layers}
    configs = lambda st: {n: LADDER[k] for n, k in st.items()}          # noqa: E731
    say(f"scoring the int8 model on {len(ev.feeds)} samples")
    first = ev(configs(state))
    target = ev.float_accuracy() - float(max_drop)
    wide, tried = promote_int16(ev, int16_groups(g), configs(state), first, target)
    steps = _candidates(layers, storage == "small", wide)
    ev.alpha = ALPHA / max(len(steps), 1)
    start = ev(configs(state), wide)
    if start.drop <= max_drop:
        say(f"measuring {len(steps)} per-layer steps alone (output error per byte saved)")
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
        say(f"step {len(tried)}: {name} -> {tried[-1]['config']}: estimated drop "
            f"{s.drop:.2%} ({'kept' if s.drop <= max_drop else 'over budget, layer stops'})")
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


def replay(search: dict, steps: int) -> dict:
    """A search report cut to its first `steps` kept ladder steps (the int16 promotions stay):
    the per-layer configs the greedy search had after that many steps. The budgets of
    tinyc/budget.py pick a point on this path without searching again."""
    kept = [t for t in search["steps"] if t.get("kept") and t["config"] != "int16 activations"]
    if not 0 <= steps <= len(kept):
        raise TinycError(f"replay: {steps} steps asked, the search kept {len(kept)}")
    layers = {n: LADDER[0].describe() for n in search["layers"]}
    for t in kept[:steps]:
        layers[t["layer"]] = t["config"]
    return {**search, "layers": layers, "replayed_steps": steps, "kept_steps": len(kept)}


def _apply(g: Graph, base: Compression, search: dict) -> Compression:
    """A (replayed) search report applied: its per-layer configs and int16 layers."""
    by_name = {c.describe(): c for c in LADDER}
    unknown = sorted({d for d in search["layers"].values() if d not in by_name})
    if unknown:
        raise TinycError(f"precision: unknown layer config(s) {unknown} — expected one of "
                         f"{sorted(by_name)}")
    mark_activations(g, dict(search.get("activations", {})))
    return replace(base, overrides={n: by_name[d] for n, d in search["layers"].items()})


def compress_model(g: Graph, samples, c: Compression, max_accuracy_drop=None, val=None,
                   calib_method: str = "minmax", storage: str = "auto", progress=None,
                   precision: dict | None = None) -> tuple[Graph, dict | None]:
    """compile()'s entry: the precision search (max_accuracy_drop) when asked — or, with
    `precision` (a search report, e.g. replay()'s), its result applied without searching —
    then compress. Returns the graph and the compression report (None when nothing was asked;
    a search that kept every layer plain int8 compresses nothing and reports only itself)."""
    search = None
    if precision is not None:
        c, search = _apply(g, c, precision), precision
        c = effective(c)
    elif max_accuracy_drop is not None:
        c, search = search_precision(g, samples, c, max_accuracy_drop, val, calib_method,
                                     storage, progress)
        c = effective(c)
    options = {k: v for k, v in vars(c).items() if k != "overrides"}
    if not c.active:
        return g, None if search is None else {"layers": {}, "options": options,
                                               "search": search}
    g, report = compress(g, samples, c)
    report["options"] = options
    if search is not None:
        report["search"] = search
    return g, report
