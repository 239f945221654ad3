"""Elementwise ops: add, sub, squared_difference, minimum, maximum, prelu, mul (numpy
broadcasting), lut (int8 table), and the float-only unary
ops (relu, clip, sigmoid, tanh, hard_sigmoid, hard_swish, leaky_relu, elu, softplus, selu,
swish, gelu, rsqrt: registered with `unary`)
that quantize turns into fused activation ranges or lookup tables; batch_norm (folded).
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import IRError
from .. import qmath
from ..types import TensorType
from .registry import clamp_float, clamp_int, op, require, same_as_input


def broadcast_type(inputs, attrs) -> list[TensorType]:
    try:
        shape = np.broadcast_shapes(*(v.shape for v in inputs))
    except ValueError:
        shape = None
    require(shape is not None, "elementwise op", "operand shapes", "broadcastable shapes",
            " and ".join(str(list(v.shape)) for v in inputs))
    return [TensorType(inputs[0].dtype, tuple(shape))]


# -- add: TFLite int8 add (left shift 20, both inputs rescaled to twice the max scale) ----------
# int16 (symmetric, offsets 0): the same arithmetic with left shift 15 (TFLM's general-scale
# AddElementwise<int16_t>; the sums stay within int32).

def add_int(node, x1, x2):
    a = node.attrs
    s1 = qmath.wrap_int32((x1.astype(np.int64) + a["in1_offset"]) << a["left_shift"])
    s2 = qmath.wrap_int32((x2.astype(np.int64) + a["in2_offset"]) << a["left_shift"])
    r1 = qmath.requantize(s1, a["in1_mult"], a["in1_shift"])
    r2 = qmath.requantize(s2, a["in2_mult"], a["in2_shift"])
    y = qmath.requantize(r1 + r2, a["out_mult"], a["out_shift"]) + a["out_offset"]
    return clamp_int(y, node)


@op("add", run_float=lambda node, a, b: clamp_float(a.astype(np.float64) + b, node.attrs),
    run_int=add_int, inplace=(0, 1), clamps=True, channel_tie=True, elementwise=True,
    int16=True, int16_layer=True, implied_relu=True,
    int_attrs=("in1_offset", "in2_offset", "left_shift", "in1_mult", "in1_shift", "in2_mult",
               "in2_shift", "out_mult", "out_shift", "out_offset", "act_min", "act_max"),
    patchable=True, patch_side=True)
def add(inputs, attrs):
    """add(a, b) {act} — numpy broadcasting"""
    return broadcast_type(inputs, attrs)


# -- sub, squared_difference: add's arithmetic with the rescaled inputs' difference ---------

def rescaled_inputs(node, x1, x2):
    """Both inputs offset, shifted left by left_shift and rescaled to a common scale (TFLM's
    add, sub and squared_difference)."""
    a = node.attrs
    s1 = qmath.wrap_int32((x1.astype(np.int64) + a["in1_offset"]) << a["left_shift"])
    s2 = qmath.wrap_int32((x2.astype(np.int64) + a["in2_offset"]) << a["left_shift"])
    return (qmath.requantize(s1, a["in1_mult"], a["in1_shift"]),
            qmath.requantize(s2, a["in2_mult"], a["in2_shift"]))


def sub_int(node, x1, x2):
    a = node.attrs
    r1, r2 = rescaled_inputs(node, x1, x2)
    y = qmath.requantize(qmath.wrap_int32(r1 - r2), a["out_mult"], a["out_shift"])
    return clamp_int(y + a["out_offset"], node)


def squared_difference_int(node, x1, x2):
    a = node.attrs
    r1, r2 = rescaled_inputs(node, x1, x2)
    d = r1 - r2
    y = qmath.requantize(qmath.wrap_int32(d * d), a["out_mult"], a["out_shift"])
    return clamp_int(y + a["out_offset"], node)


ADD_LIKE_ATTRS = ("in1_offset", "in2_offset", "left_shift", "in1_mult", "in1_shift",
                  "in2_mult", "in2_shift", "out_mult", "out_shift", "out_offset",
                  "act_min", "act_max")


@op("sub", run_float=lambda node, a, b: clamp_float(a.astype(np.float64) - b, node.attrs),
    run_int=sub_int, inplace=(0, 1), clamps=True, channel_tie=True, elementwise=True,
    int_attrs=ADD_LIKE_ATTRS, int16=True, int16_layer=True)
def sub(inputs, attrs):
    """sub(a, b) {act} — a - b, numpy broadcasting (TFLM sub: add's arithmetic)"""
    return broadcast_type(inputs, attrs)


@op("squared_difference",
    run_float=lambda node, a, b: np.square(a.astype(np.float64) - b).astype(np.float32),
    run_int=squared_difference_int, inplace=(0, 1), channel_tie=True, elementwise=True,
    int_attrs=ADD_LIKE_ATTRS, int16=True, int16_layer=True)
def squared_difference(inputs, attrs):
    """squared_difference(a, b) — (a - b)^2, numpy broadcasting (TFLM: left shift 7)"""
    return broadcast_type(inputs, attrs)


# -- minimum, maximum: TFLM compares the raw int8 values (operands quantized alike) ----------

def _raw(fn):
    return lambda node, a, b: fn(a, b).astype(node.outputs[0].dtype.np)


@op("minimum", run_float=lambda node, a, b: np.minimum(a, b).astype(np.float32),
    run_int=_raw(np.minimum), inplace=(0, 1), channel_tie=True, elementwise=True,
    inputs_as_output_q=True, int16=True, int16_follow=True)
def minimum(inputs, attrs):
    """minimum(a, b) — numpy broadcasting; int8: of the raw values (one quantization)"""
    return broadcast_type(inputs, attrs)


@op("maximum", run_float=lambda node, a, b: np.maximum(a, b).astype(np.float32),
    run_int=_raw(np.maximum), inplace=(0, 1), channel_tie=True, elementwise=True,
    inputs_as_output_q=True, int16=True, int16_follow=True)
def maximum(inputs, attrs):
    """maximum(a, b) — numpy broadcasting; int8: of the raw values (one quantization)"""
    return broadcast_type(inputs, attrs)


# -- prelu: x >= 0 ? x : alpha * x, alpha a constant broadcast against x (per channel) -------

def prelu_int(node, x, alpha):
    a = node.attrs
    v = x.astype(np.int64) + a["in1_offset"]
    pos = qmath.requantize(v, a["in1_mult"], a["in1_shift"])
    neg = qmath.requantize(qmath.wrap_int32(v * (alpha.astype(np.int64) + a["in2_offset"])),
                           a["out_mult"], a["out_shift"])
    return clamp_int(np.where(v >= 0, pos, neg) + a["out_offset"], node)


@op("prelu", run_float=lambda node, x, al: np.where(x >= 0, x, al * x).astype(np.float32),
    run_int=prelu_int, inplace=(0,), channel_tie=True, elementwise=True,
    int_attrs=("in1_offset", "in2_offset", "in1_mult", "in1_shift", "out_mult", "out_shift",
               "out_offset", "act_min", "act_max"), int16=True, int16_layer=True,
    int8_operands16=(1,))
def prelu(inputs, attrs):
    """prelu(x, alpha) — x >= 0 ? x : alpha * x; alpha broadcast against x (TFLM: x's
    positive part times s_x / s_out, the negative one times (x * alpha) s_x s_alpha / s_out)"""
    return broadcast_type(inputs, attrs)


# -- mul: TFLite int8 mul --------------------------------------------------------------------

def mul_int(node, x1, x2):
    a = node.attrs
    prod = (x1.astype(np.int64) + a["in1_offset"]) * (x2.astype(np.int64) + a["in2_offset"])
    if "ort_mult" in a:             # ONNX Runtime's QLinearMul (ort_exact): float32, half to even
        return clamp_int(qmath.ort_requantize(prod, a["ort_mult"], a["ort_exp"]) +
                         a["out_offset"], node)
    y = qmath.requantize(prod, a["out_mult"], a["out_shift"]) + a["out_offset"]
    return clamp_int(y, node)


@op("mul", run_float=lambda node, a, b: clamp_float(a.astype(np.float64) * b, node.attrs),
    run_int=mul_int, inplace=(0, 1), clamps=True, channel_tie=True, elementwise=True,
    implied_relu=True, int16=True, int16_layer=True,
    int_attrs=("in1_offset", "in2_offset", "out_mult", "out_shift", "out_offset",
               "act_min", "act_max"),
    macs=lambda node: int(np.prod(node.outputs[0].shape)))
def mul(inputs, attrs):
    """mul(a, b) {act} — numpy broadcasting"""
    return broadcast_type(inputs, attrs)


# -- lut: any int8 -> int8 elementwise function, as a 256-entry table -------------------------

def lut_int(node, x):
    table = np.asarray(node.attrs["table"], np.int8)
    return table[x.astype(np.int16) + 128]


def table_float(node, x, run_int, needs: str = "lookup table needs"):
    """Real-valued view of a table op between quantized tensors: dequant(run_int(quant(x)))."""
    qi, qo = node.inputs[0].q, node.outputs[0].q
    if qi is None or qo is None:
        raise IRError(f"node '{node.name}' ({node.op}): a float graph's {needs} the "
                      f"quantization of its input and output — got {qi} and {qo}")
    xq = np.clip(np.sign(x) * np.floor(np.abs(x / qi.s) + 0.5) + qi.zp, -128, 127)
    y = run_int(node, xq.astype(np.int8)).astype(np.float64)
    return ((y - qo.zp) * qo.s).astype(np.float32)


def lut_float(node, x):
    """Real-valued view of a table between quantized tensors: dequant(table[quant(x)])."""
    return table_float(node, x, lut_int)


@op("lut", run_float=lut_float, run_int=lut_int, int_attrs=("table",), inplace=(0,),
    channel_tie=True, elementwise=True, patchable=True, trainable=False,
    trainable_note="integer graphs only")
def lut(inputs, attrs):
    """lut(x) {table: 256 int8, indexed by x + 128; made from the float op `fn`}"""
    return [inputs[0].type.with_(q=None)]


# -- float-only unary ops: quantize fuses them into a producer's act range or makes a lut ----

def hard_sigmoid(x, alpha=0.2, beta=0.5):
    return np.clip(alpha * x + beta, 0.0, 1.0)


# Implied input ranges (OpDef.input_range): an output quantized to [lo, hi] with step s takes
# the same int8 value for every input below / above the returned interval (the value rounds to
# the output's end, or f is constant there at the step's resolution), so a float input whose
# only use is the op may be quantized to that interval (passes/calibrate.py imply_q_backwards).

def _inside(lo: float, hi: float, f_lo: float, f_hi: float, s: float) -> tuple[float, float]:
    """The output range [lo, hi] cut to f's open range (f_lo, f_hi) and moved a quarter step
    in: an output beyond either end rounds to that end's int8 value (no half-way tie), and
    f^-1 of both is finite."""
    return max(lo, f_lo) + s / 4, min(hi, f_hi) - s / 4


def sigmoid_input_range(lo: float, hi: float, s: float) -> tuple[float, float]:
    a, b = _inside(lo, hi, 0.0, 1.0, s)
    return math.log(a / (1.0 - a)), math.log(b / (1.0 - b))


def tanh_input_range(lo: float, hi: float, s: float) -> tuple[float, float]:
    a, b = _inside(lo, hi, -1.0, 1.0, s)
    return math.atanh(a), math.atanh(b)


def hard_sigmoid_input_range(a: dict, lo: float, hi: float, s: float) -> tuple[float, float]:
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    if alpha <= 0:
        return -math.inf, math.inf                  # not increasing: no implied range
    y0, y1 = max(lo, 0.0), min(hi, 1.0)
    return (y0 - beta) / alpha, (y1 - beta) / alpha


def hard_swish_input_range(lo: float, hi: float, s: float) -> tuple[float, float]:
    """x * relu6(x + 3) / 6: 0 below -3, its minimum -0.375 at -1.5, increasing above (x
    itself from 3): [-3, f^-1(hi)] on the increasing branch."""
    y = max(hi, 0.0)
    return -3.0, (y if y >= 3.0 else (-3.0 + math.sqrt(9.0 + 24.0 * y)) / 2.0)


def unary(name: str, fn, **kw) -> None:
    """Register a float-only elementwise op y = fn(x, attrs); quantize makes it a lookup
    table of fn (or, with fusable=True, a producer's fused activation range)."""
    op(name, run_float=lambda node, x: fn(x, node.attrs).astype(np.float32), inplace=(0,),
       table=fn, channel_tie=True, elementwise=True, **kw)(same_as_input)


unary("relu", lambda x, a: np.maximum(x, 0.0), clamp_range=lambda a: (0.0, np.inf))
unary("clip", lambda x, a: np.clip(x, a.get("min", -np.inf), a.get("max", np.inf)),
      clamp_range=lambda a: (a.get("min", -np.inf), a.get("max", np.inf)))
unary("sigmoid", lambda x, a: 1.0 / (1.0 + np.exp(-x.astype(np.float64))),
      fixed_q=(1.0 / 256.0, -128), input_range=lambda a, lo, hi, s: sigmoid_input_range(lo, hi, s))
unary("tanh", lambda x, a: np.tanh(x.astype(np.float64)), fixed_q=(1.0 / 128.0, 0),
      input_range=lambda a, lo, hi, s: tanh_input_range(lo, hi, s))
unary("hard_sigmoid", lambda x, a: hard_sigmoid(x, a.get("alpha", 0.2), a.get("beta", 0.5)),
      input_range=lambda a, lo, hi, s: hard_sigmoid_input_range(a, lo, hi, s))
unary("hard_swish", lambda x, a: x * hard_sigmoid(x, 1.0 / 6.0, 0.5),
      input_range=lambda a, lo, hi, s: hard_swish_input_range(lo, hi, s))
unary("leaky_relu", lambda x, a: np.where(x >= 0, x, a.get("alpha", 0.01) * x))
unary("elu", lambda x, a: np.where(x >= 0, x, a.get("alpha", 1.0) * np.expm1(np.minimum(x, 0.0))))


# ONNX Softplus, Selu, SiLU / Swish (x * Sigmoid(alpha x)), Gelu (exact erf form or the tanh
# approximation), and the 1 / sqrt(x + epsilon) of LayerNormalization: float functions in
# float64; quantize makes each a 256-entry int8 table (lut).
_erf = np.vectorize(math.erf, otypes=[np.float64])
SELU_ALPHA, SELU_GAMMA = 1.67326319217681884765625, 1.05070102214813232421875


def gelu(x, tanh: bool = False):
    x = np.asarray(x, np.float64)
    if tanh:
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


unary("softplus", lambda x, a: np.logaddexp(0.0, np.asarray(x, np.float64)))
unary("selu", lambda x, a: a.get("gamma", SELU_GAMMA) * np.where(
    x > 0, x, a.get("alpha", SELU_ALPHA) * np.expm1(np.minimum(np.asarray(x, np.float64), 0.0))))
unary("swish", lambda x, a: np.asarray(x, np.float64) / (
    1.0 + np.exp(-a.get("alpha", 1.0) * np.asarray(x, np.float64))))
unary("gelu", lambda x, a: gelu(x, a.get("tanh", False)))
unary("rsqrt", lambda x, a: 1.0 / np.sqrt(np.maximum(np.asarray(x, np.float64), 0.0)
                                          + a.get("epsilon", 0.0)))


def batch_norm_float(node, x, scale, bias, mean, var):
    inv = scale / np.sqrt(var.astype(np.float64) + node.attrs.get("epsilon", 1e-5))
    return ((x - mean) * inv + bias).astype(np.float32)


@op("batch_norm", run_float=batch_norm_float, inplace=(0,), implied_relu=True, trainable=False,
    trainable_note="folded into the layer before fine-tuning")
def batch_norm(inputs, attrs):
    """batch_norm(x[..., C], scale, bias, mean, var) {epsilon} — channels last; float only"""
    c = inputs[0].shape[-1]
    for v in inputs[1:]:
        require(v is None or v.type.size in (1, c), "batch_norm", f"size of '{v and v.name}'",
                f"{c} (channels)", v and v.type.size)
    return same_as_input(inputs, attrs)


# ONNX Dropout's mask output in inference mode: every element kept (true), a constant 1 of the
# input's shape; int8 at scale 1, zero point 0 (quantize: a table of ones)
unary("ones_like", lambda x, a: np.ones_like(np.asarray(x, np.float64)), fixed_q=(1.0, 0),
      trainable=False, trainable_note="a constant (Dropout's inference-mode mask)")
