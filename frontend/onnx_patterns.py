"""Subgraphs of older exports that are one activation, converted as a whole (one int8 table
instead of several int8 ops):

- GELU, exact: x * 0.5 * (1 + Erf(x / sqrt(2))) — torch.onnx's nn.GELU before opset 20:
  Div(x, sqrt 2) or Mul(x, 1/sqrt 2) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5), the two
  Muls in any order (Mul(x, 0.5) first, or 0.5 applied to the Add) -> Gelu;
- GELU, tanh: 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))), x^3 as Mul(x, Mul(x, x)) or
  Pow(x, 3), the same tails -> Gelu(approximate='tanh');
- SiLU / Swish: Mul(x, Sigmoid(x)) -> Swish (alpha 1);
- HardSwish: Mul(x, HardSigmoid(x; alpha 1/6, beta 0.5)) -> HardSwish.

    found = find(graph)      # {index of the pattern's last node: Match}

Every inner node's outputs must feed only the pattern (not a graph output); x must be an
activation (unsupported.activations).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import onnx

from . import unsupported

DOMAINS = ("", "ai.onnx")


@dataclass
class Match:
    op: str                                  # the ONNX op function that converts it
    x: str                                   # its input
    nodes: set[int]                          # every node of the pattern (last one included)
    attrs: dict = field(default_factory=dict)
    outputs: tuple[str, ...] = ()            # the values it gives (default: its last node's)
    convert: Callable | None = None          # fn(builder, x, **attrs) instead of OPS[op]
    args: dict = field(default_factory=dict)  # further inputs: parameter -> tensor name


class _Graph:
    def __init__(self, g: onnx.GraphProto):
        self.nodes = list(g.node)
        self.consts = unsupported.constants(g)
        self.acts, _ = unsupported.activations(g)
        self.prod = {o: i for i, n in enumerate(self.nodes) for o in n.output if o}
        self.uses = Counter(x for n in self.nodes for x in n.input if x)
        self.uses.update(o.name for o in g.output)
        self.users: dict[str, list[int]] = {}
        for i, n in enumerate(self.nodes):
            for x in n.input:
                self.users.setdefault(x, []).append(i)

    def scalar(self, name: str, want: float, tol: float = 1e-3) -> bool:
        v = self.consts.get(name)
        return v is not None and v.size == 1 and abs(float(v.reshape(-1)[0]) - want) <= tol

    def node(self, name: str, op: str):
        """The producer of `name` if it is a std-domain `op` node read only once, else None."""
        i = self.prod.get(name)
        if i is None or self.uses[name] != 1:
            return None
        n = self.nodes[i]
        return (i, n) if n.op_type == op and n.domain in DOMAINS else None

    def only_user(self, name: str, op: str):
        us = self.users.get(name, [])
        if self.uses[name] != 1 or len(us) != 1:
            return None
        n = self.nodes[us[0]]
        return (us[0], n) if n.op_type == op and n.domain in DOMAINS else None

    def other(self, n: onnx.NodeProto, name: str) -> str | None:
        """The other input of a binary node one of whose inputs is `name`."""
        if len(n.input) != 2 or name not in n.input:
            return None
        return n.input[1] if n.input[0] == name else n.input[0]


def _gelu(G: _Graph, i: int, erf: onnx.NodeProto) -> Match | None:
    u = erf.input[0]
    src = G.node(u, "Div") or G.node(u, "Mul")
    if src is None:
        return None
    si, s = src
    if s.op_type == "Div":
        x = s.input[0] if G.scalar(s.input[1], math.sqrt(2.0)) else None
    else:
        x = next((a for a, c in ((s.input[0], s.input[1]), (s.input[1], s.input[0]))
                  if G.scalar(c, 1 / math.sqrt(2.0))), None)
    if x is None or x not in G.acts:
        return None
    return _gelu_tail(G, x, {si, i}, erf.output[0])


def _gelu_tail(G: _Graph, x: str, nodes: set[int], inner: str) -> Match | None:
    """x * 0.5 * (1 + inner): Add(inner, 1), then the two Muls in any of three orders."""
    add = G.only_user(inner, "Add")
    if add is None or not G.scalar(G.other(add[1], inner) or "", 1.0):
        return None
    ai, a = add
    nodes = nodes | {ai}
    m1 = G.only_user(a.output[0], "Mul")
    if m1 is None:
        return None
    mi, m = m1
    other = G.other(m, a.output[0])
    if other == x:                                # Mul(x, 1 + erf) then Mul(., 0.5)
        m2 = G.only_user(m.output[0], "Mul")
        if m2 is None or not G.scalar(G.other(m2[1], m.output[0]) or "", 0.5):
            return None
        return Match("Gelu", x, nodes | {mi, m2[0]})
    if G.scalar(other or "", 0.5):                # Mul(1 + erf, 0.5) then Mul(x, .)
        m2 = G.only_user(m.output[0], "Mul")
        if m2 is None or G.other(m2[1], m.output[0]) != x:
            return None
        return Match("Gelu", x, nodes | {mi, m2[0]})
    half = G.node(other or "", "Mul")             # Mul(x, 0.5) then Mul(., 1 + erf)
    if half is not None and G.other(half[1], x) is not None and \
            G.scalar(G.other(half[1], x), 0.5):
        return Match("Gelu", x, nodes | {half[0], mi})
    return None


def _scaled(G: _Graph, name: str, c: float):
    """Mul(y, c) or Mul(c, y) producing `name` (read once): (node index, y), else None."""
    m = G.node(name, "Mul")
    if m is None:
        return None
    a, b = m[1].input
    y = b if G.scalar(a, c, 1e-5) else a if G.scalar(b, c, 1e-5) else None
    return (m[0], y) if y is not None else None


def _cube(G: _Graph, name: str):
    """x^3 as Pow(x, 3), Mul(x, Mul(x, x)) or Mul(Mul(x, x), x): (node indices, x), else None."""
    p = G.node(name, "Pow")
    if p is not None:
        return ({p[0]}, p[1].input[0]) if G.scalar(p[1].input[1], 3.0, 0) else None
    m = G.node(name, "Mul")
    if m is None:
        return None
    for sq_name, x in (m[1].input, tuple(reversed(m[1].input))):
        sq = G.node(sq_name, "Mul")
        if sq is not None and list(sq[1].input) == [x, x]:
            return {m[0], sq[0]}, x
    return None


def _gelu_tanh(G: _Graph, i: int, t: onnx.NodeProto) -> Match | None:
    """0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))) (torch.onnx's approximate='tanh' before
    opset 20, and the Pow form of hand-written GELUs) -> Gelu(approximate='tanh')."""
    beta = _scaled(G, t.input[0], math.sqrt(2 / math.pi)) if t.input else None
    add = G.node(beta[1], "Add") if beta else None
    if add is None:
        return None
    for x, k in (add[1].input, tuple(reversed(add[1].input))):
        kappa = _scaled(G, k, 0.044715)
        cube = _cube(G, kappa[1]) if kappa else None
        if cube is not None and cube[1] == x and x in G.acts:
            m = _gelu_tail(G, x, {i, beta[0], add[0], kappa[0]} | cube[0], t.output[0])
            if m is not None:
                m.attrs = {"approximate": "tanh"}
            return m
    return None


def _x_times(G: _Graph, i: int, n: onnx.NodeProto, ok) -> Match | None:
    """Mul(x, F(x)) for the unary node n = F(x) (ok(n) checks its attributes)."""
    x = n.input[0] if n.input else ""
    if x not in G.acts or not ok(n):
        return None
    mul = G.only_user(n.output[0], "Mul")
    if mul is None or G.other(mul[1], n.output[0]) != x:
        return None
    return {i, mul[0]}


def _hard_sigmoid_is_hard_swish(n: onnx.NodeProto) -> bool:
    a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
    return abs(a.get("alpha", 0.2) - 1 / 6) < 1e-6 and abs(a.get("beta", 0.5) - 0.5) < 1e-6


def find(g: onnx.GraphProto) -> dict[int, Match]:
    G = _Graph(g)
    out: dict[int, Match] = {}
    taken: set[int] = set()
    for i, n in enumerate(G.nodes):
        if n.domain not in DOMAINS or i in taken:
            continue
        m = None
        if n.op_type == "Erf" and n.input:
            m = _gelu(G, i, n)
        elif n.op_type == "Tanh":
            m = _gelu_tanh(G, i, n)
        elif n.op_type == "Sigmoid":
            nodes = _x_times(G, i, n, lambda _: True)
            m = nodes and Match("Swish", n.input[0], nodes)
        elif n.op_type == "HardSigmoid":
            nodes = _x_times(G, i, n, _hard_sigmoid_is_hard_swish)
            m = nodes and Match("HardSwish", n.input[0], nodes)
        if m and not (m.nodes & taken):
            taken |= m.nodes
            out[max(m.nodes)] = m
    return out


def covered(found: dict[int, Match]) -> set[int]:
    return set().union(*(m.nodes for m in found.values())) if found else set()


__all__ = ["Match", "find", "covered"]
