"""A per-channel quantized activation between a convolution and depthwise convolutions, folded
into the layers' per-channel weight scales (NNCF quantizes a depthwise Conv's input per
channel; the IR's activations are per tensor).

    model = fold_channel_scales(model)   # the same model when nothing matches

Matched (ONNX QDQ, NCHW):

    DQ(w1) -> Conv -> [Relu] -> Q(s[c], zp, axis=1) -> DQ(s[c], zp) -> depthwise Conv(s), DQ(w2)

with one zero point for every channel. With S = max(s), the producer's weight scales and float
bias are multiplied by S / s[c] (the Relu commutes with a positive factor), so round(y' / S) =
round(y / s[c]): the same int8 values; each depthwise Conv's weight scales (output channel k
reads input channel k // multiplier) by s[c] / S, so its products are unchanged. The int8
weights stay; in real arithmetic the graph computes the same function, the activation is per
tensor (S, zp). Anything else (another consumer, a graph output, differing zero points, a
non-depthwise consumer) is left as it is and the QDQ import refuses it with its reason."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class _Graph:
    def __init__(self, g: onnx.GraphProto):
        self.g = g
        self.inits = {t.name: t for t in g.initializer}
        self.producer = {o: n for n in g.node for o in n.output}
        self.uses: dict[str, list] = {}
        for n in g.node:
            for i in n.input:
                self.uses.setdefault(i, []).append(n)
        self.outputs = {o.name for o in g.output}

    def array(self, name: str) -> np.ndarray | None:
        t = self.inits.get(name)
        return None if t is None else numpy_helper.to_array(t)

    def only_use(self, name: str) -> str | None:
        """The first output name of name's only consumer (None: several, none, graph output)."""
        us = self.uses.get(name, [])
        return us[0].output[0] if len(us) == 1 and name not in self.outputs else None

    def weight_dq(self, conv, n_out: int):
        """The DequantizeLinear of a Conv's constant weights and its scales per output channel."""
        dq = self.producer.get(conv.input[1])
        if dq is None or dq.op_type != "DequantizeLinear" or len(self.uses[conv.input[1]]) != 1:
            return None
        if self.array(dq.input[0]) is None or (s := self.array(dq.input[1])) is None:
            return None
        if s.size != 1 and (s.size != n_out or _attr(dq, "axis", 1) != 0):
            return None
        return dq, np.broadcast_to(s.reshape(-1).astype(np.float64), (n_out,))

    def set_scale(self, node, scale: np.ndarray, tag: str) -> None:
        """A new scale initializer for node's input 1 (an initializer may be shared)."""
        name = f"{node.output[0]}_{tag}"
        self.g.initializer.append(numpy_helper.from_array(scale.astype(np.float32), name))
        node.input[1] = name
        if scale.size > 1 and node.op_type == "DequantizeLinear":
            for a in node.attribute:
                if a.name == "axis":
                    a.i = 0
                    break
            else:
                node.attribute.append(helper.make_attribute("axis", 0))


def _match(m: _Graph, q):
    s, zp = m.array(q.input[1]), m.array(q.input[2]) if len(q.input) > 2 and q.input[2] else None
    if s is None or s.size < 2 or _attr(q, "axis", 1) != 1 or np.any(s <= 0):
        return None
    if zp is not None and (zp.size not in (1, s.size) or np.unique(zp).size != 1):
        return None
    if len(q.input) > 2 and q.input[2] and zp is None:
        return None
    x = q.input[0]
    p = m.producer.get(x)
    relu = None
    if p is not None and p.op_type == "Relu":
        relu, x = p, p.input[0]
        if m.only_use(relu.output[0]) != q.output[0]:
            return None
        p = m.producer.get(x)
    if p is None or p.op_type != "Conv" or m.only_use(p.output[0]) != (relu or q).output[0]:
        return None
    c = s.size
    w1 = m.weight_dq(p, c)
    bias = p.input[2] if len(p.input) > 2 and p.input[2] else None
    if w1 is None or (bias is not None and (m.array(bias) is None or len(m.uses[bias]) != 1)):
        return None
    dqs = m.uses.get(q.output[0], [])
    if not dqs or q.output[0] in m.outputs:
        return None
    convs = []
    for dq in dqs:
        if (dq.op_type != "DequantizeLinear" or dq.input[0] != q.output[0]
                or _attr(dq, "axis", 1) != 1 or dq.output[0] in m.outputs
                or not np.array_equal(m.array(dq.input[1]), s)
                or (zp is not None) != (len(dq.input) > 2 and bool(dq.input[2]))
                or (zp is not None and not np.array_equal(m.array(dq.input[2]), zp))):
            return None
        for conv in m.uses.get(dq.output[0], []):
            w = m.array(m.producer[conv.input[1]].input[0]) \
                if conv.op_type == "Conv" and conv.input[1] in m.producer else None
            if (conv.op_type != "Conv" or conv.input[0] != dq.output[0] or w is None
                    or _attr(conv, "group", 1) != c or w.shape[1] != 1 or w.shape[0] % c):
                return None
            wdq = m.weight_dq(conv, w.shape[0])
            if wdq is None:
                return None
            convs.append((conv, wdq, w.shape[0] // c))
    return s.reshape(-1).astype(np.float64), zp, p, w1, bias, dqs, convs


def fold_channel_scales(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with each matched per-channel activation made per tensor (module docstring)."""
    if not any(n.op_type == "QuantizeLinear" for n in model.graph.node):
        return model
    out, replaced = None, set()
    for name in [n.name or n.output[0] for n in model.graph.node
                 if n.op_type == "QuantizeLinear"]:
        cur = out or model
        m = _Graph(cur.graph)
        q = next((n for n in cur.graph.node if (n.name or n.output[0]) == name), None)
        if q is None or (hit := _match(m, q)) is None:
            continue
        if out is None:                  # copy once, then rewrite the copy
            out = onnx.ModelProto()
            out.CopyFrom(model)
            m = _Graph(out.graph)
            q = next(n for n in out.graph.node if (n.name or n.output[0]) == name)
            hit = _match(m, q)
        s, zp, p, (w1dq, s1), bias, dqs, convs = hit
        replaced |= {q.input[1], w1dq.input[1], *(c[1][0].input[1] for c in convs)}
        replaced |= {i for n in (q, *dqs) for i in n.input[1:]}
        replaced |= {bias} if bias is not None else set()
        big = float(np.float32(s.max()))
        factor = big / s                                  # producer: y' = y * S / s[c]
        m.set_scale(w1dq, s1 * factor, "tensor_q")
        if bias is not None:
            b = m.array(bias).astype(np.float64) * factor
            bname = f"{p.output[0]}_bias_tensor_q"
            m.g.initializer.append(numpy_helper.from_array(
                b.astype(m.array(bias).dtype), bname))
            p.input[2] = bname
        scalar = np.array(big, np.float32)
        sname = f"{q.output[0]}_scale_tensor_q"
        m.g.initializer.append(numpy_helper.from_array(scalar, sname))
        zname = None
        if zp is not None:
            zname = f"{q.output[0]}_zero_point_tensor_q"
            m.g.initializer.append(numpy_helper.from_array(
                np.array(zp.reshape(-1)[0], zp.dtype), zname))
        for node in (q, *dqs):
            node.input[1] = sname
            if zname:
                node.input[2] = zname
            for a in list(node.attribute):
                if a.name == "axis":
                    node.attribute.remove(a)
        for conv, (wdq, s2), mult in convs:               # depthwise: x' = x * S / s[c]
            m.set_scale(wdq, s2 * np.repeat(s, mult) / big, "tensor_q")
    if out is not None:                  # the replaced scales, zero points and biases
        used = {i for n in out.graph.node for i in n.input} | \
            {v.name for v in (*out.graph.input, *out.graph.output)}
        keep = [t for t in out.graph.initializer if t.name in used or t.name not in replaced]
        del out.graph.initializer[:]
        out.graph.initializer.extend(keep)
    return out or model
