"""The op registry's types and helpers (ir/ops/__init__.py says what an OpDef holds)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ...errors import IRError
from ..types import TensorType

if TYPE_CHECKING:                        # annotations only: graph imports the ops at run time
    from ..graph import Node, Value


@dataclass(frozen=True)
class Layer:
    """A linear layer: per output channel c, y[c] = sum(x * w[c]) + b[c]; weights at input 1,
    bias (optional) at input 2.

    weight_axis: the output-channel axis of the weights (quantization scales, batch norm
      folding, channel pruning);
    window: each output reads a sliding window of the input (attrs stride, pads, dilation),
      else the input flattened per sample;
    per_channel: output channel c reads only input channel c // multiplier (depthwise);
    prunable: its weights may be pruned (unstructured) and its output channels removed
      (structured); sparse weight formats apply to it;
    windows: for a window layer whose windows are not conv patches (stride/pads/dilation), the
      function that gathers them (compensation's input rows).
    The matrix view of the weights ([O, K], K in the weights' own order) is
    layer_matrix / from_layer_matrix."""
    weight_axis: int
    window: bool = False
    per_channel: bool = False
    prunable: bool = True
    windows: Callable | None = None      # (node, x) -> its input windows [N, OH, OW, KH, KW,
    #                                      C] when they are not conv2d's (transpose_conv2d)


@dataclass(frozen=True)
class OpDef:
    name: str
    infer: Callable[[list, dict], list[TensorType]]        # (inputs, attrs) -> output types
    run_float: Callable[..., np.ndarray] | None = None     # (node, *arrays) -> array
    run_int: Callable[..., np.ndarray] | None = None       # exact integer semantics (TFLM)
    macs: Callable[[Node], int] = lambda node: 0
    int_attrs: tuple[str, ...] = ()      # attributes the integer form must carry
    alias: bool = False                  # output is the input's memory (reshape)
    inplace: tuple[int, ...] = ()        # inputs whose memory the output may reuse
    int16: bool = False                  # has a 16x8 form (int16 activations, int8 weights)
    int16_layer: bool = False            # may be asked for int16 activations (activations=)
    int16_follow: bool = False           # int16 when its input is (reshape, pools)
    layer: Layer | None = None           # a linear layer with weights (see Layer)
    clamps: bool = False                 # takes a fused activation range attrs["act"]
    clamp_range: Callable[[dict], tuple[float, float]] | None = None   # a clamp (relu, clip):
    #                                      its (lo, hi), fusable into a producer that clamps
    same_q: bool = False                 # output keeps its input's quantization (moves bytes)
    inputs_as_output_q: bool = False     # every input quantized as the output (concat,
    #                                      minimum, maximum: raw int8 bytes compared or copied)
    keeps_values: bool = False           # every output value is one of the input's values
    #                                      (reshape, transpose, max_pool2d)
    fixed_q: tuple[float, int] | None = None   # int8 output (scale, zero point) set by the op
    table: Callable | None = None        # float fn(x, attrs) quantize makes a lookup table of
    channel_tie: bool = False            # output channel c depends on input channel c only
    #                                      (elementwise, pools; add/mul: all operands)
    elementwise: bool = False            # each output element reads the same position of
    #                                      each input (numpy broadcasting): per sample too
    implied_relu: bool = False           # a QDQ output range >= 0 after it means a fused relu
    patchable: bool = False              # a window op that runs on row bands of its input
    #                                      (or, elementwise, a 1x1 window: any band)
    #                                      (attrs stride, pads; ir/patch.py): patch stages
    doc: str = ""
    quantized_constants: bool = False    # not a Layer, yet its constants are weights and
    #                                      biases (lstm): quantize keeps integer ones and makes
    #                                      float ones int8 symmetric per tensor, or for the
    #                                      bias inputs of bias_of, int32 (16x8: int64) at
    #                                      input scale * their weight's scale
    bias_of: tuple[tuple[int, int], ...] = ()   # (bias input, weight input) pairs
    trainable: bool = True               # fine-tuning (passes/finetune) has a forward and a
    #                                      backward for it; False: a graph holding it is refused
    trainable_note: str = ""             # why not (named in that error)
    int8_operands16: tuple[int, ...] = ()  # constant inputs that stay int8 in the 16x8 form
    #                                      (prelu's alpha: TFLM takes int16 x, int8 alpha)
    patch_lead: Callable | None = None   # fn(node) -> True: the node may lead a patched
    #                                      stage as its input copy (ir/patch.py: transpose
    #                                      NCHW -> NHWC, run on each band's input rows)
    patch_window: Callable | None = None  # fn(node, axis) -> (stride, effective kernel, pad
    #                                      before) of a patchable op without stride/pads attrs
    #                                      (pad), or None: this node cannot run in row bands
    patch_pads: Callable | None = None   # fn(node, (top, left, bottom, right)) -> the attrs of
    #                                      the node computing one band (ir/patch.py band_node)
    patch_side: bool = False             # a binary elementwise op (add) that runs in a
    #                                      patched stage with one operand from the chain and
    #                                      the other a whole tensor from before the stage (a
    #                                      residual branch), read at the band's rows
    input_range: Callable[[dict, float, float, float], tuple[float, float]] | None = None
    #                                      a table op's implied input range: fn(attrs, lo, hi,
    #                                      step) -> the input interval outside which the output,
    #                                      quantized to [lo, hi] with that step, no longer
    #                                      changes (f^-1 of [lo, hi] where f is monotone,
    #                                      cut where f saturates at the step's resolution)
    int16_output_zp: int | None = None   # int8 input, int16 output at this fixed zero point
    #                                      (softmax8_16: -32768, TFLM's int8 -> int16 softmax);
    #                                      the one asymmetric int16 value (a model output)
    ort_requant: bool = False            # int8 layer that ONNX Runtime runs as QLinearConv /
    #                                      QGemm / QLinearMatMul: an ORT-family QDQ import
    #                                      requantizes it in float32 as ORT (attrs ort_mult,
    #                                      ort_exp: conv.py; quant_rules.layer_rule)

    def out_channels(self, w_shape) -> int:
        """The number of output channels of a layer with weights of this shape."""
        return int(w_shape[self.layer.weight_axis])

    def fan_in(self, w_shape) -> int:
        """Weights per output channel (the sum's length)."""
        return int(np.prod(w_shape)) // self.out_channels(w_shape)


def layer_matrix(node: Node, w: np.ndarray) -> np.ndarray:
    """The weights as a matrix [O, K]: output channels as rows, the rest in layout order."""
    axis = OPS[node.op].layer.weight_axis
    return np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)


def from_layer_matrix(node: Node, w2: np.ndarray) -> np.ndarray:
    """The inverse of layer_matrix: [O, K] back to the node's weight layout."""
    shape = node.inputs[1].shape
    axis = OPS[node.op].layer.weight_axis
    moved = (shape[axis],) + tuple(d for i, d in enumerate(shape) if i != axis)
    return np.moveaxis(w2.reshape(moved), 0, axis)


def layer_ops() -> list[str]:
    """The registered layer ops."""
    return [name for name, d in OPS.items() if d.layer is not None]


OPS: dict[str, OpDef] = {}


def op(name: str, **kw) -> Callable:
    """Register an OpDef; the decorated function is the shape rule."""
    def wrap(infer):
        OPS[name] = OpDef(name=name, infer=infer, doc=(infer.__doc__ or "").strip(), **kw)
        return infer
    return wrap


def require(ok: bool, op: str, what: str, expected, got) -> None:
    """A shape rule's check on its operands: IRError "op: what — expected x, got y"."""
    if not ok:
        raise IRError(f"{op}: {what} — expected {expected}, got {got}")


def same_as_input(inputs: list[Value], attrs: dict) -> list[TensorType]:
    return [inputs[0].type.with_(q=None)]


def act_range(attrs: dict) -> tuple[float, float]:
    lo, hi = attrs.get("act") or (-np.inf, np.inf)
    return lo, hi


def clamp_float(x: np.ndarray, attrs: dict) -> np.ndarray:
    lo, hi = act_range(attrs)
    return np.clip(x, lo, hi).astype(np.float32)


def clamp_int(acc: np.ndarray, node: Node) -> np.ndarray:
    """Final clamp of every int8 kernel, then narrow to the output dtype."""
    a = node.attrs
    out_dtype = node.outputs[0].dtype.np
    return np.clip(acc, a["act_min"], a["act_max"]).astype(out_dtype)


__all__ = ["OPS", "OpDef", "Layer", "op", "layer_matrix", "from_layer_matrix",
           "layer_ops", "act_range", "clamp_float", "clamp_int", "require"]
