"""The whole model checked for unsupported nodes before anything is converted: ONE error lists
every node tinyc cannot convert (op, node names, count), and says what known patterns are and
what to do:

    check(model, path, covered)     # raises UnsupportedOpError, or returns

A node counts when it reads an activation (a graph input or a value computed from one; nodes
on constants only are folded, Shape/Size of an activation give constants) and the frontend has
no function for its op, or when it is from another domain than ai.onnx, or when it runs in
training mode. `covered`: indices of nodes a recognised pattern or float island converts as a
whole (onnx_patterns: GELU, x * Sigmoid(x), written-out Softmax / LayerNormalization ...;
onnx_islands: elementwise functions of one activation).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import UnsupportedOpError
from . import dynamic_quant, onnx_table

DOMAINS = ("", "ai.onnx")
EVAL = "export in eval mode (model.eval() before torch.onnx.export, or " \
       "training=torch.onnx.TrainingMode.EVAL)"
TRAINING_OPS = {"SoftmaxCrossEntropyLoss": "a loss", "NegativeLogLikelihoodLoss": "a loss",
                "Gradient": "a gradient", "Adagrad": "an optimizer step",
                "Adam": "an optimizer step", "Momentum": "an optimizer step"}
ISLAND_HINT = ("tinyc reads it inside a float function of ONE activation with scalar "
               "constants (folded into one lookup table), or inside Softmax / LogSoftmax / "
               "LayerNormalization written out; here it reads several activations or "
               "non-scalar constants")


def supported(op_type: str) -> bool:
    return op_type in onnx_table.OPS or op_type in dynamic_quant.OPS or \
        op_type in ("Shape", "Size", "Cast", "CastLike")


def constants(g: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Small initializers and Constant outputs (scalars and short vectors: the pattern and
    training-mode tests read them)."""
    out = {}
    for t in g.initializer:
        if np.prod(t.dims) <= 16:
            out[t.name] = numpy_helper.to_array(t)
    for node in g.node:
        if node.op_type == "Constant" and node.domain in DOMAINS and len(node.attribute) == 1:
            v = helper.get_attribute_value(node.attribute[0])
            if isinstance(v, onnx.TensorProto):
                out[node.output[0]] = numpy_helper.to_array(v)
            elif isinstance(v, (int, float, list)):
                out[node.output[0]] = np.asarray(v)
    return out


def const_values(g: onnx.GraphProto, opset: int | None = None) -> dict[str, np.ndarray]:
    """Small constants: initializers and Constant outputs of <= 16 elements, and what nodes on
    them compute (CastLike(c, x) is c as float32: x is a float activation here)."""
    from onnx.reference import ReferenceEvaluator
    vals = dict(constants(g))
    for n in g.node:
        ins = [x for x in n.input if x]
        if n.domain not in DOMAINS or not n.output or n.op_type == "Constant":
            continue
        if n.op_type == "CastLike" and ins and ins[0] in vals:
            a = np.asarray(vals[ins[0]])
            if a.dtype.kind == "f":
                vals[n.output[0]] = a.astype(np.float32)
            continue
        if not ins or any(x not in vals or np.size(vals[x]) > 16 for x in ins) or \
                n.op_type.startswith("Random"):
            continue
        try:
            outs = ReferenceEvaluator(n, opsets={"": opset} if opset else None).run(
                None, {x: vals[x] for x in ins})
        except Exception:                        # noqa: BLE001 -- left unknown
            continue
        for o, v in zip(n.output, outs):
            if o and np.size(v) <= 16:
                vals[o] = np.asarray(v)
    return vals


def activations(g: onnx.GraphProto) -> tuple[set[str], list[bool]]:
    """The names computed from the graph inputs, and for each node whether it reads one."""
    inits = {t.name for t in g.initializer}
    acts = {vi.name for vi in g.input if vi.name not in inits}
    on_act = []
    for node in g.node:
        # CastLike(constant, activation) is a constant: the activation gives only its type
        ins = node.input[:1] if node.op_type == "CastLike" else node.input
        reads = any(x in acts for x in ins if x)
        custom = node.domain not in DOMAINS
        on_act.append(reads or custom)
        if custom or reads and node.op_type not in ("Shape", "Size"):
            acts.update(o for o in node.output if o)
    return acts, on_act


def _name(node: onnx.NodeProto) -> str:
    return node.name or (node.output[0] if node.output else "?")


def _training(node: onnx.NodeProto, consts: dict) -> str | None:
    """Why the node runs in training mode, or None."""
    if node.domain == "ai.onnx.preview.training":
        return f"{node.op_type} (domain ai.onnx.preview.training) is a training-only op"
    if node.domain not in DOMAINS:
        return None
    if node.op_type in TRAINING_OPS:
        return f"{node.op_type} is {TRAINING_OPS[node.op_type]}, used in training only"
    if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
        mode = consts.get(node.input[2])
        ratio = consts.get(node.input[1]) if node.input[1] else 0.5
        if mode is not None and bool(np.asarray(mode).reshape(-1)[0]) and not (
                ratio is not None and float(np.asarray(ratio).reshape(-1)[0]) == 0.0):
            return "Dropout in training mode (training_mode input true)"
    if node.op_type == "BatchNormalization":
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("training_mode") or sum(bool(o) for o in node.output) > 1:
            return "BatchNormalization in training mode (batch statistics, running-mean " \
                   "outputs)"
    return None


def check(model: onnx.ModelProto, path: str, covered: set[int] = frozenset(),
          foldable: set[str] = frozenset()) -> None:
    """foldable: ops tinyc reads inside float islands (onnx_islands.TRIGGERS), for the hint."""
    g = model.graph
    consts = constants(g)
    _, on_act = activations(g)
    groups: dict[tuple, list[str]] = defaultdict(list)     # (op, domain, why) -> node names
    dyn: set[str] = set()                        # run-time quantized values (dynamic_quant)
    for i, node in enumerate(g.node):
        if node.op_type == "DynamicQuantizeLinear" or node.op_type in dynamic_quant.ON_DYN \
                and any(x in dyn for x in node.input):
            dyn.update(o for o in node.output if o)
            continue                             # dynamic_quant checks these itself
        why = _training(node, consts)
        if why:
            groups[(node.op_type, node.domain, f"{why} — {EVAL}")].append(_name(node))
        elif node.domain not in DOMAINS:
            groups[(node.op_type, node.domain,
                    f"domain '{node.domain}' is not supported — tinyc reads ai.onnx ops only;"
                    f" replace the custom op with standard ONNX ops (or export without "
                    f"the '{node.domain}' optimisations)")].append(_name(node))
        elif on_act[i] and i not in covered and not supported(node.op_type):
            why = f"op {node.op_type} is not supported on activations"
            if node.op_type in foldable:
                why += f" — {ISLAND_HINT}"
            groups[(node.op_type, node.domain, why)].append(_name(node))
    if not groups:
        return
    n = sum(len(v) for v in groups.values())
    parts = []
    for (op, domain, why), names in groups.items():
        shown = ", ".join(f"'{s}'" for s in names[:5]) + (", ..." if len(names) > 5 else "")
        where = f" in domain '{domain}'" if domain not in DOMAINS else ""
        parts.append(f"{op}{where} x{len(names)} (node{'s' if len(names) > 1 else ''} "
                     f"{shown}): {why}")
    ops = sorted(onnx_table.OPS)
    opset = next((o.version for o in model.opset_import if o.domain in DOMAINS), "?")
    raise UnsupportedOpError(
        f"{path} (opset {opset}): {n} node{'s' if n > 1 else ''} tinyc cannot convert "
        f"({len(groups)} kind{'s' if len(groups) > 1 else ''}) — " + "; ".join(parts)
        + f" | supported on activations: {', '.join(ops)} (any op on constants is folded)")
