"""Issue 2 acceptance: ONNX → int8 C, bit-exact host C == golden model == QEMU (stm32, lm3s6965),
accuracy kept, no floating point in the firmware, deterministic, warning-free C."""
from __future__ import annotations

import filecmp
import shutil
import subprocess

import numpy as np
import pytest

import models
import tinyc

N_INPUTS = 100
BUILDERS = {"cnn": models.cnn, "mlp": models.mlp, "resnet": models.resnet}


@pytest.fixture(scope="module", params=["digits", *BUILDERS])
def case(request, example_dir, tmp_path_factory):
    """(compiled model, int8 test inputs [N, ...]) for the example and each test model."""
    name = request.param
    if name == "digits":
        path, calib = example_dir / "digits.onnx", example_dir / "calib.npz"
        x = np.load(example_dir / "test.npz")["input"][:N_INPUTS]
    else:
        onnx_model = BUILDERS[name]()
        path = models.save(onnx_model, tmp_path_factory.mktemp(name) / f"{name}.onnx")
        calib = models.calib_data(onnx_model, 64)
        x = next(iter(models.test_data(onnx_model, N_INPUTS, seed=3).values()))
    m = tinyc.compile(path, board="stm32", calib=calib)
    xq = np.stack([m.inputs[0].quantize(s.reshape(m.inputs[0].shape)) for s in x])
    return m, xq


def test_host_c_equals_golden_model(case):
    m, xq = case
    assert len(xq) >= 100
    np.testing.assert_array_equal(m.run_host(xq, batch=True), m.interpret(xq, batch=True))


@pytest.mark.parametrize("board", ["stm32", "lm3s6965"])
def test_qemu_equals_host(case, board):
    m, xq = case
    host = m.run_host(xq, batch=True)
    np.testing.assert_array_equal(m.run_qemu(xq, batch=True, board=board), host)
    if board == "stm32":
        assert all(c is not None and c > 0 for c in m.last_qemu.instructions)


def test_int8_accuracy_within_one_point_of_float(example_dir):
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz")
    test = np.load(example_dir / "test.npz")
    x, labels = test["input"], test["label"]
    float_probs = models.run_onnxruntime(example_dir / "digits.onnx", {"input": x})
    float_acc = (next(iter(float_probs.values())).argmax(-1) == labels).mean() * 100
    int8_acc = (m.run_host(x, batch=True).reshape(len(x), -1).argmax(-1) == labels).mean() * 100
    assert int8_acc >= float_acc - 1.0, (float_acc, int8_acc)


def test_firmware_has_no_floating_point(case, tmp_path):
    from tinyc.firmware import build_firmware, check_nofloat
    m, xq = case
    elf = build_firmware(m.c_dir(), m.board, [[xq[0]]], tmp_path / "fw", name=m.name)
    assert check_nofloat(elf) == []


def test_build_is_deterministic(example_dir, tmp_path):
    for out in ("a", "b"):
        m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz")
        m.write(tmp_path / out)
    cmp = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file())
    assert files and not cmp.diff_files and not cmp.left_only and not cmp.right_only
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


@pytest.mark.parametrize("cc,flags", [
    ("gcc", []), ("clang", []),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"])])
def test_generated_c_is_warning_free(case, cc, flags, tmp_path):
    if shutil.which(cc) is None:
        pytest.fail(f"{cc} is not installed (scripts/setup.sh installs it)")
    m, _ = case
    c_dir = m.c_dir()
    for src in sorted(c_dir.rglob("*.c")):
        cmd = [cc, *flags, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-c",
               f"-I{c_dir}", f"-I{c_dir / 'kernels'}", str(src), "-o", str(tmp_path / "x.o")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
