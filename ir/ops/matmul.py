"""batch_matmul(a, b): a batched matrix product of two tensors (either may be a constant), numpy
broadcasting over the batch dims — TFLite BATCH_MATMUL, ONNX MatMul of two activations.

Integer form (TFLite Micro batch_matmul.cc + reference_ops::BatchMatMul, int8):
  acc = Σ_k (a[m, k] + a_offset) * (b[k, n] + b_offset)   (int32)
  y = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + out_offset, act)
with multiplier from double(float32(s_a * s_b)) / s_out (GetQuantizedConvolutionMultipler).
adj_x / adj_y: a / b are stored transposed (their last two dims swapped).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import TensorType
from .registry import clamp_int, op, require

BATCH_MATMUL = "batch_matmul"
MATMUL_INT_ATTRS = ("a_offset", "b_offset", "out_offset", "multiplier", "shift", "act_min",
                    "act_max")


def _operands(node, a, b):
    at = np.swapaxes(a, -1, -2) if node.attrs.get("adj_x") else a
    bt = np.swapaxes(b, -1, -2) if node.attrs.get("adj_y") else b
    return at, bt


def _run_float(node, a, b):
    at, bt = _operands(node, a.astype(np.float64), b.astype(np.float64))
    return np.matmul(at, bt).astype(np.float32)


def _run_int(node, a, b):
    at_ = node.attrs
    at, bt = _operands(node, a.astype(np.int64) + at_["a_offset"],
                       b.astype(np.int64) + at_["b_offset"])
    acc = np.matmul(at, bt)
    if node.outputs[0].dtype.qrange[1] > 127:    # 16x8: int64 sum, 64-bit requantize (TFLM)
        y = qmath.requantize_s64(acc, at_["multiplier"], at_["shift"]) + at_["out_offset"]
    else:
        y = qmath.requantize(acc, at_["multiplier"], at_["shift"]) + at_["out_offset"]
    return clamp_int(y, node)


def matmul_dims(a_shape, b_shape, adj_x: bool, adj_y: bool):
    """(batch dims of the output, M, K, N)."""
    m, k = (a_shape[-1], a_shape[-2]) if adj_x else (a_shape[-2], a_shape[-1])
    k2, n = (b_shape[-1], b_shape[-2]) if adj_y else (b_shape[-2], b_shape[-1])
    rank = max(len(a_shape), len(b_shape))
    ea = (1,) * (rank - len(a_shape)) + tuple(a_shape)
    eb = (1,) * (rank - len(b_shape)) + tuple(b_shape)
    batch = tuple(max(x, y) for x, y in zip(ea[:-2], eb[:-2]))
    ok = all(x == y or 1 in (x, y) for x, y in zip(ea[:-2], eb[:-2]))
    return batch, m, k, k2, n, ok


def _macs(node) -> int:
    a, b = node.inputs[0].shape, node.inputs[1].shape
    batch, m, k, _, n, _ = matmul_dims(a, b, node.attrs.get("adj_x"), node.attrs.get("adj_y"))
    return int(np.prod(batch, dtype=np.int64)) * m * k * n


@op(BATCH_MATMUL, run_float=_run_float, run_int=_run_int, macs=_macs,
    int_attrs=MATMUL_INT_ATTRS, int16=True, int16_layer=True)
def batch_matmul(inputs, attrs):
    """batch_matmul(a[..., M, K], b[..., K, N]) {adj_x, adj_y}: a @ b, batch dims broadcast
    (ranks 2 to 5); adj_x: a is [..., K, M], adj_y: b is [..., N, K]"""
    a, b = inputs
    require(2 <= len(a.shape) <= 5 and 2 <= len(b.shape) <= 5, BATCH_MATMUL,
            "operand ranks", "2 to 5", (len(a.shape), len(b.shape)))
    batch, m, k, k2, n, ok = matmul_dims(a.shape, b.shape, bool(attrs.get("adj_x")),
                                         bool(attrs.get("adj_y")))
    require(k == k2, BATCH_MATMUL, f"inner dims of {list(a.shape)} @ {list(b.shape)}", k, k2)
    require(ok, BATCH_MATMUL, f"batch dims of {list(a.shape)} and {list(b.shape)}",
            "equal or 1", "unbroadcastable")
    return [TensorType(a.dtype, (*batch, m, n))]
