"""Mixed precision: per-layer int8 / int4 / codebook / sparsity picked by measured
sensitivity under an accuracy budget (max_accuracy_drop), scored by a conservative estimate
of the accuracy drop (passes/validation.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinyc.errors import TinycError
from tinyc.passes.compress import Compression, effective
from tinyc.passes.precision import LayerConfig
from tinyc.passes.search import LADDER, config_bytes
from tinyc.passes.validation import (binomial_upper, drop_estimate, margin_cdf_upper,
                                     split_validation)

from .util import accuracy, compile_digits, digits_data, host_matches_interpret

LAYERS = ("conv2d", "depthwise_conv2d", "fully_connected")


def test_ladder_gets_smaller():
    sizes = [config_bytes(c, (32, 3, 3, 16), 32) for c in LADDER]
    assert sizes[0] == 32 * 9 * 16 and all(b < sizes[0] for b in sizes[1:])
    assert LayerConfig(4).describe() == "int4"
    assert LayerConfig(8, 0.5, 4).describe() == "K=4 50% sparse"


# -- the score --------------------------------------------------------------------------------

def test_binomial_upper_is_clopper_pearson():
    u = binomial_upper(200, 0.05)
    assert u[0] == pytest.approx(1 - 0.05 ** (1 / 200), rel=1e-6)       # closed form at k=0
    assert u[-1] == 1.0 and np.all(np.diff(u) > 0)
    # P(X <= k | n, u[k]) = alpha, checked by summing the pmf at k = 3
    p = u[3]
    cdf = sum(math.comb(200, i) * p ** i * (1 - p) ** (200 - i) for i in range(4))
    assert cdf == pytest.approx(0.05, rel=1e-4)


def test_margin_cdf_bound_is_above_the_empirical_cdf(rng):
    m = np.abs(rng.normal(5.0, 2.0, 300))
    x = np.linspace(0, 12, 200)
    up = margin_cdf_upper(x, m, 0.05)
    emp = np.array([np.mean(m < v) for v in x])
    assert np.all(up >= emp) and np.all(up <= 1.0) and up[0] == 0.0
    assert np.all(np.diff(up) >= -1e-12)                     # a CDF bound: non-decreasing
    # below the smallest margin the bound is linear in x (the density assumption), not 0
    lo = x[(x > 0) & (x < m.min())]
    assert np.all(margin_cdf_upper(lo, m, 0.05) > 0)
    assert np.allclose(np.diff(margin_cdf_upper(lo, m, 0.05) / lo), 0.0)
    # fewer samples, same distribution: a larger bound (the safety margin of the count)
    assert np.all(margin_cdf_upper(lo, m[:50], 0.05) > margin_cdf_upper(lo, m, 0.05))


def test_drop_estimate_counts_flips_margins_and_labels(rng):
    f = rng.normal(0, 1, (400, 10))
    f[np.arange(400), rng.integers(0, 10, 400)] += 6.0               # confident float model
    t = f.argmax(1)
    held = np.arange(300, 400)
    small = drop_estimate(f, f + rng.normal(0, 0.05, f.shape), t, held, 0.05)
    large = drop_estimate(f, f + rng.normal(0, 1.0, f.shape), t, held, 0.05)
    assert 0 <= small.drop < large.drop and large.drop >= large.observed > 0
    assert small.accuracy == 1.0 and small.drop > 0                  # no flip seen, still > 0
    # flip one held-out sample: observed drop on the held-out part is 1/100
    q = f.copy()
    q[350] = -f[350]
    s = drop_estimate(f, q, t, held, 0.05)
    assert s.observed == pytest.approx(0.01) and s.drop >= 0.01
    # labels: a sample the float model gets wrong cannot be lost
    wrong = (t + 1) % 10
    assert drop_estimate(f, q, wrong, held, 0.05).drop == 0.0


def test_split_validation_holds_out_a_quarter_and_scores_all():
    samples = [{"x": np.full((1, 2), i, np.float32)} for i in range(20)]
    fit, (feeds, labels, held) = split_validation(None, samples, None)
    assert len(fit) == 15 and len(feeds) == 20 and labels is None
    assert list(held) == list(range(15, 20))


# -- the search on digits -----------------------------------------------------------------------

def test_search_keeps_the_budget_and_shrinks(repo_root):
    """The issue's setting without labels: max_accuracy_drop=0.01 on calib.npz alone (200
    training samples). Every kept step's estimate is within the budget, every rejected one
    over it; the model is much smaller than int8 and, measured on the test split, within one
    point of the float model (98.06%)."""
    m = compile_digits(repo_root, max_accuracy_drop=0.01)
    s = m.report["compression"]["search"]
    assert s["samples"] == 200 and s["held_out"] == 50 and s["alpha"] < 0.05
    assert s["steps"] and s["evaluations"] >= len(s["steps"])
    assert all((st["drop"] <= 0.01) == st["kept"] for st in s["steps"])
    assert any(not st["kept"] for st in s["steps"])        # the budget stopped something
    base = compile_digits(repo_root)
    assert m.report["weights_bytes"] < 0.5 * base.report["weights_bytes"]
    assert any(f["format"] != "dense" for f in m.report["weight_formats"])
    assert accuracy(m, repo_root) >= accuracy(base, repo_root) - 0.01
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:20])


def test_search_with_labelled_val(repo_root):
    """With val= (inputs + labels) the search fits on all of calib and scores val."""
    x, y = digits_data(str(repo_root))
    m = compile_digits(repo_root, calib_n=100, max_accuracy_drop=0.03,
                       val={"input": x[:120], "label": y[:120]})
    s = m.report["compression"]["search"]
    assert s["samples"] == 120 and s["held_out"] == 120
    f = np.asarray(m.run_float(x[:120], batch=True)).reshape(120, -1)
    assert s["float_accuracy"] == pytest.approx(float(np.mean(f.argmax(1) == y[:120])))
    assert any(st["kept"] for st in s["steps"]) and not all(st["kept"] for st in s["steps"])
    assert all((st["drop"] <= 0.03) == st["kept"] for st in s["steps"])


def test_search_that_keeps_int8_gives_the_plain_int8_model(repo_root, tmp_path):
    """A budget of 0 keeps every layer int8: the model is exactly the plain int8 model (no
    GPTQ re-fit, no bias added to bias-less layers), same generated C."""
    m = compile_digits(repo_root, calib_n=60, max_accuracy_drop=0.0)
    s = m.report["compression"]["search"]
    assert set(s["layers"].values()) == {"int8"} and not s["activations"]
    plain = compile_digits(repo_root, calib_n=60)
    assert m.report["weights_bytes"] == plain.report["weights_bytes"]
    for a, b in zip(m.graph.nodes, plain.graph.nodes):
        assert a.op == b.op and len(a.inputs) == len(b.inputs)
        for va, vb in zip(a.inputs, b.inputs):
            if va is not None and va.is_const:
                assert np.array_equal(va.data, vb.data), a.name
    m.write(tmp_path / "search")
    plain.write(tmp_path / "plain")
    for f in ("model.c", "model_data.c"):
        assert (tmp_path / "search" / f).read_text() == (tmp_path / "plain" / f).read_text()


def test_effective_drops_only_overrides_that_change_nothing():
    int8 = {"a": LayerConfig(8), "b": LayerConfig(8)}
    assert effective(Compression(overrides=int8)).overrides == {}
    assert not effective(Compression(overrides=int8)).active
    mixed = effective(Compression(overrides={**int8, "c": LayerConfig(4)}))
    assert mixed.overrides == {"c": LayerConfig(4)}
    # with int4 asked for every layer, an int8 override does change its layer: kept
    assert effective(Compression(weights="int4", overrides=int8)).overrides == int8


@pytest.mark.parametrize("bad", [1.5, -0.1])
def test_bad_budget(repo_root, bad):
    with pytest.raises(TinycError, match="max_accuracy_drop"):
        compile_digits(repo_root, calib_n=20, max_accuracy_drop=bad)
