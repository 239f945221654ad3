"""One-op (or few-op) int8 .tflite models built by hand, for the TFLite Micro oracle tests.

Each case is `fn(rng) -> (tflite bytes, input dtypes/shapes)`; the model has random weights
and quantization parameters drawn from `rng`, so a seed fixes it.
"""
from __future__ import annotations

import numpy as np

from tflbuild import TflBuilder

RELU, RELU_N1_TO_1, RELU6 = 1, 2, 3
SAME, VALID = 0, 1


def _q(rng, lo=0.01, hi=0.1):
    return float(rng.uniform(lo, hi)), int(rng.integers(-60, 60))


def _act(b, rng, name, shape, lo=0.01, hi=0.1):
    s, z = _q(rng, lo, hi)
    return b.tensor(name, shape, scale=s, zp=z)


def _weights(b, rng, name, shape, axis):
    w = rng.integers(-127, 128, shape).astype(np.int8)
    n = shape[axis]
    return b.const(name, w, scale=rng.uniform(0.002, 0.02, n), zp=np.zeros(n), qdim=axis), n


def _bias(b, rng, name, n, s_in, w_scales):
    data = rng.integers(-3000, 3000, n).astype(np.int32)
    return b.const(name, data, scale=np.float32(s_in) * np.asarray(w_scales, np.float32),
                   zp=np.zeros(n), qdim=0)


def _scale_of(b, t):
    return float(b.tensors[t]["scale"][0])


def conv(rng, padding=SAME, stride=2, dilation=1, act=RELU6):
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 9, 7, 3))
    w, n = _weights(b, rng, "w", (5, 3, 3, 3), 0)
    bias = _bias(b, rng, "b", n, _scale_of(b, x), b.tensors[w]["scale"])
    eff = 2 * dilation + 1
    oh = -(-9 // stride) if padding == SAME else (9 - eff) // stride + 1
    ow = -(-7 // stride) if padding == SAME else (7 - eff) // stride + 1
    y = _act(b, rng, "y", (1, oh, ow, 5), 0.02, 0.2)
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", Padding=padding, StrideW=stride,
         StrideH=stride, DilationWFactor=dilation, DilationHFactor=dilation,
         FusedActivationFunction=act)
    return b.build([x], [y])


def depthwise(rng):
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 6, 6, 4))
    w, n = _weights(b, rng, "w", (1, 3, 3, 8), 3)
    bias = _bias(b, rng, "b", n, _scale_of(b, x), b.tensors[w]["scale"])
    y = _act(b, rng, "y", (1, 6, 6, 8), 0.02, 0.2)
    b.op("DEPTHWISE_CONV_2D", [x, w, bias], [y], "DepthwiseConv2DOptions", Padding=SAME,
         StrideW=1, StrideH=1, DepthMultiplier=2, FusedActivationFunction=RELU,
         DilationWFactor=1, DilationHFactor=1)
    return b.build([x], [y])


def fully_connected(rng):
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 2, 2, 6))
    w = b.const("w", rng.integers(-127, 128, (10, 24)).astype(np.int8), scale=0.01)
    bias = _bias(b, rng, "b", 10, _scale_of(b, x), [0.01] * 10)
    y = _act(b, rng, "y", (1, 10), 0.05, 0.3)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions",
         FusedActivationFunction=RELU)
    return b.build([x], [y])


def _binary(rng, name, options, shape_b, act):
    b = TflBuilder()
    x1 = _act(b, rng, "a", (1, 4, 4, 6))
    x2 = _act(b, rng, "b", shape_b, 0.05, 0.2)
    y = _act(b, rng, "y", (1, 4, 4, 6), 0.02, 0.2)
    fields = {} if act is None else {"FusedActivationFunction": act}
    b.op(name, [x1, x2], [y], options, **fields)
    return b.build([x1, x2], [y])


def add(rng):
    return _binary(rng, "ADD", "AddOptions", (1, 4, 4, 6), RELU)


def add_broadcast(rng):
    return _binary(rng, "ADD", "AddOptions", (1, 1, 1, 6), 0)


def mul(rng):
    return _binary(rng, "MUL", "MulOptions", (1, 4, 4, 6), RELU_N1_TO_1)


def sub(rng):
    return _binary(rng, "SUB", "SubOptions", (1, 4, 4, 6), RELU6)


def sub_broadcast(rng):
    return _binary(rng, "SUB", "SubOptions", (1, 4, 1, 6), 0)


def sub_const(rng):
    """constant - x: scales 0.08 and 0.05, where float32 and double ratios give different
    multipliers (the tflite-micro interpreter computes them in double, as for ADD)."""
    b = TflBuilder()
    x = b.tensor("x", (1, 4, 4, 6), scale=0.05, zp=int(rng.integers(-10, 10)))
    c = b.const("c", rng.integers(-128, 128, (6,)).astype(np.int8), scale=0.08,
                zp=int(rng.integers(-10, 10)))
    y = b.tensor("y", (1, 4, 4, 6), scale=0.1, zp=int(rng.integers(-10, 10)))
    b.op("SUB", [c, x], [y], "SubOptions", FusedActivationFunction=0)
    return b.build([x], [y])


def squared_difference(rng):
    """Output scale near the squares' range (x1 broadcast against x2 [1, 1, 4, 1])."""
    b = TflBuilder()
    x1 = _act(b, rng, "a", (1, 4, 4, 6), 0.005, 0.02)
    x2 = _act(b, rng, "b", (1, 1, 4, 1), 0.005, 0.02)
    y = _act(b, rng, "y", (1, 4, 4, 6), 0.01, 0.05)
    b.op("SQUARED_DIFFERENCE", [x1, x2], [y])
    return b.build([x1, x2], [y])


def _same_q_binary(rng, name, shape_b):
    b = TflBuilder()
    s, z = _q(rng)
    x1 = b.tensor("a", (1, 4, 4, 6), scale=s, zp=z)
    x2 = b.tensor("b", shape_b, scale=s, zp=z)
    y = b.tensor("y", (1, 4, 4, 6), scale=s, zp=z)
    b.op(name, [x1, x2], [y])
    return b.build([x1, x2], [y])


def minimum(rng):
    return _same_q_binary(rng, "MINIMUM", (1, 4, 4, 6))


def maximum(rng):
    return _same_q_binary(rng, "MAXIMUM", (1, 1, 1, 6))


def maximum_mixed_q(rng):
    """Operands quantized unlike the output (off the int8 spec): TFLM compares raw bytes."""
    b = TflBuilder()
    x1 = _act(b, rng, "a", (1, 4, 4, 6))
    c = b.const("c", rng.integers(-128, 128, (6,)).astype(np.int8), scale=0.3, zp=4)
    y = _act(b, rng, "y", (1, 4, 4, 6))
    b.op("MAXIMUM", [x1, c], [y])
    return b.build([x1], [y])


def prelu(rng):
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 5, 5, 6))
    alpha = b.const("alpha", rng.integers(-128, 128, (1, 1, 6)).astype(np.int8),
                    scale=float(rng.uniform(0.002, 0.01)), zp=int(rng.integers(-20, 20)))
    y = _act(b, rng, "y", (1, 5, 5, 6), 0.03, 0.15)
    b.op("PRELU", [x, alpha], [y])
    return b.build([x], [y])


def _pool(rng, name, padding, act=0):
    b = TflBuilder()
    s, z = _q(rng)
    x = b.tensor("x", (1, 7, 7, 5), scale=s, zp=z)
    o = -(-7 // 2) if padding == SAME else (7 - 3) // 2 + 1
    y = b.tensor("y", (1, o, o, 5), scale=s, zp=z)
    b.op(name, [x], [y], "Pool2DOptions", Padding=padding, StrideW=2, StrideH=2,
         FilterWidth=3, FilterHeight=3, FusedActivationFunction=act)
    return b.build([x], [y])


def avg_pool(rng):
    return _pool(rng, "AVERAGE_POOL_2D", SAME)


def max_pool(rng):
    return _pool(rng, "MAX_POOL_2D", VALID, RELU)


def _unary(rng, name, out_q, options=None, **fields):
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 16, 16), 0.005, 0.25)
    y = b.tensor("y", (1, 16, 16), scale=out_q[0], zp=out_q[1])
    b.op(name, [x], [y], options, **fields)
    return b.build([x], [y])


def logistic(rng):
    return _unary(rng, "LOGISTIC", (1 / 256, -128))


def tanh(rng):
    return _unary(rng, "TANH", (1 / 128, 0))


def hard_swish(rng):
    return _unary(rng, "HARD_SWISH", _q(rng, 0.01, 0.05))


def relu(rng):
    return _unary(rng, "RELU", _q(rng, 0.005, 0.1))


def relu_same_q(rng):
    b = TflBuilder()
    s, z = _q(rng)
    x = b.tensor("x", (1, 16, 16), scale=s, zp=z)
    y = b.tensor("y", (1, 16, 16), scale=s, zp=z)
    b.op("RELU", [x], [y])
    return b.build([x], [y])


def relu6(rng):
    return _unary(rng, "RELU6", _q(rng, 0.01, 0.05))


def relu_n1_to_1(rng):
    return _unary(rng, "RELU_N1_TO_1", _q(rng, 0.002, 0.01))


def leaky_relu(rng):
    return _unary(rng, "LEAKY_RELU", _q(rng, 0.005, 0.1), "LeakyReluOptions",
                  Alpha=float(rng.uniform(0.01, 0.5)))


def leaky_relu_negative(rng):
    return _unary(rng, "LEAKY_RELU", _q(rng, 0.01, 0.1), "LeakyReluOptions", Alpha=-0.3)


def elu(rng):
    return _unary(rng, "ELU", _q(rng, 0.005, 0.05))


def rsqrt(rng):
    """Input zero point -128: every int8 input is a non-negative real (TFLM errors below)."""
    b = TflBuilder()
    x = b.tensor("x", (1, 16, 16), scale=float(rng.uniform(0.001, 0.5)), zp=-128)
    y = b.tensor("y", (1, 16, 16), scale=float(rng.uniform(0.01, 0.2)),
                 zp=int(rng.integers(-100, 0)))
    b.op("RSQRT", [x], [y])
    return b.build([x], [y])


def softmax(rng):
    return _unary(rng, "SOFTMAX", (1 / 256, -128), "SoftmaxOptions", Beta=0.7)


def log_softmax(rng):
    return _unary(rng, "LOG_SOFTMAX", (16 / 256, 127), "LogSoftmaxOptions")


def log_softmax_rows(rng):
    """Rows of 10 (a classifier's logits), fine input scales."""
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 6, 10), 0.01, 0.2)
    y = b.tensor("y", (1, 6, 10), scale=16 / 256, zp=127)
    b.op("LOG_SOFTMAX", [x], [y], "LogSoftmaxOptions")
    return b.build([x], [y])


def quantize(rng):
    return _unary(rng, "QUANTIZE", _q(rng, 0.01, 0.3))


def pad(rng, v2=False):
    b = TflBuilder()
    s, z = _q(rng)
    x = b.tensor("x", (1, 4, 5, 3), scale=s, zp=z)
    p = b.const("paddings", np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32))
    y = b.tensor("y", (1, 7, 6, 3), scale=s, zp=z)
    ins = [x, p] + ([b.const("value", np.array([-77], np.int8), scale=s, zp=z)] if v2 else [])
    b.op("PADV2" if v2 else "PAD", ins, [y])
    return b.build([x], [y])


def padv2(rng):
    return pad(rng, v2=True)


def concat(rng):
    b = TflBuilder()
    s, z = _q(rng)
    x1 = b.tensor("a", (1, 3, 3, 2), scale=s, zp=z)
    x2 = b.tensor("b", (1, 3, 3, 5), scale=s, zp=z)
    y = b.tensor("y", (1, 3, 3, 7), scale=s, zp=z)
    b.op("CONCATENATION", [x1, x2], [y], "ConcatenationOptions", Axis=-1)
    return b.build([x1, x2], [y])


def reshape_requant(rng):
    """RESHAPE whose output q differs from its input's: TFLM copies raw bytes."""
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 2, 3, 4))
    shape = b.const("shape", np.array([1, 24], np.int32))
    y = _act(b, rng, "y", (1, 24))
    b.op("RESHAPE", [x, shape], [y])
    return b.build([x], [y])


def mean(rng, same_q=True):
    b = TflBuilder()
    s, z = _q(rng)
    x = b.tensor("x", (1, 5, 6, 8), scale=s, zp=z)
    axes = b.const("axes", np.array([1, 2], np.int32))
    y = b.tensor("y", (1, 8), scale=s, zp=z) if same_q else _act(b, rng, "y", (1, 8))
    b.op("MEAN", [x, axes], [y], "ReducerOptions", KeepDims=False)
    return b.build([x], [y])


def mean_requant(rng):
    return mean(rng, same_q=False)


def float_io(rng):
    """Float input -> QUANTIZE -> conv -> DEQUANTIZE -> float output."""
    b = TflBuilder()
    xf = b.tensor("x", (1, 5, 5, 2), dtype="FLOAT32")
    x = _act(b, rng, "x_q", (1, 5, 5, 2))
    w, n = _weights(b, rng, "w", (3, 1, 1, 2), 0)
    bias = _bias(b, rng, "b", n, _scale_of(b, x), b.tensors[w]["scale"])
    y = _act(b, rng, "y_q", (1, 5, 5, 3), 0.02, 0.2)
    yf = b.tensor("y", (1, 5, 5, 3), dtype="FLOAT32")
    b.op("QUANTIZE", [xf], [x])
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", Padding=VALID, StrideW=1, StrideH=1,
         DilationWFactor=1, DilationHFactor=1, FusedActivationFunction=0)
    b.op("DEQUANTIZE", [y], [yf])
    return b.build([xf], [yf])


def uint8_io(rng):
    """uint8 input -> QUANTIZE (int8) -> conv -> QUANTIZE (uint8) output, as OpenMV
    detectors have; tinyc's int8 view of the uint8 bytes is u ^ 0x80."""
    b = TflBuilder()
    s, z = _q(rng)
    xu = b.tensor("x", (1, 5, 5, 2), dtype="UINT8", scale=s * rng.uniform(0.5, 2), zp=z + 128)
    x = b.tensor("x_q", (1, 5, 5, 2), scale=s, zp=z)
    w, n = _weights(b, rng, "w", (3, 1, 1, 2), 0)
    bias = _bias(b, rng, "b", n, _scale_of(b, x), b.tensors[w]["scale"])
    y = _act(b, rng, "y_q", (1, 5, 5, 3), 0.02, 0.2)
    yu = b.tensor("y", (1, 5, 5, 3), dtype="UINT8", scale=_scale_of(b, y) * 1.5,
                  zp=int(rng.integers(60, 200)))
    b.op("QUANTIZE", [xu], [x])
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", Padding=VALID, StrideW=1, StrideH=1,
         DilationWFactor=1, DilationHFactor=1, FusedActivationFunction=0)
    b.op("QUANTIZE", [y], [yu])
    return b.build([xu], [yu])


def uint8_same_scale(rng):
    """uint8 input -> QUANTIZE with the same scale, zero point - 128 (TFLM's XOR 0x80 path)."""
    b = TflBuilder()
    s, z = _q(rng)
    xu = b.tensor("x", (1, 16, 16), dtype="UINT8", scale=s, zp=z + 128)
    x = b.tensor("x_q", (1, 16, 16), scale=s, zp=z)
    y = b.tensor("y", (1, 16, 16), scale=s * 2, zp=z // 2)
    b.op("QUANTIZE", [xu], [x])
    b.op("LEAKY_RELU", [x], [y], "LeakyReluOptions", Alpha=0.25)
    return b.build([xu], [y])


def keras_flatten(b, x: int, y: int) -> None:
    """y = x reshaped as the Keras converter writes `tf.reshape(x, [tf.shape(x)[0], -1])`:
    SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE (folded at import)."""
    shape = b.tensor("shape", (len(b.tensors[x]["shape"]),), dtype="INT32")
    batch = b.tensor("batch", (), dtype="INT32")
    new_shape = b.tensor("new_shape", (2,), dtype="INT32")
    b.op("SHAPE", [x], [shape], "ShapeOptions", OutType=2)
    b.op("STRIDED_SLICE", [shape, *(b.const(k, np.array([v], np.int32)) for k, v in
                                     (("begin", 0), ("end", 1), ("strides", 1)))],
         [batch], "StridedSliceOptions", ShrinkAxisMask=1)
    b.op("PACK", [batch, b.const("minus_one", np.array(-1, np.int32))], [new_shape],
         "PackOptions", ValuesCount=2, Axis=0)
    b.op("RESHAPE", [x, new_shape], [y])


def keras_reshape(rng):
    """keras_flatten, then FULLY_CONNECTED."""
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 4, 4, 2))
    flat = b.tensor("flat", (1, 32), scale=b.tensors[x]["scale"], zp=b.tensors[x]["zp"])
    keras_flatten(b, x, flat)
    w, n = _weights(b, rng, "w", (5, 32), 0)
    bias = _bias(b, rng, "b", n, _scale_of(b, x), b.tensors[w]["scale"])
    y = _act(b, rng, "y", (1, 5), 0.05, 0.5)
    b.op("FULLY_CONNECTED", [flat, w, bias], [y], "FullyConnectedOptions")
    return b.build([x], [y])


def shape_ops(rng):
    """The other static shape ops: x [1, 4, 4, 2] reshaped to [1, 4, -1] with the shape made
    by SLICE, UNPACK, PACK, CAST, GATHER (TFLM gathers float, not int32), FILL and
    CONCATENATION of SHAPE(x)."""
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 4, 4, 2))
    i32 = {"dtype": "INT32"}
    s, hw, h, w = (b.tensor("s", (4,), **i32), b.tensor("hw", (2,), **i32),
                   b.tensor("h", (), **i32), b.tensor("w", (), **i32))
    wv, g, m = b.tensor("wv", (1,), **i32), b.tensor("g", (1,), **i32), b.tensor("m", (1,), **i32)
    sf, gf = b.tensor("sf", (4,), dtype="FLOAT32"), b.tensor("gf", (1,), dtype="FLOAT32")
    shape = b.tensor("shape", (3,), **i32)
    y = b.tensor("y", (1, 4, 8), scale=b.tensors[x]["scale"], zp=b.tensors[x]["zp"])
    one = b.const("one", np.array([1], np.int32))
    b.op("SHAPE", [x], [s], "ShapeOptions", OutType=2)
    b.op("SLICE", [s, one, b.const("two", np.array([2], np.int32))], [hw])
    b.op("UNPACK", [hw], [h, w], "UnpackOptions", Num=2, Axis=0)
    b.op("PACK", [w], [wv], "PackOptions", ValuesCount=1, Axis=0)
    b.op("CAST", [s], [sf], "CastOptions", InDataType=2, OutDataType=0)
    b.op("GATHER", [sf, b.const("zero", np.array([0], np.int32))], [gf], "GatherOptions")
    b.op("CAST", [gf], [g], "CastOptions", InDataType=0, OutDataType=2)
    b.op("FILL", [one, b.const("minus_one", np.array(-1, np.int32))], [m])
    b.op("CONCATENATION", [g, wv, m], [shape], "ConcatenationOptions", Axis=0)
    b.op("RESHAPE", [x, shape], [y])
    return b.build([x], [y])


def strided_masks(rng):
    """RESHAPE of x [1, 4, 4, 2] to its reversed shape [2, 4, 4, 1]: STRIDED_SLICE of SHAPE(x)
    with begin and end masks and stride -1."""
    b = TflBuilder()
    x = _act(b, rng, "x", (1, 4, 4, 2))
    s, r = b.tensor("s", (4,), dtype="INT32"), b.tensor("r", (4,), dtype="INT32")
    y = b.tensor("y", (2, 4, 4, 1), scale=b.tensors[x]["scale"], zp=b.tensors[x]["zp"])
    b.op("SHAPE", [x], [s], "ShapeOptions", OutType=2)
    b.op("STRIDED_SLICE", [s, *(b.const(k, np.array([v], np.int32)) for k, v in
                                 (("begin", 3), ("end", 0), ("strides", -1)))],
         [r], "StridedSliceOptions", BeginMask=1, EndMask=1)
    b.op("RESHAPE", [x, r], [y])
    return b.build([x], [y])


CASES = {f.__name__: f for f in (
    conv, depthwise, fully_connected, add, add_broadcast, mul, sub, sub_broadcast, sub_const,
    squared_difference, minimum, maximum, maximum_mixed_q, prelu, avg_pool, max_pool,
    logistic, tanh, hard_swish, relu, relu_same_q, relu6, relu_n1_to_1, leaky_relu,
    leaky_relu_negative, elu, rsqrt, softmax, log_softmax, log_softmax_rows, quantize, pad,
    padv2, concat, reshape_requant, mean, mean_requant, float_io, uint8_io, uint8_same_scale,
    keras_reshape, shape_ops, strided_masks)}
CASES["conv_valid_dilated"] = lambda rng: conv(rng, VALID, 1, 2, RELU)
NOT_BIT_EXACT: set[str] = set()


# -- data movement and reductions (issues #15, #16) -----------------------------------------

def _input_as(b, shape, s, z):
    """A batch-1 input; shaped `shape` by a RESHAPE when that has a batch > 1 (graph inputs
    must have batch 1). Returns (model input, the tensor of shape `shape`)."""
    if shape[0] == 1:
        x = b.tensor("x", shape, scale=s, zp=z)
        return x, x
    x = b.tensor("x", (1, int(np.prod(shape))), scale=s, zp=z)
    r = b.tensor("x_r", shape, scale=s, zp=z)
    b.op("RESHAPE", [x, b.const("x_shape", np.array(shape, np.int32))], [r])
    return x, r


def transpose(rng, shape=(2, 3, 4, 5), perm=(0, 3, 1, 2), requant=False):
    b = TflBuilder()
    s, z = _q(rng)
    inp, x = _input_as(b, shape, s, z)
    y = (_act(b, rng, "y", tuple(shape[p] for p in perm)) if requant else
         b.tensor("y", tuple(shape[p] for p in perm), scale=s, zp=z))
    b.op("TRANSPOSE", [x, b.const("perm", np.array(perm, np.int32))], [y], "TransposeOptions")
    return b.build([inp], [y])


CASES["transpose"] = transpose
CASES["transpose_3d"] = lambda rng: transpose(rng, (4, 6, 5), (2, 0, 1))
CASES["transpose_5d"] = lambda rng: transpose(rng, (2, 3, 2, 4, 3), (4, 2, 0, 3, 1))
CASES["transpose_2d_requant"] = lambda rng: transpose(rng, (7, 9), (1, 0), requant=True)


def reduce(rng, name="MEAN", shape=(1, 5, 6, 8), axes=(1, 2), keep_dims=True, same_q=False):
    b = TflBuilder()
    s, z = _q(rng)
    inp, x = _input_as(b, shape, s, z)
    r = len(shape)
    ax = {a % r for a in axes}
    out = tuple(1 if i in ax else d for i, d in enumerate(shape)) if keep_dims else \
        tuple(d for i, d in enumerate(shape) if i not in ax)
    if same_q:
        y = b.tensor("y", out, scale=s, zp=z)
    else:
        y = _act(b, rng, "y", out, 0.05, 1.0) if name == "SUM" else _act(b, rng, "y", out)
    b.op(name, [x, b.const("axes", np.array(axes, np.int32))], [y], "ReducerOptions",
         KeepDims=keep_dims)
    return b.build([inp], [y])


for _name, _kw in {
        "mean_hw_keep": dict(),
        "mean_hw_same_q": dict(keep_dims=False, same_q=True),
        "mean_channels": dict(shape=(1, 4, 5, 9), axes=(3,), keep_dims=False),
        "mean_0_2": dict(shape=(2, 3, 4, 5), axes=(0, -2), same_q=True),
        "mean_all_3d": dict(shape=(1, 7, 11), axes=(0, 1, 2), keep_dims=False),
        "mean_5d": dict(shape=(2, 3, 2, 4, 3), axes=(1, 3)),
        "sum_hw": dict(name="SUM", axes=(2, 1), keep_dims=False),
        "sum_channels_same_q": dict(name="SUM", shape=(1, 3, 4, 6), axes=(-1,), same_q=True),
        "sum_0_3": dict(name="SUM", shape=(2, 3, 4, 5), axes=(0, 3)),
        "reduce_max_hw": dict(name="REDUCE_MAX", same_q=True),
        "reduce_max_c": dict(name="REDUCE_MAX", shape=(1, 4, 5, 9), axes=(3,), keep_dims=False,
                             same_q=True),
        "reduce_max_0_2": dict(name="REDUCE_MAX", shape=(2, 3, 4, 5), axes=(0, 2), same_q=True),
        }.items():
    CASES[_name] = (lambda kw: lambda rng: reduce(rng, **kw))(_kw)


def _moved(rng, shape, out_shape, requant=False):
    """(builder, model input, x of `shape`, y of `out_shape`): x's quantization on y unless
    requant."""
    b = TflBuilder()
    s, z = _q(rng)
    inp, x = _input_as(b, shape, s, z)
    y = _act(b, rng, "y", out_shape) if requant else b.tensor("y", out_shape, scale=s, zp=z)
    return b, inp, x, y


def _i32(b, name, values):
    return b.const(name, np.array(values, np.int32))


def slice_(rng, shape=(1, 6, 7, 5), begin=(0, 1, 2, 0), size=(1, 4, -1, 3), requant=False):
    out = tuple(n - b_ if z == -1 else z for b_, z, n in zip(begin, size, shape))
    b, inp, x, y = _moved(rng, shape, out, requant)
    b.op("SLICE", [x, _i32(b, "begin", begin), _i32(b, "size", size)], [y])
    return b.build([inp], [y])


def strided_slice(rng, shape=(1, 9, 8, 6), begin=(0, 1, -1, 0), end=(1, 8, 0, 6),
                  strides=(1, 3, -2, 2), requant=False, **masks):
    idx = []
    for i, (b_, e, st) in enumerate(zip(begin, end, strides)):
        if masks.get("ShrinkAxisMask", 0) >> i & 1:
            idx.append(b_)
        else:
            idx.append(slice(None if masks.get("BeginMask", 0) >> i & 1 else b_,
                             None if masks.get("EndMask", 0) >> i & 1 else e, st))
    out = np.zeros(shape)[tuple(idx)].shape
    b, inp, x, y = _moved(rng, shape, out, requant)
    b.op("STRIDED_SLICE", [x, _i32(b, "begin", begin), _i32(b, "end", end),
                           _i32(b, "strides", strides)], [y], "StridedSliceOptions", **masks)
    return b.build([inp], [y])


def split(rng, shape=(1, 4, 6, 9), axis=-1, num=3, sizes=None):
    b = TflBuilder()
    s, z = _q(rng)
    inp, x = _input_as(b, shape, s, z)
    r = len(shape)
    sizes = sizes or [shape[axis] // num] * num
    ys = []
    for k, n in enumerate(sizes):
        out = list(shape)
        out[axis % r] = n if n != -1 else shape[axis] - sum(v for v in sizes if v != -1)
        ys.append(_act(b, rng, f"y{k}", tuple(out)) if k == 1 else
                  b.tensor(f"y{k}", tuple(out), scale=s, zp=z))
    if len(set(sizes)) == 1 and num:
        b.op("SPLIT", [_i32(b, "axis", [axis]), x], ys, "SplitOptions", NumSplits=len(sizes))
    else:
        b.op("SPLIT_V", [x, _i32(b, "sizes", sizes), _i32(b, "axis", [axis])], ys,
             "SplitVOptions", NumSplits=len(sizes))
    return b.build([inp], ys)


def gather(rng, shape=(1, 5, 4, 6), axis=3, indices=(5, 0, 0, 2), requant=False):
    idx = np.array(indices, np.int32)
    out = shape[:axis] + idx.shape + shape[axis + 1:]
    b, inp, x, y = _moved(rng, shape, out, requant)
    b.op("GATHER", [x, b.const("indices", idx)], [y], "GatherOptions", Axis=axis)
    return b.build([inp], [y])


CASES.update({
    "slice": slice_,
    "slice_batch_requant": lambda rng: slice_(rng, (3, 4, 5), (1, 0, 2), (2, -1, 2), True),
    "strided_slice": strided_slice,
    "strided_slice_masks": lambda rng: strided_slice(
        rng, (2, 6, 5, 4), (1, 5, 1, 3), (2, 0, 4, 0), (1, -1, 2, -1), BeginMask=0b0010,
        EndMask=0b1000, ShrinkAxisMask=0b0001),
    "strided_slice_requant": lambda rng: strided_slice(
        rng, (1, 10, 3), (0, -8, 0), (1, 100, 3), (1, 2, 1), True),
    "split": split,
    "split_batch": lambda rng: split(rng, (4, 3, 5), 0, 2),
    "split_v": lambda rng: split(rng, (1, 7, 6), 1, 0, [2, -1, 1]),
    "gather": gather,
    "gather_2d_indices": lambda rng: gather(rng, (2, 6, 5), 1, [[1, 5], [3, 3], [0, 4]]),
    "gather_requant": lambda rng: gather(rng, (1, 8, 3), 1, [7, 1], True),
})


def _resize(rng, name, options, shape, size, requant, fields):
    b, inp, x, y = _moved(rng, shape, (shape[0], *size, shape[3]), requant)
    b.op(name, [x, _i32(b, "size", size)], [y], options, **fields)
    return b.build([inp], [y])


def resize_nearest(rng, shape=(1, 5, 7, 3), size=(9, 4), requant=False, **options):
    return _resize(rng, "RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions", shape, size,
                   requant, options)


def resize_bilinear(rng, shape=(1, 5, 7, 3), size=(9, 4), requant=False, **options):
    return _resize(rng, "RESIZE_BILINEAR", "ResizeBilinearOptions", shape, size, requant,
                   options)


RESIZES = {"": ((1, 5, 7, 3), (9, 4), False, {}),
           "_up2": ((1, 4, 4, 5), (8, 8), False, {}),
           "_align": ((1, 5, 7, 3), (9, 13), True, {"AlignCorners": True}),
           "_half_pixel": ((1, 6, 5, 2), (11, 3), False, {"HalfPixelCenters": True}),
           "_both": ((1, 3, 8, 4), (7, 5), False, {"AlignCorners": True,
                                                    "HalfPixelCenters": True}),
           "_batch": ((2, 3, 3, 2), (5, 6), False, {"HalfPixelCenters": True})}
for _fn in (resize_nearest, resize_bilinear):
    for _suffix, (_shape, _size, _requant, _opts) in RESIZES.items():
        if _fn is resize_bilinear and _suffix == "_both":
            continue                # TFLM refuses align_corners with half_pixel_centers
        CASES[_fn.__name__ + _suffix] = (lambda fn, a, o: lambda rng: fn(rng, *a, **o))(
            _fn, (_shape, _size, _requant), _opts)
NOT_IN_TFLM = {"relu_n1_to_1"}                # no TFLM kernel: host C == golden model only


def transpose_conv(rng, in_shape=(1, 4, 5, 3), filt=(6, 3, 3), out_hw=(8, 10), stride=2,
                   padding=SAME, bias=True, act=0, per_tensor=False):
    """TRANSPOSE_CONV: inputs output_shape, weights OHWI, input, bias (optional)."""
    b = TflBuilder()
    x = _act(b, rng, "x", in_shape)
    o, kh, kw = filt
    wq = rng.integers(-127, 128, (o, kh, kw, in_shape[3])).astype(np.int8)
    ws = rng.uniform(0.002, 0.02, 1 if per_tensor else o)
    w = b.const("w", wq, scale=ws, zp=np.zeros(ws.size), qdim=0)
    out = (1, *out_hw, o)
    y = _act(b, rng, "y", out, 0.02, 0.2)
    ins = [_i32(b, "output_shape", out), w, x]
    if bias:
        ins.append(_bias(b, rng, "b", o, _scale_of(b, x), np.broadcast_to(ws, (o,))))
    b.op("TRANSPOSE_CONV", ins, [y], "TransposeConvOptions", Padding=padding, StrideW=stride,
         StrideH=stride, FusedActivationFunction=act)
    return b.build([x], [y])


CASES.update({
    "transpose_conv": transpose_conv,
    "transpose_conv_s1_valid": lambda rng: transpose_conv(rng, (1, 5, 4, 2), (4, 3, 2), (7, 5),
                                                          1, VALID, bias=False),
    "transpose_conv_s2_valid": lambda rng: transpose_conv(rng, (1, 3, 3, 4), (5, 3, 3), (7, 7),
                                                          2, VALID, act=RELU),
    "transpose_conv_k4_same": lambda rng: transpose_conv(rng, (1, 3, 4, 3), (4, 4, 4), (6, 8),
                                                         2, SAME, act=RELU6),
    "transpose_conv_s1_same": lambda rng: transpose_conv(rng, (1, 6, 5, 8), (3, 3, 3), (6, 5),
                                                         1, SAME, per_tensor=True),
    "transpose_conv_s2_odd": lambda rng: transpose_conv(rng, (1, 4, 4, 3), (3, 3, 3), (7, 8),
                                                        2, SAME, bias=False),
})


def _batch1_input(b, name, shape, s, z):
    """A model input of batch 1 reshaped to `shape` when that has a leading dim > 1."""
    if shape[0] == 1:
        t = b.tensor(name, shape, scale=s, zp=z)
        return t, t
    t = b.tensor(name, (1, int(np.prod(shape))), scale=s, zp=z)
    r = b.tensor(f"{name}_r", shape, scale=s, zp=z)
    b.op("RESHAPE", [t, b.const(f"{name}_shape", np.array(shape, np.int32))], [r])
    return t, r


def batch_matmul(rng, a_shape=(1, 4, 6), b_shape=(1, 6, 5), out=(1, 4, 5), adj_x=False,
                 adj_y=False, const_b=False):
    """BATCH_MATMUL of two activations (or an activation and a constant rhs), asymmetric
    int8 operands."""
    b = TflBuilder()
    ina, a = _batch1_input(b, "a", a_shape, *_q(rng, 0.02, 0.1))
    if const_b:
        s, z = _q(rng, 0.005, 0.05)
        rhs = b.const("rhs", rng.integers(-128, 128, b_shape).astype(np.int8), scale=s, zp=z)
        inputs = [ina]
    else:
        inb, rhs = _batch1_input(b, "b", b_shape, *_q(rng, 0.02, 0.1))
        inputs = [ina, inb]
    y = _act(b, rng, "y", out, 0.05, 0.5)
    b.op("BATCH_MATMUL", [a, rhs], [y], "BatchMatMulOptions", AdjX=adj_x, AdjY=adj_y)
    return b.build(inputs, [y])


CASES.update({
    "batch_matmul": batch_matmul,
    "batch_matmul_adj": lambda rng: batch_matmul(rng, (2, 3, 6, 4), (2, 3, 5, 6), (2, 3, 4, 5),
                                                 adj_x=True, adj_y=True),
    "batch_matmul_broadcast": lambda rng: batch_matmul(rng, (2, 1, 4, 6), (3, 6, 5),
                                                       (2, 3, 4, 5)),
    "batch_matmul_rank5": lambda rng: batch_matmul(rng, (1, 2, 2, 3, 7), (2, 1, 7, 4),
                                                   (1, 2, 2, 3, 4), adj_y=False),
    "batch_matmul_const_rhs": lambda rng: batch_matmul(rng, (1, 5, 8), (8, 3), (1, 5, 3),
                                                       const_b=True),
    "batch_matmul_const_rhs_adj": lambda rng: batch_matmul(rng, (1, 5, 8), (1, 3, 8),
                                                           (1, 5, 3), adj_y=True, const_b=True),
})


def l2_normalization(rng, shape=(1, 4, 4, 8), out_q=(1.0 / 128.0, 0)):
    """L2_NORMALIZATION over the last axis; TFLM writes 1/128 steps, zero point 0, whatever
    the output tensor says (out_q other than that: the bytes relabelled)."""
    b = TflBuilder()
    x = _act(b, rng, "x", shape, 0.01, 0.1)
    y = b.tensor("y", shape, scale=out_q[0], zp=out_q[1])
    b.op("L2_NORMALIZATION", [x], [y], "L2NormOptions", FusedActivationFunction=0)
    return b.build([x], [y])


CASES.update({
    "l2_normalization": l2_normalization,
    "l2_normalization_2d": lambda rng: l2_normalization(rng, (1, 40)),
    "l2_normalization_depth1": lambda rng: l2_normalization(rng, (1, 6, 1)),
    "l2_normalization_depth2": lambda rng: l2_normalization(rng, (1, 64, 2)),
    "l2_normalization_relabel": lambda rng: l2_normalization(rng, (1, 3, 5, 6), (0.01, 3)),
})
# -- model I/O types (issue 16): int16 at the boundary ---------------------------------------

def int16_io(rng):
    """int16 input -> QUANTIZE (int8) -> conv -> QUANTIZE (int16) output: the C API takes and
    returns int16_t (IR requantize at both ends, TFLM's Requantize)."""
    b = TflBuilder()
    s, z = _q(rng)
    x16 = b.tensor("x", (1, 5, 5, 2), dtype="INT16",
                   scale=s * 128 / 32767 * rng.uniform(0.8, 3.0), zp=0)
    x = b.tensor("x_q", (1, 5, 5, 2), scale=s, zp=z)
    w, n = _weights(b, rng, "w", (3, 1, 1, 2), 0)
    bias = _bias(b, rng, "b", n, _scale_of(b, x), b.tensors[w]["scale"])
    y = _act(b, rng, "y_q", (1, 5, 5, 3), 0.02, 0.2)
    y16 = b.tensor("y", (1, 5, 5, 3), dtype="INT16",
                   scale=_scale_of(b, y) * 128 / 32767 * rng.uniform(0.5, 1.5), zp=0)
    b.op("QUANTIZE", [x16], [x])
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", Padding=VALID, StrideW=1, StrideH=1,
         DilationWFactor=1, DilationHFactor=1, FusedActivationFunction=0)
    b.op("QUANTIZE", [y], [y16])
    return b.build([x16], [y16])


def int16_in_uint8_out(rng):
    """int16 input -> QUANTIZE (int8) -> softmax -> QUANTIZE (uint8)."""
    b = TflBuilder()
    x16 = b.tensor("x", (1, 10), dtype="INT16", scale=float(rng.uniform(1e-4, 1e-3)), zp=0)
    x = _act(b, rng, "x_q", (1, 10), 0.02, 0.1)
    y = b.tensor("y_q", (1, 10), scale=1 / 256, zp=-128)
    yu = b.tensor("y", (1, 10), dtype="UINT8", scale=1 / 256, zp=0)
    b.op("QUANTIZE", [x16], [x])
    b.op("SOFTMAX", [x], [y], "SoftmaxOptions", Beta=1.0)
    b.op("QUANTIZE", [y], [yu])
    return b.build([x16], [yu])


CASES.update({f.__name__: f for f in (int16_io, int16_in_uint8_out)})


# -- SVDF (issue 16): int8 with int16 weights_time and state ---------------------------------

def svdf(rng, n_batch=1, n_in=12, n_filter=8, n_mem=5, rank=2, act=0, state8=False):
    """SVDF int8 / int16 (TFLM's integer path) with a variable int16 state (state8: int8
    weights_time and state, the state's zero point nonzero); the state, time weight and output
    scales sized to the sums so that few values saturate. n_batch > 1: the model input
    [1, n_batch * n_in] reshaped to [n_batch, n_in] (tinyc model inputs have batch 1)."""
    b = TflBuilder()
    s_x, z_x = float(rng.uniform(0.02, 0.1)), int(rng.integers(-60, 60))
    x = b.tensor("x", (n_batch, n_in), scale=s_x, zp=z_x)
    x_in = x
    if n_batch > 1:
        x_in = b.tensor("x_flat", (1, n_batch * n_in), scale=s_x, zp=z_x)
        b.op("RESHAPE", [x_in, _i32(b, "shape", (n_batch, n_in))], [x])
    s_wf = float(rng.uniform(0.002, 0.02))
    wf = b.const("wf", rng.integers(-127, 128, (n_filter, n_in)).astype(np.int8), scale=s_wf)
    proj = 128 * s_x * 127 * s_wf * np.sqrt(n_in) / 2          # typical |x . wf|
    t_max, t_np, t_name = (127, np.int8, "INT8") if state8 else (32767, np.int16, "INT16")
    s_state = float(np.float32(proj * rng.uniform(2, 4) / t_max))
    s_wt = float(np.float32(rng.uniform(0.5, 1.0) / t_max))
    wt = b.const("wt", rng.integers(-t_max, t_max + 1, (n_filter, n_mem)).astype(t_np),
                 scale=s_wt)
    n_unit = n_filter // rank
    s_bias = float(np.float32(s_state) * np.float32(s_wt))
    out = proj * np.sqrt(rank) / 2                                # typical |y|
    bias = b.const("b", np.round(rng.normal(0, out / 4 / s_bias, n_unit)).astype(np.int32),
                   scale=s_bias)
    state = b.tensor("state", (n_batch, n_filter * n_mem), dtype=t_name, scale=s_state,
                     zp=int(rng.integers(-40, 40)) if state8 else 0, variable=True)
    y = b.tensor("y", (n_batch, n_unit), scale=float(out * rng.uniform(2, 4) / 128),
                 zp=int(rng.integers(-20, 20)))
    b.op("SVDF", [x, wf, wt, bias, state], [y], "SVDFOptions", Rank=rank,
         FusedActivationFunction=act)
    return b.build([x_in], [y])


CASES["svdf"] = svdf
# fused RELU: TFLM's integer SVDF ignores it (only the int8 clamp), as the IR does
CASES["svdf_rank1_relu"] = lambda rng: svdf(rng, n_in=20, n_filter=6, n_mem=10, rank=1, act=1)
CASES["svdf_rank3"] = lambda rng: svdf(rng, n_in=7, n_filter=12, n_mem=3, rank=3)
CASES["svdf_batch3"] = lambda rng: svdf(rng, n_batch=3, n_in=10, n_filter=6, n_mem=4, rank=2)
CASES["svdf_state8"] = lambda rng: svdf(rng, state8=True)
CASES["svdf_state8_batch2"] = lambda rng: svdf(rng, n_batch=2, n_in=9, n_filter=6, n_mem=7,
                                               rank=3, state8=True)


# -- 16x8 models (issue 16): int16 activations, int8 weights, int64 bias ---------------------

def _q16(rng, amax):
    return float(np.float32(amax * rng.uniform(0.8, 1.2) / 32767))


def _conv16(b, rng, x, s_x, shape_w, out_shape, axis, kind, **fields):
    """One 16x8 layer x -> y (int16), weights per channel along `axis`, int64 bias."""
    n = shape_w[axis]
    sw = rng.uniform(0.002, 0.02, n).astype(np.float32)
    w = b.const(f"w_{kind}", rng.integers(-127, 128, shape_w).astype(np.int8), scale=sw,
                zp=np.zeros(n), qdim=axis)
    n_out = out_shape[-1]
    bias = b.const(f"b_{kind}", rng.integers(-(1 << 20), 1 << 20, n_out).astype(np.int64),
                   scale=np.float32(s_x) * np.broadcast_to(sw, (n_out,)).astype(np.float32),
                   zp=np.zeros(n_out), qdim=0)
    fan_in = int(np.prod(shape_w)) // n
    s_y = _q16(rng, 32767 * s_x * float(sw.mean()) * np.sqrt(fan_in) * 150)
    y = b.tensor(f"y_{kind}", out_shape, dtype="INT16", scale=s_y, zp=0)
    b.op(kind, [x, w, bias], [y], **fields)
    return y, s_y


def int16_model(rng):
    """A 16x8 model with int16 model I/O: int16 input -> CONV_2D (16x8, relu) -> MAX_POOL
    -> RESHAPE -> FULLY_CONNECTED (16x8) -> int16 output; C API int16_t both ends."""
    b = TflBuilder()
    s_x = _q16(rng, 4.0)
    x = b.tensor("x", (1, 6, 6, 2), dtype="INT16", scale=s_x, zp=0)
    c, s_c = _conv16(b, rng, x, s_x, (4, 3, 3, 2), (1, 6, 6, 4), 0, "CONV_2D",
                     options="Conv2DOptions", Padding=SAME, StrideW=1, StrideH=1,
                     DilationWFactor=1, DilationHFactor=1, FusedActivationFunction=RELU)
    p = b.tensor("pool", (1, 3, 3, 4), dtype="INT16", scale=s_c, zp=0)
    b.op("MAX_POOL_2D", [c], [p], "Pool2DOptions", Padding=VALID, StrideW=2, StrideH=2,
         FilterWidth=2, FilterHeight=2)
    f = b.tensor("flat", (1, 36), dtype="INT16", scale=s_c, zp=0)
    b.op("RESHAPE", [p, b.const("shape", np.array([1, 36], np.int32))], [f])
    y, _ = _conv16(b, rng, f, s_c, (5, 36), (1, 5), 0, "FULLY_CONNECTED",
                   options="FullyConnectedOptions", FusedActivationFunction=0)
    return b.build([x], [y])


def int8_16x8_int8(rng):
    """int8 input -> QUANTIZE (int16) -> DEPTHWISE (16x8) -> AVERAGE_POOL -> ADD of an int16
    constant -> QUANTIZE (int8) output: a 16x8 section inside an int8 model."""
    b = TflBuilder()
    s8, z8 = _q(rng)
    x = b.tensor("x", (1, 5, 5, 3), scale=s8, zp=z8)
    s16 = _q16(rng, 128 * s8 * 1.1)
    x16 = b.tensor("x16", (1, 5, 5, 3), dtype="INT16", scale=s16, zp=0)
    b.op("QUANTIZE", [x], [x16])
    d, s_d = _conv16(b, rng, x16, s16, (1, 3, 3, 6), (1, 5, 5, 6), 3, "DEPTHWISE_CONV_2D",
                     options="DepthwiseConv2DOptions", Padding=SAME, StrideW=1, StrideH=1,
                     DepthMultiplier=2, FusedActivationFunction=0, DilationWFactor=1,
                     DilationHFactor=1)
    a = b.tensor("avg", (1, 3, 3, 6), dtype="INT16", scale=s_d, zp=0)
    b.op("AVERAGE_POOL_2D", [d], [a], "Pool2DOptions", Padding=SAME, StrideW=2, StrideH=2,
         FilterWidth=3, FilterHeight=3, FusedActivationFunction=0)
    s_c = _q16(rng, 32767 * s_d * 0.5)
    cst = b.const("c", rng.integers(-30000, 30000, (6,)).astype(np.int16), scale=s_c, zp=0)
    s_s = _q16(rng, 32767 * max(s_d, s_c) * 1.5)
    s = b.tensor("sum", (1, 3, 3, 6), dtype="INT16", scale=s_s, zp=0)
    b.op("ADD", [a, cst], [s], "AddOptions", FusedActivationFunction=0)
    y = b.tensor("y", (1, 3, 3, 6), scale=float(np.float32(32767 * s_s / 127 * 0.7)),
                 zp=int(rng.integers(-10, 10)))
    b.op("QUANTIZE", [s], [y])
    return b.build([x], [y])


CASES.update({f.__name__: f for f in (int16_model, int8_16x8_int8)})


# -- 16x8 data movement (issue 16): TFLM copies int16 values as it copies int8 ones -----------

def _wrap16(rng, shape, out_shape, body):
    """int8 input -> QUANTIZE (int16) -> body(b, x16, y16, s16) -> QUANTIZE (int8) output."""
    b = TflBuilder()
    s8, z8 = _q(rng)
    x = b.tensor("x", shape, scale=s8, zp=z8)
    s16 = _q16(rng, 128 * s8 * 1.1)
    x16 = b.tensor("x16", shape, dtype="INT16", scale=s16, zp=0)
    b.op("QUANTIZE", [x], [x16])
    y16 = b.tensor("y16", out_shape, dtype="INT16", scale=s16, zp=0)
    body(b, x16, y16, s16)
    y = b.tensor("y", out_shape, scale=float(np.float32(32767 * s16 / 127 * 0.6)),
                 zp=int(rng.integers(-10, 10)))
    b.op("QUANTIZE", [y16], [y])
    return b.build([x], [y])


def transpose_16x8(rng, shape=(1, 6, 4, 5), perm=(0, 3, 1, 2)):
    return _wrap16(rng, shape, tuple(shape[p] for p in perm), lambda b, x, y, _: b.op(
        "TRANSPOSE", [x, _i32(b, "perm", perm)], [y], "TransposeOptions"))


def slice_16x8(rng, shape=(1, 6, 7, 5), begin=(0, 1, 2, 0), size=(1, 4, -1, 3)):
    out = tuple(n - b_ if z == -1 else z for b_, z, n in zip(begin, size, shape))
    return _wrap16(rng, shape, out, lambda b, x, y, _: b.op(
        "SLICE", [x, _i32(b, "begin", begin), _i32(b, "size", size)], [y]))


def strided_slice_16x8(rng, shape=(1, 9, 8, 6), begin=(0, 1, -1, 0), end=(1, 8, 0, 6),
                       strides=(1, 3, -2, 2), out=(1, 3, 4, 3), **masks):
    return _wrap16(rng, shape, out, lambda b, x, y, _: b.op(
        "STRIDED_SLICE", [x, _i32(b, "begin", begin), _i32(b, "end", end),
                          _i32(b, "strides", strides)], [y], "StridedSliceOptions", **masks))


def split_16x8(rng, shape=(1, 4, 6, 9)):
    """SPLIT into 3 along the channels; the middle part is the output."""
    def body(b, x, y, s):
        parts = [b.tensor(f"p{k}", (1, 4, 6, 3), dtype="INT16", scale=s, zp=0)
                 if k != 1 else y for k in range(3)]
        b.op("SPLIT", [_i32(b, "axis", [3]), x], parts, "SplitOptions", NumSplits=3)
    return _wrap16(rng, shape, (1, 4, 6, 3), body)


CASES.update({f.__name__: f for f in (transpose_16x8, slice_16x8, strided_slice_16x8,
                                      split_16x8)})
CASES["transpose_16x8_5d"] = lambda rng: transpose_16x8(rng, (1, 3, 2, 4, 3), (4, 0, 2, 1, 3))
CASES["strided_slice_16x8_shrink"] = lambda rng: strided_slice_16x8(
    rng, (1, 5, 6, 4), (0, 2, 0, 1), (1, 3, 6, 4), (1, 1, 2, 1), (1, 3, 3), ShrinkAxisMask=2)


def transpose_16x8_io(rng):
    """int16 model I/O: int16 input -> TRANSPOSE -> STRIDED_SLICE -> int16 output (the
    whole int16 range)."""
    b = TflBuilder()
    s = _q16(rng, 4.0)
    x = b.tensor("x", (1, 4, 6, 5), dtype="INT16", scale=s, zp=0)
    t = b.tensor("t", (1, 5, 4, 6), dtype="INT16", scale=s, zp=0)
    b.op("TRANSPOSE", [x, _i32(b, "perm", (0, 3, 1, 2))], [t], "TransposeOptions")
    y = b.tensor("y", (1, 2, 4, 3), dtype="INT16", scale=s, zp=0)
    b.op("STRIDED_SLICE", [t, _i32(b, "begin", (0, 1, 0, 0)), _i32(b, "end", (1, 5, 4, 6)),
                           _i32(b, "strides", (1, 2, 1, 2))], [y], "StridedSliceOptions")
    return b.build([x], [y])


CASES["transpose_16x8_io"] = transpose_16x8_io


def concat_16x8(rng, axis=2):
    """CONCATENATION of an int16 tensor with a slice and a transpose of it (raw copies)."""
    def body(b, x, y, s):
        a = b.tensor("a", (1, 4, 3, 4), dtype="INT16", scale=s, zp=0)
        b.op("SLICE", [x, _i32(b, "begin", (0, 0, 1, 0)), _i32(b, "size", (1, 4, 3, 4))], [a])
        t = b.tensor("t", (1, 4, 4, 4), dtype="INT16", scale=s, zp=0)
        b.op("TRANSPOSE", [x, _i32(b, "perm", (0, 2, 1, 3))], [t], "TransposeOptions")
        b.op("CONCATENATION", [t, a, x], [y], "ConcatenationOptions", Axis=axis,
             FusedActivationFunction=0)
    return _wrap16(rng, (1, 4, 4, 4), (1, 4, 11, 4), body)


def pad_16x8(rng, v2=False):
    """PAD (zeros) / PADV2 (an int16 constant) of int16 values."""
    pads = np.array([[0, 0], [1, 2], [0, 1], [2, 1]], np.int32)
    def body(b, x, y, s):
        ins = [x, b.const("pads", pads)]
        if v2:
            ins.append(b.const("cv", np.array([-1234], np.int16), scale=s, zp=0))
        b.op("PADV2" if v2 else "PAD", ins, [y])
    return _wrap16(rng, (1, 3, 4, 2), (1, 6, 5, 5), body)


CASES.update({f.__name__: f for f in (concat_16x8, pad_16x8)})
CASES["padv2_16x8"] = lambda rng: pad_16x8(rng, v2=True)


def resize_nearest_16x8(rng, shape=(1, 5, 7, 3), size=(9, 4), **options):
    """RESIZE_NEAREST_NEIGHBOR of int16 values (TFLM's int16 branch: raw copies)."""
    return _wrap16(rng, shape, (1, *size, shape[3]), lambda b, x, y, _: b.op(
        "RESIZE_NEAREST_NEIGHBOR", [x, _i32(b, "size", size)], [y],
        "ResizeNearestNeighborOptions", **options))


CASES["resize_nearest_16x8"] = resize_nearest_16x8
CASES["resize_nearest_16x8_both"] = lambda rng: resize_nearest_16x8(
    rng, (1, 3, 8, 4), (7, 5), AlignCorners=True, HalfPixelCenters=True)
CASES["resize_nearest_16x8_half_pixel"] = lambda rng: resize_nearest_16x8(
    rng, (1, 6, 5, 2), (11, 3), HalfPixelCenters=True)


def minimum_16x8(rng, kind="MINIMUM"):
    """MINIMUM of an int16 constant (first operand, per channel) and an activation (raw
    compare)."""
    def body(b, x, y, s):
        c = b.const("c", rng.integers(-20000, 20000, (3,)).astype(np.int16), scale=s, zp=0)
        b.op(kind, [c, x], [y])
    return _wrap16(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


def maximum_16x8(rng):
    """MAXIMUM of an int16 activation and a row of it (broadcast along H)."""
    def body(b, x, y, s):
        r = b.tensor("row", (1, 1, 5, 3), dtype="INT16", scale=s, zp=0)
        b.op("SLICE", [x, _i32(b, "begin", (0, 2, 0, 0)), _i32(b, "size", (1, 1, 5, 3))], [r])
        b.op("MAXIMUM", [x, r], [y])
    return _wrap16(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


CASES.update({f.__name__: f for f in (minimum_16x8, maximum_16x8)})
CASES["maximum_16x8_const"] = lambda rng: minimum_16x8(rng, "MAXIMUM")


def relu6_16x8(rng):
    """RELU6 of int16 values: clamped to [0, six] raw (six within the int16 range)."""
    def body(b, x, y, s):
        b.op("RELU6", [x], [y])
    b = TflBuilder()
    s8, z8 = _q(rng)
    s8 = max(s8, 0.05)
    x = b.tensor("x", (1, 4, 5, 3), scale=s8, zp=z8)
    s16 = _q16(rng, 128 * s8 * 1.1)
    x16 = b.tensor("x16", (1, 4, 5, 3), dtype="INT16", scale=s16, zp=0)
    b.op("QUANTIZE", [x], [x16])
    y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s16, zp=0)
    body(b, x16, y16, s16)
    y = b.tensor("y", (1, 4, 5, 3), scale=float(np.float32(7.0 / 255)), zp=-128)
    b.op("QUANTIZE", [y16], [y])
    return b.build([x], [y])


CASES["relu6_16x8"] = relu6_16x8


# -- 16x8 arithmetic (issue 16) ----------------------------------------------------------------

def _wrap16_q(rng, shape, out_shape, body, s_out=None):
    """_wrap16 with the int16 output's scale from body: body(b, x16, s16) -> (y16, s_y16)."""
    b = TflBuilder()
    s8, z8 = _q(rng)
    x = b.tensor("x", shape, scale=s8, zp=z8)
    s16 = _q16(rng, 128 * s8 * 1.1)
    x16 = b.tensor("x16", shape, dtype="INT16", scale=s16, zp=0)
    b.op("QUANTIZE", [x], [x16])
    y16, s_y = body(b, x16, s16)
    y = b.tensor("y", out_shape, scale=float(np.float32(32767 * s_y / 127 * 0.6)),
                 zp=int(rng.integers(-10, 10)))
    b.op("QUANTIZE", [y16], [y])
    return b.build([x], [y])


def transpose_conv_16x8(rng, in_shape=(1, 4, 5, 3), filt=(6, 3, 3), out_hw=(8, 10), stride=2,
                        padding=SAME, bias=True, act=0):
    """TRANSPOSE_CONV with int16 activations, int8 per-channel weights, int64 bias."""
    o, kh, kw = filt
    out = (1, *out_hw, o)

    def body(b, x16, s16):
        ws = rng.uniform(0.002, 0.02, o).astype(np.float32)
        w = b.const("w", rng.integers(-127, 128, (o, kh, kw, in_shape[3])).astype(np.int8),
                    scale=ws, zp=np.zeros(o), qdim=0)
        ins = [_i32(b, "output_shape", out), w, x16]
        if bias:
            ins.append(b.const("b", rng.integers(-(1 << 20), 1 << 20, o).astype(np.int64),
                               scale=np.float32(s16) * ws, zp=np.zeros(o), qdim=0))
        s_y = _q16(rng, 32767 * s16 * float(ws.mean()) * np.sqrt(kh * kw * in_shape[3]) * 60)
        y16 = b.tensor("y16", out, dtype="INT16", scale=s_y, zp=0)
        b.op("TRANSPOSE_CONV", ins, [y16], "TransposeConvOptions", Padding=padding,
             StrideW=stride, StrideH=stride, FusedActivationFunction=act)
        return y16, s_y
    return _wrap16_q(rng, in_shape, out, body)


CASES["transpose_conv_16x8"] = transpose_conv_16x8
CASES["transpose_conv_16x8_valid_relu"] = lambda rng: transpose_conv_16x8(
    rng, (1, 3, 3, 4), (5, 3, 3), (7, 7), 2, VALID, act=RELU)
CASES["transpose_conv_16x8_nobias"] = lambda rng: transpose_conv_16x8(
    rng, (1, 5, 4, 2), (4, 3, 2), (7, 5), 1, VALID, bias=False)


def relu_16x8(rng, kind="RELU", alpha=None):
    """RELU / LEAKY_RELU of int16 values into another int16 scale (TFLM requantizes: one
    multiplier for x >= 0, one for alpha * x)."""
    def body(b, x16, s16):
        s_y = _q16(rng, 32767 * s16 * rng.uniform(2.0, 4.0))
        y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s_y, zp=0)
        if alpha is None:
            b.op(kind, [x16], [y16])
        else:
            b.op(kind, [x16], [y16], "LeakyReluOptions", Alpha=alpha)
        return y16, s_y
    return _wrap16_q(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


CASES["relu_16x8"] = relu_16x8
CASES["leaky_relu_16x8"] = lambda rng: relu_16x8(rng, "LEAKY_RELU", 0.2)
CASES["leaky_relu_16x8_big_alpha"] = lambda rng: relu_16x8(rng, "LEAKY_RELU", 1.7)


def sub_16x8(rng, const=False, act=0):
    """SUB of int16 values: x - (a row of x, broadcast) or x - an int16 constant, into
    another int16 scale (TFLM: add's arithmetic, left shift 15)."""
    def body(b, x16, s16):
        if const:
            s_c = _q16(rng, 32767 * s16 * rng.uniform(0.3, 2.0))
            r = b.const("c", rng.integers(-30000, 30000, (3,)).astype(np.int16), scale=s_c,
                        zp=0)
        else:
            r = b.tensor("row", (1, 1, 5, 3), dtype="INT16", scale=s16, zp=0)
            b.op("SLICE", [x16, _i32(b, "begin", (0, 2, 0, 0)), _i32(b, "size", (1, 1, 5, 3))],
                 [r])
        s_y = _q16(rng, 32767 * s16 * rng.uniform(1.5, 3.0))
        y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s_y, zp=0)
        b.op("SUB", [x16, r], [y16], "SubOptions", FusedActivationFunction=act)
        return y16, s_y
    return _wrap16_q(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


CASES["sub_16x8"] = sub_16x8
CASES["sub_16x8_const_relu"] = lambda rng: sub_16x8(rng, True, RELU)


def mul_16x8(rng, const=False, act=0):
    """MUL of int16 values: x * (a row of x, broadcast) or x * an int16 constant (TFLM: the
    int32 product requantized by s1 * s2 / s_out)."""
    def body(b, x16, s16):
        if const:
            s_c = _q16(rng, rng.uniform(0.5, 2.0))
            r = b.const("c", rng.integers(-30000, 30000, (3,)).astype(np.int16), scale=s_c,
                        zp=0)
        else:
            s_c = s16
            r = b.tensor("row", (1, 1, 5, 3), dtype="INT16", scale=s16, zp=0)
            b.op("SLICE", [x16, _i32(b, "begin", (0, 2, 0, 0)), _i32(b, "size", (1, 1, 5, 3))],
                 [r])
        s_y = _q16(rng, 32767 * s16 * 32767 * s_c * rng.uniform(0.3, 0.8))
        y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s_y, zp=0)
        b.op("MUL", [x16, r], [y16], "MulOptions", FusedActivationFunction=act)
        return y16, s_y
    return _wrap16_q(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


CASES["mul_16x8"] = mul_16x8
CASES["mul_16x8_const_relu"] = lambda rng: mul_16x8(rng, True, RELU)


def squared_difference_16x8(rng, const=False):
    """SQUARED_DIFFERENCE of int16 values (TFLM: left shift 0, the int32 square)."""
    def body(b, x16, s16):
        if const:
            s_c = _q16(rng, 32767 * s16 * rng.uniform(0.3, 2.0))
            r = b.const("c", rng.integers(-30000, 30000, (3,)).astype(np.int16), scale=s_c,
                        zp=0)
        else:
            s_c = s16
            r = b.tensor("row", (1, 1, 5, 3), dtype="INT16", scale=s16, zp=0)
            b.op("SLICE", [x16, _i32(b, "begin", (0, 2, 0, 0)), _i32(b, "size", (1, 1, 5, 3))],
                 [r])
        amax = 32767 * max(s16, s_c)
        s_y = _q16(rng, amax * amax * rng.uniform(0.5, 1.5))
        y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s_y, zp=0)
        b.op("SQUARED_DIFFERENCE", [x16, r], [y16])
        return y16, s_y
    return _wrap16_q(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


CASES["squared_difference_16x8"] = squared_difference_16x8
CASES["squared_difference_16x8_const"] = lambda rng: squared_difference_16x8(rng, True)


def mean_16x8(rng, kind="MEAN", axes=(1, 2), keep=True):
    """MEAN / SUM of int16 values (TFLM QuantizedMeanOrSum<int16_t>: int32 sum, MEAN's
    un-normalised multiplier with 1/count folded in)."""
    shape = (1, 5, 6, 4)
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in axes)
    n = int(np.prod([shape[a] for a in axes]))

    def body(b, x16, s16):
        s_y = _q16(rng, 32767 * s16 * (rng.uniform(0.3, 0.8) if kind == "MEAN" else
                                       n * 0.4))
        y16 = b.tensor("y16", out, dtype="INT16", scale=s_y, zp=0)
        b.op(kind, [x16, _i32(b, "axis", axes)], [y16], "ReducerOptions", KeepDims=keep)
        return y16, s_y
    return _wrap16_q(rng, shape, out, body)


CASES["mean_16x8"] = mean_16x8
CASES["mean_16x8_c"] = lambda rng: mean_16x8(rng, "MEAN", (3,), False)
CASES["sum_16x8"] = lambda rng: mean_16x8(rng, "SUM", (1, 2))


def prelu_16x8(rng, alpha_shape=(3,)):
    """PRELU of int16 values with an int8 alpha constant (TFLM BroadcastPrelu4DSlow<int16_t,
    int8_t>: x >= 0 requantized, else x * (alpha - zp_alpha) requantized)."""
    def body(b, x16, s16):
        al = b.const("alpha", rng.integers(-128, 128, alpha_shape).astype(np.int8),
                     scale=float(rng.uniform(0.002, 0.01)), zp=int(rng.integers(-20, 20)))
        s_y = _q16(rng, 32767 * s16 * rng.uniform(2.0, 4.0))
        y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s_y, zp=0)
        b.op("PRELU", [x16, al], [y16])
        return y16, s_y
    return _wrap16_q(rng, (1, 4, 5, 3), (1, 4, 5, 3), body)


CASES["prelu_16x8"] = prelu_16x8
CASES["prelu_16x8_hw"] = lambda rng: prelu_16x8(rng, (5, 3))


def batch_matmul_16x8(rng, const_rhs=False, adj_y=False):
    """BATCH_MATMUL of int16 operands (TFLM BatchMatMul<int16_t, int64_t>): x [1, 4, 5, 3]
    @ (a slice of x transposed, or an int16 constant)."""
    def body(b, x16, s16):
        if const_rhs:
            s_c = _q16(rng, rng.uniform(0.5, 2.0))
            shape = (1, 6, 3) if adj_y else (1, 3, 6)
            r = b.const("rhs", rng.integers(-30000, 30000, shape).astype(np.int16), scale=s_c,
                        zp=0)
            out = (1, 4, 5, 6)
        else:
            s_c = s16
            r = b.tensor("rhs", (1, 4, 2, 3), dtype="INT16", scale=s16, zp=0)
            b.op("SLICE", [x16, _i32(b, "begin", (0, 0, 1, 0)), _i32(b, "size", (1, 4, 2, 3))],
                 [r])
            adj = True
            out = (1, 4, 5, 2)
        s_y = _q16(rng, 32767 * s16 * 32767 * s_c * np.sqrt(3) * rng.uniform(0.3, 0.6))
        y16 = b.tensor("y16", out, dtype="INT16", scale=s_y, zp=0)
        b.op("BATCH_MATMUL", [x16, r], [y16], "BatchMatMulOptions", AdjX=False,
             AdjY=adj_y if const_rhs else adj)
        return y16, s_y
    out = (1, 4, 5, 6) if const_rhs else (1, 4, 5, 2)
    return _wrap16_q(rng, (1, 4, 5, 3), out, body)


CASES["batch_matmul_16x8"] = batch_matmul_16x8
CASES["batch_matmul_16x8_const"] = lambda rng: batch_matmul_16x8(rng, True)
CASES["batch_matmul_16x8_const_adj"] = lambda rng: batch_matmul_16x8(rng, True, True)


def logistic_16x8(rng, s_in=None, kind="LOGISTIC"):
    """LOGISTIC with int16 activations (TFLM reference_integer_ops::Logistic int16): output
    at 2^-15; the input at 2^-12 (power-of-two case) or at any other scale (multiplier and
    shift from LogisticPrepare)."""
    def body(b, x16, s16):
        s_y = 1.0 / 32768
        y16 = b.tensor("y16", (1, 4, 5, 3), dtype="INT16", scale=s_y, zp=0)
        b.op(kind, [x16], [y16])
        return y16, s_y
    shape = (1, 4, 5, 3)
    b = TflBuilder()
    s8, z8 = _q(rng)
    s8 = float(np.float32(12.0 / 255 * rng.uniform(0.8, 1.5))) if s_in is None else s8
    x = b.tensor("x", shape, scale=s8, zp=z8)
    s16 = float(np.float32(s_in if s_in is not None else 128 * s8 * 1.1 / 32767))
    x16 = b.tensor("x16", shape, dtype="INT16", scale=s16, zp=0)
    b.op("QUANTIZE", [x], [x16])
    y16, s_y = body(b, x16, s16)
    y = b.tensor("y", shape, scale=1.0 / 256 if kind == "LOGISTIC" else 1.0 / 128,
                 zp=-128 if kind == "LOGISTIC" else 0)
    b.op("QUANTIZE", [y16], [y])
    return b.build([x], [y])


CASES["logistic_16x8"] = logistic_16x8
CASES["logistic_16x8_pot"] = lambda rng: logistic_16x8(rng, 2.0 ** -12)
CASES["tanh_16x8"] = lambda rng: logistic_16x8(rng, kind="TANH")
CASES["tanh_16x8_pot"] = lambda rng: logistic_16x8(rng, 2.0 ** -12, "TANH")
CASES["tanh_16x8_pot11"] = lambda rng: logistic_16x8(rng, 2.0 ** -11, "TANH")


def softmax_16x8(rng, shape=(1, 4, 5, 7), beta=1.0, amax=None):
    """SOFTMAX with int16 activations (TFLM reference_ops::SoftmaxInt16: exp and 1/(1+x)
    tables from LUTPopulate<int16_t>, input multiplier s_in * beta / (10 / 65535)), over the
    last axis; the int16 input spans +-amax (12: within the table's -10, 40: beyond it)."""
    b = TflBuilder()
    s8, z8 = _q(rng)
    amax = float(rng.uniform(4, 12)) if amax is None else amax
    s8 = float(np.float32(2 * amax / 255))
    x = b.tensor("x", shape, scale=s8, zp=z8)
    s16 = float(np.float32(128 * s8 * 1.1 / 32767))
    x16 = b.tensor("x16", shape, dtype="INT16", scale=s16, zp=0)
    b.op("QUANTIZE", [x], [x16])
    y16 = b.tensor("y16", shape, dtype="INT16", scale=1.0 / 32768, zp=0)
    b.op("SOFTMAX", [x16], [y16], "SoftmaxOptions", Beta=beta)
    y = b.tensor("y", shape, scale=1.0 / 256, zp=-128)
    b.op("QUANTIZE", [y16], [y])
    return b.build([x], [y])


CASES["softmax_16x8"] = softmax_16x8
CASES["softmax_16x8_beta"] = lambda rng: softmax_16x8(rng, (1, 3, 10), beta=0.4, amax=40.0)
CASES["softmax_16x8_wide"] = lambda rng: softmax_16x8(rng, (1, 2, 300), beta=1.7, amax=40.0)


def softmax_16x8_io(rng, shape=(1, 6, 33), beta=1.0):
    """16x8 SOFTMAX on the int16 model input (every int16 value reachable), int16 output."""
    b = TflBuilder()
    s16 = float(np.float32(rng.uniform(2, 20) / 32767))
    x16 = b.tensor("x16", shape, dtype="INT16", scale=s16, zp=0)
    y16 = b.tensor("y16", shape, dtype="INT16", scale=1.0 / 32768, zp=0)
    b.op("SOFTMAX", [x16], [y16], "SoftmaxOptions", Beta=beta)
    return b.build([x16], [y16])


CASES["softmax_16x8_io"] = softmax_16x8_io
CASES["softmax_16x8_io_beta"] = lambda rng: softmax_16x8_io(rng, (1, 200), beta=0.05)


def rsqrt_16x8(rng, shape=(1, 8, 64), out_scale=None):
    """16x8 RSQRT (TFLM RsqrtEvalQuantized<int16_t>) on the int16 model input after MAXIMUM
    with 0 (TFLM errors on negative values): every non-negative int16 value reachable, 0
    included (-> 32767); int16 output."""
    b = TflBuilder()
    s16 = float(np.float32(rng.uniform(1e-4, 0.05)))
    x16 = b.tensor("x16", shape, dtype="INT16", scale=s16, zp=0)
    zero = b.const("zero", np.zeros((1,), np.int16), scale=s16, zp=0)
    r16 = b.tensor("r16", shape, dtype="INT16", scale=s16, zp=0)
    b.op("MAXIMUM", [x16, zero], [r16])
    s_out = out_scale or float(np.float32(1.0 / np.sqrt(s16) / rng.uniform(3000, 30000)))
    y16 = b.tensor("y16", shape, dtype="INT16", scale=s_out, zp=0)
    b.op("RSQRT", [r16], [y16])
    return b.build([x16], [y16])


CASES["rsqrt_16x8"] = rsqrt_16x8
# an output scale that saturates the small inputs (1/sqrt(v) above the int16 range)
CASES["rsqrt_16x8_sat"] = lambda rng: rsqrt_16x8(rng, (1, 300), out_scale=1e-3)


def float_io_16x8(rng, softmax=False):
    """A 16x8 model with float I/O (issue 16): float input -> QUANTIZE (int16) -> CONV_2D
    (16x8) -> MAX_POOL -> RESHAPE -> FULLY_CONNECTED (16x8) [-> SOFTMAX (16x8)] ->
    DEQUANTIZE -> float output. tinyc: float at the Python API, int16_t in the C API."""
    b = TflBuilder()
    s_x = _q16(rng, 4.0)
    xf = b.tensor("x", (1, 6, 6, 2), dtype="FLOAT32")
    x = b.tensor("x16", (1, 6, 6, 2), dtype="INT16", scale=s_x, zp=0)
    b.op("QUANTIZE", [xf], [x])
    c, s_c = _conv16(b, rng, x, s_x, (4, 3, 3, 2), (1, 6, 6, 4), 0, "CONV_2D",
                     options="Conv2DOptions", Padding=SAME, StrideW=1, StrideH=1,
                     DilationWFactor=1, DilationHFactor=1, FusedActivationFunction=RELU)
    p = b.tensor("pool", (1, 3, 3, 4), dtype="INT16", scale=s_c, zp=0)
    b.op("MAX_POOL_2D", [c], [p], "Pool2DOptions", Padding=VALID, StrideW=2, StrideH=2,
         FilterWidth=2, FilterHeight=2)
    f = b.tensor("flat", (1, 36), dtype="INT16", scale=s_c, zp=0)
    b.op("RESHAPE", [p, b.const("shape", np.array([1, 36], np.int32))], [f])
    y, _ = _conv16(b, rng, f, s_c, (5, 36), (1, 5), 0, "FULLY_CONNECTED",
                   options="FullyConnectedOptions", FusedActivationFunction=0)
    if softmax:
        sm = b.tensor("sm", (1, 5), dtype="INT16", scale=1.0 / 32768, zp=0)
        b.op("SOFTMAX", [y], [sm], "SoftmaxOptions", Beta=1.0)
        y = sm
    yf = b.tensor("y", (1, 5), dtype="FLOAT32")
    b.op("DEQUANTIZE", [y], [yf])
    return b.build([xf], [yf])


CASES["float_io_16x8"] = float_io_16x8
CASES["float_io_16x8_softmax"] = lambda rng: float_io_16x8(rng, True)


def split_v_16x8(rng, shape=(1, 4, 9, 3)):
    """SPLIT_V of int16 values along W into sizes (2, -1, 3) (TFLM split_v.cc: raw copies);
    the middle part (width 4) is the output."""
    def body(b, x, y, s):
        parts = [b.tensor(f"p{k}", (1, 4, w, 3), dtype="INT16", scale=s, zp=0)
                 if k != 1 else y for k, w in enumerate((2, 4, 3))]
        b.op("SPLIT_V", [x, _i32(b, "sizes", [2, -1, 3]), _i32(b, "axis", [2])], parts,
             "SplitVOptions", NumSplits=3)
    return _wrap16(rng, shape, (1, 4, 4, 3), body)


CASES["split_v_16x8"] = split_v_16x8


# -- audit (op_coverage.py): broadcasting variants of the int8 binary ops ---------------------
CASES["minimum_broadcast"] = lambda rng: _same_q_binary(rng, "MINIMUM", (1, 4, 1, 1))


def prelu_scalar_alpha(rng, shape=(1, 3, 4, 5)):
    """PRELU with one alpha for every element (broadcast from [1])."""
    b = TflBuilder()
    x = _act(b, rng, "x", shape)
    alpha = b.const("alpha", rng.integers(-128, 128, (1,)).astype(np.int8),
                    scale=float(rng.uniform(0.002, 0.01)), zp=int(rng.integers(-20, 20)))
    y = _act(b, rng, "y", shape, 0.03, 0.15)
    b.op("PRELU", [x, alpha], [y])
    return b.build([x], [y])


def squared_difference_rank2(rng):
    """SQUARED_DIFFERENCE of [7, 5] and a broadcast column [7, 1] (rank 2)."""
    b = TflBuilder()
    x1 = _act(b, rng, "a", (1, 7, 5), 0.005, 0.02)
    x2 = _act(b, rng, "b", (1, 7, 1), 0.005, 0.02)
    y = _act(b, rng, "y", (1, 7, 5), 0.01, 0.05)
    b.op("SQUARED_DIFFERENCE", [x1, x2], [y])
    return b.build([x1, x2], [y])


CASES.update({f.__name__: f for f in (prelu_scalar_alpha, squared_difference_rank2)})


# -- QUANTIZE / DEQUANTIZE: the type pairs of TFLM's quantize.cc / dequantize.cc (issue 16) ---
# float32 -> int8: float_io; float32 -> int16: float_io_16x8; int8 -> int8: quantize;
# int8 -> uint8, uint8 -> int8 at the boundary: uint8_io, uint8_same_scale; int16 -> int8,
# int8 -> int16: int16_io, int8_16x8_int8; int8 -> float32: float_io; int16 -> float32:
# float_io_16x8. The int32 forms are refused (tinyc has no int32 activations: test_errors.py).

def quantize_int16_io(rng):
    """int16 input -> QUANTIZE (int16, another scale) -> int16 output (TFLM
    Requantize<int16_t, int16_t>; a scale ratio below 1 saturates)."""
    b = TflBuilder()
    s = float(rng.uniform(1e-4, 1e-3))
    x = b.tensor("x", (1, 6, 20), dtype="INT16", scale=s, zp=0)
    y = b.tensor("y", (1, 6, 20), dtype="INT16", scale=s * float(rng.uniform(0.4, 2.5)), zp=0)
    b.op("QUANTIZE", [x], [y])
    return b.build([x], [y])


def quantize_int16_inside(rng):
    """int8 -> int16 -> QUANTIZE int16 (another scale) -> QUANTIZE int16 -> int8: int16 ->
    int16 requantization inside the graph."""
    def body(b, x16, y16, s16):
        mid = b.tensor("mid16", b.tensors[x16]["shape"], dtype="INT16",
                       scale=s16 * float(rng.uniform(0.5, 3.0)), zp=0)
        b.op("QUANTIZE", [x16], [mid])
        b.op("QUANTIZE", [mid], [y16])
    return _wrap16(rng, (1, 4, 4, 3), (1, 4, 4, 3), body)


def quantize_uint8_inside(rng, same_scale=False):
    """int8 input -> QUANTIZE (uint8) -> QUANTIZE (int8) output: a uint8 tensor inside the
    graph (tinyc: its int8 view); same_scale: zero points 128 apart (TFLM's XOR 0x80 path)."""
    b = TflBuilder()
    s, z = _q(rng)
    x = b.tensor("x", (1, 8, 32), scale=s, zp=z)
    su = s if same_scale else s * float(rng.uniform(0.5, 2.0))
    u = b.tensor("u", (1, 8, 32), dtype="UINT8", scale=su,
                 zp=z + 128 if same_scale else int(rng.integers(20, 230)))
    y = _act(b, rng, "y", (1, 8, 32), 0.01, 0.1)
    b.op("QUANTIZE", [x], [u])
    b.op("QUANTIZE", [u], [y])
    return b.build([x], [y])


def dequantize_uint8(rng):
    """float input -> QUANTIZE (int8) -> QUANTIZE (uint8) -> DEQUANTIZE -> float output (TFLM
    Dequantize<uint8_t>)."""
    b = TflBuilder()
    xf = b.tensor("x", (1, 6, 24), dtype="FLOAT32")
    x = _act(b, rng, "x_q", (1, 6, 24))
    u = b.tensor("u", (1, 6, 24), dtype="UINT8", scale=_scale_of(b, x) * float(
        rng.uniform(0.6, 1.8)), zp=int(rng.integers(40, 220)))
    yf = b.tensor("y", (1, 6, 24), dtype="FLOAT32")
    b.op("QUANTIZE", [xf], [x])
    b.op("QUANTIZE", [x], [u])
    b.op("DEQUANTIZE", [u], [yf])
    return b.build([xf], [yf])


CASES.update({f.__name__: f for f in (quantize_int16_io, quantize_int16_inside,
                                      quantize_uint8_inside, dequantize_uint8)})
CASES["quantize_uint8_inside_xor"] = lambda rng: quantize_uint8_inside(rng, same_scale=True)


# -- SOFTMAX int8 -> int16 (TFLM Softmax<int8_t, int16_t>: output 1/65536, zero point -32768) --

def softmax_int8_int16(rng, shape=(1, 4, 10), beta=1.0, in_scale=None):
    b = TflBuilder()
    s, z = _q(rng, 0.02, 0.2) if in_scale is None else (in_scale, int(rng.integers(-20, 20)))
    x = b.tensor("x", shape, scale=s, zp=z)
    y = b.tensor("y", shape, dtype="INT16", scale=1 / 65536, zp=-32768)
    b.op("SOFTMAX", [x], [y], "SoftmaxOptions", Beta=beta)
    return b.build([x], [y])


CASES["softmax_int8_int16"] = softmax_int8_int16
CASES["softmax_int8_int16_beta"] = lambda rng: softmax_int8_int16(rng, (1, 3, 40), beta=0.4)
CASES["softmax_int8_int16_rows"] = lambda rng: softmax_int8_int16(rng, (1, 256), in_scale=0.01)
CASES["softmax_int8_int16_wide"] = lambda rng: softmax_int8_int16(rng, (1, 2, 5, 7),
                                                                   in_scale=0.5)
