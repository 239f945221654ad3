"""The C of one model per data-movement / reduction op (tfl_cases.py) compiles without a
message under -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Werror with
gcc, clang and arm-none-eabi-gcc (Cortex-M4), as tests/backend/test_compile.py asks of the
test models' C."""
from __future__ import annotations

import logging
import subprocess

import numpy as np
import pytest
from needs import need_tools

import tinyc

WARN = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Werror"]
COMPILERS = {"gcc": ["gcc", "-std=c99", "-O2", *WARN],
             "clang": ["clang", "-std=c99", "-O2", *WARN],
             "arm": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft",
                     "-std=c99", "-O2", *WARN]}
OP_CASES = ["transpose_5d", "mean_5d", "sum_0_3", "reduce_max_0_2", "strided_slice_masks",
            "split_v", "gather_2d_indices", "resize_nearest_both", "resize_bilinear_half_pixel",
            "uint8_io", "int16_io", "int16_in_uint8_out", "svdf",
            "int16_model", "int8_16x8_int8"]
OP_CASES += ["transpose_conv_k4_same", "batch_matmul_broadcast",
             "batch_matmul_const_rhs_adj", "l2_normalization"]
OP_CASES += ["transpose_16x8_5d", "strided_slice_16x8_shrink", "split_16x8",
             "transpose_16x8_io", "concat_16x8", "padv2_16x8"]   # 16x8 data movement
OP_CASES += ["resize_nearest_16x8_both", "minimum_16x8", "maximum_16x8", "relu6_16x8"]
OP_CASES += ["transpose_conv_16x8", "relu_16x8", "leaky_relu_16x8", "sub_16x8",
             "mul_16x8", "squared_difference_16x8", "mean_16x8", "mean_16x8_c", "sum_16x8",
             "prelu_16x8", "prelu_16x8_hw", "batch_matmul_16x8", "batch_matmul_16x8_const_adj"]
OP_CASES += ["logistic_16x8", "logistic_16x8_pot", "tanh_16x8", "tanh_16x8_pot11"]
OP_CASES += ["softmax_16x8", "softmax_16x8_io_beta"]
OP_CASES += ["rsqrt_16x8"]
OP_CASES += ["svdf_state8_batch2"]
OP_CASES += ["float_io_16x8"]
OP_CASES += ["softmax_int8_int16", "quantize_int16_io", "quantize_uint8_inside"]


@pytest.fixture(scope="module")
def corpus(tfl, tmp_path_factory):
    import tfl_cases
    logging.getLogger("tinyc").setLevel(logging.ERROR)
    root = tmp_path_factory.mktemp("ops_strict")
    for name in OP_CASES:
        path = root / f"{name}.tflite"
        path.write_bytes(tfl_cases.CASES[name](np.random.default_rng(0)))
        tinyc.compile(path, progress=None).write(root / name)
    return root


@pytest.mark.parametrize("cc", sorted(COMPILERS))
def test_op_kernels_are_strict_clean(cc, corpus, tmp_path):
    need_tools(COMPILERS[cc][0])
    for name in OP_CASES:
        d = corpus / name
        for i, src in enumerate(sorted(d.rglob("*.c"))):
            r = subprocess.run([*COMPILERS[cc], "-I", str(d), "-I", str(d / "kernels"), "-c",
                                str(src), "-o", str(tmp_path / f"{name}_{i}.o")],
                               capture_output=True, text=True, check=False)
            assert r.returncode == 0 and not r.stderr.strip(), f"{cc} {src}:\n{r.stderr}"
OP_CASES += ["softmax", "log_softmax_rows", "svdf_state8"]   # tinyc_gemmlowp.h users, int8 state
