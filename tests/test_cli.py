"""The CLI: user errors give one clear line and exit 2 (never a traceback); commands work."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import models


def tinyc(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinyc.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def _assert_user_error(r, *needles):
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture
def mlp_path(tmp_path):
    return models.save(models.mlp(), tmp_path / "mlp.onnx")


def test_unsupported_op_is_one_line_exit_2(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Tan", ["x"], ["y"], name="my_tan")], "g", [x], [y])
    path = tmp_path / "tan.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    _assert_user_error(tinyc("build", path, "-o", tmp_path / "out"), "Tan", "my_tan")


def test_float_model_without_calib_is_one_line_exit_2(mlp_path, tmp_path):
    _assert_user_error(tinyc("build", mlp_path, "-o", tmp_path / "out"), "--calib")


def test_calibration_array_of_wrong_shape_is_one_line_exit_2(mlp_path, tmp_path):
    bad = tmp_path / "calib.npz"
    np.savez(bad, input=np.zeros((8, 3, 3), np.float32))
    _assert_user_error(tinyc("build", mlp_path, "--calib", bad, "-o", tmp_path / "out"),
                       "shape", "input")


def test_build_writes_the_c_folder(mlp_path, tmp_path):
    calib = models.save_npz(tmp_path / "calib.npz", models.calib_data(models.mlp(), 16))
    r = tinyc("build", mlp_path, "--board", "stm32", "--calib", calib, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    for f in ("model.h", "model.c", "model_data.c", "report.json"):
        assert (tmp_path / "out" / f).is_file(), f
    assert list((tmp_path / "out" / "kernels").glob("*.c"))


def test_boards_lists_the_default_board():
    r = tinyc("boards")
    assert r.returncode == 0 and "stm32" in r.stdout and "lm3s6965" in r.stdout


def test_help_teaches():
    r = tinyc("--help")
    assert r.returncode == 0 and "--calib" in r.stdout and "tinyc build" in r.stdout


def test_help_lists_sweep_and_bench_and_teaches_compression():
    r = tinyc("--help")
    assert r.returncode == 0 and "sweep" in r.stdout and "bench" in r.stdout
    r = tinyc("build", "--help")
    assert r.returncode == 0
    for flag in ("--prune", "--prune-structured", "--cluster", "--weights", "--no-compensate",
                 "--max-accuracy-drop", "--storage", "--cluster 16"):
        assert flag in r.stdout, flag


def test_bench_is_a_subcommand_that_calls_tinyc_bench(tmp_path, monkeypatch, capsys):
    from tinyc import bench, cli
    calls = []
    monkeypatch.setattr(bench, "main", lambda argv: calls.append(argv) or 0)
    (tmp_path / "mlperf-tiny").mkdir()
    out = tmp_path / "B.md"
    assert cli.main(["bench", "--board", "lm3s6965", "--models", str(tmp_path), "-o", str(out),
                     "--no-ptq"]) == 0
    argv = calls[0]
    assert argv[argv.index("--board") + 1] == "lm3s6965"
    assert argv[argv.index("-o") + 1] == str(out)
    assert argv[argv.index("--models") + 1] == str(tmp_path) and "--no-ptq" in argv
    r = tinyc("bench", "--help")
    assert r.returncode == 0 and "--models" in r.stdout and "BENCHMARKS.md" in r.stdout


def test_bench_without_the_models_is_one_line_exit_2(tmp_path):
    _assert_user_error(tinyc("bench", "--models", tmp_path), "mlperf-tiny", "--models")
