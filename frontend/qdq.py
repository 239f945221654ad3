"""QuantizeLinear / DequantizeLinear.

On constants (weights, biases) DequantizeLinear keeps the integer data (`Tensor.qdata`) next to
the folded float value; Conv/Gemm/MatMul turn it into int8 / int32 IR constants with q.
On activations a Q -> DQ pair leaves no IR op (but see OpDef.implied_relu): the activation's IR
value (float32) gets `type.q` set to the model's scale and zero point, in int8 terms (uint8 zero
points - 128).
"""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..errors import ModelError
from . import tflite_luts
from .builder import Builder, QConst, Tensor, set_q
from ..ir import OPS, QParams
from ..ir.qmath import float_requant_table

ACT_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8))
# Q(x) with zero point = qmin equals Q(relu(x)): after an op with OpDef.implied_relu that relu
# is made explicit so the float view matches the model (fuse_activation folds it back).


def _dtype_of(b: Builder, zero_point: Tensor | None, output_dtype: int, default) -> np.dtype:
    if zero_point is not None:
        return b.const_input(zero_point, "zero_point").dtype
    if output_dtype:
        return np.dtype(helper.tensor_dtype_to_np_dtype(output_dtype))
    return np.dtype(default)


def act_qparams(b: Builder, scale: Tensor, zero_point: Tensor | None, dtype, axis: int = 1,
                block_size: int = 0) -> QParams:
    """Per-tensor activation QParams in int8 terms."""
    s = b.const_input(scale, "scale").reshape(-1)
    zp = b.const_input(zero_point, "zero_point").reshape(-1) if zero_point is not None \
        else np.zeros(1, dtype)
    if s.size != 1 or zp.size != 1:
        how = (f"blocked, {s.size} scales in blocks of {block_size} along axis {axis}"
               if block_size else f"per axis, {s.size} scales along axis {axis}")
        raise b.error(f"per-channel quantization of an activation ({how})",
                      "activations, model inputs and outputs included, are quantized per "
                      "tensor (the C API gives each input and output one scale and zero "
                      "point): quantize this tensor with one scale, or keep per-channel Q/DQ "
                      "on constants (weights).")
    if np.dtype(dtype) not in ACT_DTYPES:
        raise b.error(f"activation quantized to {np.dtype(dtype)}",
                      "only int8 and uint8 activations are supported.")
    shift = 128 if np.dtype(dtype) == np.uint8 else 0
    return QParams((float(s[0]),), (int(zp[0]) - shift,))


def const_qdata(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None,
                axis: int) -> QConst:
    """DequantizeLinear(constant) as QConst (ONNX layout, normalised axis)."""
    zp = np.zeros_like(scale, dtype=x.dtype) if zero_point is None else zero_point
    per_channel = scale.size > 1
    return QConst(x, scale.astype(np.float64), zp, axis % x.ndim if per_channel else None)


def QuantizeLinear(b: Builder, x, y_scale, y_zero_point=None, *, axis=1, saturate=1,
                   block_size=0, output_dtype=0, precision=0):
    if x.itype is not None:
        raise b.error("QuantizeLinear of an integer tensor", "expected a float input.")
    dtype = _dtype_of(b, y_zero_point, output_dtype, np.uint8)
    q = act_qparams(b, y_scale, y_zero_point, dtype, axis, block_size)
    v = x.value
    if v.q is not None and v.q != q and id(v) not in b.inherited:
        # the tensor quantized a second time for another consumer (pt2e): an int8 -> int8
        # requantize (TFLM's Requantize as a lookup table; within 1 step of Q(x) directly)
        v = b.emit("lut", [v], {"table": tflite_luts.requantize_table(v.q, q),
                               "fn": "tflm_requantize"})
        set_q(b, v, q)
        return Tensor(value=v, perm=x.perm, itype=dtype, q=q)
    if q.zp == -128 and v.producer is not None and OPS[v.producer.op].implied_relu:
        v = b.emit("relu", [v])          # the Relu ONNX Runtime drops when zp = qmin
    set_q(b, v, q)
    return Tensor(value=v, perm=x.perm, itype=dtype, q=q)


def DequantizeLinear(b: Builder, x, x_scale, x_zero_point=None, *, axis=1, block_size=0,
                     output_dtype=0):
    if x.itype is None:
        raise b.error("DequantizeLinear of a float tensor", "expected an int8/uint8 input.")
    if x_zero_point is not None and b.const_input(x_zero_point, "zero_point").dtype != x.itype:
        raise b.error(f"zero point of type {x_zero_point.data.dtype} for a {x.itype} input",
                      "the zero point must have the input's type (ONNX type constraint).",
                      cls=ModelError)
    q = act_qparams(b, x_scale, x_zero_point, x.itype, axis, block_size)
    if x.q is None:                      # an integer graph input: learn its parameters here
        _set_q_back(b, x.value, q)
    elif x.q != q:
        raise b.error(f"DequantizeLinear with {q} of a tensor quantized as {x.q}",
                      "Q and DQ parameters of an activation must match.")
    return Tensor(value=x.value, perm=x.perm)


def _set_q_back(b: Builder, v, q: QParams) -> None:
    """Set q on v and on the data-movement chain that produced it (back to the graph input)."""
    while True:
        set_q(b, v, q)
        p = v.producer
        if p is None or not OPS[p.op].keeps_values:
            return
        v = p.inputs[0]



def hoist_requantize(g) -> None:
    """Give a reshape/transpose input its output's quantization (they move bytes). ONNX Runtime
    writes `op -> Q(s1) -> DQ -> Reshape -> Q(s2)` and `ReduceMean -> Reshape -> Q`: the op is
    then quantized straight to s2, as TFLite does (at most 1 LSB from the model's double
    rounding). Reshapes whose q changes after any other producer stay (need a requantize)."""
    for node in reversed(list(g.nodes)):
        if node.op not in ("reshape", "transpose"):
            continue
        u, v = node.inputs[0], node.outputs[0]
        if not v.q or u.q == v.q or u in g.outputs or (len(u.uses) != 1 and u not in g.inputs):
            continue
        p = u.producer
        if u.q is not None and (p is None or not (OPS[p.op].implied_relu or OPS[p.op].clamp_range)):
            continue
        if p is not None and v.q.zp == -128 and OPS[p.op].implied_relu:
            u.type = u.type.with_(q=None)
            u = g.emit("relu", [u], name=f"{u.name}_relu", before=node)
            node.replace_input(0, u)
        u.type = u.type.with_(q=v.q)


def requantizing_global_pool(g, half_even: bool = True) -> None:
    """A global average pool whose QDQ output quantization differs from its input's becomes the
    IR `mean` over H and W: one requantization of the sum by s_in / (s_out * count), as ONNX
    Runtime's QLinearGlobalAveragePool requantizes the sum once. avg_pool2d keeps its input's
    quantization, so it would round the average to the input's step and then requantize that
    (two roundings: up to 2-3 output steps from ORT when s_out < s_in). Only QDQ imports set an
    output quantization other than the input's here; calibrated models and TFLite files keep
    avg_pool2d and its bits. The mean rounds once, half to even (attrs["round_half_even"],
    ir/ops/reduce.py), as ORT's float rescale. tf2onnx writes TFLite's MEAN over H and W as
    this GlobalAveragePool -> Q: with half_even=False it is the IR `mean` with TFLite Micro's
    rounding, as the .tflite file compiles (tests/test_tf2onnx.py)."""
    for node in g.nodes:
        if node.op != "avg_pool2d":
            continue
        x, y = node.inputs[0], node.outputs[0]
        a = node.attrs
        if (x.q is None or y.q is None or x.q == y.q or tuple(a["kernel"]) != x.shape[1:3]
                or any(a["pads"]) or y.shape[1:3] != (1, 1)):
            continue
        node.op = "mean"
        node.attrs = {"axes": (1, 2), "keep_dims": True}
        if half_even:
            node.attrs["round_half_even"] = True


def round_averages_half_even(g) -> None:
    """An average (avg_pool2d whose QDQ output quantization is its input's, or any mean) rounds
    half to even (attrs["round_half_even"], ir/ops/pool.py and reduce.py), as ONNX Runtime
    does: the exact average sum / count often ends in .5 (1 in count/2 windows), where TFLite
    Micro's half-away-from-zero rounding is one step above ORT's half the time. Only ONNX QDQ
    imports set it; TFLite files and calibrated models keep TFLM's rounding. ORT's default
    session fuses AveragePool into QLinearAveragePool, which rounds the average of the stored
    values (even_zero_point 0), GlobalAveragePool into QLinearGlobalAveragePool, which rounds
    that of x - zero point (even_zero_point = the zero point); ReduceMean runs in float (x -
    zero point). A mean that rescales rounds once too (64-bit product, passes/quant_rules.py)."""
    for node in g.nodes:
        if node.op in ("avg_pool2d", "mean"):
            x, y = node.inputs[0], node.outputs[0]
            if x.q is not None and y.q is not None and (x.q == y.q or node.op == "mean"):
                node.attrs["round_half_even"] = True
            if node.op == "avg_pool2d" and x.q is not None and x.q == y.q:
                # ORT's QLinearGlobalAveragePool averages x - zero point (MLAS), its
                # QLinearAveragePool the stored values: they differ on a tie when the zero
                # point is odd
                a = node.attrs
                is_global = (tuple(a["kernel"]) == x.shape[1:3] and not any(a["pads"])
                             and y.shape[1:3] == (1, 1))
                a["even_zero_point"] = x.q.zp if is_global else 0


def ort_requantize(g, layers: bool = False) -> None:
    """Requantizing tables as ONNX Runtime computes Q(DQ(x)) (float32, half to even; qmath
    float_requant_table): the tensor quantized twice (pt2e's double quantization, the tables
    QuantizeLinear made here) and, through attrs["requant"] = "ort", the tables quantize
    inserts for a Concat's differently quantized inputs or a byte-moving op whose output
    quantization differs (passes/quantize.py). TFLite's Requantize differs from ORT's on up
    to a quarter of the values (0.95 on average over random scales). A layer ORT runs as
    QLinearConv / QGemm / QLinearMatMul (OpDef ort_requant) with QDQ-quantized input and weights
    gets attrs["requant"] = "ort" too when `layers` (compile's ort_exact): quantize gives it
    ORT's float32 output scale (quant_rules.layer_rule: attrs ort_mult, ort_exp), requantized
    as MLAS does (ir/ops/conv.py) on the generic kernels."""
    for node in g.nodes:
        d = OPS[node.op]
        if d.ort_requant:
            x, w = node.inputs[0], node.inputs[1]
            if layers and x.q is not None and w.q is not None:   # output: its Q (after a relu too)
                node.attrs["requant"] = "ort"
            continue
        if node.op == "lut" and node.attrs.get("fn") == "tflm_requantize":
            x, y = node.inputs[0], node.outputs[0]
            node.attrs["table"] = float_requant_table(x.q, y.q)
            node.attrs["fn"] = "ort_requantize"
        elif (d.same_q or d.inputs_as_output_q) and any(
                v is not None and not v.is_const and v.q is not None
                for v in (*node.inputs, *node.outputs)):     # QDQ-quantized, not calibrated
            node.attrs["requant"] = "ort"

