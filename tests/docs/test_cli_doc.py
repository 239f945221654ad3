"""docs/cli.md is the --help of every command as the parser prints it today."""
from __future__ import annotations

import importlib.util


def test_cli_doc_is_current(repo_root):
    spec = importlib.util.spec_from_file_location("make_cli_doc",
                                                  repo_root / "scripts" / "make_cli_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    want = mod.render()
    got = (repo_root / "docs" / "cli.md").read_text()
    assert got == want, "docs/cli.md is stale: run python scripts/make_cli_doc.py"
    assert "## tinyc build" in got and "--calib" in got and "--version" in got
