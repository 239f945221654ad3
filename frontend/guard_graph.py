"""Graph-level guards of the ONNX frontend (file-level ones: guard.py).

- check_structure: nodes, inputs, outputs present; every name defined once, before use; cycles
  and dangling names reported with the node, where onnx.checker gives a truncated line.
- constant_size_bound: whether ONNX shape inference may propagate constant data (memory-safe).
- check_fold: the element count a constant-folded node would produce, checked before folding.
- check_imported: after import, every constant finite, every scale positive and finite, float
  attributes not NaN, BatchNormalization variances positive, int32 biases that cannot overflow
  the accumulator, activations of sane size.
"""
from __future__ import annotations

import math

import numpy as np
import onnx

from ..errors import ModelError
from ..ir import OPS
from ..ir.ops import layer_matrix
from .guard import MAX_TENSOR_BYTES, _n

# -- graph structure ----------------------------------------------------------------------------

def node_desc(node: onnx.NodeProto) -> str:
    name = node.name or (node.output[0] if node.output else "?")
    return f"node '{name}' ({node.op_type or 'no op_type'})"


def _cycle(graph: onnx.GraphProto, producer: dict[str, int], start: int) -> list[int] | None:
    """A cycle through node `start` in the producer graph (node indices), or None."""
    stack, path, seen = [(start, iter(graph.node[start].input))], [start], {start}
    while stack:
        i, it = stack[-1]
        nxt = next((producer[n] for n in it if n in producer), None)
        if nxt is None:
            stack.pop()
            path.pop()
        elif nxt == start:
            return path + [start]
        elif nxt not in seen:
            seen.add(nxt)
            stack.append((nxt, iter(graph.node[nxt].input)))
            path.append(nxt)
    return None


def check_structure(model: onnx.ModelProto, path: str) -> None:
    """Nodes, inputs and outputs present; names defined once, before their use; no cycles."""
    g = model.graph
    if not g.node:
        raise ModelError(f"{path}: the graph is empty (no nodes) — expected a network that "
                         "computes its outputs from its inputs")
    if not g.output:
        raise ModelError(f"{path}: the graph has no outputs — expected at least one")
    inits = {t.name for t in g.initializer} | {t.values.name for t in g.sparse_initializer}
    if not [i for i in g.input if i.name not in inits]:
        raise ModelError(f"{path}: the graph has no inputs (every input is an initializer) — "
                         "expected a model that computes from an input")
    defined: dict[str, str] = {}
    for i in g.input:
        if i.name in defined:
            raise ModelError(f"{path}: graph input '{i.name}' is declared twice")
        defined[i.name] = "a graph input"
    for name in inits:
        defined.setdefault(name, "an initializer")
    _check_order(g, defined, path)
    for o in g.output:
        if o.name not in defined:
            raise ModelError(f"{path}: graph output '{o.name}' is not computed by any node")


def _check_order(g: onnx.GraphProto, defined: dict[str, str], path: str) -> None:
    """Every node input defined before the node (else: undefined, a cycle, or out of order);
    every output defined once. Adds the node outputs to `defined`."""
    producer = {o: k for k, n in enumerate(g.node) for o in n.output if o}
    for k, node in enumerate(g.node):
        where = f"{path}: {node_desc(node)}"
        if not node.op_type:
            raise ModelError(f"{where}: the node has no op_type — expected an ONNX op name")
        for name in node.input:
            if not name or name in defined:
                continue
            if name not in producer:
                raise ModelError(f"{where}: input '{name}' is not defined — expected a graph "
                                 "input, an initializer or an earlier node's output")
            cycle = _cycle(g, producer, producer[name])
            if cycle and k in cycle:
                chain = " -> ".join(f"'{g.node[i].name or g.node[i].output[0]}'"
                                    for i in reversed(cycle))
                raise ModelError(f"{where}: the graph has a cycle: {chain} — expected an "
                                 "acyclic graph (recurrences must be unrolled)")
            raise ModelError(f"{where}: input '{name}' is computed later, by "
                             f"{node_desc(g.node[producer[name]])} — expected nodes in "
                             "topological order. Export the model again.")
        for name in filter(None, node.output):
            if name in defined:
                raise ModelError(f"{where}: output '{name}' is already {defined[name]} — "
                                 "expected every tensor to be defined once")
            defined[name] = f"the output of {node_desc(node)}"


# -- constant folding ---------------------------------------------------------------------------

def _ints(t) -> list[int]:
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


def _fold_count(node: onnx.NodeProto, ins: list) -> int | None:
    """Elements the node's output would have, from its constant inputs (None: not bounded)."""
    op, data = node.op_type, [None if t is None else t.data for t in ins]
    if op == "ConstantOfShape":
        return math.prod(_ints(ins[0]))
    if op == "Expand":
        a, b = list(data[0].shape), _ints(ins[1])
        r = max(len(a), len(b))
        a, b = [1] * (r - len(a)) + a, [1] * (r - len(b)) + b
        return math.prod(max(x, y) for x, y in zip(a, b))
    if op == "Tile":
        return math.prod(d * r for d, r in zip(data[0].shape, _ints(ins[1])))
    if op == "Range":
        start, limit, delta = (float(np.asarray(d).reshape(-1)[0]) for d in data[:3])
        if delta == 0 or not all(map(math.isfinite, (start, limit, delta))):
            return -1
        return max(math.ceil((limit - start) / delta), 0)
    if op == "Pad" and len(ins) > 1 and ins[1] is not None:
        p, s = _ints(ins[1]), data[0].shape
        return math.prod(d + p[i] + p[i + len(s)] for i, d in enumerate(s)) \
            if len(p) == 2 * len(s) else None
    if op in ("Resize", "Upsample"):
        sizes = ins[3] if op == "Resize" and len(ins) > 3 else None
        if sizes is not None and sizes.data.size:
            return math.prod(_ints(sizes))
        scales = ins[2] if op == "Resize" and len(ins) > 2 else (ins[1] if len(ins) > 1 else None)
        if scales is not None and scales.data.size == data[0].ndim:
            return math.prod(int(d * float(s)) for d, s in zip(data[0].shape,
                                                                 scales.data.reshape(-1)))
    if op == "Concat":
        return sum(int(d.size) for d in data if d is not None)
    return None


def check_fold(node: onnx.NodeProto, ins: list, inferred: dict, where: str) -> None:
    """Refuse to fold a node whose output would be huge (before numpy allocates it)."""
    counts = []
    try:
        counts.append(_fold_count(node, ins))
    except (ValueError, TypeError, IndexError, OverflowError):
        counts.append(None)
    for o in node.output:
        shape = inferred.get(o)
        if shape and all(isinstance(d, int) for d in shape):
            counts.append(math.prod(shape))
    counts = [c for c in counts if c is not None]
    if any(c < 0 for c in counts):
        raise ModelError(f"{where}: the node would produce a tensor of negative or undefined "
                         "size — expected valid shape arguments")
    n = max(counts, default=0)
    if n * 4 > MAX_TENSOR_BYTES:
        raise ModelError(f"{where}: folding this constant node would make {_n(n)} elements — "
                         f"expected at most {_n(MAX_TENSOR_BYTES // 4)}; no microcontroller "
                         "holds it. Check the node's shape arguments.")


def inferred_shapes(graph: onnx.GraphProto) -> dict[str, tuple]:
    """Tensor name -> dims (int, or None when unknown) from ONNX shape inference."""
    out = {}
    for vi in list(graph.value_info) + list(graph.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            out[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                 for d in tt.shape.dim)
    return out


# -- the imported graph -------------------------------------------------------------------------

HINT_FINITE = ("Check the model's weights: NaN/Inf usually means training diverged or a "
               "division by zero was folded.")


def _count_bad(a: np.ndarray) -> str:
    nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    return ", ".join(s for s in (f"{nan} NaN" if nan else "", f"{inf} Inf" if inf else "") if s)


def _check_q(v, where: str) -> None:
    q = v.q
    if q is None:
        return
    s = np.asarray(q.scale, np.float64)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        bad = [float(x) for x in s if not (math.isfinite(x) and x > 0)]
        raise ModelError(f"{where}: tensor '{v.name}' has quantization scale {bad[0]} — "
                         "expected a positive, finite scale (TFLite int8 spec). The model's "
                         "QuantizeLinear/DequantizeLinear parameters are broken; quantize it "
                         "again.")
    if len(s) > 1 and (q.axis is None or not 0 <= q.axis < len(v.shape)
                       or v.shape[q.axis] != len(s)):
        raise ModelError(f"{where}: tensor '{v.name}' of shape {v.shape} has {len(s)} "
                         f"per-channel scales on axis {q.axis} — expected one per channel")


def _check_attrs(node, where: str) -> None:
    for k, val in node.attrs.items():
        vals = val if isinstance(val, (tuple, list)) else (val,)
        for x in vals:
            if isinstance(x, float) and (math.isnan(x) or (math.isinf(x) and node.op != "clip"
                                                           and k != "act")):   # (0, inf): relu
                raise ModelError(f"{where}: attribute '{k}' is {x} — expected a finite number")


def _check_node(node, where: str) -> None:
    for v in node.inputs:
        if v is None:
            continue
        if v.is_const and v.dtype.is_float and not np.all(np.isfinite(v.data)):
            raise ModelError(f"{where}: constant '{v.name}' has {_count_bad(v.data)} "
                             f"value(s) — expected finite numbers. {HINT_FINITE}")
        _check_q(v, where)
    for v in node.outputs:
        _check_q(v, where)
        if v.type.size * 4 > MAX_TENSOR_BYTES:
            raise ModelError(f"{where}: output '{v.name}' of shape {v.shape} has "
                             f"{_n(v.type.size)} elements — expected at most "
                             f"{_n(MAX_TENSOR_BYTES // 4)}; no microcontroller holds it")
    _check_attrs(node, where)
    _check_bias(node, where)
    if node.op == "batch_norm" and node.inputs[4] is not None and node.inputs[4].is_const:
        var = node.inputs[4].data.astype(np.float64) + node.attrs.get("epsilon", 1e-5)
        if np.any(var <= 0):
            raise ModelError(f"{where}: variance + epsilon is {float(var.min())} — expected "
                             "> 0 (the normalisation divides by its square root)")


def _check_bias(node, where: str) -> None:
    """A model's own int32 bias must leave room for the products the int32 accumulator adds
    (fan_in of them, each |.| <= 255 * 128): else the C kernel overflows (undefined)."""
    opdef = OPS.get(node.op)
    if opdef is None or opdef.layer is None or \
            len(node.inputs) < 3 or node.inputs[2] is None or node.inputs[2].dtype.is_float:
        return
    fan_in = opdef.fan_in(node.inputs[1].shape)
    lim = 2**31 - 1 - fan_in * 255 * 128
    big = int(np.abs(node.inputs[2].data.astype(np.int64)).max(initial=0))
    if big > lim and not _bias_saturates(node, opdef, lim):
        raise ModelError(f"{where}: int32 bias '{node.inputs[2].name}' reaches {big:,} — "
                         f"expected at most {lim:,} so that adding {fan_in} products cannot "
                         "overflow the int32 accumulator. The bias scale (input scale x weight "
                         "scale) is too small for this bias; quantize the model again.")


def _bias_saturates(node, opdef, lim: int) -> bool:
    """ONNX Runtime's quantize_static can write an int32 bias beyond the room the int32
    accumulator needs. Decided from the arithmetic the layer does: a channel whose bias
    exceeds `lim` has an int8 output that is saturated for every input (bias clamped to +-lim
    plus or minus the channel's largest product sum, 255 * sum |w|, still rounds past the int8
    range), so passes/quantize.py may clamp the bias to +-lim and the output stays bit for bit
    what the unbounded sum gives. Else (an output that depends on the input) refused."""
    x, w, b, y = node.inputs[0], node.inputs[1], node.inputs[2], node.outputs[0]
    if x.q is None or y.q is None or w.q is None or w.data is None or any(w.q.zero_point):
        return False
    rows = np.abs(layer_matrix(node, w.data.astype(np.int64))).sum(axis=1)
    bias = b.data.astype(np.int64).reshape(-1)
    if rows.size != bias.size:
        return False
    w_s = np.broadcast_to(np.asarray(w.q.scale, np.float64), bias.shape)
    m = x.q.s * w_s / y.q.s
    far = (lim - 255 * rows) * m           # the smallest |acc| * M the clamped bias allows
    need = np.where(bias > 0, 128 - y.q.zp, 128 + y.q.zp)
    over = np.abs(bias) > lim
    return bool(np.all(far[over] >= need[over]))


def check_imported(g, origin: dict[int, str], path: str) -> None:
    """Finite constants, positive scales, sane attributes and sizes in the imported graph.
    origin: id(IR node) -> where the ONNX node that made it is (for the message)."""
    for v in g.inputs:
        _check_q(v, path)
    for node in g.nodes:
        _check_node(node, origin.get(id(node), f"{path}: node '{node.name}' ({node.op})"))


# -- before shape inference ---------------------------------------------------------------------

# ONNX's data propagation (shape inference with data_prop=True) materialises the values of
# constant subgraphs at ~150 B per element: a chain of 24 doubling Concats takes 2.5 GB. Models
# whose constant subgraphs grow beyond this are inferred without it (tinyc folds them itself,
# with check_fold's limit).
DATA_PROP_LIMIT = 1 << 16
SAME_SIZE = {"Identity", "Cast", "Neg", "Abs", "Relu", "Squeeze", "Unsqueeze", "Reshape",
             "Flatten", "Transpose", "Floor", "Ceil", "Round", "Sqrt", "Reciprocal", "Clip",
             "Not", "Sign", "Tile", "Expand", "Sigmoid", "Tanh", "Exp", "Log"}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Equal", "Less",
               "Greater", "And", "Or", "Where", "Sum", "Mean"}


def _const_size(node: onnx.NodeProto) -> int:
    for a in node.attribute:
        if a.type == onnx.AttributeProto.TENSOR:
            return math.prod(a.t.dims)
        if a.type in (onnx.AttributeProto.INTS, onnx.AttributeProto.FLOATS):
            return len(a.ints) + len(a.floats)
    return 1


def constant_size_bound(model: onnx.ModelProto) -> int:
    """A lower bound of the largest constant-derived Concat output (what data propagation
    would materialise; Concat chains are how it grows)."""
    size = {t.name: math.prod(t.dims) for t in model.graph.initializer}
    biggest = 0
    for node in model.graph.node:
        ins = [n for n in node.input if n]
        if node.op_type == "Constant":
            n = _const_size(node)
        elif node.op_type in ("Shape", "Size"):
            n = 1
        elif not ins or any(i not in size for i in ins):
            continue
        elif node.op_type == "Concat":
            n = sum(size[i] for i in ins)
        elif node.op_type in SAME_SIZE:
            n = size[ins[0]]
        elif node.op_type in ELEMENTWISE:
            n = max(size[i] for i in ins)
        else:
            n = 0
        if node.op_type == "Concat":             # the op that makes them grow
            biggest = max(biggest, n)
        size.update((o, n) for o in node.output if o)
    return biggest
