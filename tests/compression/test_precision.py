"""Mixed precision: per-layer int8 / int4 / codebook / sparsity picked by measured
sensitivity under an accuracy budget (max_accuracy_drop)."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.errors import TinycError
from tinyc.passes.precision import LADDER, LayerConfig, config_bytes

from .util import accuracy, compile_digits, digits_data, host_matches_interpret


def test_ladder_gets_smaller():
    sizes = [config_bytes(c, (32, 3, 3, 16), 32) for c in LADDER]
    assert sizes[0] == 32 * 9 * 16 and all(b < sizes[0] for b in sizes[1:])
    assert LayerConfig(4).describe() == "int4"
    assert LayerConfig(8, 0.5, 4).describe() == "K=4 50% sparse"


def test_search_keeps_the_budget_and_shrinks(repo_root):
    x, y = digits_data(str(repo_root))
    val = {"input": x[:120], "label": y[:120]}
    m = compile_digits(repo_root, calib_n=100, max_accuracy_drop=0.02, val=val)
    s = m.report["compression"]["search"]
    assert s["steps"] and s["evaluations"] >= len(s["layers"])
    kept = [st for st in s["steps"] if st["kept"]]
    assert kept and all(st["accuracy"] >= s["target_accuracy"] for st in kept)
    base = compile_digits(repo_root, calib_n=100)
    assert m.report["weights_bytes"] < 0.7 * base.report["weights_bytes"]
    assert accuracy(m, repo_root) >= 0.93
    assert any(f["format"] != "dense" for f in m.report["weight_formats"])
    assert host_matches_interpret(m, x[:20])


def test_search_without_labels_uses_the_float_model(repo_root):
    m = compile_digits(repo_root, calib_n=60, max_accuracy_drop=0.0)
    s = m.report["compression"]["search"]
    assert s["float_accuracy"] == 1.0
    final = [st for st in s["steps"] if st["kept"]]
    assert all(st["accuracy"] >= 1.0 for st in final)


@pytest.mark.parametrize("bad", [1.5, -0.1])
def test_bad_budget(repo_root, bad):
    with pytest.raises(TinycError, match="max_accuracy_drop"):
        compile_digits(repo_root, calib_n=20, max_accuracy_drop=bad)
