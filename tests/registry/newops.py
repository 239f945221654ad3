"""Test-only ops, registered the way a new op is added — an OpDef (and, for ONNX, one op
function) and nothing else:

    dense_t   a layer y = x @ w + b with its weights stored [K, O] (output channels on axis 1,
              unlike every built-in layer), integer form as fully_connected's
    softsign  an elementwise float op x / (1 + |x|) that quantize makes a lookup table
    Softsign  its ONNX op function (onnx_ops style), so batch pinning meets it

register() adds them, unregister() removes them (the registries are global).
"""
from __future__ import annotations

import numpy as np

from tinyc.frontend import onnx_ops, onnx_table
from tinyc.ir import OPS, TensorType
from tinyc.ir.ops import Layer
from tinyc.ir.ops.conv import LAYER, float_semantics, int_semantics
from tinyc.ir.ops.eltwise import unary
from tinyc.ir.ops.registry import op, require


def dense_t_acc(node, x, w, pad_value, dtype):
    return x.astype(dtype) @ w.astype(dtype)


def dense_t(inputs, attrs):
    """dense_t(x[N,K], w[K,O], b[O]?) {act}"""
    x, w = inputs[0], inputs[1]
    require(x.shape[1] == w.shape[0], "dense_t", "weights", f"[{x.shape[1]}, O]", w.shape)
    return [TensorType(x.dtype, (x.shape[0], w.shape[1]))]


def Softsign(b, X):
    return onnx_ops._unary(b, "softsign", X)


def register() -> None:
    op("dense_t", run_float=float_semantics(dense_t_acc), run_int=int_semantics(dense_t_acc),
       layer=Layer(weight_axis=1), **LAYER,
       macs=lambda node: int(np.prod(node.outputs[0].shape)) * node.inputs[1].shape[0])(dense_t)
    unary("softsign", lambda x, a: x / (1.0 + np.abs(x)))
    onnx_table.OPS["Softsign"] = onnx_ops.elementwise("softsign")(Softsign)


def unregister() -> None:
    for name in ("dense_t", "softsign"):
        OPS.pop(name, None)
    onnx_table.OPS.pop("Softsign", None)
    onnx_ops.ELEMENTWISE.pop("Softsign", None)
