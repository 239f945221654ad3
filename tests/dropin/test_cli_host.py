"""`tinyc build --host`: the folder compiles into a normal Linux program that gives the golden
model's bits."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

import tinyc

MAIN = r"""
#include <stdio.h>
#include "model.h"
int main(void) {
    int8_t in[TINYC_MODEL_IN0_SIZE], out[TINYC_MODEL_OUT0_SIZE];
    int i;
    for (i = 0; i < TINYC_MODEL_IN0_SIZE; i++) in[i] = (int8_t)((i * 37) % 256 - 128);
    tinyc_model_invoke(in, out);
    for (i = 0; i < TINYC_MODEL_OUT0_SIZE; i++) printf("%d\n", out[i]);
    return 0;
}
"""


def test_cli_build_host_compiles_into_a_linux_program(example_dir, tmp_path):
    out = tmp_path / "digits"
    r = subprocess.run([sys.executable, "-m", "tinyc.cli", "build",
                        str(example_dir / "digits.onnx"), "--calib",
                        str(example_dir / "calib.npz"), "--host", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (tmp_path / "main.c").write_text(MAIN)
    srcs = [str(p) for p in sorted(out.glob("*.c")) + sorted((out / "kernels").glob("*.c"))]
    exe = tmp_path / "prog"
    cc = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{out}",
                         f"-I{out / 'kernels'}", str(tmp_path / "main.c"), *srcs, "-o", str(exe)],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    got = np.array([int(v) for v in subprocess.run([str(exe)], capture_output=True,
                                                    text=True, check=True).stdout.split()])
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz")
    x = ((np.arange(64) * 37) % 256 - 128).astype(np.int8).reshape(m.inputs[0].shape)
    np.testing.assert_array_equal(got, np.asarray(m.interpret(x)).reshape(-1))
