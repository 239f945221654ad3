"""compress: the compression passes between the float passes and quantize, as one step.

    structured pruning (prune_structured.py: whole output channels, graph rewrite)
    → per-layer configuration (bits, sparsity, codebook; global sparsity allocation)
    → one sequential pass over the calibration samples (compensate.sequential): each linear
      layer, in execution order, is re-fit / pruned / clustered / rounded (precision.fit_layer)
      on the inputs that the already-compressed layers before it produce, against the original
      float model's outputs.

The result is a float graph whose linear layers carry int8 weights with QParams (as a QDQ
model's), ready for quantize(). Compression needs a float model and calibration samples.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import QuantizationError, TinycError
from ..ir import OPS, Graph, Node
from .compensate import damping, sequential, weight_matrix
from .precision import FitOptions, LayerConfig, fit_layer
from .prune import PRUNE_METHODS, PRUNE_SCOPES, allocate_global, check_sparsity


@dataclass
class Compression:
    """The compression options of tinyc.compile (see its docstring)."""
    prune: float | dict | None = None
    prune_method: str = "obs"
    prune_scope: str = "layer"
    prune_structured: float | None = None
    cluster: int | dict | None = None
    weights: str | int | dict = "int8"
    compensate: bool | None = None
    bias_correction: bool | None = None
    per_tensor: bool = False
    overrides: dict = field(default_factory=dict)   # layer -> LayerConfig (precision search)

    @property
    def compresses(self) -> bool:
        return bool(self.prune or self.prune_structured or self.cluster or self.overrides
                    or _bits(self.weights) != {8})

    @property
    def active(self) -> bool:
        return self.compresses or bool(self.compensate) or bool(self.bias_correction)

    def fit_options(self) -> FitOptions:
        comp = self.compresses if self.compensate is None else bool(self.compensate)
        bc = True if self.bias_correction is None else bool(self.bias_correction)
        if self.prune_method not in PRUNE_METHODS:
            raise TinycError(f"prune_method must be one of {PRUNE_METHODS}, "
                             f"got {self.prune_method!r}")
        return FitOptions(compensate=comp, bias_correction=bc, per_tensor=self.per_tensor,
                          prune_method=self.prune_method)


def parse_bits(v) -> int:
    table = {"int8": 8, "int4": 4, 8: 8, 4: 4, "8": 8, "4": 4}
    if v not in table:
        raise TinycError(f"weights: expected 'int8' or 'int4' (or a dict layer -> one of "
                         f"them), got {v!r}")
    return table[v]


def _bits(v) -> set[int]:
    return {parse_bits(x) for x in v.values()} if isinstance(v, dict) else {parse_bits(v)}


def _per_layer(value, names: list[str], what: str, default=None) -> dict:
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            from ..errors import did_you_mean
            hint = "".join(did_you_mean(u, names).replace(" — ", "; ", 1) for u in unknown)
            raise TinycError(f"{what}: unknown layer(s) {unknown}{hint} — the layers are {names}")
        return {n: value.get(n, default) for n in names}
    return {n: value for n in names}


def targets(g: Graph) -> list[Node]:
    """The layers compression works on (OpDef.layer: conv2d, depthwise_conv2d, fully_connected)."""
    return [n for n in g.nodes if OPS[n.op].layer is not None]


def _global_sparsity(g: Graph, samples, names: list[str], c: Compression) -> dict:
    layers = {}

    def collect(node, stats):
        w2, b = weight_matrix(node)
        layers[node.name] = (np.concatenate([w2, b[:, None]], 1), stats.H,
                             damping(stats.H, stats.rows))
    sequential(g, samples, set(names), collect)
    return allocate_global(layers, check_sparsity(c.prune), c.prune_method)


def _sparsities(g: Graph, samples, c: Compression, names: list[str]) -> dict:
    prunable = [n.name for n in targets(g) if OPS[n.op].layer.prunable]
    if not c.prune:
        return {}
    if c.prune_scope not in PRUNE_SCOPES:
        raise TinycError(f"prune_scope must be one of {PRUNE_SCOPES}, got {c.prune_scope!r}")
    if c.prune_scope == "global" and not isinstance(c.prune, dict):
        return _global_sparsity(g, samples, prunable, c)
    per = _per_layer(c.prune, names, "prune", 0.0)
    return {n: check_sparsity(per[n] or 0.0) for n in prunable}


def layer_configs(g: Graph, samples, c: Compression) -> dict[str, LayerConfig]:
    names = [n.name for n in targets(g)]
    bits = _per_layer(c.weights, names, "weights", "int8")
    clusters = _per_layer(c.cluster, names, "cluster")
    sparse = _sparsities(g, samples, c, names)
    configs = {n: LayerConfig(parse_bits(bits[n]), sparse.get(n, 0.0), clusters[n])
               for n in names}
    configs.update(c.overrides)
    return configs


def compress(g: Graph, samples, c: Compression) -> tuple[Graph, dict]:
    """Apply the compression options to a float graph (after the float passes)."""
    if not samples:
        raise QuantizationError("compression (prune/cluster/int4/bias correction) needs "
                                "calibration data: pass calib=")
    float_layers = [n for n in targets(g) if n.inputs[1].dtype.is_float]
    if len(float_layers) != len(targets(g)):
        raise TinycError("compression needs a float model — this one's weights are already "
                         "quantized (QDQ)")
    ref = copy.deepcopy(g)
    report: dict = {"layers": {}}
    out_index: dict = {}
    if c.prune_structured:
        from .prune_structured import prune_structured
        out_index, report["structured"] = prune_structured(g, samples, c.prune_structured)
    configs = layer_configs(g, samples, c)
    opts = c.fit_options()

    def fit(node, stats):
        report["layers"][node.name] = fit_layer(g, node, stats, configs[node.name], opts)
        if configs[node.name].sparsity:     # asked-for zeros: formats.py may store them
            node.attrs["prune_sparsity"] = configs[node.name].sparsity
    sequential(g, samples, set(configs), fit, ref=ref, out_index=out_index)
    return g, report


def effective(c: Compression) -> Compression:
    """c without the per-layer overrides that change nothing: when the options compress
    nothing themselves, every layer's own config is plain int8, so an int8 override (the
    search keeps a layer int8) is dropped — a search that keeps every layer int8 gives exactly
    the plain int8 model (no re-fit, no added bias)."""
    base = replace(c, overrides={})
    if base.compresses or not c.overrides:
        return c
    return replace(c, overrides={n: cfg for n, cfg in c.overrides.items()
                                 if cfg != LayerConfig()})
