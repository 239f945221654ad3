"""Calibration estimators (minmax / percentile / mse), per-tensor weights, bias correction."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.errors import TinycError
from tinyc.passes import calibrate as C

from .util import accuracy, compile_digits, host_matches_interpret, digits_data, output_mse


def _hist(values, lo, hi):
    return np.histogram(values, C.HIST_BINS, (min(lo, 0), max(hi, 0)))[0].astype(float)


def test_percentile_clips_an_outlier():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(0, 1, 100_000), [60.0]])
    lo, hi = float(v.min()), float(v.max())
    p_lo, p_hi = C.range_percentile(_hist(v, lo, hi), lo, hi)
    assert p_hi < 5 and -5 < p_lo < -3


def test_mse_clips_a_heavy_tail():
    """Laplace samples: the MSE range is inside min/max and has the smaller expected error."""
    v = np.random.default_rng(0).laplace(0, 1, 100_000)
    lo, hi = float(v.min()), float(v.max())
    h = _hist(v, lo, hi)
    m_lo, m_hi = C.range_mse(h, lo, hi)
    assert lo < m_lo < 0 < m_hi < hi
    centers = C._bin_centers(lo, hi)
    full = C.quant_error(h, centers, C.qparams_from_range(lo, hi))
    assert C.quant_error(h, centers, C.qparams_from_range(m_lo, m_hi)) < 0.9 * full


def test_mse_keeps_a_uniform_range():
    v = np.linspace(0, 5, 50_000)
    h = _hist(v, 0.0, 5.0)
    assert C.range_mse(h, 0.0, 5.0)[1] >= 4.5


@pytest.mark.parametrize("method", C.CALIB_METHODS)
@pytest.mark.parametrize("per_tensor", [False, True])
def test_digits_every_estimator(repo_root, method, per_tensor):
    m = compile_digits(repo_root, calib_method=method, per_tensor=per_tensor)
    assert accuracy(m, repo_root) >= 0.97
    assert m.options["calib_method"] == method
    w = [n.inputs[1] for n in m.graph.nodes if n.op in ("conv2d", "fully_connected")]
    assert all((len(v.q.scale) == 1) == per_tensor for v in w)


def test_estimators_differ_and_c_is_exact(repo_root):
    a = compile_digits(repo_root)
    b = compile_digits(repo_root, calib_method="percentile")
    qa = [v.q for v in a.graph.activations()]
    qb = [v.q for v in b.graph.activations()]
    assert qa != qb
    assert host_matches_interpret(b, digits_data(str(repo_root))[0][:20])


def test_per_channel_beats_per_tensor(repo_root):
    assert output_mse(compile_digits(repo_root), repo_root) < \
        output_mse(compile_digits(repo_root, per_tensor=True), repo_root)


def test_unknown_estimator_is_an_error(repo_root):
    with pytest.raises(TinycError, match="calibration method"):
        compile_digits(repo_root, calib_method="kl")


def test_bias_correction_lowers_the_error_of_rounding(repo_root):
    """int4 by plain rounding: bias correction (on by default without compensation) brings
    the integer model closer to float; the plain int8 default is left exactly as it was."""
    off = compile_digits(repo_root, weights="int4", compensate=False, bias_correction=False)
    on = compile_digits(repo_root, weights="int4", compensate=False)
    assert output_mse(on, repo_root) < 0.8 * output_mse(off, repo_root)
    assert accuracy(on, repo_root) >= accuracy(off, repo_root)
    plain = compile_digits(repo_root)
    assert "compression" not in plain.report
    bc8 = compile_digits(repo_root, bias_correction=True)
    assert bc8.report["compression"]["options"]["bias_correction"] is True
    assert accuracy(bc8, repo_root) >= 0.975
