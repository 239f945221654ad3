"""The least-squares machinery on synthetic layers: re-fit, OBS, SparseGPT, GPTQ, bias."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.passes.cluster import kmeans_codebook, nearest
from tinyc.passes.compensate import (bias_correction, damping, gptq, obc_greedy, obs_refit,
                                     ridge_fit, sparsegpt)
from tinyc.passes.prune import obc_mask


@pytest.fixture
def layer():
    """Correlated inputs X [R, K] + ones, weights w [O, K+1], H = XᵀX, B = Xᵀ Y."""
    rng = np.random.default_rng(1)
    r, k, o = 400, 24, 6
    mix = rng.normal(size=(k, k)) + 2 * np.eye(k)
    x = rng.normal(size=(r, k)) @ mix + 0.5
    xa = np.concatenate([x, np.ones((r, 1))], 1)
    w = rng.normal(size=(o, k + 1))
    return xa, w, xa.T @ xa, xa.T @ (xa @ w.T)


def _err(xa, w, wq):
    return float(np.sum((xa @ (w - wq).T) ** 2))


def test_ridge_fit_recovers_the_weights(layer):
    xa, w, H, B = layer
    np.testing.assert_allclose(ridge_fit(H, B, w, 1e-9), w, rtol=1e-6, atol=1e-6)


def test_obs_refit_is_least_squares_on_the_support(layer):
    xa, w, H, B = layer
    keep = np.random.default_rng(2).random(w.shape) < 0.5
    keep[:, -1] = True
    got = obs_refit(H, B, w, 0.0, keep)
    y = xa @ w.T
    for r in range(w.shape[0]):
        s = np.flatnonzero(keep[r])
        want = np.linalg.lstsq(xa[:, s], y[:, r], rcond=None)[0]
        np.testing.assert_allclose(got[r, s], want, rtol=1e-6, atol=1e-8)
        assert not got[r, ~keep[r]].any()


def test_sparsegpt_prunes_the_fraction_and_beats_zeroing(layer):
    xa, w, H, B = layer
    lam = damping(H, xa.shape[0])
    wp, mask = sparsegpt(w, H, 0.5, lam)
    assert mask.mean() == pytest.approx(0.5, abs=0.02)
    assert not wp[:, :-1][mask].any()
    zeroed = w.copy()
    zeroed[:, :-1][mask] = 0
    assert _err(xa, w, wp) < 0.8 * _err(xa, w, zeroed)
    keep = np.concatenate([~mask, np.ones((w.shape[0], 1), bool)], 1)
    assert _err(xa, w, obs_refit(H, B, w, 0.0, keep)) <= _err(xa, w, wp) + 1e-6


def test_gptq_stays_on_the_grid_and_beats_rounding(layer):
    xa, w, H, B = layer
    s = np.abs(w[:, :-1]).max(1) / 7
    wq = gptq(w, H, lambda j, col: np.clip(np.round(col / s), -7, 7) * s,
              damping(H, xa.shape[0]))
    ints = wq[:, :-1] / s[:, None]
    np.testing.assert_allclose(ints, np.round(ints), atol=1e-9)
    assert np.abs(ints).max() <= 7
    rounded = w.copy()
    rounded[:, :-1] = np.clip(np.round(w[:, :-1] / s[:, None]), -7, 7) * s[:, None]
    assert _err(xa, w, wq) < 0.8 * _err(xa, w, rounded)


def test_gptq_keeps_pruned_weights_zero(layer):
    xa, w, H, B = layer
    pruned = np.zeros((w.shape[0], w.shape[1] - 1), bool)
    pruned[:, ::3] = True
    s = np.abs(w[:, :-1]).max(1) / 127
    wq = gptq(w, H, lambda j, col: np.round(col / s) * s, 1.0, pruned)
    assert not wq[:, :-1][pruned].any()


def test_bias_correction_zeroes_the_mean_error(layer):
    xa, w, H, B = layer
    wq = w.copy()
    wq[:, :-1] = np.round(w[:, :-1] * 2) / 2
    wq[:, -1] += bias_correction(H, B, wq)
    assert np.abs((xa @ (w - wq).T).mean(0)).max() < 1e-9


def test_kmeans_codebook_is_small_and_close():
    u = np.random.default_rng(3).normal(0, 40, 5000).clip(-127, 127)
    book = kmeans_codebook(u, None, 8)
    assert len(book) <= 8 and book.dtype == np.int8
    err = np.mean((nearest(u, book) - u) ** 2)
    uniform = np.linspace(-127, 127, 8)
    assert err < np.mean((nearest(u, uniform) - u) ** 2)
    assert 0 in kmeans_codebook(u, None, 4, fixed_zero=True)


def test_obc_costs_are_the_exact_errors(layer):
    """Each greedy step's cost adds up to the output error of the least-squares re-fit on the
    kept weights (computed here directly from X), and the greedy mask of half the weights
    loses less than SparseGPT's on the same layer."""
    xa, w, H, B = layer
    k = w.shape[1] - 1
    order, cost = obc_greedy(w, H, 0.0, k // 2)
    for n in (1, 5, k // 2):
        keep = np.ones_like(w, bool)
        for r in range(w.shape[0]):
            keep[r, order[r, :n]] = False
        refit = obs_refit(H, B, w, 0.0, keep)
        per_row = np.sum((xa @ (w - refit).T) ** 2, axis=0)
        np.testing.assert_allclose(cost[:, :n].sum(1), per_row, rtol=1e-6)
    mask = obc_mask(w, H, 1e-9, 0.5)
    assert mask.sum() == round(0.5 * mask.size)
    keep = np.concatenate([~mask, np.ones((w.shape[0], 1), bool)], 1)
    _, gpt_mask = sparsegpt(w, H, 0.5, 1e-9)
    gkeep = np.concatenate([~gpt_mask, np.ones((w.shape[0], 1), bool)], 1)
    assert _err(xa, w, obs_refit(H, B, w, 0.0, keep)) < \
        _err(xa, w, obs_refit(H, B, w, 0.0, gkeep))
