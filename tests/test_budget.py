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


class _Fake:
    """A compiled model as compile_within sees it: its report (the search's on the full path)."""

    def __init__(self, k, search):
        self.k = k
        self.report = {"compression": {"search": search}}


def _fake_search(kept: int) -> dict:
    steps = [{"layer": f"l{i % 3}", "config": "int4" if i < 3 else "K=8", "kept": True,
              "drop": 0.001 * (i + 1)} for i in range(kept)]
    return {"layers": {"l0": "int8", "l1": "int8", "l2": "int8"}, "steps": steps,
            "start_drop": 0.0, "activations": {}}


def _run(monkeypatch, table, want):
    """compile_within on a path whose points measure as `table` [(flash, latency_ms)]."""
    from tinyc import budget
    search = _fake_search(len(table) - 1)

    def compile_fn(precision):
        return _Fake(len(table) - 1 if precision is None else precision["replayed_steps"],
                     search)
    monkeypatch.setattr(budget, "_measure", lambda m, _lat: {
        "flash": table[m.k][0], "flash_how": "linked", "latency_ms": table[m.k][1]})
    return budget.compile_within(compile_fn, want)


# flash is not monotonic along the path (a new format links its kernel), latency mostly rises
TABLE = [(12792, 0.78), (11476, 0.96), (14364, 1.35), (14188, 1.37), (12708, 2.03),
         (12372, 2.05)]


def test_flash_budget_picks_the_fastest_point_that_fits(monkeypatch):
    m = _run(monkeypatch, TABLE, {"flash": 12600})
    assert m.k == 1                         # 11,476 B at 0.96 ms, not 12,372 B at 2.05 ms
    assert [p["steps"] for p in m.report["budget"]["points"]] == list(range(6))


def test_latency_budget_picks_the_smallest_flash_fast_enough(monkeypatch):
    assert _run(monkeypatch, TABLE, {"latency_ms": 1.2}).k == 1
    assert _run(monkeypatch, TABLE, {"latency_ms": 0.8}).k == 0
    assert _run(monkeypatch, TABLE, {"latency_ms": 3}).k == 1      # smallest flash overall


def test_both_budgets(monkeypatch):
    assert _run(monkeypatch, TABLE, {"flash": 12800, "latency_ms": 0.9}).k == 0


def test_unmet_budget_names_it_and_the_best(monkeypatch):
    from tinyc.budget import BudgetError
    with pytest.raises(BudgetError) as e:
        _run(monkeypatch, TABLE, {"flash": 10_000})
    msg = str(e.value)
    assert msg.startswith("--max-flash (10,000 B) could not be met")
    assert "the best found is 1 of 5 compression steps: flash 11,476 B" in msg
    with pytest.raises(BudgetError, match=r"--max-latency-ms \(0.5 ms\) could not be met.*"
                                          r"best found is 0 of 5 .*0.780 ms"):
        _run(monkeypatch, TABLE, {"latency_ms": 0.5})


@pytest.mark.slow      # ~2 min of QEMU runs; the search itself: the tests above
def test_latency_budget_cli(tmp_path):
    """The real thing: examples/digits, a latency budget between plain int8's (~0.8 ms at
    168 MHz) and the most compressed model's (~2 ms); the model built meets it, as its own
    build measures it again, and every step printed progress."""
    out = tmp_path / "o"
    r = build(out, "--max-latency-ms", "1.2")
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["latency_ms"] <= 1.2
    pts = rep["budget"]["points"]
    assert any(p["latency_ms"] > 1.2 for p in pts)      # the budget ruled points out
    chosen = next(p for p in pts if p["steps"] == rep["budget"]["chosen_steps"])
    assert chosen["flash"] == min(p["flash"] for p in pts if p["latency_ms"] <= 1.2)
    assert "searching: step 1:" in r.stderr and r.stderr.count("budget: measuring") == len(pts)
    assert "budget: chose" in r.stderr


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
