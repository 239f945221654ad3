"""docs/firmware.md is run, not just read: its files are written and its commands run in order.

The page marks what runs: `<!-- file: PATH -->` before a fenced block writes that block to PATH,
`<!-- run: NAME -->` before a ```sh block runs it with bash (set -euo pipefail). Everything runs
in one scratch folder that has the repository's `examples/` (the page's commands are written for
the repository's root). Then the outputs are checked against the golden model.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from needs import need_tools

import tinyc

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "firmware.md"
_STEP = re.compile(r"<!-- (file|run): ([^>]+?) -->\n```[a-z]*\n(.*?)```", re.S)


def guide_steps(text: str) -> list[tuple[str, str, str]]:
    """(kind, name or path, body) of each marked block, in page order."""
    return [(m[1], m[2].strip(), m[3]) for m in _STEP.finditer(text)]


def run_step(name: str, body: str, cwd: Path) -> str:
    proc = subprocess.run(["bash", "-c", "set -euo pipefail\n" + body], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (f"docs/firmware.md step {name!r} exited {proc.returncode}:\n"
                                  f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


@pytest.fixture(scope="module")
def guide_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    need_tools("tinyc", "arm-none-eabi-gcc", "qemu-system-arm", "make", "cmake")
    work = tmp_path_factory.mktemp("guide")
    (work / "examples").symlink_to(REPO / "examples")
    outputs = {}
    for kind, name, body in guide_steps(GUIDE.read_text()):
        if kind == "file":
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(body)
        else:
            outputs[name] = run_step(name, body, work)
    return work, outputs


def test_the_page_marks_every_step():
    names = [name for kind, name, _ in guide_steps(GUIDE.read_text()) if kind == "run"]
    assert names == ["build", "make", "cmake", "cubeide", "qemu"]


def test_make_project_links_the_arena_where_the_plan_put_it(guide_run):
    work, out = guide_run
    sections = {m[1]: (int(m[2]), int(m[3]))
                for m in re.finditer(r"^(\.\S+)\s+(\d+)\s+(\d+)$", out["make"], re.M)}
    arena = json.loads((work / "build" / "digits" / "report.json").read_text())["arena_bytes"]
    size, addr = sections[".tinyc_arena"]
    assert 0x20000000 <= addr < 0x20000000 + 128 * 1024     # the F405's SRAM (not QEMU's 192K)
    assert arena <= size < arena + 8


def test_cmake_and_cubeide_builds_link(guide_run):
    work, _ = guide_run
    assert (work / "cmake-app" / "build" / "app.elf").is_file()
    assert (work / "cube" / "app.elf").is_file()


def test_qemu_run_prints_the_golden_output(guide_run):
    work, out = guide_run
    m = re.search(r"^output 0: ([0-9a-f]+)$", out["qemu"], re.M)
    assert m, out["qemu"]
    model = tinyc.compile(REPO / "examples" / "digits" / "digits.onnx", board="stm32",
                          calib=REPO / "examples" / "digits" / "calib.npz")
    x = np.zeros(model.inputs[0].shape, np.int8)
    want = np.asarray(model.interpret(x)).astype(np.int8).ravel()
    assert bytes.fromhex(m[1]) == want.tobytes()
