#!/usr/bin/env python3
"""Write digits_float.tflite: the float model of digits.onnx as a float32 .tflite (NHWC), with
BatchNormalization folded into the convolutions as the TFLite converter does.

    python examples/digits/make_tflite.py        # needs onnx and the `tflite` package

Layers: CONV_2D 3x3 SAME + RELU; PAD (1 each side) + CONV_2D 3x3 stride 2 VALID + RELU (PyTorch's
symmetric padding, which SAME would not give at stride 2); DEPTHWISE_CONV_2D 3x3 SAME + RELU;
CONV_2D 1x1 + RELU; MEAN over H, W; FULLY_CONNECTED to 10 logits. Input "input" [1, 8, 8, 1]
float32 (pixels in [0, 1]; the ONNX model's [1, 1, 8, 8] has the same bytes), output "logits"
[1, 10]. `tinyc build digits_float.tflite --calib calib_nhwc.npz` quantizes it like digits.onnx.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "tflite"))

SAME, VALID, RELU = 0, 1, 1


def folded_layers(onnx_path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights OIHW, bias) of each Conv with its BatchNormalization folded, then the Gemm's."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(onnx_path))
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    out, conv = [], None
    for n in m.graph.node:
        if n.op_type == "Conv":
            conv = init[n.input[1]]
        elif n.op_type == "BatchNormalization":
            gamma, beta, mean, var = (init[i] for i in n.input[1:5])
            eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
            k = gamma / np.sqrt(var + eps)
            out.append((conv * k[:, None, None, None], beta - mean * k))
        elif n.op_type == "Gemm":
            out.append((init[n.input[1]], init[n.input[2]]))
    return [(w.astype(np.float32), b.astype(np.float32)) for w, b in out]


def build(onnx_path=HERE / "digits.onnx") -> bytes:
    from tflbuild import TflBuilder
    (w0, b0), (w1, b1), (w2, b2), (w3, b3), (wf, bf) = folded_layers(onnx_path)
    b = TflBuilder()
    f32 = {"dtype": "FLOAT32"}
    x = b.tensor("input", (1, 8, 8, 1), **f32)
    c0 = b.tensor("conv0", (1, 8, 8, 8), **f32)
    p1 = b.tensor("pad1", (1, 10, 10, 8), **f32)
    c1 = b.tensor("conv1", (1, 4, 4, 16), **f32)
    c2 = b.tensor("dwconv2", (1, 4, 4, 16), **f32)
    c3 = b.tensor("conv3", (1, 4, 4, 32), **f32)
    gap = b.tensor("mean", (1, 32), **f32)
    y = b.tensor("logits", (1, 10), **f32)

    def conv(name, src, dst, w, bias, padding, stride):
        b.op("CONV_2D", [src, b.const(f"{name}_w", w.transpose(0, 2, 3, 1).copy()),
                         b.const(f"{name}_b", bias)], [dst], "Conv2DOptions",
             Padding=padding, StrideW=stride, StrideH=stride, DilationWFactor=1,
             DilationHFactor=1, FusedActivationFunction=RELU)
    conv("conv0", x, c0, w0, b0, SAME, 1)
    b.op("PAD", [c0, b.const("pads", np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))],
         [p1])
    conv("conv1", p1, c1, w1, b1, VALID, 2)
    b.op("DEPTHWISE_CONV_2D", [c1, b.const("dw2_w", w2.transpose(1, 2, 3, 0).copy()),
                               b.const("dw2_b", b2)], [c2], "DepthwiseConv2DOptions",
         Padding=SAME, StrideW=1, StrideH=1, DepthMultiplier=1, FusedActivationFunction=RELU,
         DilationWFactor=1, DilationHFactor=1)
    conv("conv3", c2, c3, w3, b3, VALID, 1)
    b.op("MEAN", [c3, b.const("axes", np.array([1, 2], np.int32))], [gap], "ReducerOptions",
         KeepDims=False)
    b.op("FULLY_CONNECTED", [gap, b.const("fc_w", wf), b.const("fc_b", bf)], [y],
         "FullyConnectedOptions", FusedActivationFunction=0)
    return b.build([x], [y])


if __name__ == "__main__":
    (HERE / "digits_float.tflite").write_bytes(build())
    print(f"wrote {HERE / 'digits_float.tflite'}")
