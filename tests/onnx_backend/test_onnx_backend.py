"""ONNX's backend test cases for every op tinyc reads (tests/onnx_backend/cases.py): none may
fail (wrong numbers, host C != interpreter, or a crash instead of a clean TinycError) but the
listed known failures, and
CONFORMANCE.md must still tell the truth (regenerate: python -m tests.onnx_backend.report).
"""
from __future__ import annotations

from collections import Counter

import pytest

from .cases import KNOWN_FAILURES, run_all, supported_ops
from .report import REPO, statuses

# slow: the ONNX backend conformance run (603 cases through tinyc and host C, ~5 min): run by hand with `python -m pytest -m slow tests/onnx_backend` or `python -m tests.onnx_backend.report` (CI stays under 30 minutes)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def results():
    return run_all()


def test_no_case_fails(results):
    """Except the known failures (cases.KNOWN_FAILURES), which must still fail: one that
    passes is taken off the list."""
    failed = [f"{c.source}/{c.name} ({c.op}): {r.reason}" for c, r in results
              if r.status == "fail" and f"{c.source}/{c.name}" not in KNOWN_FAILURES]
    assert not failed, "\n".join(failed)
    status = {f"{c.source}/{c.name}": r.status for c, r in results}
    assert {k: status.get(k) for k in KNOWN_FAILURES} == dict.fromkeys(KNOWN_FAILURES, "fail")


def test_every_supported_op_has_cases_and_some_pass(results):
    ops = Counter(c.op for c, r in results if r.status == "pass")
    assert set(c.op for c, _ in results) == supported_ops()
    assert sum(ops.values()) >= 50, ops


def test_conformance_md_is_current(results):
    doc = (REPO / "CONFORMANCE.md").read_text()
    want = statuses(doc)
    got = {f"{c.source}/{c.name}": r.status for c, r in results}
    stale = sorted(f"{k}: CONFORMANCE.md says {want.get(k)}, now {v}"
                   for k, v in got.items() if want.get(k) != v)
    stale += sorted(f"{k}: in CONFORMANCE.md, no longer a case" for k in set(want) - set(got))
    assert not stale, ("CONFORMANCE.md is stale; run `python -m tests.onnx_backend.report`:\n"
                       + "\n".join(stale[:30]))
