"""The op registry: one OpDef per IR op — shape rule, float and integer semantics, MACs, and
every fact about the op that a pass or the frontend needs (which input holds weights and their
output-channel axis, whether it can clamp, keeps its input's quantization, has an int16 form,
ties channels, is computed per sample, its lookup-table function...). Passes read these fields;
none keeps its own list of op names.

Adding an op: write its OpDef in one of the modules below (register with `@op`), its frontend
function, and (for C) its kernel and call template. A layer op (weights [.., O, ..] at input 1,
bias at input 2) declares `layer=Layer(...)` and gets quantization, folding, pruning and
compression with no other edit.
"""
from .registry import (OPS, Layer, OpDef, act_range, clamp_float, clamp_int,  # noqa: F401
                       from_layer_matrix, layer_matrix, layer_ops, op, require, same_as_input)
from . import conv, convert, eltwise, pool, reduce, shape, softmax  # noqa: F401  (registration)
from . import l2norm, matmul, tconv  # noqa: F401,E402  (registration)
from . import lstm  # noqa: F401  (registration)
from . import norm  # noqa: F401, E402  (registration: layer_norm)
from . import svdf  # noqa: F401,E402  (registration)
from . import leaky16  # noqa: F401,E402  (registration: leaky_requantize, 16x8)
from . import logistic16  # noqa: F401,E402  (registration: logistic16, 16x8)
from . import resize  # noqa: F401,E402  (registration: resize, ONNX general Resize)
from . import l1norm  # noqa: F401,E402  (registration: l1_norm, ONNX LpNormalization p=1)
from . import island  # noqa: F401,E402  (registration: elementwise_fn, folded float islands)
from . import softmax16  # noqa: F401,E402  (registration: softmax16, 16x8)
from . import rsqrt16  # noqa: F401,E402  (registration: rsqrt16, 16x8)
from . import nd  # noqa: F401,E402  (registration: conv3d, max_pool3d, avg_pool3d)
from . import gru  # noqa: F401,E402  (registration: gru)
from . import softmax8_16  # noqa: F401,E402  (registration: softmax8_16, int8 -> int16)
from . import empty  # noqa: F401,E402  (registration: empty, zero-sized values)

__all__ = ["OPS", "OpDef", "Layer", "op", "layer_matrix", "from_layer_matrix",
           "layer_ops", "act_range", "clamp_float", "clamp_int", "require"]
from . import lut_channels  # noqa: F401,E402  (registration: lut_channels, ORT's float BatchNorm)
