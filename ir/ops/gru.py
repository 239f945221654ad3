"""gru: a unidirectional GRU over a sequence (ONNX GRU forward, default activations), gates in
ONNX's order update z, reset r, candidate h; zero initial state.

Inputs: x [B, T, F] (attrs time_major: [T, B, F]), the input weights W_z, W_r, W_h [H, F],
the recurrent weights R_z, R_r, R_h [H, H], the input-side biases b_z, b_r, b_h [H] (ONNX
Wb + Rb for z and r; for h: Wb_h + Rb_h, or with linear_before_reset Wb_h alone, Rb_h then
the attr rbh). Output: the hidden state of every step, [B, T, H] ([T, B, H] time-major).

    z = sigmoid(W_z x + b_z + R_z h)          r = sigmoid(W_r x + b_r + R_r h)
    n = tanh(W_h x + b_h + R_h (r * h))                 (linear_before_reset = 0)
    n = tanh(W_h x + b_h + r * (R_h h + rbh))           (linear_before_reset = 1)
    h = (1 - z) * n + z * h

Integer form (no TFLite Micro GRU exists; the pieces are its int8 LSTM's, ir/ops/lstm.py):
int8 x, int8 weights (per tensor, symmetric), int32 biases at s_x s_W; the hidden state kept
int16 at 2^-15 (|h| <= 1: a convex mix of tanh values from zero); each gate's input FC and
recurrent FC requantized (MultiplyByQuantizedMultiplier) to int16 at 2^-12 and added with
int16 saturation; sigmoid and tanh: TFLite's int16 Logistic / Tanh (Q3.12 in, Q0.15 out);
the Q0.15 products r * h, r * (R_h h + rbh) and the update (2^15 - z) n + z h are rounded
back with (v + 2^14) >> 15; the output y = clamp8(rq(h, 2^-15 / s_y) + y_zp). The recurrent
sums are int32 (|h| < 2^15, |w| <= 127: hidden <= 256 keeps them exact).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import TensorType
from .lstm import GATE_SCALE_POWER, _batch_major, _sat16, sigmoid16, tanh16, tanh16_params
from .registry import op, require

GRU = "gru"
MAX_HIDDEN = 256
GRU_INT_ATTRS = ("in_offset", "in_mult", "in_shift", "rec_mult", "rec_shift", "rbh_q",
                 "y_mult", "y_shift", "y_zp")


def gru_float(node, x, *params):
    a = node.attrs
    w, r, b = params[0:3], params[3:6], params[6:9]
    xs = _batch_major(np.asarray(x, np.float64), a.get("time_major", False))
    n_b, n_t, _ = xs.shape
    hid = w[0].shape[0]
    h = np.zeros((n_b, hid))
    out = np.zeros((n_b, n_t, hid))
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))          # noqa: E731
    wf = [np.asarray(m, np.float64) for m in w]
    rf = [np.asarray(m, np.float64) for m in r]
    bf = [np.zeros(hid) if v is None else np.asarray(v, np.float64) for v in b]
    rbh = np.asarray(a.get("rbh") or np.zeros(hid), np.float64)
    for t in range(n_t):
        xt = xs[:, t]
        z = sig(xt @ wf[0].T + bf[0] + h @ rf[0].T)
        rr = sig(xt @ wf[1].T + bf[1] + h @ rf[1].T)
        if a.get("linear_before_reset"):
            n = np.tanh(xt @ wf[2].T + bf[2] + rr * (h @ rf[2].T + rbh))
        else:
            n = np.tanh(xt @ wf[2].T + bf[2] + (rr * h) @ rf[2].T)
        h = (1.0 - z) * n + z * h
        out[:, t] = h
    return _batch_major(out, a.get("time_major", False)).astype(np.float32)


def _rq16(acc, mult, shift):
    return _sat16(qmath.requantize(acc, mult, shift))


def _q15(v):
    """A Q0.15 product back to its other factor's scale: (v + 2^14) >> 15."""
    return (np.asarray(v, np.int64) + (1 << 14)) >> 15


def gru_int(node, x, *params):
    a = node.attrs
    w, r, b = params[0:3], params[3:6], params[6:9]
    y = node.outputs[0]
    xs = _batch_major(np.asarray(x, np.int64), a["time_major"])
    n_b, n_t, _ = xs.shape
    hid = w[0].shape[0]
    h = np.zeros((n_b, hid), np.int64)
    out = np.zeros((n_b, n_t, hid), np.int64)
    th_m, th_s = tanh16_params(GATE_SCALE_POWER)
    wi = [np.asarray(m, np.int64) for m in w]
    ri = [np.asarray(m, np.int64) for m in r]
    bi = [np.zeros(hid, np.int64) if v is None else np.asarray(v, np.int64) for v in b]
    rbh = np.asarray(a["rbh_q"], np.int64)

    def from_x(k, xt):
        return _rq16((xt + a["in_offset"]) @ wi[k].T + bi[k], a["in_mult"][k], a["in_shift"][k])

    def from_h(k, v, bias=0):
        return _rq16(v @ ri[k].T + bias, a["rec_mult"][k], a["rec_shift"][k])
    for t in range(n_t):
        xt = xs[:, t]
        z = sigmoid16(_sat16(from_x(0, xt) + from_h(0, h))).astype(np.int64)
        rr = sigmoid16(_sat16(from_x(1, xt) + from_h(1, h))).astype(np.int64)
        if a["linear_before_reset"]:
            pre = _sat16(from_x(2, xt) + _q15(rr * from_h(2, h, rbh)))
        else:
            pre = _sat16(from_x(2, xt) + from_h(2, _q15(rr * h)))
        n = tanh16(pre, th_m, th_s).astype(np.int64)
        h = _sat16(_q15(((1 << 15) - z) * n + z * h))
        out[:, t] = np.clip(qmath.requantize(h, a["y_mult"], a["y_shift"]) + a["y_zp"],
                            -128, 127)
    return _batch_major(out, a["time_major"]).astype(y.dtype.np)


def gru_macs(node) -> int:
    x, w, r = node.inputs[0], node.inputs[1], node.inputs[4]
    steps = x.shape[0] * x.shape[1]
    return int(steps * 3 * (w.shape[0] * w.shape[1] + r.shape[0] * r.shape[1]))


@op(GRU, run_float=gru_float, run_int=gru_int, macs=gru_macs, int_attrs=GRU_INT_ATTRS,
    quantized_constants=True, bias_of=((7, 1), (8, 2), (9, 3)), trainable=False,
    trainable_note="recurrent state: no backward through time")
def gru(inputs, attrs):
    """gru(x, W_z, W_r, W_h, R_z, R_r, R_h, b_z, b_r, b_h) {time_major, linear_before_reset,
    rbh} — one direction, zero initial state"""
    require(len(inputs) == 10, GRU, "inputs", "x, 3 input weights, 3 recurrent weights, "
            "3 biases", len(inputs))
    x = inputs[0]
    require(len(x.shape) == 3, GRU, "input rank", 3, x.shape)
    hid, feat = inputs[1].shape[0], x.shape[2]
    require(hid <= MAX_HIDDEN, GRU, "hidden size (int32 recurrent sums)", f"<= {MAX_HIDDEN}",
            hid)
    for k in range(1, 4):
        require(inputs[k].shape == (hid, feat), GRU, f"input weights {k}", (hid, feat),
                inputs[k].shape)
    for k in range(4, 7):
        require(inputs[k].shape == (hid, hid), GRU, f"recurrent weights {k}", (hid, hid),
                inputs[k].shape)
    for k in range(7, 10):
        require(inputs[k] is None or inputs[k].shape == (hid,), GRU, f"bias {k}", (hid,),
                None if inputs[k] is None else inputs[k].shape)
    rbh = attrs.get("rbh")
    require(rbh is None or len(rbh) == hid, GRU, "rbh", f"{hid} values", rbh and len(rbh))
    return [TensorType(x.dtype, (x.shape[0], x.shape[1], hid))]
