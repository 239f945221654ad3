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
    g.node.extend(nodes)
    if not any(nd.domain == MS for nd in g.node):
        keep = [o for o in model.opset_import if o.domain != MS]
        del model.opset_import[:]
        model.opset_import.extend(keep)
    return model
