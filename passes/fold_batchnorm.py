"""fold_batchnorm: conv/depthwise/fc → batch_norm becomes one conv with scaled weights.

  w'[c] = w[c] * γ[c] / sqrt(var[c] + ε)        (c = output channel)
  b'[c] = (b[c] - mean[c]) * γ[c] / sqrt(var[c] + ε) + β[c]
Does not fire when the conv output has other users, is a graph output, or its weights are
not float constants (already quantized). Standalone batch_norm is left to canonicalize.
"""
from __future__ import annotations

import numpy as np

from ..ir import OPS, Graph, Node


def _foldable(g: Graph, bn: Node) -> Node | None:
    prod = bn.inputs[0].producer
    if prod is None or OPS[prod.op].layer is None:
        return None
    y = prod.outputs[0]
    if len(y.uses) != 1 or y in g.outputs or "act" in prod.attrs:
        return None
    w = prod.inputs[1]
    if not w.is_const or not w.dtype.is_float:
        return None
    return prod


def _fold(g: Graph, bn: Node, conv: Node) -> None:
    _, gamma, beta, mean, var = (v.data.astype(np.float64) if v.is_const else None
                                 for v in bn.inputs)
    inv = gamma / np.sqrt(var + bn.attrs.get("epsilon", 1e-5))
    w = conv.inputs[1]
    axis = OPS[conv.op].layer.weight_axis
    shape = [1] * w.data.ndim
    shape[axis] = -1
    new_w = (w.data.astype(np.float64) * inv.reshape(shape)).astype(np.float32)
    old_b = conv.input(2)
    b = old_b.data.astype(np.float64) if old_b is not None else np.zeros_like(mean)
    new_b = ((b - mean) * inv + beta).astype(np.float32)
    conv.replace_input(1, g.const(w.name, new_w))
    if len(conv.inputs) < 3:
        conv.inputs += (None,)
    conv.replace_input(2, g.const(f"{conv.name}_bias", new_b))
    y = bn.outputs[0]
    conv.outputs[0].type = conv.outputs[0].type.with_(q=y.q)
    g.replace_all_uses_with(y, conv.outputs[0])
    g.remove(bn)


def fold_batchnorm(g: Graph) -> Graph:
    for bn in [n for n in g.nodes if n.op == "batch_norm"]:
        conv = _foldable(g, bn)
        if conv is not None:
            _fold(g, bn, conv)
    return g
