"""canonicalize: small local clean-ups that every later pass can rely on.

Rules:
  1. reshape to the input's own shape, transpose with the identity perm, identity-like
     clip(-inf, inf) → removed (uses rewired to the input), unless the input is a graph input
     and the op's output is a graph output (then a copy is needed and the op stays).
  2. reshape(reshape(x)) → reshape(x).
  3. clip(min=0, max=inf) → relu.
  4. batch_norm whose input is not produced by a foldable op (fold_batchnorm runs first) →
     depthwise_conv2d 1×1 (with reshapes for 2-D tensors), so quantize sees a conv.
  5. dead nodes are dropped.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from ..ir.ops.conv import DEPTHWISE_CONV2D


def _is_noop(node: Node) -> bool:
    x = node.inputs[0]
    if node.op == "reshape" or node.op == "transpose":
        same = node.outputs[0].shape == x.shape
        perm = list(node.attrs.get("perm", ()))
        return same and (node.op == "reshape" or perm == sorted(perm))
    if node.op == "clip":
        return node.attrs.get("min", -np.inf) == -np.inf and node.attrs.get("max", np.inf) == np.inf
    return False


def _bypass(g: Graph, node: Node) -> bool:
    x, y = node.inputs[0], node.outputs[0]
    if y in g.outputs and (x in g.inputs or x in g.outputs):
        return False
    if y.q is not None and x.q is not None and y.q != x.q:
        return False
    if y.q is not None and x.q is None and not x.is_const:
        x.type = x.type.with_(q=y.q)
    g.replace_all_uses_with(y, x)
    g.remove(node)
    return True


def _batch_norm_to_depthwise(g: Graph, node: Node) -> None:
    x, scale, bias, mean, var = node.inputs
    eps = node.attrs.get("epsilon", 1e-5)
    inv = scale.data.astype(np.float64) / np.sqrt(var.data.astype(np.float64) + eps)
    c = x.shape[-1]
    w = g.const(f"{node.name}_w", inv.reshape(1, 1, 1, c).astype(np.float32))
    b = g.const(f"{node.name}_b", (bias.data - mean.data * inv).astype(np.float32))
    attrs = {"stride": (1, 1), "pads": (0, 0, 0, 0), "dilation": (1, 1)}
    y = node.outputs[0]
    src = x
    if len(x.shape) != 4:
        src = g.emit("reshape", [x], {"shape": (1, 1, int(np.prod(x.shape[:-1])), c)},
                     before=node)
        src.type = src.type.with_(q=x.q)
    out = g.emit(DEPTHWISE_CONV2D, [src, w, b], attrs, name=node.name, before=node)
    out.type = out.type.with_(q=y.q)
    if len(x.shape) != 4:
        out = g.emit("reshape", [out], {"shape": y.shape}, before=node)
        out.type = out.type.with_(q=y.q)
    g.replace_all_uses_with(y, out)
    g.remove(node)


def canonicalize(g: Graph) -> Graph:
    for node in list(g.nodes):
        if node.op in ("reshape", "transpose", "clip") and _is_noop(node):
            _bypass(g, node)
        elif node.op == "reshape" and node.inputs[0].producer is not None \
                and node.inputs[0].producer.op == "reshape":
            node.replace_input(0, node.inputs[0].producer.inputs[0])
        elif node.op == "clip" and node.attrs.get("min") == 0 \
                and node.attrs.get("max", np.inf) == np.inf:
            node.op, node.attrs = "relu", {}
        elif node.op == "batch_norm":
            _batch_norm_to_depthwise(g, node)
    g.remove_dead()
    return g
