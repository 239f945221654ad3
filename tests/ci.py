"""The CI subset of a long parametrization: CI runs the values in `keep`; the rest are marked
slow and run by hand (`python -m pytest -m slow <file>`), so the whole suite stays within CI's
time while every value is still a test."""
from __future__ import annotations

import pytest


def ci_subset(values, keep, ids=None) -> list:
    """values as pytest params: those whose id (ids(value), or str(value)) is in keep run in CI,
    the others are marked slow. Every id in keep must be one of the values'."""
    ids = ids or str
    names = [ids(v) for v in values]
    unknown = set(keep) - set(names)
    if unknown:
        raise ValueError(f"ci_subset: {sorted(unknown)} not among {names}")
    return [pytest.param(v, id=n, marks=() if n in keep else pytest.mark.slow)
            for v, n in zip(values, names)]
