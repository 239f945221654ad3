"""README's first lines give the two commands, and CI runs the README's test command."""
from __future__ import annotations

import os
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parent.parent
MAIN_JOB = ("./scripts/setup.sh && tinyc run examples/digits/digits.onnx --board stm32 "
            "--calib examples/digits/calib.npz --data examples/digits/test.npz")
TEST_CMD = "./scripts/test.sh"


def _commands(text: str) -> list[str]:
    """Non-empty, non-comment lines with trailing comments removed."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def test_readme_first_lines_have_both_commands():
    head = (REPO / "README.md").read_text().splitlines()[:12]
    cmds = _commands("\n".join(head))
    assert MAIN_JOB in cmds, "README's first lines lack the main-job command"
    assert TEST_CMD in cmds, "README's first lines lack the test command"


def test_readme_commands_point_at_real_files():
    for path in ("scripts/setup.sh", "scripts/test.sh", "examples/digits/digits.onnx",
                 "examples/digits/calib.npz", "examples/digits/test.npz"):
        assert (REPO / path).is_file(), path


def test_ci_runs_the_readme_test_command():
    text = (REPO / ".ci" / "run").read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert TEST_CMD in _commands(text)


def test_scripts_are_executable_and_test_sh_sets_up_then_runs_pytest():
    for path in (".ci/run", "scripts/setup.sh", "scripts/test.sh"):
        assert os.access(REPO / path, os.X_OK), f"{path} is not executable (git update-index --chmod=+x)"
    cmds = _commands((REPO / "scripts" / "test.sh").read_text())
    setup = next(i for i, c in enumerate(cmds) if c.startswith("./scripts/setup.sh"))
    pytest_line = next(i for i, c in enumerate(cmds) if "-m pytest" in c)
    assert setup < pytest_line


def test_setup_installs_the_debian_packages_without_recommends():
    text = (REPO / "scripts" / "setup.sh").read_text()
    for pkg in ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "qemu-system-arm"):
        assert pkg in text
    assert "apt-get install --no-install-recommends" in text
    assert "python3 -m pip install -q -e '.[test]'" in text
