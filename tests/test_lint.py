"""The code passes the project's lint configuration (`[tool.ruff]` in pyproject.toml): pyflakes
(unused imports, undefined names, ...) and pycodestyle errors, 100 columns."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from needs import missing

REPO = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        missing("ruff not installed (pip install -e '.[test]' installs it)")
    proc = subprocess.run([ruff, "check", "--no-cache", "."], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
