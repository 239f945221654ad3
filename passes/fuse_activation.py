"""fuse_activation: relu / clip after an op that clamps its output becomes the op's `act`
range (act = (lo, hi) in real units), as TFLite's fused activations.

Does not fire when the producer's output has other users or is a graph output (the
un-clamped value is observable), or when the producer cannot clamp (reshape, softmax, ...).
The activation's output quantization (QDQ) moves to the producer's output.
"""
from __future__ import annotations

import numpy as np

from ..ir import OPS, Graph, Node


def _fuse(g: Graph, act: Node) -> bool:
    x = act.inputs[0]
    prod = x.producer
    if prod is None or not OPS[prod.op].clamps or len(x.uses) != 1 or x in g.outputs:
        return False
    if x.q is not None and act.outputs[0].q is not None and x.q != act.outputs[0].q:
        return False
    lo, hi = OPS[act.op].clamp_range(act.attrs)
    old_lo, old_hi = prod.attrs.get("act", (-np.inf, np.inf))
    prod.attrs["act"] = (float(max(lo, old_lo)), float(min(hi, old_hi)))
    y = act.outputs[0]
    if y.q is not None:
        x.type = x.type.with_(q=y.q)
    g.replace_all_uses_with(y, x)
    g.remove(act)
    return True


def fuse_activation(g: Graph) -> Graph:
    for act in [n for n in g.nodes if OPS[n.op].clamp_range is not None]:
        _fuse(g, act)
    return g
