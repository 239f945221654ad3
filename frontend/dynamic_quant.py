"""ONNX Runtime dynamic quantization (`quantize_dynamic`) -> float ops with int8 weights.

For each MatMul / Gemm / Conv it quantizes, ONNX Runtime writes

    x_q, x_s, x_zp = DynamicQuantizeLinear(x)       # uint8; x_s, x_zp computed at run time
    s   = Mul(x_s, w_scale)                          # the scale product
    acc = MatMulInteger(x_q, w_q, x_zp, w_zp)        # or ConvInteger(...): int32
    y   = Mul(Cast(acc, to=FLOAT), s)                # (+ Add(y, bias) for Gemm / Conv bias)

so y = (x_q - x_zp) x_s @ (w_q - w_zp) w_scale: a float MatMul / Conv of x with the
dequantized weight W = (w_q - w_zp) w_scale — exactly what a QDQ model's
DequantizeLinear(weight) -> MatMul gives. tinyc imports the pattern in that form: the IR op
takes the float activation x and an int8 weight constant with q = w_scale; the bias Add is
folded by onnx_ops.Add. Activation scales cannot be computed at run time in int8 C: they come
from calibration data (--calib), like a float model's; `graph.calib_reason` says why.

Weights: w_q - w_zp is ORT's integer weight. It is kept exactly in every output channel where
it fits int8 (always for int8 weights and for uint8 weights with reduce_range); other channels
(uint8 weights with an 8-bit range) are re-quantized to int8 with zero point 0 and scale
w_scale * max|w_q - w_zp| / 127 (logged; builder.symmetric_int8, shared with QDQ weights).

The op functions run in ONNX order: DynamicQuantizeLinear only marks its outputs (`Tensor.dyn`);
MatMulInteger / ConvInteger emit the IR op with a weight scale still missing, `cast` passes
the accumulator on, and the Mul by the scale product sets the weight's scale.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from . import onnx_ops
from .builder import Builder, Dyn, QConst, Tensor, symmetric_int8
from ..ir import OPS as IR_OPS, QParams

PATTERN = ("ONNX Runtime's dynamic quantization pattern: DynamicQuantizeLinear -> "
           "MatMulInteger/ConvInteger -> Cast(to=FLOAT) -> Mul(scale product)")
FIX = "pass --calib calib.npz (one array per model input, N samples)"


def DynamicQuantizeLinear(b: Builder, x):
    if x.is_const or x.itype is not None:
        raise b.error("DynamicQuantizeLinear of a constant or integer tensor",
                      "expected a float activation.")
    if b.g.calib_reason is None:
        b.g.calib_reason = (
            f"{b.where()}: the model is quantized dynamically (ONNX Runtime computes this "
            "activation's scale at run time, int8 C cannot) — calibration data is needed to "
            f"give the activations static scales: {FIX}")
    where = b.where()
    return (Tensor(value=x.value, perm=x.perm, dyn=Dyn("q", x, where)),
            Tensor(dyn=Dyn("scale", x, where)), Tensor(dyn=Dyn("zero_point", x, where)))


def MatMulInteger(b: Builder, A, B, a_zero_point=None, b_zero_point=None):
    x = _source(b, A, a_zero_point)
    if B is None or not B.is_const or B.data.ndim != 2:
        raise b.error("MatMulInteger of an activation and something other than constant 2-D "
                      "weights", f"expected {PATTERN}.")
    w = _weight(b, B, b_zero_point, axis=1)
    y = onnx_ops.MatMul(b, x, w)
    return Tensor(value=y.value, perm=y.perm, dyn=Dyn("acc", x, A.dyn.where,
                                                      weight=_layer_weight(y.value), axis=-1))


def ConvInteger(b: Builder, x, w, x_zero_point=None, w_zero_point=None, *, auto_pad="NOTSET",
                dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    src = _source(b, x, x_zero_point)
    if w is None or not w.is_const:
        raise b.error("ConvInteger needs constant weights", "got an activation.")
    wt = _weight(b, w, w_zero_point, axis=0)
    y = onnx_ops.Conv(b, src, wt, None, auto_pad=auto_pad, dilations=dilations, group=group,
                      kernel_shape=kernel_shape, pads=pads, strides=strides)
    return Tensor(value=y.value, perm=y.perm, dyn=Dyn("acc", src, x.dyn.where,
                                                      weight=_layer_weight(y.value), axis=1))


def cast(b: Builder, input, *, to, saturate=1):
    """Cast of a MatMulInteger/ConvInteger result (other Casts stay unsupported)."""
    if to != TensorProto.FLOAT:
        raise b.error(f"Cast to {TensorProto.DataType.Name(to)} of a MatMulInteger/"
                      "ConvInteger result", f"expected Cast(to=FLOAT): {PATTERN}.")
    if input.dyn.kind != "acc":
        raise misuse(b, input)
    return input                                 # the accumulator, still to be scaled


def mul(b: Builder, A: Tensor, B: Tensor) -> Tensor:
    """Mul on run-time quantization values: x_s * w_scale, or accumulator * scale product."""
    kinds = {t.dyn.kind if t.dyn is not None else ("const" if t.is_const else "act"): t
             for t in (A, B)}
    if set(kinds) == {"scale", "const"}:
        s = kinds["scale"].dyn
        return Tensor(dyn=Dyn("scale_product", s.src, s.where, scale=kinds["const"].data))
    if set(kinds) == {"acc", "scale_product"}:
        acc, sp = kinds["acc"].dyn, kinds["scale_product"].dyn
        if acc.src is not sp.src:
            raise b.error("the accumulator and the scale product come from different "
                          "DynamicQuantizeLinear nodes", f"expected {PATTERN}.")
        if b.uses.get(kinds["acc"].name) != 1:
            raise b.error(f"the MatMulInteger/ConvInteger result '{kinds['acc'].name}' is used "
                          "more than once", f"expected {PATTERN}.")
        _set_weight_scale(b, kinds["acc"], sp.scale)
        v = kinds["acc"].value
        v.name = b.g.unique(b.out_name)
        return Tensor(value=v, perm=kinds["acc"].perm)
    raise misuse(b, next(t for t in (A, B) if t.dyn is not None))


# onnx.py dispatches: these ops (read only as parts of the pattern, so not in onnx.OPS, the
# table of ops tinyc supports on their own); any op on a Tensor with `dyn` (ON_DYN, else an
# error); ops that check their integer inputs themselves
OPS = {"DynamicQuantizeLinear": DynamicQuantizeLinear, "MatMulInteger": MatMulInteger,
       "ConvInteger": ConvInteger}
INTEGER_INPUT = {"MatMulInteger", "ConvInteger"}
ON_DYN = {"MatMulInteger": MatMulInteger, "ConvInteger": ConvInteger, "Cast": cast, "Mul": mul}


def misuse(b: Builder, t: Tensor):
    what = {"q": "output", "scale": "scale", "zero_point": "zero point",
            "scale_product": "scale (times the weight scale)",
            "acc": "MatMulInteger/ConvInteger result"}[t.dyn.kind]
    return b.error(f"uses the run-time {what} of {t.dyn.node} "
                   "in a way tinyc does not convert", f"only {PATTERN} is supported.")


def _source(b: Builder, t: Tensor | None, zero_point: Tensor | None) -> Tensor:
    """The float activation that a MatMulInteger/ConvInteger input quantizes dynamically."""
    if t is None or t.dyn is None or t.dyn.kind != "q":
        raise b.error("an integer input that is not a DynamicQuantizeLinear output",
                      f"only {PATTERN} is supported (statically quantized integer inputs: "
                      "use QDQ, QuantizeLinear/DequantizeLinear).")
    z = zero_point.dyn if zero_point is not None else None
    if z is None or z.kind != "zero_point" or z.src is not t.dyn.src:
        raise b.error("the input's zero point is not its DynamicQuantizeLinear's",
                      f"expected {PATTERN}.")
    return t.dyn.src


def _weight(b: Builder, W: Tensor, zero_point: Tensor | None, axis: int) -> Tensor:
    """ORT's integer weight W - zero_point as a DequantizeLinear'd int8 constant with zero
    point 0 (builder.symmetric_int8) whose scale is the re-quantization factor (1 where exact);
    `mul` multiplies in the model's scale. axis: the output channels (ONNX layout)."""
    w = W.data
    if w.dtype not in (np.int8, np.uint8):
        raise b.error(f"weights '{W.name}' of type {w.dtype}", "expected int8 or uint8.")
    z = np.zeros(1, w.dtype) if zero_point is None else \
        b.const_input(zero_point, "weight zero point").reshape(-1)
    n = w.shape[axis]
    if z.dtype != w.dtype or z.size not in (1, n):
        raise b.error(f"weight zero point of type {z.dtype} and shape {list(z.shape)} for "
                      f"weights {w.dtype} {list(w.shape)}",
                      f"expected the weights' type, one value or {n} (one per channel).")
    qc = symmetric_int8(b, W.name, QConst(w, np.ones(z.shape), z, axis if z.size > 1 else None),
                        axis)
    shape = [1] * w.ndim
    shape[axis] = -1
    real = qc.data * qc.scale.reshape(shape)                      # (for the shapes only)
    return Tensor(name=W.name, data=real.astype(np.float32), qdata=qc)


def _set_weight_scale(b: Builder, acc: Tensor, scale: np.ndarray) -> None:
    """Multiply the weight's scale by the model's (per tensor, or one per output channel)."""
    w, rank = acc.dyn.weight, acc.rank
    channel, n = acc.dyn.axis % rank, acc.shape[acc.dyn.axis]
    s = np.asarray(scale, np.float64)
    full = s.reshape((1,) * (rank - s.ndim) + s.shape) if s.ndim <= rank else None
    if full is None or any(d != 1 for i, d in enumerate(full.shape) if i != channel) \
            or full.shape[channel] not in (1, n):
        raise b.error(f"scale product of shape {list(s.shape)} for a result of shape "
                      f"{list(acc.shape)}", "expected one scale, or one per output channel.")
    new = np.asarray(w.q.scale, np.float64) * s.reshape(-1)      # sizes 1 or n
    axis = IR_OPS[w.uses[0][0].op].layer.weight_axis if new.size > 1 else None
    w.type = w.type.with_(q=QParams(tuple(float(v) for v in new), (0,) * new.size, axis))


def _layer_weight(v):
    """The weight constant of the conv / fully_connected that computes v (through the reshape
    back of a 3-D MatMul)."""
    p = v.producer
    if p.op == "reshape":
        p = p.inputs[0].producer
    return p.inputs[1]
