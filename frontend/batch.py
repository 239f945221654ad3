"""Pinning a static batch N to 1 (`input_shapes={"x": (1, 3, 32, 32)}` for a static input
(N, 3, 32, 32)) where the graph provably keeps the N samples apart:
`pin_batch(model, {"x": N}, path, infer)` gives the batch-1 model, shapes inferred.

A *batch tensor* has a leading dim N*k whose rows come in N contiguous blocks of k, one per
sample (k = 1 at the inputs; Flatten(axis=2) or Reshape([N*C, -1]) give k > 1). Each node that
reads one needs a rule (rule_for: RULES, or, for an op the frontend turns into an elementwise
IR op — onnx_ops.ELEMENTWISE, OpDef.elementwise — the elementwise rule) proving that sample n
of its outputs depends only on sample n of its inputs: elementwise with constants that are 1
along dim 0, Conv/pooling/BatchNorm per image, Gemm/MatMul rows, Softmax/ReduceMean/Concat off
axis 0, Transpose keeping axis 0 first, Reshape to a dim 0 that is a multiple of N (row-major
order keeps a sample's elements contiguous).
Values computed from Shape/Size of a batch tensor depend on N: only a Reshape target may use one.
Anything else is refused naming the node. Rewrite: pinned inputs get dim 0 = 1, a Reshape's
literal target dim 0 becomes k; ONNX shape inference on the batch-1 model must then give every
batch tensor the shape (k, *rest) — one sample of its shape at batch N.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import UnsupportedOpError
from ..ir import OPS as IR_OPS
from .guard_graph import inferred_shapes
from .onnx_islands import OPS as ISLAND_OPS
from .onnx_ops import ELEMENTWISE
from .onnx_table import OPS

BATCH, SHAPE = "batch", "shape"   # kinds of values; constants and other inputs have none
HINT = "tinyc compiles batch-1 models: export the model with batch 1 (or a dynamic batch)"


@dataclass
class _Ctx:
    n: int                                        # the batch size being pinned to 1
    opset: int
    shapes: dict[str, tuple]                      # value -> dims at batch N (None: unknown)
    consts: dict[str, np.ndarray]                 # small initializers, Constant outputs
    kind: dict[str, str] = field(default_factory=dict)
    targets: dict[int, np.ndarray] = field(default_factory=dict)   # node index -> new target

    def batch(self, name: str) -> bool:
        return bool(name) and self.kind.get(name) == BATCH

    def shape(self, name: str) -> tuple:
        return self.shapes.get(name) or ()


def pin_batch(model: onnx.ModelProto, pins: dict[str, int], path: str, infer):
    """The batch-1 model (shapes inferred by `infer(model, path)`), or UnsupportedOpError naming
    the first node that mixes samples. pins: input name -> its static batch N (> 1)."""
    if len(set(pins.values())) > 1:
        raise UnsupportedOpError(f"{path}: the pinned inputs have different batch sizes {pins}"
                                 " — expected one batch size for all of them")
    n, at_n = next(iter(pins.values())), infer(model, path)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    literal = _literal_targets(model, at_n, opset)
    if literal is not model:                     # x.view(x.size(0), -1): shapes known now
        model, at_n = literal, infer(literal, path)
    ctx = _Ctx(n, opset, _shapes(at_n), _constants(at_n.graph))
    ctx.kind.update((name, BATCH) for name in pins)
    for i, node in enumerate(at_n.graph.node):
        _visit(ctx, i, node, path)
    at_1 = infer(_rewrite(model, ctx), path)
    _check_batch_1(ctx, at_1, path)
    return at_1


def _shapes(model: onnx.ModelProto) -> dict[str, tuple]:
    g = model.graph
    out = inferred_shapes(g)
    for vi in g.input:
        dims = vi.type.tensor_type.shape.dim
        out[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    out.update((t.name, tuple(t.dims)) for t in g.initializer)
    return out


def _constants(g: onnx.GraphProto) -> dict[str, np.ndarray]:
    out = {t.name: t for t in g.initializer if np.prod(t.dims) <= 1024}   # shapes, axes
    for node in g.node:
        if node.op_type == "Constant" and len(node.attribute) == 1:
            out[node.output[0]] = helper.get_attribute_value(node.attribute[0])
    return {k: numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else np.asarray(v)
            for k, v in out.items()}


def _literal_targets(model: onnx.ModelProto, at_n: onnx.ModelProto, opset: int):
    """The model with each Reshape target computed from shapes (Shape -> Gather -> Concat ...)
    replaced by its value at batch N, where ONNX shape inference leaves the output unknown;
    the rule for Reshape then rewrites it for batch 1 like a literal target."""
    shapes, values = _shapes(at_n), _constants(at_n.graph)
    literal, todo = set(values), {}
    declared = {vi.name for vi in at_n.graph.output} - {vi.name for vi in at_n.graph.value_info}
    for i, node in enumerate(at_n.graph.node):
        _evaluate_small(node, shapes, values, opset)
        # a graph output's shape may be only the model's declaration (gone at batch 1)
        unknown = None in (shapes.get(node.output[0]) or (None,)) or \
            node.output[0] in declared
        if node.op_type == "Reshape" and unknown and node.input[1] in values.keys() - literal:
            todo[i] = values[node.input[1]]
    if not todo:
        return model
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for i, value in todo.items():
        name = _fresh(m.graph, f"{m.graph.node[i].output[0]}_target")
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(value, np.int64), name))
        m.graph.node[i].input[1] = name
    return m


def _evaluate_small(node: onnx.NodeProto, shapes: dict, values: dict, opset: int) -> None:
    """values[output] for Shape/Size of a known shape, or a node of small known inputs."""
    ins = [x for x in node.input if x]
    if node.op_type in ("Shape", "Size") and ins:
        dims = shapes.get(ins[0])
        if dims and all(d is not None for d in dims):
            a = np.array(dims, np.int64)
            start, end = _attr(node, "start", 0), _attr(node, "end", len(dims))
            values[node.output[0]] = a[start:end] if node.op_type == "Shape" else a.prod()
        return
    if not ins or any(x not in values or np.size(values[x]) > 1024 for x in ins) or \
            node.op_type.startswith("Random") or node.domain not in ("", "ai.onnx"):
        return
    from onnx.reference import ReferenceEvaluator
    try:
        outs = ReferenceEvaluator(node, opsets={"": opset}).run(None, {x: values[x] for x in ins})
    except Exception:                            # noqa: BLE001 -- left unknown
        return
    values.update((o, np.asarray(v)) for o, v in zip(node.output, outs) if o)


# -- the analysis ---------------------------------------------------------------------------------

def _where(node: onnx.NodeProto, path: str, opset: int) -> str:
    name = node.name or (node.output[0] if node.output else "?")
    return f"{path}: node '{name}' ({node.op_type}, opset {opset})"


def _refuse(ctx: _Ctx, node: onnx.NodeProto, path: str, what: str) -> UnsupportedOpError:
    return UnsupportedOpError(f"{_where(node, path, ctx.opset)}: {what} — so it mixes the "
                              f"{ctx.n} samples of the batch; {HINT}")


def _visit(ctx: _Ctx, i: int, node: onnx.NodeProto, path: str) -> None:
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for a in node.attribute):               # a subgraph may read any outer value
        raise _no_rule(ctx, node, path)
    kinds = [ctx.kind.get(x) for x in node.input if x]
    if node.op_type == "CastLike" and kinds:     # the second input gives only a type
        kinds = kinds[:1]
    if BATCH not in kinds:                     # constants, or values computed from shapes
        if SHAPE in kinds:
            ctx.kind.update((o, SHAPE) for o in node.output if o)
        return
    if node.op_type in ("Shape", "Size"):
        start = int(_attr(node, "start", 0))
        keeps_n = node.op_type == "Size" or start + len(ctx.shape(node.input[0])) <= 0 or \
            start == 0
        ctx.kind[node.output[0]] = SHAPE if keeps_n else None
        return
    rule = rule_for(node.op_type) if node.domain in ("", "ai.onnx") else None
    if rule is None:
        raise _no_rule(ctx, node, path)
    shape_ins = [k for k, x in enumerate(node.input) if ctx.kind.get(x) == SHAPE]
    if shape_ins and (node.op_type != "Reshape" or shape_ins != [1]):
        raise _refuse(ctx, node, path, f"input {shape_ins[0]} is computed from the batch size")
    _known(ctx, node, list(node.input) + list(node.output), path)
    what = rule(ctx, i, node)
    if what:
        raise _refuse(ctx, node, path, what)
    for o in filter(None, node.output):
        if ctx.shapes[o][0] < ctx.n or ctx.shapes[o][0] % ctx.n:
            raise _refuse(ctx, node, path, f"its output '{o}' has shape {list(ctx.shapes[o])},"
                                           f" whose dim 0 is not a multiple of the batch {ctx.n}")
        ctx.kind[o] = BATCH


def _no_rule(ctx: _Ctx, node: onnx.NodeProto, path: str) -> UnsupportedOpError:
    """An op without a rule: the frontend's own refusal when it does not read the op at all."""
    where = _where(node, path, ctx.opset)
    if node.domain not in ("", "ai.onnx"):
        return UnsupportedOpError(f"{where}: domain '{node.domain}' is not supported — tinyc "
                                  "reads ai.onnx ops only")
    if node.op_type not in OPS:
        return UnsupportedOpError(f"{where}: op {node.op_type} is not supported on activations "
                                  f"— supported: {', '.join(sorted(OPS))} (any op on "
                                  "constants is folded)")
    return _refuse(ctx, node, path, f"tinyc has no rule proving that {node.op_type} keeps the "
                                    "samples apart")


def _known(ctx: _Ctx, node: onnx.NodeProto, names: list[str], path: str) -> None:
    """The rules need every static shape around the node (batch outputs: rank >= 1)."""
    for x in filter(None, names):
        s = ctx.shapes.get(x)
        if s is None or None in s or (x in node.output and not s):
            raise UnsupportedOpError(
                f"{_where(node, path, ctx.opset)}: ONNX shape inference cannot tell the shape "
                f"of '{x}' at batch {ctx.n}, so tinyc cannot prove the samples stay apart; "
                f"{HINT}")


def _attr(node: onnx.NodeProto, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _axes(ctx: _Ctx, node: onnx.NodeProto, index: int, rank: int):
    """The node's axes (attribute, or constant input `index`), normalized; None if absent;
    'unknown' if given by a non-constant input."""
    axes = _attr(node, "axes")
    if axes is None and len(node.input) > index and node.input[index]:
        axes = ctx.consts.get(node.input[index])
        if axes is None:
            return "unknown"
    axes = None if axes is None else [int(a) % rank for a in np.ravel(axes)]
    return axes or None                           # empty axes: the default (every axis)


# -- rules: each returns None (samples stay apart) or what mixes them ---------------------------

def _rows(ctx: _Ctx, i: int, node: onnx.NodeProto, inputs=None):
    """Broadcasting ops: a batch input lines up with the output's dim 0; another input of the
    output's rank must have 1 there (or it gives every sample different values)."""
    out = ctx.shape(node.output[0])
    for k, x in enumerate(node.input):
        if not x or (inputs is not None and k not in inputs):
            continue
        s = ctx.shape(x)
        if ctx.batch(x) and (len(s) != len(out) or s[:1] != out[:1]):
            return f"input {k} (shape {list(s)}) broadcasts with the batch axis moved"
        if not ctx.batch(x) and len(s) == len(out) and s[:1] != (1,):
            return (f"input {k} '{x}' of shape {list(s)} is not computed from a pinned input "
                    f"but has {s[0]} rows along the batch axis")
    return None


def _per_image(ctx: _Ctx, i: int, node: onnx.NodeProto):
    """Conv, pooling, BatchNorm: each image on its own; only input 0 may carry the batch."""
    outs = [o for o in node.output if o]
    if node.op_type == "BatchNormalization" and (_attr(node, "training_mode", 0) or
                                                 len(outs) > 1):
        return "training mode computes statistics over the batch"
    if node.op_type == "MaxPool" and len(outs) > 1:
        return "its Indices output counts positions across the whole batch"
    late = [k for k, x in enumerate(node.input) if k and ctx.batch(x)]
    return f"input {late[0]} carries the batch (expected a constant)" if late else None


def _on_axis(default_axis):
    def rule(ctx: _Ctx, i: int, node: onnx.NodeProto):
        axis = int(_attr(node, "axis", default_axis(ctx)))
        if axis % max(len(ctx.shape(node.input[0])), 1) == 0:
            shown = f"{axis} (= 0)" if axis else "0"
            return f"{node.op_type} along axis {shown}, the batch axis"
        return _rows(ctx, i, node) if node.op_type == "Concat" else _per_image(ctx, i, node)
    return rule


def _qdq(ctx: _Ctx, i: int, node: onnx.NodeProto):
    scale = ctx.shape(node.input[1]) if len(node.input) > 1 else ()
    axis = int(_attr(node, "axis", 1)) % max(len(ctx.shape(node.input[0])), 1)
    if int(np.prod(scale or (1,))) > 1 and axis == 0:
        return "per-axis (or blocked) quantization along axis 0, the batch axis"
    return _per_image(ctx, i, node)


def _gemm(ctx: _Ctx, i: int, node: onnx.NodeProto):
    if _attr(node, "transA", 0):
        return "transA=1 sums over the batch rows"
    return _per_image(ctx, i, node) or _rows(ctx, i, node, inputs=(0, 2))


def _matmul(ctx: _Ctx, i: int, node: onnx.NodeProto):
    """Rows of a 2-D left operand, or the leading broadcast dims of >= 3-D operands."""
    out = ctx.shape(node.output[0])
    vector_b = len(ctx.shape(node.input[1])) == 1
    for k, x in enumerate(node.input[:2]):
        s = ctx.shape(x)
        lines_up = len(out) == len(s) or (k == 0 and vector_b and len(out) == len(s) - 1)
        if ctx.batch(x) and (len(s) < (2 if k == 0 else 3) or not lines_up):
            return f"it sums over the batch axis of input {k} (shape {list(s)})"
        if not ctx.batch(x) and len(s) >= 3 and len(s) == len(out) and s[0] != 1:
            return (f"input {k} '{x}' of shape {list(s)} is not computed from a pinned input "
                    f"but has {s[0]} rows along the batch axis")
    return None


def _reduce(ctx: _Ctx, i: int, node: onnx.NodeProto):
    axes = _axes(ctx, node, 1, len(ctx.shape(node.input[0])))
    if axes == "unknown":
        return "its axes are computed at run time"
    if axes is None and not _attr(node, "noop_with_empty_axes", 0):
        return f"{node.op_type} over all axes, the batch axis too"
    return f"{node.op_type} over axis 0, the batch axis" if axes and 0 in axes else None


def _slice(ctx: _Ctx, i: int, node: onnx.NodeProto):
    """Slice over axes that leave axis 0 whole (starts/ends/axes are constant inputs)."""
    rank = len(ctx.shape(node.input[0]))
    axes = _axes(ctx, node, 3, rank)
    if axes == "unknown":
        return "its axes are computed at run time"
    if axes is None:
        starts = ctx.consts.get(node.input[1]) if len(node.input) > 1 else None
        axes = list(range(len(np.ravel(starts)))) if starts is not None else [0]
    return "Slice on axis 0, the batch axis" if 0 in axes else _per_image(ctx, i, node)


def _squeeze(ctx: _Ctx, i: int, node: onnx.NodeProto):
    rank = len(ctx.shape(node.output[0] if node.op_type == "Unsqueeze" else node.input[0]))
    axes = _axes(ctx, node, 1, rank)
    if axes is None or axes == "unknown":
        return f"{node.op_type} without constant axes (at batch 1 it would drop the batch axis)"
    return f"{node.op_type} on axis 0, the batch axis" if 0 in axes else None


def _transpose(ctx: _Ctx, i: int, node: onnx.NodeProto):
    perm = _attr(node, "perm") or list(reversed(range(len(ctx.shape(node.input[0])))))
    return None if perm[0] == 0 else f"perm {list(perm)} moves the batch axis 0"


def _flatten(ctx: _Ctx, i: int, node: onnx.NodeProto):
    axis = int(_attr(node, "axis", 1))
    if axis in (0, -len(ctx.shape(node.input[0]))):
        return f"Flatten with axis {axis} puts the batch axis into the rows"
    return None


def _pad(ctx: _Ctx, i: int, node: onnx.NodeProto):
    rank = len(ctx.shape(node.input[0]))
    pads = _attr(node, "pads", ctx.consts.get(node.input[1]) if len(node.input) > 1 else None)
    axes = _axes(ctx, node, 3, rank)
    if pads is None or axes == "unknown":
        return "its pads are computed at run time"
    pads = [int(p) for p in np.ravel(pads)]
    k = list(axes or range(rank)).index(0) if 0 in (axes or range(rank)) else None
    if k is not None and (pads[k] or pads[len(pads) // 2 + k]):
        return f"pads {pads} pad axis 0, the batch axis"
    return None


def _reshape(ctx: _Ctx, i: int, node: onnx.NodeProto):
    """Row-major order keeps each sample's elements contiguous: any output whose dim 0 is a
    multiple of N (checked on every output) holds sample n in its n-th block of rows."""
    out = ctx.shape(node.output[0])
    target = ctx.consts.get(node.input[1])
    if out and out[0] and out[0] % ctx.n:
        shown = f"target shape {[int(d) for d in np.ravel(target)]}" if target is not None \
            else "target"
        return f"its {shown} folds the batch (output shape {list(out)})"
    if target is not None and target.size and int(target.flat[0]) > 0 and out:
        new = np.array(target, copy=True)
        new.flat[0] = out[0] // ctx.n
        ctx.targets[i] = new
    return None


RULES = {
    **dict.fromkeys(["Identity", "Dropout", "Cast"], _rows),
    **dict.fromkeys(["Conv", "ConvInteger", "MaxPool", "AveragePool", "GlobalAveragePool",
                     "GlobalMaxPool", "BatchNormalization"], _per_image),
    "QuantizeLinear": _qdq, "DequantizeLinear": _qdq,
    "Gemm": _gemm, "MatMul": _matmul, "MatMulInteger": _matmul,
    **dict.fromkeys(["Softmax", "LogSoftmax"],
                    _on_axis(lambda ctx: -1 if ctx.opset >= 13 else 1)),
    "Concat": _on_axis(lambda ctx: 0),
    **dict.fromkeys(["Split", "Gather"], _on_axis(lambda ctx: 0)),
    "Slice": _slice, "Resize": _per_image,
    **dict.fromkeys(["ReduceMean", "ReduceSum", "ReduceMax"], _reduce),
    "Squeeze": _squeeze, "Unsqueeze": _squeeze,
    "Transpose": _transpose, "Flatten": _flatten, "Pad": _pad, "Reshape": _reshape,
    "DynamicQuantizeLinear": lambda *_: "it computes one quantization scale over all samples",
    "Erf": _rows,                                # inside GELU (onnx_patterns)
    "LayerNormalization": _on_axis(lambda ctx: -1),
}

RULES["ConvTranspose"] = _per_image
RULES["LpNormalization"] = _on_axis(lambda ctx: -1)
RULES.update((op, _rows) for op in ISLAND_OPS if op not in RULES)   # onnx_islands


def rule_for(op_type: str):
    """The op's rule: RULES, else, for an op the frontend turns into an elementwise IR op
    (onnx_ops.ELEMENTWISE, OpDef.elementwise: Add, Relu, Sigmoid...), elementwise rows."""
    if op_type in RULES:
        return RULES[op_type]
    ir_op = ELEMENTWISE.get(op_type)
    return _rows if ir_op is not None and IR_OPS[ir_op].elementwise else None


# -- rewrite and check -------------------------------------------------------------------------

def _rewrite(model: onnx.ModelProto, ctx: _Ctx) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for vi in g.input:
        if ctx.batch(vi.name):
            vi.type.tensor_type.shape.dim[0].dim_value = 1
    for i, target in ctx.targets.items():
        name = _fresh(g, f"{g.node[i].input[1]}_batch1")
        g.initializer.append(numpy_helper.from_array(target.astype(np.int64), name))
        g.node[i].input[1] = name
    for vi in [vi for vi in g.value_info if ctx.kind.get(vi.name) in (BATCH, SHAPE)]:
        g.value_info.remove(vi)
    for vi in g.output:
        if ctx.batch(vi.name) and vi.type.tensor_type.HasField("shape"):
            vi.type.tensor_type.ClearField("shape")
    return m


def _fresh(g: onnx.GraphProto, name: str) -> str:
    taken = {o for node in g.node for o in node.output} | {t.name for t in g.initializer} \
        | {vi.name for vi in g.input}
    while name in taken:
        name += "_"
    return name


def _check_batch_1(ctx: _Ctx, model: onnx.ModelProto, path: str) -> None:
    """Every batch tensor of the batch-1 model has the per-sample shape (k, *rest)."""
    got = _shapes(model)
    for node in model.graph.node:
        for o in node.output:
            if not ctx.batch(o):
                continue
            want = (ctx.shapes[o][0] // ctx.n,) + tuple(ctx.shapes[o][1:])
            if got.get(o) != want:
                raise UnsupportedOpError(
                    f"{_where(node, path, ctx.opset)}: at batch 1 its output '{o}' has shape "
                    f"{list(got.get(o) or ())}, expected {list(want)} (one sample of "
                    f"{list(ctx.shapes[o])}), so tinyc cannot pin the batch; {HINT}")


def _recurrent(ctx: _Ctx, i: int, node: onnx.NodeProto):
    """LSTM / GRU: batch-first (layout=1) sequences are per sample (X [B, T, F], outputs
    [B, ...]); time-major ones (layout 0) carry the batch on dim 1."""
    if int(_attr(node, "layout", 0)) != 1:
        return "layout 0 (time-major) keeps the batch on dim 1, not dim 0"
    late = [k for k, x in enumerate(node.input) if k and ctx.batch(x)]
    return f"input {late[0]} carries the batch (expected a constant)" if late else None


RULES["GRU"] = RULES["LSTM"] = _recurrent
