"""ONNX Runtime's QOperator format (quantize_static(quant_format=QuantFormat.QOperator)) read
as the QDQ graph it stands for.

    model = to_qdq(model, path)      # the same model when it has no QOperator node

Each QLinear* node (QLinearConv, QLinearMatMul, and com.microsoft's QGemm, QLinearAdd,
QLinearMul, QLinearAveragePool, QLinearGlobalAveragePool, QLinearSigmoid, QLinearLeakyRelu,
QLinearSoftmax, QLinearConcat) becomes DequantizeLinear of each input -> the float op ->
QuantizeLinear with the node's output scale and zero point, keeping the integer tensor names.
An int32 bias gets DequantizeLinear with scale x_scale * w_scale (zero point 0), exactly as
ORT's QDQ format writes it. Data-movement ops that the QOperator format runs straight on the
integer tensors (MaxPool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity) are
wrapped the same way with their input's parameters. The QDQ import then reads the result; the
arithmetic is the QDQ path's (ORT runs both formats with the same rounding).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import UnsupportedOpError

MS = "com.microsoft"
# op -> (float op, domain of the QLinear op)
UNARY = {"QLinearAveragePool": "AveragePool", "QLinearGlobalAveragePool": "GlobalAveragePool",
         "QLinearSigmoid": "Sigmoid", "QLinearLeakyRelu": "LeakyRelu",
         "QLinearSoftmax": "Softmax"}
BINARY = {"QLinearAdd": "Add", "QLinearMul": "Mul"}
MOVES = ("MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity")
QOPS = ("QLinearConv", "QLinearMatMul", "QGemm", "QLinearConcat", *UNARY, *BINARY)


def _is_qop(n) -> bool:
    return n.op_type in QOPS and n.domain in ("", "ai.onnx", MS)


def _quantize_float_batchnorm(nodes: list, inits: dict, g) -> list:
    """The QOperator format leaves BatchNormalization (on 2-D, after a QGemm) in float between
    DequantizeLinear and the next float op. Its output range is implied by its input's: the
    per-channel affine map over the input's 256 levels. A QuantizeLinear/DequantizeLinear pair
    with that range (asymmetric, the input's integer type) goes after it."""
    out: list = []
    producer = {}
    for n in nodes:
        for o in n.output:
            producer[o] = n
    consumers: dict[str, list] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    for n in nodes:
        out.append(n)
        if n.op_type != "BatchNormalization" or len(n.output) != 1:
            continue
        p = producer.get(n.input[0])
        y = n.output[0]
        if p is None or p.op_type != "DequantizeLinear" or len(p.input) < 3 or any(
                c.op_type == "QuantizeLinear" for c in consumers.get(y, [])):
            continue
        if not all(k in inits for k in (*n.input[1:5], *p.input[1:3])):
            continue
        base = y + "__qop_bn"
        cs = consumers.get(y, [])
        if len(cs) == 1 and cs[0].op_type == "Relu" and len(consumers.get(
                cs[0].output[0], [])) == 1 and consumers[cs[0].output[0]][0].op_type == \
                "QuantizeLinear" and len(consumers[cs[0].output[0]][0].input) >= 3:
            # BN -> Relu -> Q: the Q's range is the BN output's where it matters (>= 0)
            qn = consumers[cs[0].output[0]][0]
            n.output[0] = base + "_f"
            out.append(helper.make_node("QuantizeLinear", [n.output[0], *qn.input[1:3]],
                                        [base + "_q"]))
            out.append(helper.make_node("DequantizeLinear", [base + "_q", *qn.input[1:3]], [y]))
            continue
        s = float(numpy_helper.to_array(inits[p.input[1]]).reshape(-1)[0])
        zp_arr = numpy_helper.to_array(inits[p.input[2]])
        info = np.iinfo(zp_arr.dtype)
        levels = (np.array([info.min, info.max], np.float64) - float(zp_arr.reshape(-1)[0])) * s
        gamma, beta, mean, var = (numpy_helper.to_array(inits[k]).astype(np.float64)
                                  for k in n.input[1:5])
        eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
        a = gamma / np.sqrt(var + eps)
        ends = a[None, :] * levels[:, None] + (beta - mean * a)[None, :]
        lo, hi = min(float(ends.min()), 0.0), max(float(ends.max()), 0.0)
        scale = np.float32(max(hi - lo, 1e-8) / 255.0)
        zp = int(np.clip(round(info.min - lo / float(scale)), info.min, info.max))
        g.initializer.append(numpy_helper.from_array(np.array(scale, np.float32), base + "_s"))
        g.initializer.append(numpy_helper.from_array(np.array(zp, zp_arr.dtype), base + "_zp"))
        n.output[0] = base + "_f"
        out.append(helper.make_node("QuantizeLinear", [n.output[0], base + "_s", base + "_zp"],
                                    [base + "_q"]))
        out.append(helper.make_node("DequantizeLinear", [base + "_q", base + "_s", base + "_zp"],
                                    [y]))
    return out


def to_qdq(model: onnx.ModelProto, path: str) -> onnx.ModelProto:
    g = model.graph
    if not any(_is_qop(n) for n in g.node):
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    qparams: dict[str, tuple[str, str]] = {}      # integer tensor -> (scale, zero point)
    for n in g.node:
        if n.op_type == "QuantizeLinear" and len(n.input) >= 3:
            qparams[n.output[0]] = (n.input[1], n.input[2])
    nodes: list = []
    count = [0]

    def fresh(base: str) -> str:
        count[0] += 1
        return f"{base}__qop{count[0]}"

    def dq(x: str, s: str, zp: str, axis: int | None = None) -> str:
        out = fresh(x + "_dq")
        kw = {} if axis is None else {"axis": axis}
        nodes.append(helper.make_node("DequantizeLinear", [x, s, zp], [out], **kw))
        return out

    def q(y_float: str, y: str, s: str, zp: str) -> None:
        nodes.append(helper.make_node("QuantizeLinear", [y_float, s, zp], [y]))
        qparams[y] = (s, zp)

    def attrs(n, drop=()) -> dict:
        return {a.name: helper.get_attribute_value(a) for a in n.attribute if a.name not in drop}

    def bias_scale(n, xs: str, ws: str) -> str:
        if xs not in inits or ws not in inits:
            raise UnsupportedOpError(
                f"{path}: node {n.name!r} ({n.op_type}): its scales are not constants — "
                "quantize the model with constant scales (quantize_static does).")
        s = (numpy_helper.to_array(inits[xs]).astype(np.float32)
             * numpy_helper.to_array(inits[ws]).astype(np.float32)).reshape(-1)
        name = fresh(n.name + "_bias_scale")
        t = numpy_helper.from_array(s if s.size > 1 else s.reshape(()), name)
        g.initializer.append(t)
        inits[name] = t
        return name

    def zero_int32(n, like: str) -> str:
        name = fresh(n.name + "_bias_zp")
        shape = numpy_helper.to_array(inits[like]).reshape(-1).shape if like in inits else (1,)
        z = np.zeros(shape, np.int32)
        t = numpy_helper.from_array(z if z.size > 1 else z.reshape(()), name)
        g.initializer.append(t)
        inits[name] = t
        return name

    def channel_axis(s: str, ndim_axis: int) -> int | None:
        return ndim_axis if s in inits and numpy_helper.to_array(inits[s]).size > 1 else None

    for n in g.node:
        i, op = list(n.input), n.op_type
        if not _is_qop(n):
            if op in MOVES and n.input and n.input[0] in qparams and len(n.output) == 1:
                s, zp = qparams[n.input[0]]
                f = fresh(n.output[0] + "_f")
                nodes.append(helper.make_node(op, [dq(i[0], s, zp), *i[1:]], [f], name=n.name,
                                              **attrs(n)))
                q(f, n.output[0], s, zp)
            else:
                nodes.append(n)
            continue
        y = n.output[0]
        f = fresh(y + "_f")
        if op == "QLinearConv":
            x = dq(i[0], i[1], i[2])
            w = dq(i[3], i[4], i[5], channel_axis(i[4], 0))
            ins = [x, w]
            if len(i) > 8 and i[8]:
                ins.append(dq(i[8], bias_scale(n, i[1], i[4]), zero_int32(n, i[4]),
                              channel_axis(i[4], 0)))
            nodes.append(helper.make_node("Conv", ins, [f], name=n.name, **attrs(n)))
            q(f, y, i[6], i[7])
        elif op == "QLinearMatMul":
            b_ndim = len(inits[i[3]].dims) if i[3] in inits else 2
            a, b = dq(i[0], i[1], i[2]), dq(i[3], i[4], i[5], channel_axis(i[4], b_ndim - 1))
            nodes.append(helper.make_node("MatMul", [a, b], [f], name=n.name))
            q(f, y, i[6], i[7])
        elif op == "QGemm":
            at = attrs(n)
            trans_b = int(at.get("transB", 0))
            a = dq(i[0], i[1], i[2])
            b = dq(i[3], i[4], i[5], channel_axis(i[4], 0 if trans_b else 1))
            ins = [a, b]
            if len(i) > 6 and i[6]:
                ins.append(dq(i[6], bias_scale(n, i[1], i[4]), zero_int32(n, i[4]),
                              channel_axis(i[4], 0)))
            quantized = len(i) > 7 and i[7]
            nodes.append(helper.make_node("Gemm", ins, [f if quantized else y], name=n.name,
                                          **at))
            if quantized:
                q(f, y, i[7], i[8])
        elif op in BINARY:
            a, b = dq(i[0], i[1], i[2]), dq(i[3], i[4], i[5])
            nodes.append(helper.make_node(BINARY[op], [a, b], [f], name=n.name))
            q(f, y, i[6], i[7])
        elif op in UNARY:
            at = attrs(n, drop=("channels_last", "opset"))
            if attrs(n).get("channels_last", 0):
                raise UnsupportedOpError(
                    f"{path}: node {n.name!r} ({op}) with channels_last=1 is not supported — "
                    "quantize the model in NCHW (the default) or with QuantFormat.QDQ.")
            nodes.append(helper.make_node(UNARY[op], [dq(i[0], i[1], i[2])], [f], name=n.name,
                                          **at))
            q(f, y, i[3], i[4])
        elif op == "QLinearConcat":
            parts = [dq(i[k], i[k + 1], i[k + 2]) for k in range(2, len(i), 3)]
            nodes.append(helper.make_node("Concat", parts, [f], name=n.name, **attrs(n)))
            q(f, y, i[0], i[1])
    del g.node[:]
    g.node.extend(_quantize_float_batchnorm(nodes, inits, g))
    if not any(nd.domain == MS for nd in g.node):
        keep = [o for o in model.opset_import if o.domain != MS]
        del model.opset_import[:]
        model.opset_import.extend(keep)
    return model
