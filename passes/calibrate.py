"""Calibration: run the float graph in the IR interpreter over calibration samples and derive
each activation's int8 QParams as TFLite does (range widened to include 0; asymmetric)."""
from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import QuantizationError
from ..ir import Graph, QParams, Value, interpret

log = logging.getLogger("tinyc.calibrate")

# ops whose output quantization is fixed by the op, not by calibration (TFLite's choices)
FIXED_OUTPUT_Q = {
    "softmax": QParams((1.0 / 256.0,), (-128,)),
    "sigmoid": QParams((1.0 / 256.0,), (-128,)),
    "tanh": QParams((1.0 / 128.0,), (0,)),
}


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
            lo[v] = min(lo.get(v, np.inf), float(a.min()))
            hi[v] = max(hi.get(v, -np.inf), float(a.max()))
        if progress:
            progress(i + 1, len(samples))
    return {v: (lo[v], hi[v]) for v in lo}


PASSTHROUGH_OPS = {"reshape", "transpose", "pad", "max_pool2d", "avg_pool2d"}


def propagate_passthrough_q(g: Graph) -> None:
    """Ops that only move bytes take their input's quantization when the model gives none
    (float islands such as a Pad between a DequantizeLinear and a Conv)."""
    for n in g.nodes:
        x, y = n.inputs[0], n.outputs[0]
        if n.op in PASSTHROUGH_OPS and y.q is None and x is not None and x.q is not None:
            y.type = y.type.with_(q=x.q)


def needs_calibration(g: Graph) -> list[Value]:
    """Activations without quantization parameters (after QDQ import)."""
    fixed = {n.outputs[0] for n in g.nodes if n.op in FIXED_OUTPUT_Q}
    return [v for v in g.activations() if v.q is None and v not in fixed]


def assign_qparams(g: Graph, samples: list[dict[str, np.ndarray]] | None,
                   progress=None) -> None:
    """Give every activation a per-tensor QParams: fixed by op, from QDQ, or calibrated."""
    for n in g.nodes:
        if n.op in FIXED_OUTPUT_Q and n.outputs[0].q is None:
            n.outputs[0].type = n.outputs[0].type.with_(q=FIXED_OUTPUT_Q[n.op])
    propagate_passthrough_q(g)
    missing = needs_calibration(g)
    if not missing:
        return
    if not samples:
        names = ", ".join(v.name for v in missing[:5])
        raise QuantizationError(
            f"model '{g.name}' is a float model (no quantization for {len(missing)} tensors, "
            f"e.g. {names}) — calibration data is needed: pass --calib calib.npz "
            "(one array per model input, N samples), or a quantized (QDQ) model")
    ranges = observe_ranges(g, samples, progress)
    for v in missing:
        v.type = v.type.with_(q=qparams_from_range(*ranges[v]))
    log.info("calibrated %d tensors on %d samples", len(missing), len(samples))
