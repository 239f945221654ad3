"""Calibration: run the float graph in the IR interpreter over calibration samples and derive
each activation's int8 QParams as TFLite does (range widened to include 0; asymmetric).

Range estimators (`method`): "minmax" (the default, TFLite's), "percentile" (clip both tails at
PERCENTILE % of the samples' values) and "mse" (the clipping range that minimises the expected
squared quantization error, clipping + rounding, over the values' histogram). The last two
need a second pass over the samples (a histogram of every tensor within its min/max)."""
from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import QuantizationError
from ..ir import OPS, DType, Graph, QParams, Value, interpret

log = logging.getLogger("tinyc.calibrate")

CALIB_METHODS = ("minmax", "percentile", "mse")
PERCENTILE = 99.99
HIST_BINS = 2048


def fixed_output_q(op: str) -> QParams | None:
    """The output quantization an op fixes (OpDef.fixed_q: TFLite's choices), or None."""
    fixed = OPS[op].fixed_q
    return None if fixed is None else QParams((fixed[0],), (fixed[1],))


def qparams_from_range(lo: float, hi: float) -> QParams:
    """TFLite asymmetric int8: scale = (max - min) / 255, zero point nudged into [-128, 127]."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise QuantizationError(f"calibration range is not finite: [{lo}, {hi}]")
    if hi - lo < 1e-8:
        hi = lo + 1e-8 * 255
    scale = float(np.float32((hi - lo) / 255.0))
    zp = int(np.clip(round(-128 - lo / scale), -128, 127))
    return QParams((scale,), (zp,))


def observe_ranges(g: Graph, samples: list[dict[str, np.ndarray]],
                   progress=None) -> dict[Value, tuple[float, float]]:
    """Min/max of every activation over all samples (one interpreter run per sample)."""
    lo: dict[Value, float] = {}
    hi: dict[Value, float] = {}
    for i, feed in enumerate(samples):
        for v, a in interpret(g, feed, keep=True).items():
            if not np.all(np.isfinite(a)):
                raise QuantizationError(
                    f"calibration sample {i}: value '{v.name}' is not finite (NaN/Inf) — "
                    "check the calibration data and the model's weights")
            if a.size == 0:                     # no elements, no range (empty_q)
                continue
            lo[v] = min(lo.get(v, np.inf), float(a.min()))
            hi[v] = max(hi.get(v, -np.inf), float(a.max()))
        if progress:
            progress(i + 1, len(samples))
    return {v: (lo[v], hi[v]) for v in lo}


def propagate_passthrough_q(g: Graph) -> None:
    """Ops that only move bytes take their input's quantization when the model gives none
    (float islands such as a Pad between a DequantizeLinear and a Conv)."""
    for n in g.nodes:
        x, y = n.inputs[0], n.outputs[0]
        if OPS[n.op].same_q and y.q is None and x is not None and x.q is not None:
            y.type = y.type.with_(q=x.q)


def imply_q_backwards(g: Graph) -> None:
    """A quantized model's float island before a byte-moving op (OpDef.same_q: Pad, Reshape,
    MaxPool) or a clamp (OpDef.clamp_range: Relu) whose output is quantized: the island's
    value takes that output's quantization (ONNX Runtime's QDQ propagation). Exact: those ops
    commute with quantization (a clamp's cut-off values become the quantized range's end).
    ORT writes `DQ -> BatchNormalization -> Relu -> Q` after a Gemm, and QOperator graphs
    `input -> Pad -> Q`. Only run without calibration data (where the graph would be refused).
    Before a table op with an implied input range (OpDef.input_range: sigmoid, hard_swish, ...)
    the island takes that range: NNCF writes `Conv -> HardSwish -> Q` with the Conv output in
    float; inputs outside it give the same int8 output."""
    for n in reversed(list(g.nodes)):
        d = OPS[n.op]
        if not (d.same_q or d.clamp_range or d.input_range) or not n.inputs or len(n.outputs) != 1:
            continue
        x, y = n.inputs[0], n.outputs[0]
        if x is None or x.is_const or x.q is not None or y.q is None or len(x.uses) != 1:
            continue
        if d.same_q or d.clamp_range:
            x.type = x.type.with_(q=y.q)
            continue
        if y.q.per_channel:
            continue
        qmin, qmax = y.dtype.qrange if not y.dtype.is_float else (-128, 127)
        lo, hi = d.input_range(n.attrs, (qmin - y.q.zp) * y.q.s, (qmax - y.q.zp) * y.q.s, y.q.s)
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            continue
        x.type = x.type.with_(q=qparams_from_range(lo, hi))
        log.info("'%s': quantized to [%.4g, %.4g], the range its only use '%s' (%s) can tell "
                 "apart at its output's step (no calibration data)", x.name, lo, hi, n.name, n.op)


def imply_q_forwards(g: Graph) -> None:
    """A quantized model's float island after a Concat of differently quantized tensors
    (pt2e: `DQ(a), DQ(b) -> Concat -> MaxPool -> Reshape -> MatMul -> Q`): the Concat output
    (OpDef.inputs_as_output_q) takes the union of its inputs' ranges (one input's parameters
    when they all agree), byte-moving ops after it their input's. Only without calibration
    data (where the graph would be refused)."""
    for n in g.nodes:
        d = OPS[n.op]
        if len(n.outputs) != 1 or n.outputs[0].q is not None:
            continue
        acts = [v for v in n.inputs if v is not None and not v.is_const]
        if not acts or any(v.q is None or v.q.axis is not None for v in acts):
            continue
        y = n.outputs[0]
        if d.same_q:
            y.type = y.type.with_(q=acts[0].q)
        elif d.inputs_as_output_q:
            qs = {v.q for v in acts}
            if len(qs) == 1:
                y.type = y.type.with_(q=acts[0].q)
                continue
            lo = min((-128 - v.q.zp) * v.q.s for v in acts)
            hi = max((127 - v.q.zp) * v.q.s for v in acts)
            y.type = y.type.with_(q=qparams_from_range(lo, hi))


def imply_q_layer_outputs(g: Graph) -> None:
    """A quantized model's float graph output written by a layer (OpDef.layer) whose input and
    weights are quantized (NNCF quantizes a layer's inputs, not the last Gemm's output): the
    output takes the range the layer can reach on its input's quantized range (per output
    channel: bias + the sum over the fan-in of max / min of w * lo and w * hi), so it never
    saturates. Only without calibration data (where the graph would be refused); coarser than
    a calibrated range (on NNCF's digits nets 1.6-16x the observed one), so where the layer
    writes the output itself and has a 16x8 form (OpDef.int16_layer) it runs with an int16
    output (its input requantized to int16; graph.io_dtype: int16 storage, float at the Python
    API): a step 1/256 of the int8 one, as the file's float logits need (mixed_nncf: top-1
    0.985 with int8 logits, 1.000 with int16)."""
    from ..ir.ops import layer_matrix
    from ..ir.interpret import float_data
    for out in g.outputs:
        chain, v = [out], out
        while v.q is None and v.producer is not None and OPS[v.producer.op].keeps_values:
            v = v.producer.inputs[0]
            chain.append(v)
        p = v.producer
        if out.q is not None or v.q is not None or p is None or OPS[p.op].layer is None:
            continue
        x, w = p.inputs[0], p.inputs[1]
        b = p.inputs[2] if len(p.inputs) > 2 else None
        if (x is None or x.q is None or x.q.axis is not None or w is None or not w.is_const
                or w.q is None or (b is not None and not b.is_const)):
            continue
        qmin, qmax = x.dtype.qrange if not x.dtype.is_float else (-128, 127)
        lo = min((qmin - x.q.zp) * x.q.s, 0.0)
        hi = max((qmax - x.q.zp) * x.q.s, 0.0)
        wm = layer_matrix(p, float_data(w).astype(np.float64))
        bias = 0.0 if b is None else float_data(b).astype(np.float64).reshape(-1)
        top = bias + np.maximum(wm * lo, wm * hi).sum(axis=1)
        bottom = bias + np.minimum(wm * lo, wm * hi).sum(axis=1)
        q = qparams_from_range(float(bottom.min()), float(top.max()))
        for u in chain:
            u.type = u.type.with_(q=q)
        if v is out and OPS[p.op].int16_layer and "activations" not in p.attrs:
            p.attrs["activations"] = "int16"
            g.io_dtype[out.name] = DType.INT16
        log.info("output '%s': quantized to the range its layer '%s' can reach [%.4g, %.4g] "
                 "(no calibration data)", out.name, p.name, bottom.min(), top.max())


def observe_histograms(g: Graph, samples: list[dict[str, np.ndarray]],
                       ranges: dict[Value, tuple[float, float]],
                       values: list[Value]) -> dict[Value, np.ndarray]:
    """Histogram (HIST_BINS bins over [min(lo, 0), max(hi, 0)]) of each of `values`."""
    hist = {v: np.zeros(HIST_BINS, np.float64) for v in values}
    for feed in samples:
        acts = interpret(g, feed, keep=True)
        for v in values:
            lo, hi = min(ranges[v][0], 0.0), max(ranges[v][1], 0.0)
            hist[v] += np.histogram(acts[v], HIST_BINS, (lo, max(hi, lo + 1e-8)))[0]
    return hist


def _bin_centers(lo: float, hi: float) -> np.ndarray:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    edges = np.linspace(lo, max(hi, lo + 1e-8), HIST_BINS + 1)
    return (edges[:-1] + edges[1:]) / 2


def range_percentile(hist: np.ndarray, lo: float, hi: float,
                     pct: float = PERCENTILE) -> tuple[float, float]:
    """The range holding pct % of the values, pct/2 cut from each tail's share."""
    cdf = np.cumsum(hist) / max(hist.sum(), 1.0)
    centers = _bin_centers(lo, hi)
    tail = (100.0 - pct) / 100.0
    i_lo = int(np.searchsorted(cdf, tail, side="left"))
    i_hi = int(np.searchsorted(cdf, 1.0 - tail, side="left"))
    return float(centers[min(i_lo, HIST_BINS - 1)]), float(centers[min(i_hi, HIST_BINS - 1)])


def quant_error(hist: np.ndarray, centers: np.ndarray, q: QParams) -> float:
    """Expected squared error of int8 quantization with q over the histogram."""
    s, zp = q.s, q.zp
    deq = (np.clip(np.round(centers / s) + zp, -128, 127) - zp) * s
    return float(np.sum(hist * (centers - deq) ** 2))


def range_mse(hist: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """The clipped range [a*lo, b*hi] (a, b on a geometric grid in [0.01, 1]) with the least
    error."""
    centers = _bin_centers(lo, hi)
    grid = np.geomspace(1.0, 0.01, 48)
    best, best_err = (lo, hi), np.inf
    for a in (grid if lo < 0 else (1.0,)):
        for b in (grid if hi > 0 else (1.0,)):
            err = quant_error(hist, centers, qparams_from_range(a * lo, b * hi))
            if err < best_err:
                best, best_err = (a * lo, b * hi), err
    return best


def estimate_ranges(g: Graph, samples: list[dict[str, np.ndarray]], values: list[Value],
                    method: str = "minmax", progress=None) -> dict[Value, tuple[float, float]]:
    """The calibration range of each of `values` by the chosen estimator."""
    if method not in CALIB_METHODS:
        raise QuantizationError(f"unknown calibration method '{method}' — expected one of "
                                f"{', '.join(CALIB_METHODS)}")
    ranges = observe_ranges(g, samples, progress)
    if method == "minmax":
        return ranges
    hist = observe_histograms(g, samples, ranges, values)
    pick = range_percentile if method == "percentile" else range_mse
    return {v: pick(hist[v], *ranges[v]) for v in values}


def needs_calibration(g: Graph) -> list[Value]:
    """Activations without quantization parameters (after QDQ import)."""
    fixed = {n.outputs[0] for n in g.nodes if OPS[n.op].fixed_q}
    return [v for v in g.activations() if v.q is None and v not in fixed]


def assign_qparams(g: Graph, samples: list[dict[str, np.ndarray]] | None,
                   progress=None, method: str = "minmax") -> dict[Value, tuple[float, float]]:
    """Give every activation a per-tensor QParams: fixed by op, from QDQ, or calibrated.
    Returns the calibrated tensors' ranges (int16 activations take max |range| / 32767)."""
    for n in g.nodes:
        if OPS[n.op].fixed_q and n.outputs[0].q is None:
            n.outputs[0].type = n.outputs[0].type.with_(q=fixed_output_q(n.op))
    if not samples:
        imply_q_backwards(g)
        imply_q_forwards(g)
        imply_q_layer_outputs(g)
    propagate_passthrough_q(g)
    missing = needs_calibration(g)
    if not missing:
        return {}
    if not samples and getattr(g, "calib_reason", None):
        raise QuantizationError(g.calib_reason)
    if not samples:
        names = ", ".join(v.name for v in missing[:5])
        raise QuantizationError(
            f"model '{g.name}' is a float model (no quantization for {len(missing)} tensors, "
            f"e.g. {names}) — calibration data is needed: pass --calib calib.npz "
            "(one array per model input, N samples), or a quantized (QDQ) model")
    empty = [v for v in missing if v.type.size == 0]
    missing = [v for v in missing if v.type.size]
    ranges = estimate_ranges(g, samples, missing, method, progress) if missing else {}
    for v in missing:
        v.type = v.type.with_(q=qparams_from_range(*ranges[v]))
    for v in empty:
        v.type = v.type.with_(q=empty_q(v))
    log.info("calibrated %d tensors on %d samples (%s)", len(missing), len(samples), method)
    return {v: ranges[v] for v in missing}


def empty_q(v: Value) -> QParams:
    """A value with no elements has no range: it keeps its source's quantization (OpDef.same_q:
    the empty op), else scale 1, zero point 0 (a zero-sized model input; no value is ever
    quantized with it)."""
    p = v.producer
    if p is not None and OPS[p.op].same_q and p.inputs[0] is not None \
            and p.inputs[0].q is not None:
        return p.inputs[0].q
    return QParams((1.0,), (0,))


def symmetric_int16(lo: float, hi: float) -> QParams:
    """TFLite's 16x8 activations: symmetric, scale = max(|lo|, |hi|) / 32767, zero point 0."""
    amax = max(abs(float(lo)), abs(float(hi)))
    if not math.isfinite(amax):
        raise QuantizationError(f"calibration range is not finite: [{lo}, {hi}]")
    return QParams((float(np.float32(max(amax, 1e-8) / 32767.0)),), (0,))
