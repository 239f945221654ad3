"""TRANSPOSE_CONV, BATCH_MATMUL and L2_NORMALIZATION variants tinyc refuses: one clear error
naming operator, op and what to change."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.errors import TinycError
from tinyc.frontend.tflite import load_tflite


def _q(b, name, shape, scale=0.05, zp=0):
    return b.tensor(name, shape, scale=scale, zp=zp)


def test_transpose_conv_output_shape_mismatch(builder, tfl):
    b = builder.TflBuilder()
    x = _q(b, "x", (1, 3, 3, 2))
    shape = b.const("os", np.array([1, 6, 6, 5], np.int32))
    w = b.const("w", np.ones((4, 3, 3, 2), np.int8), scale=0.01)
    y = _q(b, "y", (1, 6, 6, 4))
    b.op("TRANSPOSE_CONV", [shape, w, x], [y], "TransposeConvOptions", Padding=0,
         StrideW=2, StrideH=2)
    with pytest.raises(TinycError, match=r"TRANSPOSE_CONV.*output_shape \[1, 6, 6, 5\] for "
                                         r"weights \[4, 3, 3, 2\]"):
        load_tflite(b.build([x], [y]))


def test_batch_matmul_per_channel_constant(builder, tfl):
    b = builder.TflBuilder()
    a = _q(b, "a", (1, 4, 6))
    c = b.const("c", np.ones((1, 6, 3), np.int8), scale=[0.01, 0.02, 0.03], zp=[0, 0, 0],
                qdim=2)
    y = _q(b, "y", (1, 4, 3))
    b.op("BATCH_MATMUL", [a, c], [y], "BatchMatMulOptions", AdjX=False, AdjY=False)
    with pytest.raises(TinycError, match=r"BATCH_MATMUL.*operand 'c' needs per-tensor "
                                         r"quantization"):
        load_tflite(b.build([a], [y]))


def test_l2_normalization_with_fused_activation(builder, tfl):
    b = builder.TflBuilder()
    x = _q(b, "x", (1, 8))
    y = b.tensor("y", (1, 8), scale=1 / 128, zp=0)
    b.op("L2_NORMALIZATION", [x], [y], "L2NormOptions", FusedActivationFunction=1)
    with pytest.raises(TinycError, match=r"L2_NORMALIZATION.*fused activation 1.*takes none"):
        load_tflite(b.build([x], [y]))
