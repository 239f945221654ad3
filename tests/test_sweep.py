"""tinyc sweep: one build per setting; the table (MD, CSV) and the picture (SVG) agree.

The expected plot positions are computed here from the CSV values and the frame's axis range,
not with the sweep's own plotting code."""
from __future__ import annotations

import csv
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from needs import need_tools

SVG = "{http://www.w3.org/2000/svg}"
QUICK = ["int8", "cluster=16", "prune-structured=0.3"]


def sweep(example_dir, out, *args):
    ex = example_dir
    return subprocess.run([sys.executable, "-m", "tinyc.cli", "sweep", str(ex / "digits.onnx"),
                           "--calib", str(ex / "calib.npz"), "--data", str(ex / "test.npz"),
                           "-o", str(out), *map(str, args)], capture_output=True, text=True)


def read_csv(out) -> list[dict]:
    with open(out / "sweep.csv", newline="") as f:
        return list(csv.DictReader(f))


def read_md(out) -> dict[str, list[str]]:
    """configuration -> its cells (weights, flash, MACs, instructions, accuracy, formats)."""
    rows = {}
    for line in (out / "sweep.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("configuration", "---"):
            rows[cells[0]] = cells[1:]
    return rows


def _number(cell: str) -> float | None:
    return None if cell in ("", "-") else float(cell.replace(",", "").rstrip("%"))


def check_plot(out, rows: list[dict], x_keys: tuple[str, str]) -> None:
    """Both panels: one circle per setting, where the CSV's values put it."""
    root = ET.parse(out / "sweep.svg").getroot()
    assert root.tag == f"{SVG}svg"
    panels = {g.get("data-x"): g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"}
    assert sorted(panels) == sorted(x_keys)
    for key, g in panels.items():
        frame = next(r for r in g.iter(f"{SVG}rect") if r.get("class") == "frame")
        fx, fy, fw, fh = (float(frame.get(a)) for a in ("x", "y", "width", "height"))
        xmin, xmax, ymin, ymax = (float(frame.get(f"data-{a}"))
                                  for a in ("x-min", "x-max", "y-min", "y-max"))
        points = {c.get("data-config"): c for c in g.iter(f"{SVG}circle")
                  if c.get("class") == "point"}
        assert sorted(points) == sorted(r["configuration"] for r in rows)
        cx = {}
        for r in rows:
            c, x, acc = points[r["configuration"]], float(r[key]), float(r["accuracy"])
            assert xmin <= x <= xmax and ymin <= acc <= ymax, (key, r)
            want = (fx + (x - xmin) / (xmax - xmin) * fw,
                    fy + fh - (acc - ymin) / (ymax - ymin) * fh)
            got = (float(c.get("cx")), float(c.get("cy")))
            assert got == pytest.approx(want, abs=0.05), (key, r["configuration"], got, want)
            assert float(c.get("data-x")) == x and float(c.get("data-y")) == pytest.approx(acc)
            assert r["configuration"] in c.find(f"{SVG}title").text
            cx[x] = cx.get(x, got[0])
            assert cx[x] == got[0]           # equal values, one position
        # without the frame's numbers: positions are an increasing affine map of the values
        xs = sorted(cx)
        slopes = [(cx[b] - cx[a]) / (b - a) for a, b in zip(xs, xs[1:])]
        assert all(s > 0 for s in slopes) and max(slopes) == pytest.approx(min(slopes), rel=1e-3)


def test_quick_sweep_table_csv_and_plot_agree(example_dir, tmp_path):
    out = tmp_path / "sweep"
    r = sweep(example_dir, out, "--grid", "quick", "--no-measure")
    assert r.returncode == 0, r.stderr
    progress = [ln for ln in r.stderr.splitlines() if ln.startswith("sweep [")]
    assert len(progress) == 3 and all("accuracy" in ln for ln in progress), r.stderr
    steps = [ln for ln in r.stderr.splitlines() if ln.endswith("compiling, measuring…")]
    assert [ln.split(":")[0] for ln in steps] == [f"[{i}/3] {c}" for i, c in enumerate(QUICK, 1)]
    rows = read_csv(out)
    assert [x["configuration"] for x in rows] == QUICK
    by = {x["configuration"]: x for x in rows}
    assert all(x["flash_bytes"] == "" and x["instructions"] == "" and x["error"] == ""
               for x in rows)
    # the settings reached tinyc.compile: clustering shrinks the weights, structured the MACs
    assert int(by["cluster=16"]["weights_bytes"]) < 0.6 * int(by["int8"]["weights_bytes"])
    assert "cb" in by["cluster=16"]["formats"]
    assert int(by["prune-structured=0.3"]["macs"]) < 0.8 * int(by["int8"]["macs"])
    # accuracy of the int8 row: the golden model (== the host C) scored here
    import tinyc
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz", progress=None)
    test = np.load(example_dir / "test.npz")
    pred = np.asarray(m.interpret(test["input"], batch=True)).reshape(len(test["label"]), -1)
    assert float(by["int8"]["accuracy"]) == pytest.approx(
        (pred.argmax(1) == test["label"]).mean() * 100, abs=1e-3)
    md = read_md(out)
    assert list(md) == QUICK
    for x in rows:
        cells = md[x["configuration"]]
        for i, key in enumerate(("weights_bytes", "flash_bytes", "macs", "instructions")):
            assert _number(cells[i]) == _number(x[key]), (key, cells)
        assert _number(cells[4]) == pytest.approx(float(x["accuracy"]), abs=0.006)
    check_plot(out, rows, ("weights_bytes", "macs"))


def test_sweep_measures_flash_and_instructions(example_dir, tmp_path):
    need_tools("arm-none-eabi-gcc", "qemu-system-arm")
    out = tmp_path / "sweep"
    r = sweep(example_dir, out, "--grid", "int8", "prune-structured=0.3", "--qemu")
    assert r.returncode == 0, r.stderr
    rows = read_csv(out)
    assert len(rows) == 2
    for x in rows:
        assert int(x["flash_bytes"]) > int(x["weights_bytes"]) and int(x["instructions"]) > 0
        assert float(x["latency_ms"]) > 0       # estimated cycles at the board's clock
    assert int(rows[1]["instructions"]) < int(rows[0]["instructions"])
    check_plot(out, rows, ("flash_bytes", "instructions"))


def test_bad_grid_entry_is_one_line_before_any_build(example_dir, tmp_path):
    out = tmp_path / "sweep"
    r = sweep(example_dir, out, "--grid", "int8", "cluster=1", "--no-measure")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "cluster=1" in lines[0], lines
    assert not (out / "sweep.md").exists()


def test_a_failing_setting_is_reported_and_the_others_kept(example_dir, tmp_path):
    out = tmp_path / "sweep"
    r = sweep(example_dir, out, "--grid", "int8", "cluster=no_such_layer=8", "--no-measure")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "1 of 2 settings failed" in errors[0], r.stderr
    rows = read_csv(out)
    assert rows[0]["error"] == "" and "no_such_layer" in rows[1]["error"]
    assert "no_such_layer" in (out / "sweep.md").read_text()
    root = ET.parse(out / "sweep.svg").getroot()
    assert len([c for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]) == 2


def test_sweep_with_finetune_has_the_fine_tuned_column(example_dir, tmp_path):
    """--finetune: the accuracy column is the setting's PTQ model, the fine-tuned column the
    same setting fine-tuned; each equals its own tinyc.compile scored here (golden == C)."""
    import tinyc
    out = tmp_path / "sweep"
    r = sweep(example_dir, out, "--grid", "cluster=2", "--no-measure", "--finetune", "2",
              "--train", example_dir / "train.npz")
    assert r.returncode == 0, r.stderr
    row = read_csv(out)[0]
    test = np.load(example_dir / "test.npz")
    kw = {"calib": example_dir / "calib.npz", "cluster": 2, "progress": None}
    want = {}
    for key, extra in (("accuracy", {}), ("fine_tuned", {"finetune": 2,
                                                       "train": example_dir / "train.npz"})):
        m = tinyc.compile(example_dir / "digits.onnx", **kw, **extra)
        pred = np.asarray(m.interpret(test["input"], batch=True)).reshape(len(test["label"]), -1)
        want[key] = (pred.argmax(1) == test["label"]).mean() * 100
        assert float(row[key]) == pytest.approx(want[key], abs=1e-3), key
    assert want["fine_tuned"] > want["accuracy"]
    md = (out / "sweep.md").read_text()
    assert "| fine-tuned |" in md and f"{want['fine_tuned']:.2f}%" in md
