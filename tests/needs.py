"""The one rule for missing tools, packages and models in tests: skip on a developer's machine,
fail under CI (CI=true) — a skipped proof proves nothing."""
from __future__ import annotations

import os
import shutil

import pytest

IN_CI = bool(os.environ.get("CI"))


def missing(what: str) -> None:
    """Skip, or under CI fail, with `what` as the reason."""
    if IN_CI:
        pytest.fail(f"{what} (CI is set, so this fails instead of skipping)")
    pytest.skip(what)


def need_tools(*tools: str) -> None:
    absent = [t for t in tools if shutil.which(t) is None]
    if absent:
        missing(f"{', '.join(absent)} not installed (scripts/setup.sh installs it)")


def skip_unless(have: bool, reason: str):
    """A marker: skip when `have` is false — except under CI, where the test runs (and fails)."""
    return pytest.mark.skipif(not have and not IN_CI, reason=reason)
