"""logistic16, tanh16: TFLite Micro's int16 LOGISTIC and TANH
(reference_integer_ops::Logistic / Tanh, 16x8 models):
the input rescaled by (mult, shift) from LogisticPrepare onto the sigmoid table's scale
(1 / (3 * 4096)), then the uint16 sigmoid table interpolated (ir/ops/lstm.py sigmoid16 / tanh16,
the same functions as the 16x8 LSTM's gates). Zero points 0, output scale 2^-15.
"""
from __future__ import annotations

import numpy as np

from .lstm import sigmoid16, tanh16
from .registry import op, same_as_input


def _run_int(node, x):
    return sigmoid16(x, int(node.attrs["in_mult"]), int(node.attrs["in_shift"])).astype(np.int64)


@op("logistic16",
    run_float=lambda node, x: (1.0 / (1.0 + np.exp(-x))).astype(np.float32),
    run_int=_run_int, int_attrs=("in_mult", "in_shift"),
    int16=True, int16_layer=True, channel_tie=True, elementwise=True, trainable=False,
    trainable_note="16x8 TFLite imports only")
def logistic16(inputs, attrs):
    """logistic16(x): sigmoid on int16 (TFLM's 16x8 LOGISTIC: input to the table's scale by
    mult/shift, uint16 table interpolation, Q0.15 output)"""
    return same_as_input(inputs, attrs)


def _run_tanh(node, x):
    return tanh16(x, int(node.attrs["in_mult"]), int(node.attrs["in_shift"])).astype(np.int64)


@op("tanh16",
    run_float=lambda node, x: np.tanh(x).astype(np.float32),
    run_int=_run_tanh, int_attrs=("in_mult", "in_shift"),
    int16=True, int16_layer=True, channel_tie=True, elementwise=True, trainable=False,
    trainable_note="16x8 TFLite imports only")
def tanh16_op(inputs, attrs):
    """tanh16(x): tanh on int16 (TFLM's 16x8 TANH: input to the table's scale by mult/shift,
    uint16 sigmoid table interpolation, Q0.15 output)"""
    return same_as_input(inputs, attrs)
