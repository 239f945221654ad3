"""verify(graph): structural and type invariants; integer_only=True adds the post-quantize
rules the backend relies on. Every failure raises IRError naming the node and the rule."""
from __future__ import annotations

from ..errors import IRError
from .graph import Graph, Node
from .ops import OPS
from .printer import format_node
from .types import DType


def _fail(node: Node | None, rule: str, expected, got) -> None:
    where = f"node '{node.name}' ({node.op})" if node else "graph"
    line = f"\n  {format_node(node)}" if node else ""
    raise IRError(f"{where}: {rule} — expected {expected}, got {got}{line}")


def verify(g: Graph, integer_only: bool = False) -> Graph:
    known = {id(v) for v in g.inputs}
    names: set[str] = set()
    for v in g.inputs:
        if any(d < 0 for d in v.shape):        # 0: a zero-sized input (no elements)
            _fail(None, f"input '{v.name}' shape must be static", ">=0", v.shape)
    for node in g.nodes:
        if node.op not in OPS:
            _fail(node, "op is registered", sorted(OPS), node.op)
        for i, v in enumerate(node.inputs):
            if v is None:
                continue
            if not v.is_const and id(v) not in known:
                _fail(node, f"input {i} is defined before use", "graph input/earlier node", v)
            if (node, i) not in v.uses:
                _fail(node, f"input {i} use-def link", "link present", "missing")
        expected = OPS[node.op].infer(list(node.inputs), dict(node.attrs))
        for v, t in zip(node.outputs, expected):
            if (v.dtype.is_float != t.dtype.is_float and not integer_only) or v.shape != t.shape:
                _fail(node, f"output '{v.name}' type", t, v.type)
            if v.name in names:
                _fail(node, "value names are unique", "new name", v.name)
            names.add(v.name)
            if v.producer is not node:
                _fail(node, f"output '{v.name}' producer link", node.name, v.producer)
            known.add(id(v))
        if integer_only:
            _verify_integer(node)
    for v in g.outputs:
        if id(v) not in known:
            _fail(None, f"output '{v.name}' is computed", "produced value", "undefined")
    return g


def _verify_integer(node: Node) -> None:
    opdef = OPS[node.op]
    if opdef.run_int is None:
        _fail(node, "op has an integer form", "integer op", "float-only op")
    acts = node.outputs + tuple(x for x in node.inputs if x is not None and not x.is_const)
    allowed = (DType.INT8, DType.INT16) if opdef.int16 else (DType.INT8,)
    for v in acts:
        if v.dtype not in allowed:
            _fail(node, f"activation '{v.name}' dtype", "/".join(d.value for d in allowed),
                  v.dtype.value)
        if v.q is None or len(v.q.scale) != 1:
            _fail(node, f"activation '{v.name}' has per-tensor quantization", "q", v.q)
        if v.dtype is DType.INT16 and v.q.zp != 0 and not (
                v is node.outputs[0] and v.q.zp == opdef.int16_output_zp):
            _fail(node, f"int16 activation '{v.name}' is symmetric", "zero point 0", v.q.zp)
    for c in node.inputs:
        if c is not None and c.is_const and c.dtype.is_float:
            _fail(node, f"constant '{c.name}' is integer", "int8/int32", "f32")
    missing = [a for a in opdef.int_attrs if a not in node.attrs]
    if missing:
        _fail(node, "integer attributes present", opdef.int_attrs, f"missing {missing}")
    if any(v.dtype is DType.INT16 for v in acts) and opdef.int16_output_zp is None:
        _verify_16x8(node, acts)


OFFSETS = ("in_offset", "out_offset", "in1_offset", "in2_offset")


def _verify_16x8(node: Node, acts) -> None:
    """int16 activations (TFLite's 16x8 scheme): one dtype per op (requantize converts),
    zero offsets, int8 weights and int64 bias, activation range within int16."""
    if node.op == "requantize":
        return
    dtypes = sorted({v.dtype.value for v in acts})
    if len(dtypes) > 1:
        _fail(node, "activations of one dtype (a requantize converts between them)", "i16",
              dtypes)
    int8_in = {f"in{i + 1}_offset" for i in OPS[node.op].int8_operands16}   # prelu's alpha
    for k in OFFSETS:
        if k in node.attrs and node.attrs[k] != 0 and k not in int8_in:
            _fail(node, f"int16 '{k}'", 0, node.attrs[k])
    lo, hi = node.attrs.get("act_min", -32768), node.attrs.get("act_max", 32767)
    if not -32768 <= lo <= hi <= 32767:
        _fail(node, "activation range", "within [-32768, 32767]", (lo, hi))
    if len(node.inputs) > 1 and node.op in ("conv2d", "depthwise_conv2d", "fully_connected"):
        w, b = node.inputs[1], node.input(2)
        if w.dtype is not DType.INT8:
            _fail(node, "16x8 weights", "i8", w.dtype.value)
        if b is not None and b.dtype is not DType.INT64:
            _fail(node, "16x8 bias", "i64", b.dtype.value)
