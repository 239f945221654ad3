"""QEMU (stm32 board) on one TFLite Micro per-op case of each data-movement and reduction op
(tfl_cases.py): the firmware's outputs == the golden model == TFLite Micro, bit for bit, on
the samples test_ops_tflm.py draws."""
from __future__ import annotations

import logging

import numpy as np
import pytest
from needs import need_tools
from test_ops_tflm import SAMPLES, _all_codes, _inputs

import tinyc

QEMU_CASES = ["transpose_5d", "mean_5d", "sum_0_3", "reduce_max_0_2", "slice_batch_requant",
              "strided_slice_masks", "split_v", "gather_2d_indices", "resize_nearest_both",
              "resize_bilinear_half_pixel",
              "uint8_io", "int16_io", "int16_in_uint8_out", "svdf",
              "int16_model", "int8_16x8_int8"]
QEMU_CASES += ["transpose_conv", "transpose_conv_k4_same", "batch_matmul_const_rhs_adj",
               "l2_normalization", "l2_normalization_depth2"]
QEMU_CASES += ["transpose_16x8_5d", "strided_slice_16x8_shrink", "split_16x8",
               "transpose_16x8_io", "concat_16x8", "padv2_16x8"]   # 16x8 data movement
QEMU_CASES += ["resize_nearest_16x8_both", "minimum_16x8", "maximum_16x8", "relu6_16x8"]
QEMU_CASES += ["transpose_conv_16x8", "leaky_relu_16x8", "sub_16x8", "mul_16x8",
               "squared_difference_16x8", "mean_16x8", "sum_16x8", "prelu_16x8_hw",
               "batch_matmul_16x8_const_adj"]
QEMU_CASES += ["logistic_16x8", "tanh_16x8"]
QEMU_CASES += ["softmax_16x8", "softmax_16x8_io"]
QEMU_CASES += ["rsqrt_16x8"]
QEMU_CASES += ["svdf_state8_batch2", "svdf_batch3"]
QEMU_CASES += ["float_io_16x8_softmax"]
# the op coverage audit (op_coverage.py): each issue-16 op on QEMU in int8 and 16x8
QEMU_CASES += ["split", "split_v_16x8", "relu_16x8", "logistic", "tanh", "float_io"]
QEMU_CASES += ["quantize_int16_io", "quantize_int16_inside", "quantize_uint8_inside", "dequantize_uint8"]
QEMU_CASES += ["softmax_int8_int16", "softmax_int8_int16_beta"]


@pytest.fixture(scope="module")
def cases(tfl):
    import tfl_cases
    return tfl_cases


@pytest.mark.parametrize("name", QEMU_CASES)
def test_qemu_equals_tflm(name, cases, tflm, tmp_path, caplog):
    need_tools("qemu-system-arm", "arm-none-eabi-gcc")
    caplog.set_level(logging.ERROR, "tinyc")
    data = cases.CASES[name](np.random.default_rng(0))
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    m = tinyc.compile(path, board="stm32")
    it = tflm.Interpreter.from_bytes(data)
    rng = np.random.default_rng(100)
    xs, want = [], []
    for k in range(SAMPLES):
        (x,) = _inputs(m, rng, k)
        it.reset()          # a fresh state per inference (SVDF), as tinyc
        it.set_input(x, 0)
        it.invoke()
        xs.append(x)
        want.append(_all_codes(m, [it.get_output(j) for j in range(len(m.outputs))]))
    got = m.run_qemu(np.stack(xs), batch=True)
    got = [got] if len(m.outputs) == 1 else got          # per output: [samples, ...]
    got = np.stack([_all_codes(m, [y[k] for y in got]) for k in range(len(xs))])
    assert np.array_equal(got, np.stack(want))


@pytest.mark.parametrize("name", ["batch_matmul_broadcast"])
def test_qemu_two_inputs_equals_tflm(name, cases, tflm, tmp_path, caplog):
    """BATCH_MATMUL of two activations: the firmware's outputs == TFLM on 4 samples."""
    need_tools("qemu-system-arm", "arm-none-eabi-gcc")
    caplog.set_level(logging.ERROR, "tinyc")
    data = cases.CASES[name](np.random.default_rng(0))
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    m = tinyc.compile(path, board="stm32")
    it = tflm.Interpreter.from_bytes(data)
    rng = np.random.default_rng(100)
    samples = [_inputs(m, rng, k) for k in range(SAMPLES)]
    want = []
    for xs in samples:
        for i, x in enumerate(xs):
            it.set_input(x, i)
        it.invoke()
        want.append(it.get_output(0).reshape(-1).astype(np.int64))
    got = m.run_qemu([np.stack([xs[i] for xs in samples]) for i in range(len(m.inputs))],
                     batch=True)
    assert np.array_equal(np.asarray(got).reshape(len(samples), -1).astype(np.int64),
                          np.stack(want))
