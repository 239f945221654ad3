"""fold_batchnorm: conv/depthwise/fc → batch_norm becomes one conv with scaled weights.

  w'[c] = w[c] * γ[c] / sqrt(var[c] + ε)        (c = output channel)
  b'[c] = (b[c] - mean[c]) * γ[c] / sqrt(var[c] + ε) + β[c]
Does not fire when the conv output has other users or is a graph output. Quantized (QDQ)
weights fold only where the layer's output is not quantized (NNCF: Gemm -> BatchNormalization
-> Relu -> Q with the Gemm output and the batch norm in float): γ/sqrt(var + ε) goes into the
per-channel weight scales (rows negated where it is negative), the int8 weights unchanged —
exact; not for an int8 -128 weight, a zero point or a zero γ. Standalone batch_norm is left to
canonicalize.
"""
from __future__ import annotations

import numpy as np

from ..ir import OPS, Graph, Node, QParams


def _foldable(g: Graph, bn: Node) -> Node | None:
    prod = bn.inputs[0].producer
    if prod is None or OPS[prod.op].layer is None:
        return None
    y = prod.outputs[0]
    if len(y.uses) != 1 or y in g.outputs or "act" in prod.attrs:
        return None
    w = prod.inputs[1]
    if not w.is_const:
        return None
    if w.dtype.is_float:
        return prod
    axis = OPS[prod.op].layer.weight_axis
    b, gamma = prod.input(2), bn.inputs[1]
    if (y.q is not None or w.q is None or any(w.q.zero_point) or np.any(w.data == -128)
            or w.q.axis not in (None, axis) or (b is not None and not b.dtype.is_float)
            or not gamma.is_const or not np.all(gamma.data)):
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
    if w.dtype.is_float:
        new_w = g.const(w.name, (w.data.astype(np.float64) * inv.reshape(shape))
                        .astype(np.float32))
    else:                       # QDQ weights: inv into the per-channel scales (_foldable)
        n = w.shape[axis]
        scale = np.broadcast_to(np.asarray(w.q.scale, np.float64), (n,)) * np.abs(inv)
        data = (w.data.astype(np.int16) * np.where(inv < 0, -1, 1).reshape(shape))
        new_w = g.const(w.name, data.astype(np.int8),
                        QParams(tuple(float(v) for v in scale), (0,) * n, axis))
    old_b = conv.input(2)
    b = old_b.data.astype(np.float64) if old_b is not None else np.zeros_like(mean)
    new_b = ((b - mean) * inv + beta).astype(np.float32)
    conv.replace_input(1, new_w)
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
