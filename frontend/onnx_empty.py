"""Zero-sized tensors in an ONNX graph (a dim of size 0: Slice(x, 1000, 1000), Split into
empty parts, a model input of shape (0, 3, 4)).

A node on a zero-sized input whose every output has no elements, or a Slice / Split part that
selects nothing (onnx_ops._slice_onnx), is not computed: each output becomes an IR `empty`
value of its ONNX shape (ir/ops/empty.py), which no kernel reads or writes. A model input or
output of size 0 stays in the C API as a parameter of 0 elements (docs/firmware.md). A node
that reads a zero-sized activation yet has an output with elements is a reduction over an
empty set: ReduceSum's 0 (ONNX's value for no elements) becomes the IR op `fill`, exact at
int8 scale 1, zero point 0; where that value is no int8 number (ReduceMax's -inf,
ReduceMean's NaN), or for any other op, the node is refused, naming it — but a Concat drops
its operands with no elements.
"""
from __future__ import annotations

import math

from .builder import Builder, Tensor, identity

# ONNX's value of a reduction over an empty set (the op's identity), for the error message
EMPTY_REDUCTION = {"ReduceSum": "0", "ReduceMax": "-inf", "ReduceMean": "NaN"}
# ops to which an operand with no elements adds nothing: they drop it (onnx_ops.Concat)
JOINS = {"Concat"}


def empty(b: Builder, x: Tensor, shape, name: str) -> Tensor:
    """An activation of `shape` (ONNX order, some dim 0) with no elements, from x (its
    quantization and dtype)."""
    shape = tuple(int(d) for d in shape)
    return b.act(b.emit("empty", [x.value], {"shape": shape}, name=name), identity(len(shape)),
                 like=x)


def convert(b: Builder, ins: list, shapes: dict) -> list | None:
    """The node's outputs when zero-sized tensors are involved (see the module doc); None
    when none is: the node converts as usual."""
    node = b.node
    outs = [tuple(shapes[o]) if o and o in shapes and None not in shapes[o] else None
            for o in node.output]
    empty_out = [s is not None and math.prod(s) == 0 for s in outs]
    acts = [t for t in ins if t is not None and not t.is_const and t.value is not None]
    empty_in = [t for t in acts if t.value.type.size == 0]
    if not empty_in:                             # (an empty Slice: onnx_ops._slice_onnx)
        return None
    named = [o for o in node.output if o]
    if acts and all(e for o, e in zip(node.output, empty_out) if o) and named:
        return [empty(b, acts[0], s, o) if o else None for o, s in zip(node.output, outs)]
    if node.op_type in JOINS:                    # the operands with elements, joined
        return None
    value = EMPTY_REDUCTION.get(node.op_type)
    if empty_in and value == "0" and len(named) == 1 and outs[0] is not None:
        return [b.act(b.emit("fill", [empty_in[0].value],
                             {"shape": outs[0], "value": float(value)}, name=node.output[0]))]
    if empty_in:
        t = empty_in[0]
        full = next(o for o, e in zip(node.output, empty_out) if o and not e)
        what = (f"a reduction over an empty set: output '{full}' is the constant "
                f"{EMPTY_REDUCTION[node.op_type]} (ONNX's value for no elements), not an "
                "int8 number"
                if node.op_type in EMPTY_REDUCTION else
                f"output '{full}' has elements although input '{t.name or t.value.name}' "
                f"has none (shape {list(t.shape)})")
        raise b.error(what, "outputs must be computed from the inputs: remove the node (use the "
                      "constant) or give the input elements.")
    return None
