"""TFLite builtin ops -> IR: one function per op, named exactly like the builtin.

Each takes a `TflOp` (tflite.py: the op's tensors, options and emit helpers) and returns the IR
value of its output. Integer semantics are TFLite Micro's reference kernels: where an IR op
computes the same thing the op maps onto it; where TFLM copies raw int8 bytes whatever the
scales (RESHAPE, pools, PAD, TRANSPOSE, slices, GATHER, resizes), a differing output
quantization is a relabel
(identity lookup table), not a requantization; LOGISTIC / TANH / HARD_SWISH / QUANTIZE are
lookup tables computed with TFLM's own integer algorithms (tflite_luts.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError
from ..ir import OPS, DType, QParams, Value
from ..ir.ops.shape import slice_attrs
from ..ir.qmath import float_table
from . import tflite_luts as luts
from .tflite_fold import strided_index
from .tflite_luts import as_int8

if TYPE_CHECKING:                        # annotations only: tflite.py imports this module
    from .tflite import TflOp

FLOAT_HINT = ("tinyc compiles fully int8-quantized models (convert with a "
              "representative_dataset, supported_ops=[TFLITE_BUILTINS_INT8] and "
              "inference_input_type = inference_output_type = tf.int8) and float32 models "
              "with float32 weights, quantized from calibration data (--calib)")

SUPPORTED = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL",
             "AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SOFTMAX",
             "PAD", "PADV2", "CONCATENATION", "MEAN", "LOGISTIC", "TANH", "HARD_SWISH",
             "QUANTIZE", "DEQUANTIZE", "TRANSPOSE", "SUM", "REDUCE_MAX",
             "SLICE", "STRIDED_SLICE", "SPLIT", "SPLIT_V", "GATHER", "RESIZE_NEAREST_NEIGHBOR",
             "RESIZE_BILINEAR", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "ELU",
             "RSQRT", "SUB", "SQUARED_DIFFERENCE", "MINIMUM", "MAXIMUM", "PRELU",
             "LOG_SOFTMAX", "UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF"}


def _need_rank(op: TflOp, v: Value, rank: int) -> None:
    if len(v.shape) != rank:
        raise op.error(f"input '{v.name}' has shape {list(v.shape)}, expected rank {rank}",
                       cls=ModelError)


def _same_q(op: TflOp, ir_op: str, x: Value, attrs: dict) -> Value:
    """An op that moves int8 bytes: output quantized as its input, relabelled to the file's."""
    out = op.out()
    if out.q == x.q:
        return op.emit(ir_op, [x], attrs)
    y = op.emit(ir_op, [x], attrs, q=x.q, name=f"{out.name}_raw")
    return op.relabel(y, out.q)


def _reshape(op: TflOp, x: Value, shape, name: str) -> Value:
    y = op.g.emit("reshape", [x], {"shape": tuple(int(d) for d in shape)}, name=name)
    y.type = y.type.with_(q=x.q)
    return y


def _act_code(opts) -> int:
    return opts.FusedActivationFunction() if opts is not None else 0


def _options(op: TflOp, cls_name: str):
    return op.options(cls_name, required=False)


# -- convolutions ------------------------------------------------------------------------------

def CONV_2D(op: TflOp) -> Value:
    o = op.options("Conv2DOptions")
    x, w = op.act(0), op.weight(1, axis=0)
    _need_rank(op, x, 4)
    if x.shape[3] != w.shape[3]:
        raise op.error(f"grouped convolution ({x.shape[3]} input channels, filters of "
                       f"{w.shape[3]})", "tinyc supports groups = 1 or depthwise.")
    stride, dilation = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    attrs = {"stride": stride, "dilation": dilation,
             "pads": op.pads(o.Padding(), x.shape[1:3], w.shape[1:3], stride, dilation)}
    return op.emit("conv2d", [x, w, op.bias(2, w.shape[0])],
                   op.fused(attrs, o.FusedActivationFunction()))


def DEPTHWISE_CONV_2D(op: TflOp) -> Value:
    o = op.options("DepthwiseConv2DOptions")
    x, w = op.act(0), op.weight(1, axis=3)
    _need_rank(op, x, 4)
    if w.shape[0] != 1 or w.shape[3] % x.shape[3]:
        raise op.error(f"depthwise filter shape {list(w.shape)} for {x.shape[3]} input "
                       "channels, expected [1, KH, KW, C * multiplier]", cls=ModelError)
    stride, dilation = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    attrs = {"stride": stride, "dilation": dilation,
             "pads": op.pads(o.Padding(), x.shape[1:3], w.shape[1:3], stride, dilation)}
    return op.emit("depthwise_conv2d", [x, w, op.bias(2, w.shape[3])],
                   op.fused(attrs, o.FusedActivationFunction()))


def FULLY_CONNECTED(op: TflOp) -> Value:
    o = op.options("FullyConnectedOptions")
    if o.WeightsFormat() != 0:
        raise op.error("shuffled weights format", "use the DEFAULT weights format.")
    x, w = op.act(0), op.weight(1, axis=0, rank=2)
    out_n, k = w.shape
    if x.type.size % k:
        raise op.error(f"input '{x.name}' {list(x.shape)} is not a multiple of {k} features",
                       cls=ModelError)
    if x.shape != (x.type.size // k, k):
        x = _reshape(op, x, (x.type.size // k, k), f"{x.name}_2d")
    attrs = op.fused({}, o.FusedActivationFunction())
    out = op.out()
    flat = (x.shape[0], out_n)
    keep_dims = out.shape != flat
    y = op.emit("fully_connected", [x, w, op.bias(2, out_n)], attrs, shape=flat,
                name=f"{out.name}_fc" if keep_dims else None)
    return op.emit("reshape", [y], {"shape": out.shape}) if keep_dims else y


# -- elementwise -------------------------------------------------------------------------------

def _binary(op: TflOp, ir_op: str, options: str | None) -> Value:
    a, b = op.act(0), op.act(1)
    if a.is_const and b.is_const:
        raise op.error("both operands are constants", "fold them when converting.")
    code = _act_code(_options(op, options)) if options else 0
    return op.emit(ir_op, [a, b], op.fused({}, code))


def ADD(op: TflOp) -> Value:
    return _binary(op, "add", "AddOptions")


def MUL(op: TflOp) -> Value:
    return _binary(op, "mul", "MulOptions")


def SUB(op: TflOp) -> Value:
    return _binary(op, "sub", "SubOptions")


def SQUARED_DIFFERENCE(op: TflOp) -> Value:
    return _binary(op, "squared_difference", None)


def _raw_binary(op: TflOp, ir_op: str) -> Value:
    """TFLM compares the raw int8 values whatever the scales (the int8 spec wants both
    operands quantized as the output; the converter does so): an operand quantized otherwise
    is relabelled to the output's q (its bytes unchanged), not requantized."""
    q = op.out().q
    if op.tensor(0).is_const and op.tensor(1).is_const:
        raise op.error("both operands are constants", "fold them when converting.")
    order = (0, 1)
    if op.is_int16 and op.tensor(0).is_const:   # int16 follows operand 0: the activation
        order = (1, 0)
    xs = [op.const(i, q, "INT16" if op.is_int16 else "INT8") if op.tensor(i).is_const else
          op.relabel(op.act(i), q) for i in order]
    return op.emit(ir_op, xs)


def MINIMUM(op: TflOp) -> Value:
    return _raw_binary(op, "minimum")


def MAXIMUM(op: TflOp) -> Value:
    return _raw_binary(op, "maximum")


def PRELU(op: TflOp) -> Value:
    """alpha (input 1): a constant broadcast against x, typically one value per channel."""
    x, alpha = op.act(0), op.act(1)
    if not alpha.is_const:
        raise op.error("alpha computed at run time", "tinyc supports a constant alpha.")
    return op.emit("prelu", [x, alpha])


def _lut(op: TflOp, table, fn: str, float_op: str | None = None,
         attrs: dict | None = None) -> Value:
    """The int8 table TFLM computes. When quantize would tabulate the IR's float op `float_op`
    {attrs} to exactly this table, emit that op instead: the float graph keeps its float
    semantics."""
    x, table, attrs = op.act(0), tuple(int(v) for v in table), attrs or {}
    if float_op is not None:
        if float_table(OPS[float_op].table, attrs, x.q, op.out().q) == table:
            return op.emit(float_op, [x], dict(attrs))
    return op.emit("lut", [x], {"table": table, "fn": fn})


def _float_unary(op: TflOp, ir_op: str | None, attrs: dict | None = None) -> Value:
    """A float model's activation function: the IR float op (quantize tabulates it)."""
    if ir_op is None:
        raise op.error(f"float {op.name}", "tinyc quantizes float models with the ops of "
                       "its float IR; this one has none: use an int8 model.")
    return op.emit(ir_op, [op.act(0)], attrs or {})


def _q15_output(op: TflOp) -> Value:
    """16x8 LOGISTIC / TANH: TFLM needs the int16 output at scale 2^-15; the input value."""
    y = op.out().q
    if abs(float(y.scale[0]) * 32768.0 - 1.0) > 1e-6:
        raise op.error(f"int16 output scale {float(y.scale[0])}, TFLite Micro needs 2^-15",
                       f"Quantize the {op.name} output at 1/32768.", cls=ModelError)
    return op.act(0)


def LOGISTIC(op: TflOp) -> Value:
    if op.is_float:
        return _float_unary(op, "sigmoid")
    if op.is_int16:
        return op.emit("logistic16", [_q15_output(op)])
    if op.out().q.zero_point != (-128,):
        raise op.error(f"output zero point {op.out().q.zero_point[0]}, TFLite Micro needs -128",
                       cls=ModelError)
    return _lut(op, luts.logistic_table(op.act(0).q), "tflm_logistic", "sigmoid")


def TANH(op: TflOp) -> Value:
    if op.is_float:
        return _float_unary(op, "tanh")
    if op.is_int16:
        return op.emit("tanh16", [_q15_output(op)])
    return _lut(op, luts.tanh_table(op.act(0).q), "tflm_tanh", "tanh")


def HARD_SWISH(op: TflOp) -> Value:
    if op.is_float:
        return _float_unary(op, "hard_swish")
    try:
        table = luts.hard_swish_table(op.act(0).q, op.out().q)
    except ValueError as e:
        raise op.error(str(e), cls=ModelError) from None
    return _lut(op, table, "tflm_hard_swish", "hard_swish")


def _relu(op: TflOp, lo: float, hi: float, fn: str) -> Value:
    if op.is_float:
        return _float_unary(op, "relu") if (lo, hi) == (0.0, float("inf")) else \
            _float_unary(op, "clip", {"min": lo, "max": hi})
    return _lut(op, luts.relu_table(op.act(0).q, op.out().q, lo, hi), fn)


def RELU(op: TflOp) -> Value:
    if op.is_int16:
        return op.emit("leaky_requantize", [op.act(0)], {"alpha": 0.0})
    return _relu(op, 0.0, float("inf"), "tflm_relu")


def RELU_N1_TO_1(op: TflOp) -> Value:
    """Not a TFLM kernel; TFLite's ReluQuantized with the range [-1, 1]."""
    return _relu(op, -1.0, 1.0, "tflite_relu_n1_to_1")


def RELU6(op: TflOp) -> Value:
    """TFLM clamps the raw input bytes (no requantization to the output's scale)."""
    if op.is_float:
        return _float_unary(op, "clip", {"min": 0.0, "max": 6.0})
    if op.is_int16:
        return _relu6_int16(op)
    return _lut(op, luts.relu6_table(op.act(0).q), "tflm_relu6")


def _relu6_int16(op: TflOp) -> Value:
    """16x8 RELU6: TFLM's Relu6Quantized<int16_t> clamps the raw values to [0,
    FloatToQuantizedType<int16_t>(6)] (zero point 0): maximum with 0, then minimum with six,
    both int16 constants in the input's quantization."""
    x, out = op.act(0), op.out()
    q = x.q
    six = int(np.clip(luts.round_half_away(float(np.float32(6.0) / np.float32(q.s))),
                      -32768, 32767))
    zero = op.g.const(f"{out.name}_zero", np.zeros((1,), np.int16), q)
    top = op.g.const(f"{out.name}_six", np.array([six], np.int16), q)
    lo = op.g.emit("maximum", [x, zero], name=f"{out.name}_lo")
    lo.type = lo.type.with_(q=q)
    if out.q != q:
        raise op.error(f"int16 output quantization {out.q} differs from its input's {q}",
                       "TFLM's RELU6 copies raw values: give input and output the same "
                       "scale.", ModelError)
    return op.emit("minimum", [lo, top])


def LEAKY_RELU(op: TflOp) -> Value:
    o = _options(op, "LeakyReluOptions")
    alpha = float(o.Alpha()) if o is not None else 0.2
    if op.is_float:
        return _float_unary(op, "leaky_relu", {"alpha": alpha})
    if op.is_int16:     # TFLM QuantizeLeakyRelu<int16_t>: two multipliers, no table
        if not alpha >= 0.0:
            raise op.error(f"16x8 LEAKY_RELU with alpha {alpha}",
                           "tinyc's 16x8 LEAKY_RELU takes alpha >= 0.")
        return op.emit("leaky_requantize", [op.act(0)], {"alpha": alpha})
    table = luts.leaky_relu_table(op.act(0).q, op.out().q, alpha)
    return _lut(op, table, "tflm_leaky_relu", "leaky_relu", {"alpha": alpha})


def ELU(op: TflOp) -> Value:
    if op.is_float:
        return _float_unary(op, "elu")
    return _lut(op, luts.elu_table(op.act(0).q, op.out().q), "tflm_elu", "elu")


def RSQRT(op: TflOp) -> Value:
    """Inputs below the zero point (negative reals) are TFLM errors: the table gives 127."""
    if op.is_float:
        return _float_unary(op, None)
    if op.is_int16:
        if op.act(0).q.zero_point != (0,) or op.out().q.zero_point != (0,):
            raise op.error("int16 zero points must be 0", "TFLite Micro's int16 RSQRT "
                           "needs symmetric input and output.", ModelError)
        return op.emit("rsqrt16", [op.act(0)])
    return _lut(op, luts.rsqrt_table(op.act(0).q, op.out().q), "tflm_rsqrt")


# -- pooling, softmax, reductions -----------------------------------------------------------------

def _pool(op: TflOp, ir_op: str) -> Value:
    o = op.options("Pool2DOptions")
    x = op.act(0)
    _need_rank(op, x, 4)
    kernel, stride = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
    attrs = {"kernel": kernel, "stride": stride,
             "pads": op.pads(o.Padding(), x.shape[1:3], kernel, stride, (1, 1))}
    return _same_q(op, ir_op, x, op.fused(attrs, o.FusedActivationFunction()))


def AVERAGE_POOL_2D(op: TflOp) -> Value:
    return _pool(op, "avg_pool2d")


def MAX_POOL_2D(op: TflOp) -> Value:
    return _pool(op, "max_pool2d")


def SOFTMAX(op: TflOp) -> Value:
    o = _options(op, "SoftmaxOptions")
    q = op.out().q
    if op.is_float:
        return op.emit("softmax", [op.act(0)], {"beta": float(o.Beta()) if o else 1.0})
    if op.is_int16:
        x = op.act(0)
        if x.q.zero_point != (0,):
            raise op.error(f"int16 input zero point {x.q.zero_point[0]}, TFLite Micro needs 0",
                           cls=ModelError)
        return op.emit("softmax16", [_q15_output(op)], {"beta": float(o.Beta()) if o else 1.0})
    if op.out().dtype == "INT16":
        return _softmax8_16(op, o)
    if q.zero_point != (-128,) or not np.isclose(q.scale[0], 1 / 256, rtol=0, atol=1e-6):
        raise op.error(f"output quantization {q}, TFLite Micro needs scale 1/256 and zero "
                       "point -128", cls=ModelError)
    return op.emit("softmax", [op.act(0)], {"beta": float(o.Beta()) if o else 1.0})


def _reduce(op: TflOp, ir_op: str) -> Value:
    """MEAN / SUM / REDUCE_MAX over any axes (keep_dims both), TFLM's integer forms
    (ir/ops/reduce.py)."""
    o = _options(op, "ReducerOptions")
    x = op.act(0)
    r = len(x.shape)
    axes = [int(a) for a in op.values_of(1, "axis").reshape(-1)]
    if r == 0 or not axes or not all(-r <= a < r for a in axes):
        raise op.error(f"{op.name} over axes {axes} of a rank-{r} tensor", cls=ModelError)
    attrs = {"axes": tuple(sorted({a % r for a in axes})),
             "keep_dims": bool(o.KeepDims()) if o is not None else False}
    if ir_op == "reduce_max":
        if op.out().q != x.q:
            raise op.error(f"output quantization {op.out().q} differs from the input's {x.q}",
                           "TFLite Micro's REDUCE_MAX needs them equal.", ModelError)
        return op.emit(ir_op, [x], attrs, q=x.q)
    return op.emit(ir_op, [x], attrs)


def LOG_SOFTMAX(op: TflOp) -> Value:
    q = op.out().q
    if op.is_float:
        return op.emit("log_softmax", [op.act(0)])
    if q.zero_point != (127,) or np.float32(q.scale[0]) != np.float32(16 / 256):
        raise op.error(f"output quantization {q}, TFLite Micro needs scale 16/256 and zero "
                       "point 127", cls=ModelError)
    return op.emit("log_softmax", [op.act(0)])


def MEAN(op: TflOp) -> Value:
    return _reduce(op, "mean")


def SUM(op: TflOp) -> Value:
    return _reduce(op, "sum")


def REDUCE_MAX(op: TflOp) -> Value:
    return _reduce(op, "reduce_max")


# -- data movement -----------------------------------------------------------------------------

def RESHAPE(op: TflOp) -> Value:
    return _same_q(op, "reshape", op.act(0), {"shape": op.out().shape})


SQUEEZE = EXPAND_DIMS = RESHAPE


def PAD(op: TflOp) -> Value:
    x, out = op.act(0), op.out()
    p = op.values_of(1, "paddings")
    if p.shape != (len(x.shape), 2) or (p < 0).any():
        raise op.error(f"paddings {p.tolist()} for a rank-{len(x.shape)} input", cls=ModelError)
    if op.is_float:                                 # zeros, or PADV2's float constant
        c = op.tensor(2)
        if c is not None and (not c.is_const or c.data.size != 1):
            raise op.error(f"constant_values {c.describe()}: expected one constant",
                           cls=ModelError)
        value = float(c.data.reshape(-1)[0]) if c is not None else 0.0
    else:
        raw = out.q.zp                              # TFLM pads with the output zero point ...
        if op.tensor(2) is not None:                # ... or PADV2's constant (raw int8)
            raw = int(op.values_of(2, "constant_values").reshape(-1)[0])
        value = (raw - x.q.zp) * x.q.s              # that raw byte, read in x's quantization
    attrs = {"pads": tuple(int(v) for v in (*p[:, 0], *p[:, 1])), "value": float(value)}
    return _same_q(op, "pad", x, attrs)


PADV2 = PAD


def CONCATENATION(op: TflOp) -> Value:
    """Raw copies: TFLite's int8 spec and TFLM's Prepare want every input quantized as the
    output."""
    o, out = op.options("ConcatenationOptions"), op.out()
    if o.FusedActivationFunction() != 0:
        raise op.error("fused activation on CONCATENATION (TFLite Micro refuses it)")
    for t in op.in_tensors():
        if t.q != out.q:
            raise op.error(f"input {t.describe()} is quantized as {t.q}, the output as "
                           f"{out.q}", "TFLite's int8 spec (and TFLite Micro) need them equal.",
                           ModelError)
    if op.is_int16 and any(t.is_const for t in op.in_tensors()):
        raise op.error("16x8 CONCATENATION with a constant input", "tinyc's 16x8 "
                       "CONCATENATION takes int16 activations only.")
    xs = [op.const(i, out.q) if op.tensor(i).is_const else op.act(i)
          for i in range(len(op.inputs))]
    rank = len(out.shape)
    if not -rank <= o.Axis() < rank:
        raise op.error(f"axis {o.Axis()} out of range for rank {rank}", cls=ModelError)
    return op.emit("concat", xs, {"axis": o.Axis() % rank})


def TRANSPOSE(op: TflOp) -> Value:
    """Raw int8 copies in TFLM (any permutation, rank <= 5)."""
    x = op.act(0)
    perm = [int(p) for p in op.values_of(1, "perm").reshape(-1)]
    if sorted(p % max(len(x.shape), 1) for p in perm) != list(range(len(x.shape))):
        raise op.error(f"perm {perm} for a rank-{len(x.shape)} input", cls=ModelError)
    return _same_q(op, "transpose", x, {"perm": tuple(p % len(x.shape) for p in perm)})


def _slice_out(op: TflOp, x: Value, index: list, k: int = 0) -> Value:
    """Output k = x[index] (per axis a Python slice, or an int: the axis is dropped), as TFLM
    copies it: raw int8 bytes (a differing output q is a relabel)."""
    try:
        attrs = slice_attrs(x.shape, index)
    except ValueError as e:
        raise op.error(str(e), cls=ModelError) from None
    shape = tuple(len(range(*t)) for t in zip(attrs["begin"], attrs["end"], attrs["strides"]))
    out = op.out(k)
    if shape == out.shape and out.q == x.q:
        return op.emit("slice", [x], attrs, out=k)
    y = op.emit("slice", [x], attrs, out=k, q=x.q, shape=shape, name=f"{out.name}_raw")
    if shape != out.shape:
        y = _reshape(op, y, out.shape, f"{out.name}_shaped")
    return op.relabel(y, out.q)


def SLICE(op: TflOp) -> Value:
    x = op.act(0)
    begin, size = (op.values_of(i, w).reshape(-1).tolist()
                   for i, w in ((1, "begin"), (2, "size")))
    if not len(begin) == len(size) == len(x.shape):
        raise op.error(f"begin {begin}, size {size} for a rank-{len(x.shape)} input",
                       cls=ModelError)
    ends = [n if z == -1 else b + z for b, z, n in zip(begin, size, x.shape)]
    if any(not 0 <= b < e <= n for b, e, n in zip(begin, ends, x.shape)):
        raise op.error(f"slice begin {begin} size {size} outside shape {list(x.shape)}",
                       cls=ModelError)
    return _slice_out(op, x, [slice(b, e) for b, e in zip(begin, ends)])


def STRIDED_SLICE(op: TflOp) -> Value:
    """begin/end/stride per axis with TFLM's masks; shrink_axis drops an axis (a free
    reshape)."""
    x = op.act(0)
    begin, end, strides = (op.values_of(i, w).reshape(-1).tolist()
                           for i, w in ((1, "begin"), (2, "end"), (3, "strides")))
    return _slice_out(op, x, strided_index(op, x.shape, begin, end, strides, ""))


def _split(op: TflOp, x: Value, axis: int) -> list[Value]:
    """One slice per output, sizes from the file's outputs (checked to tile the axis)."""
    r = len(x.shape)
    if not -r <= axis < r:
        raise op.error(f"axis {axis} out of range for rank {r}", cls=ModelError)
    axis %= r
    sizes = [op.out(k).shape[axis] if len(op.out(k).shape) == r else -1
             for k in range(len(op.outputs))]
    if min(sizes) < 1 or sum(sizes) != x.shape[axis]:
        raise op.error(f"outputs of sizes {sizes} along axis {axis} of {list(x.shape)}",
                       cls=ModelError)
    outs, at = [], 0
    for k, n in enumerate(sizes):
        index = [slice(None)] * r
        index[axis] = slice(at, at + n)
        outs.append(_slice_out(op, x, index, k))
        at += n
    return outs


def SPLIT(op: TflOp) -> list[Value]:
    return _split(op, op.act(1), int(op.values_of(0, "axis").reshape(-1)[0]))


def SPLIT_V(op: TflOp) -> list[Value]:
    return _split(op, op.act(0), int(op.values_of(2, "axis").reshape(-1)[0]))


def GATHER(op: TflOp) -> Value:
    """Constant indices, batch_dims 0: raw int8 copies of slices along the axis."""
    o, x = _options(op, "GatherOptions"), op.act(0)
    if o is not None and o.BatchDims():
        raise op.error("GATHER with batch_dims", "tinyc supports batch_dims = 0.")
    r = len(x.shape)
    axis = o.Axis() if o is not None else 0
    if not -r <= axis < r:
        raise op.error(f"axis {axis} out of range for rank {r}", cls=ModelError)
    axis %= r
    idx = op.values_of(1, "indices")
    if idx.size == 0 or idx.min() < 0 or idx.max() >= x.shape[axis]:
        raise op.error(f"indices {idx.reshape(-1).tolist()} out of range for dimension "
                       f"{axis} of {list(x.shape)}", cls=ModelError)
    return _same_q(op, "gather", x, {"axis": axis, "indices": tuple(int(i) for i in idx.flat),
                                     "indices_shape": tuple(idx.shape)})


def _nearest(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> tuple:
    """TFLM's GetNearestNeighbor (reference/resize_nearest_neighbor.h), in float32 as it."""
    f32 = np.float32
    scale = (f32(in_size - 1) / f32(out_size - 1) if align_corners and out_size > 1 else
             f32(in_size) / f32(out_size))
    pos = (np.arange(out_size).astype(f32) + f32(0.5 if half_pixel else 0.0)) * f32(scale)
    pos = pos.astype(f32)
    ix = (np.sign(pos) * np.floor(np.abs(pos) + f32(0.5)) if align_corners else np.floor(pos))
    ix = np.minimum(ix.astype(np.int64), in_size - 1)
    return tuple(int(i) for i in (np.maximum(ix, 0) if half_pixel else ix))


def _resize(op: TflOp, options: str) -> tuple[Value, tuple[int, int], bool, bool]:
    """RESIZE_*'s (x, output (h, w), align_corners, half_pixel_centers)."""
    o, x = _options(op, options), op.act(0)
    _need_rank(op, x, 4)
    size = op.values_of(1, "size").reshape(-1)
    if size.shape != (2,) or size.min() < 1:
        raise op.error(f"size {size.tolist()}", cls=ModelError)
    align, half = (bool(o.AlignCorners()), bool(o.HalfPixelCenters())) if o else (False, False)
    return x, (int(size[0]), int(size[1])), align, half


def RESIZE_NEAREST_NEIGHBOR(op: TflOp) -> Value:
    x, size, align, half = _resize(op, "ResizeNearestNeighborOptions")
    attrs = {"h_index": _nearest(x.shape[1], size[0], align, half),
             "w_index": _nearest(x.shape[2], size[1], align, half)}
    return _same_q(op, "resize_nearest", x, attrs)


def RESIZE_BILINEAR(op: TflOp) -> Value:
    x, size, align, half = _resize(op, "ResizeBilinearOptions")
    if align and half:
        raise op.error("align_corners with half_pixel_centers", "TFLite Micro refuses it.",
                       ModelError)
    return _same_q(op, "resize_bilinear", x, {"size": size, "align_corners": align,
                                              "half_pixel_centers": half})


# -- quantize / dequantize ---------------------------------------------------------------------

def QUANTIZE(op: TflOp) -> Value:
    """float32 model input -> int8: the input itself, quantized. int8 -> int8 and uint8 ->
    int8 / int8 -> uint8 (a uint8 model input or output, or a uint8 tensor inside the graph
    read by QUANTIZE / DEQUANTIZE, seen as int8 bytes u ^ 0x80 with zero point - 128:
    tflite.as_int8): TFLM's Requantize, as a lookup table."""
    src, out = op.tensor(0), op.out()
    if "INT32" in (src.dtype, out.dtype):
        raise op.error(f"QUANTIZE of {src.describe()} to {out.describe()}: int32 activations",
                       "tinyc's activations are int8 or int16 (uint8 and float32 at the "
                       "model's boundary); TFLite Micro's int32 QUANTIZE forms are not "
                       "supported.")
    if "INT16" in (src.dtype, out.dtype):
        return _quantize_int16(op, src, out)
    if out.dtype not in ("INT8", "UINT8") or out.q is None or len(out.q.scale) != 1:
        raise op.error(f"QUANTIZE to {out.describe()}", "tinyc supports per-tensor int8 "
                       "(and uint8 at the model's output).")
    if out.dtype == "UINT8" and src.dtype != "INT8":     # TFLM: int8 -> uint8 only
        raise op.error(f"QUANTIZE of {src.describe()} to {out.describe()}",
                       "TFLite Micro quantizes to uint8 from int8 only.")
    q_out = as_int8(out.q) if out.dtype == "UINT8" else out.q
    if src.dtype in ("INT8", "UINT8"):
        x = op.act(0)
        if x.q == q_out:
            return x
        table = luts.requantize_table(x.q, q_out)
        return op.emit("lut", [x], {"table": table, "fn": "tflm_requantize"}, q=q_out)
    v = op.imp.values.get(src.index)
    if src.dtype != "FLOAT32" or v is None or v not in op.g.inputs:
        raise op.error(f"QUANTIZE of {src.describe()}: float computations before it",
                       FLOAT_HINT + ".", ModelError)
    if v.q is not None and v.q != q_out:
        raise op.error(f"input '{v.name}' is quantized twice ({v.q} and {q_out})")
    v.type = v.type.with_(q=q_out)                  # the model quantizes its float input
    return v


def _quantize_int16(op: TflOp, src, out) -> Value:
    """QUANTIZE between int8 and int16 (int16 model I/O, around 16x8 layers such as the
    LSTM): IR requantize (TFLM's Requantize, the same arithmetic); int16 symmetric. float32
    model input -> int16 (a 16x8 model with float I/O): the input itself, quantized to int16
    (as float -> int8: the C API takes the quantized values, here int16_t)."""
    v = op.imp.values.get(src.index)
    if src.dtype == "FLOAT32" and out.dtype == "INT16" and v is not None and v in op.g.inputs:
        if out.q is None or len(out.q.scale) != 1 or any(out.q.zero_point):
            raise op.error(f"QUANTIZE to {out.describe()}", "int16 activations are "
                           "symmetric and per tensor (zero point 0).", ModelError)
        if v.q is not None and v.q != out.q:
            raise op.error(f"input '{v.name}' is quantized twice ({v.q} and {out.q})")
        v.type = v.type.with_(q=out.q)
        op.g.io_dtype[v.name] = DType.INT16          # int16 inside; float at the Python API
        return v
    if {src.dtype, out.dtype} not in ({"INT8", "INT16"}, {"INT16"}) or src.is_const:
        raise op.error(f"QUANTIZE of {src.describe()} to {out.describe()}",
                       "tinyc supports QUANTIZE between int8 and int16 activations (and "
                       "int16 -> int16), and float32 -> int16 at a model input (a 16x8 "
                       "model with float I/O).")
    for t in (src, out):
        if t.q is None or len(t.q.scale) != 1:
            raise op.error(f"QUANTIZE {t.describe()} needs per-tensor quantization, got {t.q}")
    if out.dtype == "INT16" and any(out.q.zero_point):
        raise op.error(f"QUANTIZE to {out.describe()} with zero point {out.q.zp}",
                       "int16 activations are symmetric (zero point 0).", ModelError)
    x = op.act(0)
    if src.dtype == out.dtype and x.q == out.q:        # int16 -> int16, the same q
        return x
    return op.emit("requantize", [x], {"to": "i8" if out.dtype == "INT8" else "i16"})


def DEQUANTIZE(op: TflOp) -> Value:
    """int8 -> float at the model's output: the int8 value itself (tinyc dequantizes I/O);
    int16 -> float at the model's output (16x8 float I/O): the int16 value, kept int16."""
    src = op.tensor(0)
    if src.is_const:
        raise op.error(f"DEQUANTIZE of the constant {src.describe()}: weights dequantized at "
                       "run time make this a float model", FLOAT_HINT + ".", ModelError)
    if src.dtype not in ("INT8", "UINT8", "INT16"):
        raise op.error(f"DEQUANTIZE of {src.describe()}", "tinyc supports int8, uint8 and "
                       "int16 (as TFLite Micro) at the model's output.")
    if op.out().index not in op.imp.model.outputs:
        users = [o for o in op.imp.model.operators if op.out().index in o.inputs]
        who = (f" (read by operator #{users[0].index} "
               f"{op.imp.op_names.get(users[0].opcode, users[0].opcode)})" if users else "")
        raise op.error(f"DEQUANTIZE of {src.describe()} inside the graph{who}: float "
                       "computations between quantized ones", "tinyc runs integer graphs: "
                       "DEQUANTIZE is supported at the model's outputs only (float output); "
                       "convert the model fully quantized (int8 or 16x8).", ModelError)
    if src.dtype == "INT16":
        op.imp.dequantized16.add(op.out().index)       # a 16x8 model's float output
    return op.act(0)        # uint8: its int8 view, the same float values


def _softmax8_16(op: TflOp, o) -> Value:
    """int8 input, int16 output (TFLM Softmax<int8_t, int16_t>): IR softmax8_16, its output
    scale 1/65536 and zero point -32768 as TFLM's Prepare requires. The asymmetric int16 value
    may only be a model output (tinyc's other int16 values are symmetric)."""
    out, src = op.out(), op.tensor(0)
    q = out.q
    if src.dtype != "INT8" or q is None or len(q.scale) != 1:
        raise op.error(f"input {src.describe()}, output {out.describe()}", "tinyc's SOFTMAX "
                       "with an int16 output takes int8 input (TFLite Micro's int8 -> int16 "
                       "form).", ModelError)
    if q.zero_point != (-32768,) or abs(q.scale[0] - 1 / 65536) > 0.001 / 65536:
        raise op.error(f"int16 output quantization {q}, TFLite Micro needs scale 1/65536 and "
                       "zero point -32768 for int8 input", cls=ModelError)
    readers = [r for r in op.imp.model.operators if out.index in r.inputs]
    if out.index not in op.imp.model.outputs or readers:
        who = (f"operator #{readers[0].index} "
               f"{op.imp.op_names.get(readers[0].opcode, readers[0].opcode)}" if readers
               else "nothing")
        raise op.error(f"int16 output {out.describe()} (zero point -32768) read by {who}",
                       "tinyc supports the int8 -> int16 SOFTMAX as a model output only (its "
                       "int16 values with zero point -32768 feed no other op); use an int8 "
                       "output (scale 1/256, zero point -128) inside the graph.")
    return op.emit("softmax8_16", [op.act(0)], {"beta": float(o.Beta()) if o else 1.0})


# -- transpose_conv, batch_matmul, l2_normalization (#16) ---------------------------------------

def _tflm_transpose_pad(out_size: int, kernel: int, stride: int, same: bool) -> int:
    """TFLM transpose_conv.cc: ComputePaddingHeightWidth run on the *output* size (as TFLite's
    GetWindowedOutputSize): the leading padding, total // 2."""
    n = (out_size + stride - 1) // stride if same else (out_size - kernel + stride) // stride
    return max((n - 1) * stride + kernel - out_size, 0) // 2


def TRANSPOSE_CONV(op: TflOp) -> Value:
    """inputs: output_shape (constant), weights OHWI, input, bias (optional)."""
    o = op.options("TransposeConvOptions")
    shape = op.values_of(0, "output_shape").reshape(-1)
    w, x = op.weight(1, axis=0), op.act(2)
    _need_rank(op, x, 4)
    if shape.shape != (4,) or shape.min() < 1 or int(shape[3]) != w.shape[0]:
        raise op.error(f"output_shape {shape.tolist()} for weights {list(w.shape)}",
                       cls=ModelError)
    if x.shape[3] != w.shape[3]:
        raise op.error(f"weights {list(w.shape)} for {x.shape[3]} input channels",
                       cls=ModelError)
    stride = (o.StrideH(), o.StrideW())
    if min(stride) < 1:
        raise op.error(f"stride {list(stride)}: expected values >= 1", cls=ModelError)
    if o.Padding() not in (op.imp.tfl.Padding.SAME, op.imp.tfl.Padding.VALID):
        raise op.error(f"padding {o.Padding()} is not SAME or VALID", cls=ModelError)
    same = o.Padding() == op.imp.tfl.Padding.SAME
    size = (int(shape[1]), int(shape[2]))
    pads = tuple(_tflm_transpose_pad(size[i], w.shape[1 + i], stride[i], same) for i in (0, 1))
    attrs = {"stride": stride, "padding": pads, "out_size": size}
    bias = op.bias(3, w.shape[0]) if len(op.inputs) > 3 else None
    return op.emit("transpose_conv2d", [x, w, bias], op.fused(attrs, _act_code(o)))


def BATCH_MATMUL(op: TflOp) -> Value:
    """lhs @ rhs (either may be an int8 constant), per-tensor quantized, batch dims broadcast."""
    o = _options(op, "BatchMatMulOptions")
    a, b = op.act(0), op.act(1)
    if a.is_const and b.is_const:
        raise op.error("both operands are constants", "fold them when converting.")
    for v in (a, b):
        if v.q is None or len(v.q.scale) != 1:
            raise op.error(f"operand '{v.name}' needs per-tensor quantization, got {v.q}",
                           cls=ModelError)
        if not 2 <= len(v.shape) <= 5:
            raise op.error(f"operand '{v.name}' has shape {list(v.shape)}",
                           "BATCH_MATMUL takes ranks 2 to 5.", ModelError)
    attrs = {"adj_x": bool(o.AdjX()) if o else False, "adj_y": bool(o.AdjY()) if o else False}
    return op.emit("batch_matmul", [a, b], attrs)


def L2_NORMALIZATION(op: TflOp) -> Value:
    """Over the last axis (rank <= 4, as TFLM); TFLM writes 1/128 steps with zero point 0
    whatever the output tensor's quantization: a differing one is a relabel."""
    o, x = _options(op, "L2NormOptions"), op.act(0)
    if len(x.shape) > 4 or len(x.shape) < 1:
        raise op.error(f"input '{x.name}' has shape {list(x.shape)}",
                       "L2_NORMALIZATION takes ranks 1 to 4.", ModelError)
    if _act_code(o) != 0:
        raise op.error(f"fused activation {_act_code(o)}",
                       "TFLite Micro's L2_NORMALIZATION takes none.", ModelError)
    fixed = QParams((1.0 / 128.0,), (0,))
    if op.out().q == fixed:
        return op.emit("l2_norm", [x], {})
    y = op.emit("l2_norm", [x], {}, q=fixed, name=f"{op.out().name}_raw")
    return op.relabel(y, op.out().q)


SUPPORTED |= {"TRANSPOSE_CONV", "BATCH_MATMUL", "L2_NORMALIZATION"}
# -- recurrent ---------------------------------------------------------------------------------

LSTM_OPTIONAL = {9: "peephole (cell-to-input) weights", 10: "peephole (cell-to-forget) weights",
                 11: "peephole (cell-to-output) weights", 16: "projection weights",
                 17: "projection bias", 20: "input layer-norm coefficients",
                 21: "forget layer-norm coefficients", 22: "cell layer-norm coefficients",
                 23: "output layer-norm coefficients"}


def _lstm_bias(op: TflOp, i: int, n: int, wide: bool) -> Value:
    if not wide:
        return op.bias(i, n)
    t = op.tensor(i)
    if t is None or not t.is_const or t.dtype != "INT64" or t.shape != (n,):
        got = t.describe() if t is not None else "nothing"
        raise op.error(f"16x8 LSTM bias {got}: expected an int64 constant of shape [{n}]",
                       cls=ModelError)
    q = t.q or QParams((1.0,), (0,), None)
    return op.const(i, q, "INT64")


def UNIDIRECTIONAL_SEQUENCE_LSTM(op: TflOp) -> Value:
    """TFLite Micro's integer LSTM (ir/ops/lstm.py): int8 input, output and hidden state, int8
    weights per tensor, int32 gate biases, int16 cell state at a power-of-two scale; or 16x8
    (int16 input, output and hidden state with zero point 0, int64 biases). What TFLM refuses
    (CIFG, peephole, projection, layer norm, a non-TANH cell activation, per-channel weights
    that its LSTM reads with one multiplier) is refused here too. The state tensors (inputs
    18, 19) start at zero in every run (the hidden state at its zero point)."""
    o = op.options("UnidirectionalSequenceLSTMOptions")
    if len(op.inputs) != 24:
        raise op.error(f"{len(op.inputs)} inputs, TFLite Micro's LSTM takes 24", cls=ModelError)
    for i, what in LSTM_OPTIONAL.items():
        if op.tensor(i) is not None:
            raise op.error(f"{what} (input {i})", "TFLite Micro's LSTM supports no peephole, "
                           "projection or layer norm: convert the layer without them.")
    for i in (1, 5, 12):
        if op.tensor(i) is None:
            raise op.error("CIFG (no input gate)", "TFLite Micro's LSTM needs the input gate "
                           "weights and bias.")
    act = _act_code(o)
    if act != 4:                             # TANH (TFLM asserts on the others)
        raise op.error(f"cell gate activation {act}", "TFLite Micro's LSTM needs TANH.")
    x = op.act(0)
    _need_rank(op, x, 3)
    h_t, c_t = op.tensor(18), op.tensor(19)
    wide = op.tensor(0).dtype == "INT16"           # 16x8: int16 activations, int64 biases
    h_type = "INT16" if wide else "INT8"
    for t, what, dtype in ((h_t, "hidden (output) state", h_type), (c_t, "cell state", "INT16")):
        if t is None or not t.is_variable:
            raise op.error(f"{what} (input {18 if what[0] == 'h' else 19}) must be a variable "
                           "tensor", cls=ModelError)
        if t.dtype != dtype or t.q is None or len(t.q.scale) != 1:
            raise op.error(f"{what} {t.describe()}: expected {dtype.lower()} quantized per "
                           "tensor", "tinyc supports the int8 and 16x8 LSTM (int16 cell "
                           "state).")
    if wide and (op.out().dtype != "INT16" or h_t.q.zero_point[0] or x.q.zp):
        raise op.error("16x8 LSTM with an asymmetric or non-int16 input, hidden state or "
                       "output", "int16 tensors must have zero point 0.", ModelError)
    hid = h_t.shape[-1]
    weights = [op.weight(k, axis=0, rank=2) for k in range(1, 9)]
    for w in weights:
        if len(w.q.scale) != 1:
            raise op.error(f"weights {w.name} are quantized per channel",
                           "TFLite Micro's LSTM uses per-tensor weight scales.")
    biases = [_lstm_bias(op, k, hid, wide) for k in range(12, 16)]
    time_major = bool(o.TimeMajor())
    attrs = {"time_major": time_major, "cell_clip": float(o.CellClip()),
             "cell_scale": float(c_t.q.scale[0])}
    y = op.emit("lstm", [x, *weights, *biases], attrs, q=h_t.q,
                name=None if op.out().q == h_t.q else f"{op.out().name}_h")
    if wide:
        if op.out().q != h_t.q:
            raise op.error(f"output quantization {op.out().q} differs from the hidden "
                           f"state's {h_t.q}", "TFLM copies the hidden state to the output.",
                           ModelError)
        return y
    return op.relabel(y, op.out().q)


# -- SVDF ----------------------------------------------------------------------------------------

def SVDF(op: TflOp) -> Value:
    """int8 SVDF (TFLM svdf_common.cc, int16 weights_time and state): IR svdf. The state
    (input 4, a variable tensor) is not kept between inferences: each starts from TFLM's reset
    state, as a fresh interpreter (ir/ops/svdf.py)."""
    o = op.options("SVDFOptions")
    tx, twf, twt, tb, ts = (op.tensor(i) for i in range(5))
    out = op.out()

    def need(t, what: str, dtype: str, const: bool, rank: int = 2):
        ok = (t is not None and t.dtype == dtype and t.is_const == const and
              len(t.shape) == rank and t.q is not None and len(t.q.scale) == 1)
        if not ok:
            got = t.describe() if t is not None else "nothing"
            raise op.error(f"{what}: expected a per-tensor quantized {dtype.lower()} "
                           f"{'constant' if const else 'activation'} of rank {rank}, got {got}",
                           "tinyc supports the int8 SVDF with int16 (or int8) weights_time "
                           "and state of the same type (TFLite Micro's integer path).",
                           ModelError)
    need(tx, "input", "INT8", False)
    need(twf, "weights_feature", "INT8", True)
    t_state = "INT8" if twt is not None and twt.dtype == "INT8" else "INT16"
    need(twt, "weights_time", t_state, True)
    need(tb, "bias", "INT32", True, rank=1)
    need(ts, "state", t_state, False)
    need(out, "output", "INT8", False)
    rank = o.Rank()
    n_filter, n_mem = twt.shape
    if rank < 1 or n_filter % rank or twf.shape[0] != n_filter or twf.shape[1] != tx.shape[1]:
        raise op.error(f"rank {rank}, weights_feature {list(twf.shape)}, weights_time "
                       f"{list(twt.shape)} for input {list(tx.shape)}", cls=ModelError)
    n_unit = n_filter // rank
    if tb.shape != (n_unit,) or ts.shape != (tx.shape[0], n_filter * n_mem) or not ts.is_variable:
        raise op.error(f"bias {list(tb.shape)} / state {ts.describe()} (variable: "
                       f"{ts.is_variable}): expected [{n_unit}] and a variable "
                       f"[{tx.shape[0]}, {n_filter * n_mem}]", cls=ModelError)
    f32 = np.float32
    s_state, s_wt = f32(ts.q.scale[0]), f32(twt.q.scale[0])
    if abs(float(tb.q.scale[0]) - float(f32(s_state * s_wt))) >= 1e-5:
        raise op.error(f"bias scale {tb.q.scale[0]} is not state scale x weights_time scale "
                       f"({float(s_state * s_wt)})", "TFLite Micro refuses it.", ModelError)
    if ts.q.zero_point[0] != 0 and t_state == "INT16":
        raise op.error(f"state zero point {ts.q.zero_point[0]}", "int16 state is symmetric "
                       "(zero point 0).", ModelError)
    x = op.act(0)
    w_time = op.const(2, twt.q, t_state)
    bias = op.const(3, type(tb.q)(tb.q.scale, tb.q.zero_point, None), "INT32")
    attrs = op.fused({"rank": rank, "state_scale": float(s_state),
                      "state_zp": int(ts.q.zero_point[0]),
                      "state_dtype": "i8" if t_state == "INT8" else "i16"},
                     o.FusedActivationFunction())
    return op.emit("svdf", [x, op.const(1, twf.q), w_time, bias], attrs)
