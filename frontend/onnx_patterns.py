"""Subgraphs of older exports that are one activation, converted as a whole (one int8 table
instead of several int8 ops):

- GELU, exact: x * 0.5 * (1 + Erf(x / sqrt(2))) — torch.onnx's nn.GELU before opset 20:
  Div(x, sqrt 2) or Mul(x, 1/sqrt 2) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5), the two
  Muls in any order (Mul(x, 0.5) first, or 0.5 applied to the Add) -> Gelu;
- GELU, tanh: 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))), x^3 as Mul(x, Mul(x, x)) or
  Pow(x, 3), the same tails -> Gelu(approximate='tanh');
- SiLU / Swish: Mul(x, Sigmoid(x)) -> Swish (alpha 1);
- HardSwish: Mul(x, HardSigmoid(x; alpha 1/6, beta 0.5)) -> HardSwish;
- Mish: Mul(x, Tanh(Softplus(x))) (TorchScript's nn.Mish, ONNX's Mish function body) -> Mish.

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
        self.consts = unsupported.const_values(g)   # small constants, computed ones too
        self.acts, _ = unsupported.activations(g)
        self.prod = {o: i for i, n in enumerate(self.nodes) for o in n.output if o}
        self.uses = Counter(x for n in self.nodes for x in n.input if x)
        self.uses.update(o.name for o in g.output)
        self.graph_outputs = {o.name for o in g.output}
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


def _mish(G: _Graph, i: int, sp: onnx.NodeProto) -> Match | None:
    """Softplus(x) -> Tanh -> Mul(x, .)."""
    x = sp.input[0] if sp.input else ""
    t = G.only_user(sp.output[0], "Tanh") if x in G.acts else None
    mul = t and G.only_user(t[1].output[0], "Mul")
    if not mul or G.other(mul[1], t[1].output[0]) != x:
        return None
    return Match("Mish", x, {i, t[0], mul[0]})


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
        elif n.op_type == "Softplus" and n.input:
            m = _mish(G, i, n)
        elif n.op_type == "Where":
            m = _prelu(G, i, n)
        elif n.op_type == "Exp" and n.input:
            m = _softmax(G, i, n)
        elif n.op_type == "Sqrt" and n.input:
            m = _layer_norm(G, i, n)
        if m and not (m.nodes & taken) and _in_order(G, m):
            taken |= m.nodes
            out[max(m.nodes)] = m
    return out


def _in_order(G: _Graph, m: Match) -> bool:
    """Every node outside the pattern reading one of its values comes after the pattern's
    inputs (the importer converts it where its first value is read)."""
    ready = max((G.prod.get(n, -1) for n in (m.x, *m.args.values()) if n), default=-1)
    return all(k > ready for o in m.outputs if o for k in G.users.get(o, [])
               if k not in m.nodes)


def covered(found: dict[int, Match]) -> set[int]:
    return set().union(*(m.nodes for m in found.values())) if found else set()


__all__ = ["Match", "find", "covered"]


# -- function-expanded PRelu, Softmax / LogSoftmax, LayerNormalization (#15) ------------------
# ONNX writes these ops out as their function bodies (the backend's *_expanded models; some
# exporters do too). Each is recognised as a whole and converted by the op's own function
# (PRelu) or its IR op (softmax, log_softmax, layer_norm): the same float semantics.

def _attr(n: onnx.NodeProto, name: str, default=None):
    for a in n.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _is(G: _Graph, name: str, ops: tuple[str, ...], uses: int | None = 1):
    """The std-domain producer (index, node) of `name` if its op is one of `ops` and `name`
    is read `uses` times (None: any), else None."""
    i = G.prod.get(name)
    if i is None or (uses is not None and G.uses[name] != uses):
        return None
    n = G.nodes[i]
    return (i, n) if n.op_type in ops and n.domain in DOMAINS else None


def _prelu(G: _Graph, i: int, w: onnx.NodeProto) -> Match | None:
    """Where(Less(x, 0), Mul(slope, x), x) -> PRelu(x, slope) (slope any constant)."""
    if len(w.input) != 3:
        return None
    c, a, x = w.input
    less, mul = _is(G, c, ("Less",)), _is(G, a, ("Mul",))
    if less is None or mul is None or x not in G.acts:
        return None
    if list(less[1].input[:1]) != [x] or not G.scalar(less[1].input[1], 0.0, 0):
        return None
    slope = G.other(mul[1], x)
    if slope is None or slope in G.acts:
        return None
    return Match("PRelu", x, {less[0], mul[0], i}, args={"slope": slope})


def _axes_of(G: _Graph, n: onnx.NodeProto) -> tuple[int, ...] | None:
    """A reduction's constant axes (attribute or input 1), keepdims=1 required; else None."""
    if _attr(n, "keepdims", 1) != 1:
        return None
    axes = _attr(n, "axes")
    if axes is None and len(n.input) > 1 and n.input[1]:
        v = G.consts.get(n.input[1])
        axes = None if v is None else [int(a) for a in v.reshape(-1)]
    return tuple(int(a) for a in axes) if axes else None


def _softmax(G: _Graph, i: int, e: onnx.NodeProto) -> Match | None:
    """Exp(Sub(x, ReduceMax(x, a))) -> ReduceSum(., a) -> Div(exp, sum): Softmax over axis a;
    -> ReduceSum -> Log -> Sub(sub, log): LogSoftmax (the max subtraction may be absent for
    Softmax)."""
    d = e.input[0] if e.input else ""
    users = G.users.get(e.output[0], [])
    sums = [k for k in users if G.nodes[k].op_type == "ReduceSum"]
    if len(sums) != 1:
        return None
    s = G.nodes[sums[0]]
    axes = _axes_of(G, s)
    if axes is None or len(axes) != 1 or s.input[0] != e.output[0]:
        return None
    sub = _is(G, d, ("Sub",), None)
    mx = _is(G, sub[1].input[1], ("ReduceMax",)) if sub else None
    if mx is not None and (mx[1].input[0] != sub[1].input[0] or _axes_of(G, mx[1]) != axes):
        mx = None
    head = {sub[0], mx[0]} if mx is not None else set()
    x = sub[1].input[0] if mx is not None else d
    if x not in G.acts:
        return None
    if G.uses[e.output[0]] == 2 and G.uses[d] == (1 if mx is not None else G.uses[d]):
        div = [k for k in users if G.nodes[k].op_type == "Div"]
        if div and list(G.nodes[div[0]].input) == [e.output[0], s.output[0]] and \
                G.uses[s.output[0]] == 1:
            return Match("", x, head | {i, sums[0], div[0]},
                         {"op": "softmax", "axis": axes[0]}, convert=_axis_op)
        return None
    if mx is None or G.uses[e.output[0]] != 1 or G.uses[d] != 2:
        return None
    log = G.only_user(s.output[0], "Log")
    out = G.only_user(log[1].output[0], "Sub") if log else None
    if out is None or list(out[1].input) != [d, log[1].output[0]]:
        return None
    return Match("", x, head | {i, sums[0], log[0], out[0]},
                 {"op": "log_softmax", "axis": axes[0]}, convert=_axis_op)


def _axis_op(b, x, op: str, axis: int):
    """softmax / log_softmax over the one ONNX axis `axis` (moved last if needed)."""
    if x.itype is not None:
        raise b.error("float op on a quantized (integer) tensor",
                      "QDQ models must DequantizeLinear before float ops.")
    v, perm = b.axis_last(x, axis % x.rank)
    return b.act(b.emit(op, [v]), perm)


def _ln_mean(G: _Graph, name: str, xu: str | None, axes, uses=None):
    """ReduceMean(xu, axes) producing `name`: (index, xu, axes), else None."""
    m = _is(G, name, ("ReduceMean",), uses)
    if m is None:
        return None
    ax = _axes_of(G, m[1])
    if ax is None or (xu is not None and m[1].input[0] != xu) or \
            (axes is not None and ax != axes):
        return None
    return m[0], m[1].input[0], ax


def _layer_norm(G: _Graph, i: int, sq: onnx.NodeProto) -> Match | None:
    """LayerNormalization written out: (Cast) xu, mean = ReduceMean(xu), var =
    ReduceMean((xu - mean)^2) or ReduceMean(xu^2) - mean^2, std = Sqrt(var + eps),
    (xu - mean) / std or * Reciprocal(std), (Cast), (* Scale), (+ B) -> layer_norm over the
    reduced (trailing) axes; the mean and a Reciprocal(std) may also be read (its Mean and
    InvStdDev outputs)."""
    add = _is(G, sq.input[0], ("Add",))
    if add is None:
        return None
    var = next((v for v, c in (add[1].input, tuple(reversed(add[1].input)))
                if G.consts.get(c) is not None and G.consts[c].size == 1), None)
    if var is None:
        return None
    eps = float(G.consts[G.other(add[1], var)].reshape(-1)[0])
    nodes = {i, add[0]}
    vm = _ln_mean(G, var, None, None)
    if vm is not None:                           # ReduceMean((xu - mean)^2)
        p = _is(G, vm[1], ("Pow", "Mul"))
        if p is None:
            return None
        d = p[1].input[0]
        if p[1].op_type == "Pow" and not G.scalar(p[1].input[1], 2.0, 0) or \
                p[1].op_type == "Mul" and list(p[1].input) != [d, d]:
            return None
        dev = _is(G, d, ("Sub",), None)
        if dev is None:
            return None
        xu, mean_name = dev[1].input
        mean = _ln_mean(G, mean_name, xu, vm[2], None)
        nodes |= {vm[0], p[0]}
    else:                                        # ReduceMean(xu^2) - mean^2
        vs = _is(G, var, ("Sub",))
        if vs is None:
            return None
        msq = _ln_mean(G, vs[1].input[0], None, None)
        sqm = _is(G, vs[1].input[1], ("Mul",))
        if msq is None or sqm is None or len(set(sqm[1].input)) != 1:
            return None
        xx = _is(G, msq[1], ("Mul",))
        if xx is None or len(set(xx[1].input)) != 1:
            return None
        xu, mean_name = xx[1].input[0], sqm[1].input[0]
        mean = _ln_mean(G, mean_name, xu, msq[2], None)
        nodes |= {vs[0], msq[0], sqm[0], xx[0]}
    if mean is None:
        return None
    axes = mean[2]
    nodes.add(mean[0])
    std = sq.output[0]                           # the normalization: / std or * 1 / std
    recips = [k for k in G.users.get(std, []) if G.nodes[k].op_type == "Reciprocal"]
    inv = G.nodes[recips[0]].output[0] if recips else None
    norm = None
    for k in G.users.get(std, []) + sum((G.users.get(inv, []) for _ in [0] if inv), []):
        n = G.nodes[k]
        if n.op_type == "Div" and list(n.input[1:]) == [std] or \
                n.op_type == "Mul" and inv in n.input:
            dn = n.input[0] if n.op_type == "Div" else G.other(n, inv)
            dv = _is(G, dn or "", ("Sub",), None)
            if dv is not None and list(dv[1].input) == [xu, mean_name]:
                norm = k
                nodes |= {k, dv[0]}
    if norm is None:
        return None
    if recips:
        nodes.add(recips[0])
    y, scale, bias = G.nodes[norm].output[0], "", ""
    c = G.only_user(y, "Cast")
    if c is not None and _attr(c[1], "to") in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
        nodes.add(c[0])
        y = c[1].output[0]
    for op in ("Mul", "Add"):
        t = G.only_user(y, op)
        other = G.other(t[1], y) if t else None
        if t is None or other is None or other in G.acts:
            continue
        nodes.add(t[0])
        scale, bias = (other, bias) if op == "Mul" else (scale, other)
        y = t[1].output[0]
    x = xu
    cast = _is(G, xu, ("Cast",), None)
    if cast is not None and _attr(cast[1], "to") in (onnx.TensorProto.FLOAT,
                                                       onnx.TensorProto.DOUBLE):
        x = cast[1].input[0]
        nodes.add(cast[0])
    if x not in G.acts:
        return None
    outs = (y, mean_name if _read_outside(G, mean_name, nodes) else "",
            inv if inv and _read_outside(G, inv, nodes) else "")
    given = {o for o in outs if o}
    if any(o not in given and _read_outside(G, o, nodes)
           for k in nodes for o in G.nodes[k].output if o):
        return None                              # an inner value read elsewhere
    return Match("LayerNormalization", x, nodes, {"axes": axes, "epsilon": eps},
                 outputs=outs, convert=_layer_norm_op, args={"Scale": scale, "B": bias})


def _read_outside(G: _Graph, name: str, nodes: set[int]) -> bool:
    return name in G.graph_outputs or any(k not in nodes for k in G.users.get(name, []))


def _layer_norm_op(b, x, axes, epsilon, Scale=None, B=None):
    """The frontend's LayerNormalization over the trailing axes `axes`; Scale / B constants of
    any shape broadcasting against x that are the same along the other axes."""
    import numpy as np

    from .builder import Tensor
    from .onnx_ops import LayerNormalization
    r = x.rank
    ax = sorted({a % r for a in axes}) if not x.is_const else []
    if not ax or ax != list(range(ax[0], r)):
        raise b.error(f"LayerNormalization written out over axes {list(axes)} of a rank-{r} "
                      "tensor", "tinyc normalizes over trailing axes only.")
    tail = x.shape[ax[0]:]
    params = []
    for t, what in ((Scale, "Scale"), (B, "B")):
        if t is None:
            params.append(None)
            continue
        full = np.broadcast_to(b.const_input(t, what), x.shape) \
            if np.broadcast_shapes(t.shape, x.shape) == x.shape else None
        one = None if full is None else full[(0,) * ax[0]]
        if one is None or not (full == one).all():
            raise b.error(f"LayerNormalization written out with {what} of shape "
                          f"{list(t.shape)} for input {list(x.shape)}",
                          "expected one value per normalized element.")
        params.append(Tensor(name=t.name, data=np.ascontiguousarray(one.reshape(tail))))
    return LayerNormalization(b, x, params[0], params[1], axis=ax[0], epsilon=epsilon)
