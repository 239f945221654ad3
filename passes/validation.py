"""validation: the data and the score of the mixed-precision search (search.py) — how much
top-1 accuracy a compressed model may lose, estimated conservatively.

Data (split_validation): with `val` (.npz or dict, labels in 'label'), the search fits on all
the calibration samples and scores on val; without, it fits on the first three quarters of
calib and scores on all of calib against the float model's top-1, the held-out quarter (whose
compression error is out of sample) also apart.

Score (drop_estimate): the largest of
  * the observed drop (float accuracy minus the integer model's) on all the scored samples
    and on the held-out ones;
  * a bound on the expected drop from the output error, which uses every sample's margin, not
    only the few that flip. A sample that the float model gets right (class t) is lost only if
    the error e = q - f lifts some class c over t by more than the margin:
    e[c] - e[t] > M = f[t] - max_{c != t} f[c]. With D = max_c e[c] - e[t] and M of a new sample
    taken as independent, drop <= P(M < D) = E[F_M(D)]: F_M from the float model's margins on
    the scored samples (no fitting involved), D from the errors of all of them and of the
    held-out ones (the larger upper confidence limit of the mean). F_M near 0 is what
    matters and what few samples show (calibration samples are often training samples, far
    from the decision boundary), so F_M is replaced by an upper confidence bound which
    assumes only that the density of margins does not decrease between 0 and the median
    margin (then F_M(x)/x <= F_M(y)/y for x <= y):
        F+(x) = min( U(#{m < x}), min over margins y in [x, median] of x/y * U(#{m < y}) )
    with U(k) the one-sided Clopper-Pearson upper limit of a rate seen k times in n, at level
    1 - alpha. The search sets alpha = ALPHA / the number of steps it may try (Bonferroni: it
    keeps one of many configurations, and the bound must hold for whichever it keeps).
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ..errors import QuantizationError
from ..ir import Graph

ALPHA = 0.05


class Score(NamedTuple):
    accuracy: float          # top-1 of the integer model on the scored samples (labels)
    mse: float               # output MSE vs the float model
    drop: float              # drop_estimate: the conservative estimate of the accuracy drop
    bound: float             # its margin-based part
    observed: float          # its observed part


@functools.lru_cache(maxsize=8)
def binomial_upper(n: int, alpha: float) -> np.ndarray:
    """[n + 1]: the one-sided Clopper-Pearson upper limit of a rate seen k times in n trials
    (the p with P(X <= k | n, p) = alpha; 1 for k = n), by bisection."""
    i = np.arange(n + 1, dtype=np.float64)
    log_comb = np.array([math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1)
                         for j in range(n + 1)])
    lo, hi = np.zeros(n + 1), np.ones(n + 1)
    for _ in range(60):
        p = np.clip((lo + hi) / 2, 1e-300, 1 - 1e-16)
        logpmf = log_comb[None, :] + i[None, :] * np.log(p)[:, None] + \
            (n - i)[None, :] * np.log1p(-p)[:, None]
        cdf = np.cumsum(np.exp(logpmf), axis=1)[np.arange(n + 1), np.arange(n + 1)]
        above = cdf > alpha                 # cdf falls with p: the limit lies higher
        lo, hi = np.where(above, p, lo), np.where(above, hi, p)
    hi[n] = 1.0
    return hi


def margins(f: np.ndarray, t: np.ndarray) -> np.ndarray:
    """f[t] - max_{c != t} f[c] per sample; inf where t is not the float top-1 (nothing to
    lose)."""
    rows = np.arange(len(f))
    other = np.where(np.arange(f.shape[1])[None, :] == t[:, None], -np.inf, f).max(axis=1)
    m = f[rows, t] - other
    return np.where(f.argmax(axis=1) == t, np.maximum(m, 0.0), np.inf)


def effects(e: np.ndarray, t: np.ndarray) -> np.ndarray:
    """D = max_c e[c] - e[t] per sample (>= 0): how far the error lifts a class over t."""
    return np.maximum((e - e[np.arange(len(e)), t][:, None]).max(axis=1), 0.0)


def margin_cdf_upper(x: np.ndarray, m: np.ndarray, alpha: float) -> np.ndarray:
    """F+(x) of the module doc, for each x, from the margins m (inf: never lost)."""
    n, finite = len(m), np.sort(m[np.isfinite(m)])
    u = binomial_upper(n, alpha)
    below = lambda v: np.searchsorted(finite, v, side="left")           # noqa: E731
    x = np.asarray(x, np.float64)
    out = u[below(x)]
    ys = finite[(finite > 0) & (finite <= np.median(m))] if finite.size else finite
    if ys.size:
        slope = np.minimum.accumulate((u[below(ys)] / ys)[::-1])[::-1]   # min over y >= ys[i]
        i = np.searchsorted(ys, x, side="left")
        ok = i < ys.size
        out = np.where(ok, np.minimum(out, x * slope[np.minimum(i, ys.size - 1)]), out)
    return np.where(x > 0, np.minimum(out, 1.0), 0.0)


def _normal_quantile(p: float) -> float:
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 0.5 * math.erfc(-mid / math.sqrt(2)) < p else (lo, mid)
    return hi


def _upper_mean(v: np.ndarray, z: float) -> float:
    """Upper confidence limit of the mean of v (normal approximation)."""
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else float(np.max(v, initial=0.0))
    return float(np.mean(v)) + z * sd / math.sqrt(len(v))


def drop_estimate(f: np.ndarray, q: np.ndarray, t: np.ndarray, held: np.ndarray,
                  alpha: float) -> Score:
    """The Score of integer outputs q against float outputs f [n, C], labels t, the held-out
    sample indices `held` (module doc)."""
    e = q - f
    m = margins(f, t)
    d = effects(e, t)
    z = _normal_quantile(1.0 - alpha)
    bound = max(_upper_mean(margin_cdf_upper(d[idx], m, alpha), z) for idx in
                (slice(None), held) if len(d[idx]))
    f_ok, q_ok = f.argmax(1) == t, q.argmax(1) == t
    lost = f_ok.astype(float) - q_ok
    observed = max(float(np.mean(lost)), float(np.mean(lost[held])) if len(held) else 0.0)
    return Score(float(np.mean(q_ok)), float(np.mean(e ** 2)), max(bound, observed), bound,
                 observed)


def split_validation(g: Graph, samples, val) -> tuple[list, tuple]:
    """(samples to fit on, (scored feeds, labels or None, held-out indices)). Without `val`,
    the last quarter of the calibration samples is held out of the fit; all are scored."""
    if val is not None:
        feeds, labels = val_feeds(g, samples, val)
        return list(samples), (feeds, labels, np.arange(len(feeds)))
    n = len(samples)
    cut = n - max(n // 4, 1) if n >= 4 else n
    return list(samples[:cut]), (list(samples), None, np.arange(cut, n))


def val_feeds(g: Graph, samples, val: dict) -> tuple[list[dict], np.ndarray | None]:
    """Validation feeds and labels from `val`: {model input: its N samples, "label": N labels}
    (the driver reads and checks a .npz file into this form)."""
    missing = [v.name for v in g.inputs if v.name not in val]
    if missing:
        raise QuantizationError(f"validation data: no array for model input(s) {missing} — "
                                f"got {sorted(val)}")
    labels = val.get("label", val.get("labels"))
    n = len(val[g.inputs[0].name])
    feeds = [{v.name: np.asarray(val[v.name][i], np.float32).reshape(v.shape)
              for v in g.inputs} for i in range(n)]
    return feeds, None if labels is None else np.asarray(labels).reshape(-1)
