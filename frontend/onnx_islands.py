"""Float elementwise islands: a connected set of ONNX elementwise ops on ONE activation x with
scalar constants only (Exp, Log, Less/Greater/Equal + Where, Add/Sub/Mul/Div/Pow, Sqrt,
Reciprocal, Neg, Abs, Erf, Tanh, Sigmoid, Max/Min, Clip, Cast/CastLike, ...) computes a
function of x alone: it becomes one IR `elementwise_fn` (a program of numpy primitives,
ir/ops/island.py) per value the rest of the graph reads — one int8 lookup table once
quantized. This covers the function-expanded forms ONNX writes for Elu, Selu, Softplus, Clip,
Gelu, ... (Where(Less(x, 0), alpha (Exp(x) - 1), x)) and a user's own odd activations.

    found = find(graph, taken)     # {index of the island's last node: Match}

An island is formed only around an op the frontend cannot convert by itself (TRIGGERS: Exp,
Less, Where, Erf, ...), so models tinyc compiled before keep their ops and bits.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ..ir.ops.island import check_program
from . import onnx_patterns, unsupported
from .onnx_patterns import DOMAINS, Match

UNARY = {"Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Reciprocal": "reciprocal", "Neg": "neg",
         "Abs": "abs", "Erf": "erf", "Tanh": "tanh", "Sigmoid": "sigmoid", "Floor": "floor",
         "Ceil": "ceil", "Round": "round", "Sign": "sign", "Sin": "sin", "Cos": "cos",
         "Softplus": "softplus", "Not": "not"}
BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow",
          "Less": "less", "LessOrEqual": "less_equal", "Greater": "greater",
          "GreaterOrEqual": "greater_equal", "Equal": "equal", "And": "and", "Or": "or"}
VARIADIC = {"Sum": "add", "Max": "max", "Min": "min"}
OTHER = {"Where", "Clip", "Relu", "Identity", "Cast", "CastLike", "HardSigmoid", "LeakyRelu"}
OPS = set(UNARY) | set(BINARY) | set(VARIADIC) | OTHER
# ops only an island converts (the frontend has no function of its own for them)
TRIGGERS = {"Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs", "Erf", "Floor", "Ceil", "Round",
            "Sign", "Sin", "Cos", "Not", "Pow", "Less", "LessOrEqual", "Greater",
            "GreaterOrEqual", "Equal", "And", "Or", "Where", "Sum"}
CAST_TO = {onnx.TensorProto.FLOAT: None, onnx.TensorProto.DOUBLE: None,
           onnx.TensorProto.FLOAT16: "to_float16", onnx.TensorProto.BOOL: "to_bool",
           **{getattr(onnx.TensorProto, t.upper()): f"to_{t}"
              for t in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                        "uint64")}}


def _attrs(n: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in n.attribute}


def _scalar(v) -> float | None:
    """The one value of a constant holding a single value (any shape), else None."""
    if v is None or v.dtype.kind not in "fiub" or v.size == 0:
        return None
    flat = v.reshape(-1).astype(np.float64)
    return float(flat[0]) if (flat == flat[0]).all() else None


class _Builder:
    """Steps of one island's program; operand of a value: "x", a step index, a float."""

    def __init__(self, root: str, consts: dict):
        self.root, self.consts = root, consts
        self.steps: list[tuple] = []
        self.ref: dict[str, object] = {root: "x"}
        self.boolean: dict[str, bool] = {root: False}
        self.ndim = 0                            # the largest rank of a constant operand

    def operand(self, name: str):
        if name in self.ref:
            return self.ref[name]
        v = self.consts[name]
        self.ndim = max(self.ndim, v.ndim)
        return _scalar(v)

    def step(self, prim: str, *args) -> int:
        self.steps.append((prim, *args))
        return len(self.steps) - 1

    def node(self, n: onnx.NodeProto) -> None:
        op, a = n.op_type, _attrs(n)
        ins = [self.operand(x) if x else None for x in n.input]
        if op in UNARY:
            r = self.step(UNARY[op], ins[0])
        elif op in BINARY:
            r = self.step(BINARY[op], ins[0], ins[1])
        elif op in VARIADIC:
            r = ins[0]
            for b in ins[1:]:
                r = self.step(VARIADIC[op], r, b)
        elif op == "Where":
            r = self.step("where", *ins[:3])
        elif op == "Clip":
            r = ins[0]
            if len(ins) > 1 and ins[1] is not None:
                r = self.step("max", r, ins[1])
            if len(ins) > 2 and ins[2] is not None:
                r = self.step("min", r, ins[2])
        elif op == "Relu":
            r = self.step("max", ins[0], 0.0)
        elif op in ("Identity", "CastLike"):
            r = ins[0]
        elif op == "Cast":
            prim = CAST_TO[a["to"]]
            r = self.step(prim, ins[0]) if prim else ins[0]
        elif op == "HardSigmoid":
            lin = self.step("add", self.step("mul", ins[0], float(a.get("alpha", 0.2))),
                            float(a.get("beta", 0.5)))
            r = self.step("min", self.step("max", lin, 0.0), 1.0)
        else:                                    # LeakyRelu
            r = self.step("where", self.step("less", ins[0], 0.0),
                          self.step("mul", ins[0], float(a.get("alpha", 0.01))), ins[0])
        self.ref[n.output[0]] = r
        bools = {"less", "less_equal", "greater", "greater_equal", "equal", "not", "and", "or",
                 "to_bool"}
        self.boolean[n.output[0]] = isinstance(r, int) and self.steps[r][0] in bools or \
            op in ("Identity", "CastLike") and self.boolean.get(n.input[0], False)

    def program(self, name: str) -> tuple:
        r = self.ref[name]
        steps = list(self.steps)
        if not isinstance(r, int) or r != len(steps) - 1:   # the result must be the last step
            steps.append(("add", r, 0.0))
        return tuple(steps)


def _member(n: onnx.NodeProto, acts: set, consts: dict) -> bool:
    """n may be part of an island: an elementwise op of ours on activations and scalar
    constants (attributes we read)."""
    if n.domain not in DOMAINS or n.op_type not in OPS or len(n.output) != 1:
        return False
    ins = [x for x in n.input if x]
    if not ins or not any(x in acts for x in ins):
        return False
    if n.op_type == "Cast" and _attrs(n).get("to") not in CAST_TO:
        return False
    if n.op_type == "CastLike" and (n.input[0] not in acts or len(n.input) < 2):
        return False
    check = ins[:1] if n.op_type == "CastLike" else ins
    return all(x in acts or _scalar(consts.get(x)) is not None for x in check)


def find(g: onnx.GraphProto, taken: set[int] = frozenset(), opset: int | None = None
         ) -> dict[int, Match]:
    nodes = list(g.node)
    acts, _ = unsupported.activations(g)
    consts = unsupported.const_values(g, opset)
    cand = [i for i, n in enumerate(nodes) if i not in taken and _member(n, acts, consts)]
    if not any(nodes[i].op_type in TRIGGERS for i in cand):
        return {}
    prod = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    users: dict[str, list[int]] = {}
    for i, n in enumerate(nodes):
        for x in n.input:
            users.setdefault(x, []).append(i)
    graph_outs = {o.name for o in g.output}
    out: dict[int, Match] = {}
    free = set(cand)
    for i in cand:                               # seeds: each trigger, in graph order
        if i not in free or nodes[i].op_type not in TRIGGERS:
            continue
        best = None
        for root in _roots(nodes, i, free, prod, acts):
            m = _island(nodes, root, free, prod, users, graph_outs, consts, acts)
            if m is not None and i in m.nodes and (best is None or len(m.nodes) > len(best.nodes)):
                best = m
        if best is not None:
            free -= best.nodes
            out[max(best.nodes)] = best
    return out


def _roots(nodes, i, free, prod, acts) -> list[str]:
    """The activations node i depends on through candidate nodes (each may root an island)."""
    seen, todo, roots = set(), [i], []
    while todo:
        k = todo.pop()
        if k in seen:
            continue
        seen.add(k)
        n = nodes[k]
        for x in (n.input[:1] if n.op_type == "CastLike" else n.input):
            if x not in acts:
                continue
            p = prod.get(x)
            if p in free:
                todo.append(p)
            if x not in roots:                   # (an inner value may be the root too:
                roots.append(x)                  # Exp(Add(x, z)) folds on the Add)
    return roots


def _island(nodes, root, free, prod, users, graph_outs, consts, acts) -> Match | None:
    """The candidate nodes computed from `root` alone (graph order), as a Match, or None."""
    members: list[int] = []
    inside: set[str] = {root}
    for k in sorted(free):
        n = nodes[k]
        reads = [x for x in (n.input[:1] if n.op_type == "CastLike" else n.input) if x in acts]
        if reads and all(x in inside for x in reads):
            members.append(k)
            inside.add(n.output[0])
    mset = set(members)
    if not any(nodes[k].op_type in TRIGGERS for k in members):
        return None
    b = _Builder(root, consts)
    for k in members:
        b.node(nodes[k])
    outs = [nodes[k].output[0] for k in members
            if nodes[k].output[0] in graph_outs
            or any(u not in mset for u in users.get(nodes[k].output[0], []))]
    if not outs or any(b.boolean[o] for o in outs):
        return None
    return Match("", root, mset, {"programs": {o: b.program(o) for o in outs},
                                  "const_rank": b.ndim}, outputs=tuple(outs),
                 convert=convert)


def convert(b, x, programs: dict, const_rank: int):
    """One elementwise_fn per island output, on the activation x."""
    if x.itype is not None:
        raise b.error("float op on a quantized (integer) tensor",
                      "QDQ models must DequantizeLinear before float ops.")
    if const_rank > x.rank:
        raise b.error(f"a constant of rank {const_rank} broadcasts the activation "
                      f"'{x.name}' of rank {x.rank} to a higher rank",
                      "use scalar constants in elementwise functions.")
    for p in programs.values():
        check_program(p)
    return tuple(b.act(b.emit("elementwise_fn", [x.value], {"program": p}, name=o), x.perm)
                 for o, p in programs.items())


def find_all(g: onnx.GraphProto, opset: int | None = None) -> dict[int, Match]:
    """The known patterns (onnx_patterns), then the islands among the other nodes."""
    found = onnx_patterns.find(g)
    found.update(find(g, onnx_patterns.covered(found), opset))
    return found


# -- Cast / CastLike outside an island --------------------------------------------------------

CASTS = ("Cast", "CastLike")
FLOATS = (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE)


def cast(b, op: str, ins: list, attrs: dict):
    """Cast / CastLike of a float activation to a float type: the activation itself (float32
    widened to double is the same values; tinyc computes in float until it quantizes), to
    float16 an elementwise_fn rounding to it; CastLike(constant, activation): the constant as
    float32. Casts to integer types outside an island are refused."""
    from .builder import Tensor
    x = ins[0]
    if op == "CastLike":
        like = ins[1] if len(ins) > 1 else None
        if like is None or like.is_const or like.itype is not None:
            raise b.error("CastLike to the type of a quantized (integer) tensor",
                          "QDQ models must DequantizeLinear before float ops.")
        if x.is_const:
            return Tensor(data=np.asarray(x.data).astype(np.float32))
        to = onnx.TensorProto.FLOAT
    else:
        to = attrs.get("to")
    if x.itype is not None:
        raise b.error("Cast of a quantized (integer) tensor",
                      "QDQ models must DequantizeLinear before float ops.")
    if to in FLOATS:
        return x
    name = helper.tensor_dtype_to_string(to).split(".")[-1] if to is not None else "?"
    if to == onnx.TensorProto.FLOAT16:
        return b.act(b.emit("elementwise_fn", [x.value], {"program": (("to_float16", "x"),)}),
                     x.perm)
    raise b.error(f"Cast of the float activation '{x.name}' to {name}",
                  "tinyc reads Cast between float types, and casts inside a float function "
                  "of one activation (e.g. an expanded activation's Cast(Less(x, 0))).")


__all__ = ["find", "find_all", "convert", "cast", "OPS", "TRIGGERS", "CASTS"]
