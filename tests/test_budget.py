"""--max-accuracy-drop with a latency or flash budget (issue 18): the point of the search's
path that meets the budget is built, or the error names the budget that failed and the best
found. CLI level, examples/digits on the default board (QEMU estimated cycles, linked flash)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinyc.budget import sample_points

REPO = Path(__file__).resolve().parents[1]
EX = REPO / "examples" / "digits"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tinyc.cli", *map(str, args)],
                          capture_output=True, text=True)


def build(out, *flags):
    return cli("build", EX / "digits.onnx", "--calib", EX / "calib.npz", "-o", out,
               "--max-accuracy-drop", "0.01", *flags)


@pytest.fixture(scope="module")
def path_points(tmp_path_factory):
    """Every point of the search's path, measured: a flash budget no point can meet makes the
    budget measure them all and fail (nothing written)."""
    out = tmp_path_factory.mktemp("b") / "o"
    r = build(out, "--max-flash", "1K")
    assert r.returncode != 0 and not out.exists()
    return r.stderr


def test_unreachable_flash_budget_names_the_budget_and_the_best(path_points):
    err = path_points
    assert "--max-flash (1,024 B) could not be met" in err
    assert "the best found is" in err and "compression steps" in err
    # progress on every point measured
    assert err.count("budget: measuring") >= 2 and "searching: step 1:" in err


def _points(report):
    return report["budget"]["points"]


def test_latency_budget_is_respected(tmp_path):
    """A latency budget between plain int8's and the most compressed model's: the model built
    meets it (its own report.json latency, measured again by the build)."""
    out = tmp_path / "o"
    r = build(out, "--max-latency-ms", "1.2")
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["latency_ms"] <= 1.2
    pts = _points(rep)
    assert any(p["latency_ms"] > 1.2 for p in pts)      # the budget ruled some points out
    chosen = next(p for p in pts if p["steps"] == rep["budget"]["chosen_steps"])
    # the smallest flash among the points fast enough
    assert chosen["flash"] == min(p["flash"] for p in pts if p["latency_ms"] <= 1.2)
    assert "latency 0." in r.stdout or "latency 1." in r.stdout


def test_flash_budget_is_respected(tmp_path):
    out = tmp_path / "o"
    r = build(out, "--max-flash", "12600")
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_text())
    pts = _points(rep)
    chosen = next(p for p in pts if p["steps"] == rep["budget"]["chosen_steps"])
    assert chosen["flash"] <= 12600
    assert rep["memory"]["flash_bytes"] <= 12600        # the build's own link agrees
    # the fastest point that fits
    assert chosen["latency_ms"] == min(p["latency_ms"] for p in pts if p["flash"] <= 12600)


def test_impossible_latency_budget(tmp_path):
    r = build(tmp_path / "o", "--max-latency-ms", "0.01")
    assert r.returncode != 0
    assert "--max-latency-ms (0.01 ms) could not be met" in r.stderr
    assert "the best found is" in r.stderr


def test_budget_needs_max_accuracy_drop(tmp_path):
    r = cli("build", EX / "digits.onnx", "--calib", EX / "calib.npz", "-o", tmp_path / "o",
            "--max-flash", "64K")
    assert r.returncode != 0 and "expected --max-accuracy-drop P with it" in r.stderr
    r = cli("build", EX / "digits.onnx", "--calib", EX / "calib.npz", "-o", tmp_path / "o",
            "--max-accuracy-drop", "0.01", "--max-latency-ms", "-1")
    assert r.returncode != 0 and "--max-latency-ms" in r.stderr


def test_sample_points():
    assert sample_points(3) == [0, 1, 2, 3]
    pts = sample_points(40)
    assert pts[0] == 0 and pts[-1] == 40 and len(pts) == 12
