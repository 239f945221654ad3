"""Write a fine-tuned (or any compiled) model as a QDQ ONNX file that ONNX Runtime runs.

The structure is the float graph's (the fine-tuned one), the numbers the compiled integer
graph's: every activation gets QuantizeLinear/DequantizeLinear with its int8 (scale, zero
point); layer weights are int8 initializers (int4 and palette weights as their int8 values)
with per-output-channel scales; biases int32 at in_scale * w_scale. Activations are NHWC in
the IR: each spatial op (conv, pools) is wrapped in NHWC<->NCHW Transposes, which tinyc's
importer cancels on the way back in.
"""
from __future__ import annotations

import numpy as np

from .errors import TinycError
from .ir.ops import OPS

NHWC_TO_NCHW, NCHW_TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)
UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hard_swish": "HardSwish",
         "elu": "Elu", "leaky_relu": "LeakyRelu", "hard_sigmoid": "HardSigmoid"}


def export_qdq(model, path, opset: int = 13) -> None:
    """Write model (tinyc.compile(..., finetune=...) or any float-source model) to path."""
    fg = getattr(model, "finetuned_graph", None) or model.float_graph
    _export(fg, model.graph, path, opset)


def export_float(graph, path, opset: int = 13) -> None:
    """Write a float IR graph (e.g. a network trained with passes/finetune) as float ONNX."""
    _export(graph, None, path, opset)


def _export(fg, ig, path, opset: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    iq = {v.name: v for v in ig.values()} if ig is not None else {}
    inodes = {n.name: n for n in ig.nodes} if ig is not None else {}
    nodes, inits, names = [], [], {}

    def fresh(base):
        i, name = 0, base
        while name in names:
            i += 1
            name = f"{base}_{i}"
        names[name] = True
        return name

    def const(name, arr):
        n = fresh(name)
        inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def node(op, ins, **attrs):
        out = fresh(f"{op.lower()}_out")
        nodes.append(helper.make_node(op, ins, [out], name=fresh(op), **attrs))
        return out

    def qdq(t, v):
        """t (an ONNX tensor name) quantized and dequantized as value v of the int graph."""
        if ig is None:
            return t
        q = iq[v.name].q if v.name in iq else None
        if q is None:
            raise TinycError(f"export: value '{v.name}' has no quantization in the compiled "
                             "model — export a model compiled from this float graph")
        s = const(f"{v.name}_scale", np.float32(q.s))
        zp = const(f"{v.name}_zp", np.int8(q.zp))
        return node("DequantizeLinear", [node("QuantizeLinear", [t, s, zp]), s, zp])

    ref = {}
    inputs = []
    for v in fg.inputs:
        inputs.append(helper.make_tensor_value_info(v.name, TensorProto.FLOAT, list(v.shape)))
        names[v.name] = True
        ref[id(v)] = qdq(v.name, v)
    for n in fg.nodes:
        x = [None if v is None else ref.get(id(v)) for v in n.inputs]
        y = _export_node(n, x, inodes.get(n.name), node, const)
        ref[id(n.outputs[0])] = qdq(y, n.outputs[0])
    outputs = []
    for v in fg.outputs:
        nodes.append(helper.make_node("Identity", [ref[id(v)]], [v.name], name=fresh("out")))
        outputs.append(helper.make_tensor_value_info(v.name, TensorProto.FLOAT, list(v.shape)))
    graph = helper.make_graph(nodes, fg.name, inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="tinyc finetune")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def _onnx_weight_layout(n, data: np.ndarray) -> np.ndarray:
    """A layer's weights in ONNX's [O, I, KH, KW] (a window layer: OHWI, or 1HWC when per
    channel, i.e. depthwise) or Gemm's [O, K] (as stored)."""
    layer = OPS[n.op].layer
    if not layer.window:
        return data
    return np.transpose(data, (3, 0, 1, 2) if layer.per_channel else (0, 3, 1, 2))


def _float_weights(n, const):
    from .ir.interpret import float_data
    data = _onnx_weight_layout(n, float_data(n.inputs[1]).astype(np.float32))
    w = const(f"{n.name}_w", np.ascontiguousarray(data))
    b = n.input(2)
    return w, ([const(f"{n.name}_b", float_data(b).astype(np.float32))] if b is not None else [])


def _layer_weights(n, inode, const):
    """(weight DQ inputs, bias DQ inputs) of a layer from the compiled node."""
    w, b = inode.inputs[1], inode.input(2)
    data = _onnx_weight_layout(n, w.data.astype(np.int8))
    n_out = data.shape[0]
    ws = np.broadcast_to(np.asarray(w.q.scale, np.float32), (n_out,))
    wq = [const(f"{n.name}_w", data), const(f"{n.name}_w_scale", ws.copy()),
          const(f"{n.name}_w_zp", np.zeros(n_out, np.int8))]
    bq = None
    if b is not None:
        bs = np.broadcast_to(np.asarray(b.q.scale, np.float32), (n_out,))
        bq = [const(f"{n.name}_b", b.data.astype(np.int32)),
              const(f"{n.name}_b_scale", bs.copy()),
              const(f"{n.name}_b_zp", np.zeros(n_out, np.int32))]
    return wq, bq


def _act(n, y, node, const):
    lo, hi = n.attrs.get("act") or (-np.inf, np.inf)
    if lo == 0 and not np.isfinite(hi):
        return node("Relu", [y])
    if np.isfinite(lo) or np.isfinite(hi):
        return node("Clip", [y, const(f"{n.name}_lo", np.float32(max(lo, -3e38))),
                             const(f"{n.name}_hi", np.float32(min(hi, 3e38)))])
    return y


def _export_node(n, x, inode, node, const):
    a = n.attrs
    layer = OPS[n.op].layer
    if layer is not None and layer.windows is None:      # conv, depthwise, fully connected
        if inode is None:
            w, b = _float_weights(n, const)
        else:
            wq, bq = _layer_weights(n, inode, const)
            w = node("DequantizeLinear", wq, axis=0)
            b = [node("DequantizeLinear", bq, axis=0)] if bq else []
        if not layer.window:
            return _act(n, node("Gemm", [x[0], w] + b, transB=1), node, const)
        pt, pl, pb, pr = a["pads"]
        attrs = dict(strides=list(a["stride"]), pads=[pt, pl, pb, pr],
                     dilations=list(a["dilation"]))
        if layer.per_channel:
            attrs["group"] = n.inputs[0].shape[3]
        xt = node("Transpose", [x[0]], perm=list(NHWC_TO_NCHW))
        y = node("Transpose", [node("Conv", [xt, w] + b, **attrs)], perm=list(NCHW_TO_NHWC))
        return _act(n, y, node, const)
    if n.op in ("avg_pool2d", "max_pool2d"):
        pt, pl, pb, pr = a["pads"]
        attrs = dict(kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
                     pads=[pt, pl, pb, pr])
        if n.op == "avg_pool2d":
            attrs["count_include_pad"] = 0
        xt = node("Transpose", [x[0]], perm=list(NHWC_TO_NCHW))
        y = node("AveragePool" if n.op == "avg_pool2d" else "MaxPool", [xt], **attrs)
        return _act(n, node("Transpose", [y], perm=list(NCHW_TO_NHWC)), node, const)
    if n.op == "reshape":
        return node("Reshape", [x[0], const(f"{n.name}_shape", np.asarray(a["shape"],
                                                                            np.int64))])
    if n.op == "transpose":
        return node("Transpose", [x[0]], perm=list(a["perm"]))
    if n.op in ("add", "sub", "mul"):
        ins = [xi if xi is not None else const(f"{n.name}_c{i}", n.inputs[i].data)
               for i, xi in enumerate(x)]
        return _act(n, node(n.op.capitalize(), ins), node, const)
    if n.op == "concat":
        return node("Concat", x, axis=int(a["axis"]))
    if n.op in ("softmax", "log_softmax") and a.get("beta", 1.0) == 1.0:
        return node("Softmax" if n.op == "softmax" else "LogSoftmax", x, axis=-1)
    if n.op == "clip":
        return node("Clip", [x[0], const(f"{n.name}_lo", np.float32(a.get("min", -3e38))),
                             const(f"{n.name}_hi", np.float32(a.get("max", 3e38)))])
    if n.op in UNARY:
        attrs = {k: float(v) for k, v in a.items() if k in ("alpha", "beta")}
        return node(UNARY[n.op], x, **attrs)
    if n.op == "mean":
        return node("ReduceMean", x, axes=list(a["axes"]),
                    keepdims=int(bool(a.get("keep_dims", True))))
    raise TinycError(f"export: node '{n.name}' ({n.op}) has no QDQ ONNX export yet — "
                     "compile and deploy it with tinyc directly instead")
