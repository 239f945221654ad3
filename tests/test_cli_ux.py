"""Issue 18: the command line helps — version, "did you mean", export recipes, guard-rail
causes, the batch hint, the energy model's refusal to guess."""
from __future__ import annotations

import numpy as np
import pytest

import tinyc
from tinyc.errors import BoardError, TinycError
from tinyc.guard import accuracy_warning, input_causes
from tinyc.target import load_board

from .test_cli_compression import run_main as _main


def test_version(capsys):
    rc, out, _ = _main(capsys, "--version")
    assert rc == 0 and out.strip() == f"tinyc {tinyc.__version__}"


@pytest.mark.parametrize("argv, hint", [
    (["build", "x.onnx", "--calb", "c.npz"], "did you mean --calib?"),
    (["biuld", "x.onnx"], "did you mean build?"),
    (["run", "x.onnx", "--inptu", "x.npy"], "did you mean --input?"),
])
def test_did_you_mean_flags_and_commands(capsys, argv, hint):
    rc, _, err = _main(capsys, *argv)
    assert rc == 2 and hint in err and len(err.strip().splitlines()) == 1, err


def test_did_you_mean_board():
    with pytest.raises(BoardError, match="did you mean stm32l4r5"):
        load_board("stm32l4r")


@pytest.mark.parametrize("suffix, recipe", [(".pt", "torch.onnx.export(model.eval()"),
                                            (".pth", "opset_version=17"),
                                            (".h5", "tf2onnx"), (".keras", "TFLiteConverter"),
                                            (".pb", "tf2onnx")])
def test_export_recipes(capsys, tmp_path, suffix, recipe):
    f = tmp_path / f"model{suffix}"
    f.write_bytes(b"PK\x03\x04not really")
    rc, _, err = _main(capsys, "inspect", f)
    assert rc == 2 and recipe in err and "Traceback" not in err, err


def test_tflite_under_another_name(capsys, models_dir, tmp_path):
    f = tmp_path / "kws.bin"
    f.write_bytes((models_dir / "mlperf-tiny" / "kws_int8.tflite").read_bytes())
    rc, _, err = _main(capsys, "inspect", f)
    assert rc == 2 and "rename it to .tflite" in err, err


def test_calibration_on_another_scale_is_named():
    rng = np.random.default_rng(0)
    test = {"input": rng.uniform(0, 1, (50, 1, 8, 8))}
    bad = input_causes({"input": test["input"] * 255}, test)
    assert len(bad) == 1 and "another scale" in bad[0] and "(255x)" in bad[0]
    assert input_causes({"input": test["input"]}, test) == []
    spiky = test["input"].copy()
    spiky[0, 0, 0, 0] = 400.0
    assert "outliers" in input_causes({"input": spiky}, test)[0]
    text = accuracy_warning(98.0, 10.0, "int8", bad)
    assert "likely cause: calibration inputs" in text and "--calib-method" in text \
        and "--activations" in text
    assert accuracy_warning(98.0, 97.0, "int8", bad) is None


def test_run_host_batch_hint(example_dir):
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                      progress=None)
    x = np.load(example_dir / "test.npz")["input"][:3]
    with pytest.raises(TinycError, match="pass batch=True"):
        m.run_host(x)


def test_energy_only_from_a_cited_figure():
    base = load_board("stm32f405")          # no figure found for the F405: energy unavailable
    assert not base.power.available and base.power.note
    from tinyc.cycles import report_keys
    keys = report_keys(1_200_000, base)
    assert keys["energy_uj"] is None and keys["energy_model"].startswith("unavailable")
    d = {"name": "b", "description": "d", "core": "cortex-m4", "fpu": "none", "dsp": True,
         "clock_hz": 100_000_000,
         "memory": [{"name": "flash", "kind": "flash", "base": 0, "size": "64K"},
                    {"name": "ram", "kind": "ram", "base": 0x20000000, "size": "16K",
                     "holds": ["data", "stack", "arena"]}]}
    with pytest.raises(BoardError, match="source"):
        load_board({**d, "power": {"run_current_ua_per_mhz": 100, "supply_v": 3.0}})
    b = load_board({**d, "power": {"run_current_ua_per_mhz": 100, "supply_v": 3.0,
                                   "source": "DS0000 Rev 1, table 1"}})
    keys = report_keys(1_000_000, b)        # 100 µA/MHz x 3 V x 1e6 cycles = 300 µJ
    assert keys["energy_uj"] == pytest.approx(300.0) and "DS0000" in keys["energy_model"]
    assert keys["latency_ms"] == pytest.approx(10.0)


def test_calibration_mistake_warns_in_check(capsys, example_dir, tmp_path):
    """The 0..255 mistake: calibration data x255 for a 0..1 model; check warns, naming it."""
    calib = dict(np.load(example_dir / "calib.npz"))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{k: v * 255 for k, v in calib.items()})
    rc, out, err = _main(capsys, "check", example_dir / "digits.onnx", "--calib", bad,
                         "--data", example_dir / "test.npz")
    assert rc == 0, err
    assert "warning: int8 accuracy" in err and "another scale" in err \
        and "--calib-method" in err, err


def test_closed_stdout_pipe_is_not_an_error(tmp_path):
    """`tinyc inspect m.onnx | head -1`: the reader leaves early; tinyc stops quietly
    (no traceback, no 'internal error', no 'Exception ignored' at exit)."""
    import subprocess
    import sys
    from pathlib import Path
    model = Path(__file__).resolve().parents[1] / "examples" / "digits" / "digits.onnx"
    p = subprocess.Popen([sys.executable, "-c", "import sys; from tinyc.cli import main; sys.exit(main())",
                          "inspect", str(model)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()                  # the reader is gone before tinyc writes a line
    err = p.stderr.read().decode()
    rc = p.wait(timeout=120)
    assert err == "", err
    assert rc in (0, 141), rc
