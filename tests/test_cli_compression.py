"""The compression/calibration flags (docs/compression.md) and `tinyc check`: every
flag reaches tinyc.compile, a bad value is one `error:` line with exit 2, and check prints
float vs int8 vs compressed computed with the host C."""
from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from pathlib import Path

import tinyc
from tinyc import cli

REPO = Path(__file__).resolve().parents[1]


def tinyc_cli(*args):
    return subprocess.run([sys.executable, "-m", "tinyc.cli", *map(str, args)],
                          capture_output=True, text=True)


def run_main(capsys, *args) -> tuple[int, str, str]:
    """cli.main in this process (argparse errors exit through SystemExit)."""
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


PROGRESS = re.compile(r"calibrating|\[\d+/\d+\] ")     # progress lines, not errors


def assert_one_line_error(rc, err, *needles):
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not PROGRESS.match(ln)]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def digits(request):
    ex = REPO / "examples" / "digits"
    return ex / "digits.onnx", ex / "calib.npz", ex / "test.npz"


@pytest.fixture(scope="module")
def baseline(digits):
    return tinyc.compile(digits[0], calib=digits[1], progress=None)


# -- every flag to its keyword ----------------------------------------------------------------

def test_every_flag_reaches_its_compile_keyword():
    args = cli.parser().parse_args([
        "build", "m.onnx", "-o", "out", "--calib-method", "mse", "--per-tensor",
        "--prune", "conv=0.5", "--prune", "fc=0.25", "--prune-method", "magnitude",
        "--prune-scope", "global", "--prune-structured", "0.3", "--cluster", "16",
        "--weights", "int4", "--no-compensate", "--bias-correction",
        "--max-accuracy-drop", "0.01", "--val", "v.npz", "--storage", "small",
        "--activations", "logits=int16"])
    opts = cli.compile_options(args)
    assert opts == {"calib_method": "mse", "per_tensor": True,
                    "prune": {"conv": 0.5, "fc": 0.25}, "prune_method": "magnitude",
                    "prune_scope": "global", "prune_structured": 0.3, "cluster": 16,
                    "weights": "int4", "compensate": False, "bias_correction": True,
                    "max_accuracy_drop": 0.01, "val": "v.npz", "storage": "small",
                    "activations": {"logits": "int16"}}
    assert set(opts) <= set(inspect.signature(tinyc.compile).parameters)


@pytest.mark.parametrize("cmd", ["build", "run", "check", "inspect", "sweep"])
def test_no_flag_keeps_every_compile_default(cmd):
    extra = {"build": ["-o", "o"], "run": ["--data", "t.npz"], "check": ["--data", "t.npz"],
             "sweep": ["--data", "t.npz", "-o", "o"]}.get(cmd, [])
    args = cli.parser().parse_args([cmd, "m.onnx", *extra, "--cluster", "8"])
    assert cli.compile_options(args) == {"cluster": 8}
    args = cli.parser().parse_args([cmd, "m.onnx", *extra])
    assert cli.compile_options(args) == {}


def test_every_storage_value_of_the_backend_is_accepted():
    from tinyc.backend_c.formats import FORMATS, STORAGE
    for value in (*STORAGE, *FORMATS):
        args = cli.parser().parse_args(["inspect", "m.onnx", "--storage", value])
        assert cli.compile_options(args) == {"storage": value}


# -- bad values: one line, exit 2 -------------------------------------------------------------

@pytest.mark.parametrize("flags, needles", [
    (["--prune", "1.5"], ["--prune", "[0, 1)", "'1.5'"]),
    (["--prune", "half"], ["--prune", "'half'"]),
    (["--prune", "conv=2"], ["--prune", "'2'", "conv"]),
    (["--prune", "=0.5"], ["--prune", "LAYER=VALUE"]),
    (["--prune-structured", "0"], ["--prune-structured", "(0, 1)", "'0'"]),
    (["--cluster", "1"], ["--cluster", "[2, 256]", "'1'"]),
    (["--cluster", "300"], ["--cluster", "'300'"]),
    (["--cluster", "16.5"], ["--cluster", "integer", "'16.5'"]),
    (["--weights", "int2"], ["--weights", "int8, int4", "'int2'"]),
    (["--storage", "tiny"], ["--storage", "auto", "dense", "'tiny'"]),
    (["--max-accuracy-drop", "1"], ["--max-accuracy-drop", "[0, 1)", "'1'"]),
    (["--calib-method", "max"], ["--calib-method", "minmax, percentile, mse", "'max'"]),
    (["--prune-method", "random"], ["--prune-method", "obs, magnitude"]),
    (["--prune-scope", "net"], ["--prune-scope", "layer, global"]),
    (["--activations", "int4"], ["--activations", "int8, int16", "'int4'"]),
    (["--prune", "0.5", "--prune", "0.6"], ["--prune", "given 2 times"]),
    (["--cluster", "a=8", "--cluster", "a=16"], ["--cluster", "'a'", "twice"]),
    (["--val", "v.npz"], ["--val", "--max-accuracy-drop"]),
])
def test_bad_flag_values_are_one_line_exit_2(capsys, digits, flags, needles):
    rc, _, err = run_main(capsys, "inspect", digits[0], "--calib", digits[1], *flags)
    assert_one_line_error(rc, err, *needles)


def test_compression_without_calib_asks_for_it(capsys, digits):
    rc, _, err = run_main(capsys, "inspect", digits[0], "--cluster", "16", "--weights", "int4")
    assert_one_line_error(rc, err, "--cluster", "--weights", "--calib")


def test_unknown_layer_names_the_layers(capsys, digits):
    rc, _, err = run_main(capsys, "inspect", digits[0], "--calib", digits[1],
                          "--cluster", "no_such_layer=8")
    assert_one_line_error(rc, err, "no_such_layer", "logits")


def test_a_bad_flag_through_the_real_command_line(digits, tmp_path):
    r = tinyc_cli("build", digits[0], "--calib", digits[1], "-o", tmp_path / "o",
                  "--cluster", "0")
    assert_one_line_error(r.returncode, r.stderr, "--cluster", "'0'")
    assert not (tmp_path / "o").exists()


# -- the flags change the compiled model ------------------------------------------------------

def build_report(digits, out, *flags) -> dict:
    r = tinyc_cli("build", digits[0], "--calib", digits[1], "-o", out, "--no-measure", *flags)
    assert r.returncode == 0, r.stderr
    return json.loads((out / "report.json").read_text())


def test_cluster_16_stores_codebooks(digits, baseline, tmp_path):
    rep = build_report(digits, tmp_path / "o", "--cluster", "16")
    assert {f["format"] for f in rep["weight_formats"]} == {"cb"}
    assert rep["compression"]["options"]["cluster"] == 16
    assert rep["weights_bytes"] < 0.6 * baseline.report["weights_bytes"]


def test_prune_structured_cuts_macs(digits, baseline, tmp_path):
    rep = build_report(digits, tmp_path / "o", "--prune-structured", "0.3")
    assert rep["macs"] < 0.8 * baseline.report["macs"]
    assert rep["compression"]["options"]["prune_structured"] == 0.3


def test_int4_per_layer_and_calibration_flags(digits, baseline, tmp_path):
    rep = build_report(digits, tmp_path / "o", "--weights", "logits=int4", "--calib-method",
                       "mse", "--per-tensor", "--storage", "dense")
    assert rep["compression"]["options"]["weights"] == {"logits": "int4"}
    assert {f["format"] for f in rep["weight_formats"]} == {"dense"}
    header = (tmp_path / "o" / "model.h").read_text()
    assert "mse" in header and "per-tensor" in header


# -- tinyc check ------------------------------------------------------------------------------

def table(stdout: str) -> dict[str, list[str]]:
    """check's table: row label -> cells (float, int8[, compressed])."""
    rows = {}
    for line in stdout.splitlines():
        m = re.match(r"^(\S.*?)\s{2,}(\S.*)$", line)
        if m and not line.startswith(("model ", "check ", "compressed:")):
            rows[m.group(1)] = re.split(r"\s{2,}", m.group(2).strip())
    return rows


def test_check_float_int8_compressed_with_x_y_arrays(digits, baseline, tmp_path):
    test = np.load(digits[2])
    data = tmp_path / "xy.npz"
    np.savez(data, x=test["input"], y=test["label"])
    r = tinyc_cli("check", digits[0], "--calib", digits[1], "--data", data,
                  "--prune-structured", "0.3")
    assert r.returncode == 0, r.stderr
    t = table(r.stdout)
    pred = np.asarray(baseline.interpret(test["input"], batch=True))
    pred = pred.reshape(len(test["label"]), -1)
    int8 = (pred.argmax(1) == test["label"]).mean() * 100
    assert t["top-1 accuracy"][1] == f"{int8:.2f}%"
    assert len(t["top-1 accuracy"]) == 3 and t["host C == golden model"] == ["-", "yes", "yes"]
    macs = [int(c.split()[0].replace(",", "")) for c in t["MACs"]]
    assert macs[1] == baseline.report["macs"] and macs[2] < 0.8 * macs[1]
    assert "compressed: --prune-structured 0.3" in r.stdout


def test_check_without_labels_compares_with_float(digits, tmp_path):
    data = tmp_path / "x.npz"
    np.savez(data, x=np.load(digits[2])["input"][:40])
    r = tinyc_cli("check", digits[0], "--calib", digits[1], "--data", data)
    assert r.returncode == 0, r.stderr
    t = table(r.stdout)
    assert t["top-1 agreement with float"][0] == "100.00%"
    assert float(t["RMS error vs float"][1]) > 0 and "top-1 accuracy" not in t


def test_check_with_unusable_labels_is_one_line(digits, tmp_path):
    data = tmp_path / "bad.npz"
    test = np.load(digits[2])
    np.savez(data, x=test["input"], y=np.zeros((len(test["label"]), 10), np.float32))
    r = tinyc_cli("check", digits[0], "--calib", digits[1], "--data", data)
    assert_one_line_error(r.returncode, r.stderr, "'y'", "integer class labels")
