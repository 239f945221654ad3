"""svdf: TFLite's SVDF (singular value decomposition filter), the int8 form of TFLite Micro's
svdf_common.cc (EvalIntegerSvdfReference<int16_t>), with the state of a fresh interpreter.

  x [B, I] int8, weights_feature [F, I] int8, weights_time [F, M] int16, bias [F / rank] int32,
  state [B, F * M] int16 (attrs state_scale, state_zp), output [B, F / rank] int8.

Integer form, per batch row (what TFLM does in one invoke):
  1. state <<= one element (the whole buffer), then per filter f the newest slot
       state[f, M-1] = T(state_zp + clamp_T(requantize(Σ_i wf[f,i] (x_i + in_offset), m1, s1)))
  2. t[f] = Σ_j wt[f,j] (state[f,j] - state_zp)                                   (int32)
  3. y[u] = clamp_int8(requantize(bias[u] + Σ_r t[u*rank + r], m2, s2) + out_offset)
  m1/s1 = QuantizeMultiplier(double(float32(s_in * s_wf) / s_state)), m2/s2 likewise with
  float32(s_state * s_wt) / s_out: the scales multiplied in float32, as TFLM's Prepare.
  TFLM's integer path applies no fused activation (only the int8 clamp); the float form does.

State: the state is a variable tensor TFLM keeps between invokes. tinyc models keep no state
between calls (the arena may be shared), so every inference starts as a fresh TFLite Micro
interpreter (AllocateTensors -> ResetVariableTensors): the state filled with its reset value
(`reset`: the zero point for an int8 state, 0 for int16, as TFLM's memset). So each invoke
equals TFLM's first invoke after AllocateTensors()/reset().
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import DType, TensorType
from .registry import act_range, op, require

SVDF_INT_ATTRS = ("in_offset", "state_offset", "reset", "mult1", "shift1", "mult2", "shift2",
                  "out_offset")


def _dims(node):
    x, wt = node.inputs[0], node.inputs[2]
    n_filter, n_mem = wt.shape
    return x.shape[0], x.shape[1], n_filter, n_mem, n_filter // node.attrs["rank"]


def svdf_float(node, x, wf, wt, b=None):
    """The float form with a fresh (zero) state: only the newest slot is nonzero."""
    _, _, n_filter, _, n_unit = _dims(node)
    proj = x.astype(np.float64) @ wf.astype(np.float64).T              # [B, F]
    t = proj * wt[:, -1].astype(np.float64)                            # [B, F]
    y = t.reshape(t.shape[0], n_unit, -1).sum(-1)
    if b is not None:
        y = y + b.astype(np.float64)
    lo, hi = act_range(node.attrs)
    return np.clip(y, lo, hi).astype(np.float32)


def svdf_int(node, x, wf, wt, b=None):
    """TFLM's EvalIntegerSvdfReference<int16_t>, step by step, on a freshly reset state."""
    a = node.attrs
    n_batch, n_in, n_filter, n_mem, n_unit = _dims(node)
    t_dtype = DType(a.get("state_dtype", "i16"))
    lo, hi = t_dtype.qrange
    state = np.full(n_batch * n_filter * n_mem, a["reset"], np.int64)
    state[:-1] = state[1:].copy()                                      # shift left by one
    state = state.reshape(n_batch, n_filter, n_mem)
    dot = (x.astype(np.int64) + a["in_offset"]) @ wf.astype(np.int64).T     # [B, F]
    dot = np.clip(qmath.requantize(qmath.wrap_int32(dot), a["mult1"], a["shift1"]), lo, hi)
    state[:, :, -1] = (a["state_offset"] + dot).astype(t_dtype.np)   # T(zp + d), wrapping
    t = qmath.wrap_int32(((state - a["state_offset"]) * wt.astype(np.int64)).sum(-1))
    acc = t.reshape(n_batch, n_unit, a["rank"]).sum(-1)
    acc = qmath.wrap_int32(acc + (b.astype(np.int64) if b is not None else 0))
    y = qmath.requantize(acc, a["mult2"], a["shift2"]) + a["out_offset"]
    return np.clip(y, -128, 127).astype(np.int8)


def svdf_macs(node) -> int:
    n_batch, n_in, n_filter, n_mem, _ = _dims(node)
    return n_batch * n_filter * (n_in + n_mem)


@op("svdf", run_float=svdf_float, run_int=svdf_int, macs=svdf_macs, int_attrs=SVDF_INT_ATTRS,
    trainable=False, trainable_note="activation state across invocations: no backward through time")
def svdf(inputs, attrs):
    """svdf(x[B,I], weights_feature[F,I], weights_time[F,M], bias[F/rank]) {rank,
    state_scale, state_zp, state_dtype, act} — TFLite SVDF, a fresh state per inference"""
    x, wf, wt = inputs[0], inputs[1], inputs[2]
    rank = attrs.get("rank")
    require(len(x.shape) == 2 and len(wf.shape) == 2 and len(wt.shape) == 2, "svdf",
            "ranks of x, weights_feature, weights_time", "2, 2, 2",
            (len(x.shape), len(wf.shape), len(wt.shape)))
    require(wf.shape[1] == x.shape[1] and wt.shape[0] == wf.shape[0], "svdf",
            "weights_feature [F, I] and weights_time [F, M] for x [B, I]", "matching F and I",
            (wf.shape, wt.shape, x.shape))
    require(isinstance(rank, int) and rank >= 1 and wf.shape[0] % rank == 0, "svdf",
            "attribute 'rank'", f"a divisor of {wf.shape[0]} filters", rank)
    return [TensorType(x.type.dtype, (x.shape[0], wf.shape[0] // rank))]
