"""lstm: a unidirectional LSTM over a sequence (TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, ONNX LSTM
forward), gates in TFLite's order input, forget, cell, output; optional peephole weights
(attrs["peephole"], ONNX LSTM's P: TFLite's cell-to-gate weights); no projection, layer norm
or CIFG.

Inputs: x [B, T, F] (attrs time_major: [T, B, F]), the input weights W_i, W_f, W_c, W_o [H, F],
the recurrent weights R_i, R_f, R_c, R_o [H, H], the gate biases b_i, b_f, b_c, b_o [H].
Output: the hidden state of every step, [B, T, H] ([T, B, H] time-major). Hidden and cell
state start at zero in every run (TFLite Micro's fresh variable tensors).

    gate_g = act_g(W_g x_t + b_g + R_g h_{t-1})      (sigmoid; the cell gate: tanh)
    c_t = f * c_{t-1} + i * g    (clipped to +-cell_clip when cell_clip > 0)
    h_t = o * tanh(c_t)
With attrs["peephole"] = (p_i, p_f, p_o) (each [H]): the input and forget gates add
p_g * c_{t-1}, the output gate p_o * c_t before their sigmoid.

Integer form: TFLite Micro's lstm_eval (EvalLstm<int8, int8, int16, int32>): int8 x and h,
int8 weights (per tensor, symmetric), int32 bias added to the input FC; each gate's input FC
and recurrent FC requantized (MultiplyByQuantizedMultiplier) to int16 at scale 2^-12 and
added with int16 saturation; sigmoid/tanh on int16 by TFLite's interpolated table
(reference_integer_ops::Logistic / Tanh, output Q0.15); cell state int16 at scale 2^cell_power
(a power of two); c = sat16(rq(f * c)) + sat16(rq(i * g)) saturated, then clipped; the
hidden state h = sat8(rq(tanh(c) * o) + h_zp). The 16x8 form (int16 x and h, int64 bias) is
the same with 64-bit accumulators (EvalLstm<int16, int8, int16, int64>).
Peephole (TFLite's lstm_eval.cc integer path, CalculateLstmGateInteger8x8_16; TFLite Micro's
LSTM has none, so TFLite imports never set it): int16 symmetric cell-to-gate weights
(attrs peep_w), added to the gate's int16 pre-activation after both FCs as
sat16(pre + rq(w * c)) with multiplier 2^cell_power * s_w / 2^-12 (peep_mult, peep_shift);
the output gate's after the cell update.
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import TensorType
from .registry import op, require

GATES = ("i", "f", "c", "o")
GATE_SCALE_POWER = -12          # gate pre-activations: int16 at 2^-12 (Q3.12)

# sigmoid(k / 24) in 0.16 fixed point, k = 0..255: TFLite's sigmoid_table_uint16
# (tensorflow/lite/kernels/internal/common.h, Apache-2.0), the table its int16 Logistic and
# Tanh interpolate. Data the C kernel receives as a constant array.
SIGMOID_TABLE_U16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
], dtype=np.int64)

LSTM_INT_ATTRS = ("in_offset", "h_offset", "h_zp", "in_mult", "in_shift", "rec_mult",
                  "rec_shift", "fc_mult", "fc_shift", "ic_mult", "ic_shift", "h_mult",
                  "h_shift", "tanh_mult", "tanh_shift", "cell_clip_q")


# -- TFLite's int16 Logistic / Tanh (reference_integer_ops, power-of-two scales) --------------

def _table_interp(a: np.ndarray, frac_bits: int, saturated: int) -> np.ndarray:
    """|input| on the table: entry |x| >> frac_bits, linear in the low frac_bits bits."""
    uh = a >> frac_bits
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE_U16[idx], SIGMOID_TABLE_U16[idx + 1]
    interp = (ua << frac_bits) + (a & ((1 << frac_bits) - 1)) * (ub - ua)
    return np.where(uh >= 255, saturated, interp)


def sigmoid16(x, mult: int = 3, shift: int = 0) -> np.ndarray:
    """reference_integer_ops::Logistic on int16, Q0.15 out: (x * mult + round) >> shift on the
    table's Q3.12 * 3 input scale (default 3, 0: an input at Q3.12, the power-of-two case)."""
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    v = (np.asarray(x, np.int64) * mult + rnd) >> shift
    r = _table_interp(np.abs(v), 9, 0x7FFF << 10)
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh16_params(scale_power: int) -> tuple[int, int]:
    """lstm_internal::Tanh's (input_multiplier, input_left_shift) for an input at scale
    2^scale_power, after Tanh's own power-of-two step (multiplier 0 -> 3 << shift)."""
    shift = 15 + scale_power - 3
    if shift < 0:
        return 3, -shift
    return 3 << shift, 0


def tanh16(x, mult: int, shift: int) -> np.ndarray:
    """reference_integer_ops::Tanh on int16 (multiplier/shift of tanh16_params), Q0.15 out."""
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    v = (np.asarray(x, np.int64) * mult + rnd) >> shift
    r = _table_interp(np.abs(v), 8, 0xFFFF << 8)
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)


def _sat16(x) -> np.ndarray:
    return np.clip(x, -32768, 32767)


# -- semantics --------------------------------------------------------------------------------

def _batch_major(x: np.ndarray, time_major: bool) -> np.ndarray:
    return np.swapaxes(x, 0, 1) if time_major else x


def lstm_float(node, x, *params):
    a = node.attrs
    w, r, b = params[0:4], params[4:8], params[8:12]
    xs = _batch_major(np.asarray(x, np.float64), a.get("time_major", False))
    n_b, n_t, _ = xs.shape
    hid = w[0].shape[0]
    h, c = np.zeros((n_b, hid)), np.zeros((n_b, hid))
    out = np.zeros((n_b, n_t, hid))
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))          # noqa: E731
    clip = float(a.get("cell_clip", 0.0))
    peep = [np.asarray(p, np.float64) for p in a.get("peephole") or ((0.0,) * hid,) * 3]
    for t in range(n_t):
        pre = [xs[:, t] @ np.asarray(w[k], np.float64).T + h @ np.asarray(r[k], np.float64).T
               + (np.asarray(b[k], np.float64) if b[k] is not None else 0.0) for k in range(4)]
        i, f, g = sig(pre[0] + peep[0] * c), sig(pre[1] + peep[1] * c), np.tanh(pre[2])
        c = f * c + i * g
        if clip > 0:
            c = np.clip(c, -clip, clip)
        o = sig(pre[3] + peep[2] * c)
        h = o * np.tanh(c)
        out[:, t] = h
    return _batch_major(out, a.get("time_major", False)).astype(np.float32)


def _fc(v, offset, w, bias, mult, shift, wide: bool):
    acc = (np.asarray(v, np.int64) + offset) @ np.asarray(w, np.int64).T
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    if wide:
        return _sat16(qmath.requantize_s64(acc, mult, shift))
    return _sat16(qmath.requantize(qmath.wrap_int32(acc), mult, shift))


def lstm_int(node, x, *params):
    a = node.attrs
    w, r, b = params[0:4], params[4:8], params[8:12]
    y = node.outputs[0]
    wide = y.dtype.np == np.int16
    lo, hi = (-32768, 32767) if wide else (-128, 127)
    xs = _batch_major(np.asarray(x, np.int64), a["time_major"])
    n_b, n_t, _ = xs.shape
    hid = w[0].shape[0]
    h = np.full((n_b, hid), a["h_zp"], np.int64)        # zero state: the zero point
    c = np.zeros((n_b, hid), np.int64)
    out = np.zeros((n_b, n_t, hid), np.int64)
    gate_tanh = tanh16_params(GATE_SCALE_POWER)
    peep = a.get("peep_w")

    def peephole(pre, k, cell):                  # gate k of 0 input, 1 forget, 2 output
        if peep is None:
            return pre
        prod = np.asarray(peep[k], np.int64) * cell
        return _sat16(pre + qmath.requantize(prod, a["peep_mult"][k], a["peep_shift"][k]))

    for t in range(n_t):
        pre = [_sat16(_fc(xs[:, t], a["in_offset"], w[k], b[k], a["in_mult"][k],
                          a["in_shift"][k], wide)
                      + _fc(h, a["h_offset"], r[k], None, a["rec_mult"][k], a["rec_shift"][k],
                            wide)) for k in range(4)]
        i, f = (sigmoid16(peephole(pre[k], k, c)).astype(np.int64) for k in (0, 1))
        g = tanh16(pre[2], *gate_tanh).astype(np.int64)
        c = _sat16(qmath.requantize(f * c, a["fc_mult"], a["fc_shift"]))
        ig = _sat16(qmath.requantize(i * g, a["ic_mult"], a["ic_shift"]))
        c = _sat16(c + ig)
        if a["cell_clip_q"] >= 0:
            c = np.clip(c, -a["cell_clip_q"], a["cell_clip_q"])
        o = sigmoid16(peephole(pre[3], 2, c)).astype(np.int64)
        tc = tanh16(c, a["tanh_mult"], a["tanh_shift"]).astype(np.int64)
        h = np.clip(qmath.requantize(tc * o, a["h_mult"], a["h_shift"]) + a["h_zp"], lo, hi)
        out[:, t] = h
    return _batch_major(out, a["time_major"]).astype(y.dtype.np)


def lstm_macs(node) -> int:
    x, w, r = node.inputs[0], node.inputs[1], node.inputs[5]
    steps = x.shape[0] * x.shape[1]
    return int(steps * 4 * (w.shape[0] * w.shape[1] + r.shape[0] * r.shape[1]))


@op("lstm", run_float=lstm_float, run_int=lstm_int, macs=lstm_macs, int16=True,
    int_attrs=LSTM_INT_ATTRS, quantized_constants=True,
    bias_of=((9, 1), (10, 2), (11, 3), (12, 4)), trainable=False,
    trainable_note="recurrent state: no backward through time")
def lstm(inputs, attrs):
    """lstm(x, W_i, W_f, W_c, W_o, R_i, R_f, R_c, R_o, b_i, b_f, b_c, b_o) {time_major,
    cell_clip, cell_scale, peephole?} — one direction, zero initial state"""
    require(len(inputs) == 13, "lstm", "inputs", "x, 4 input weights, 4 recurrent weights, "
            "4 biases", len(inputs))
    x = inputs[0]
    require(len(x.shape) == 3, "lstm", "input rank", 3, x.shape)
    hid, feat = inputs[1].shape[0], x.shape[2]
    for k in range(1, 5):
        require(inputs[k].shape == (hid, feat), "lstm", f"input weights {k}", (hid, feat),
                inputs[k].shape)
    for k in range(5, 9):
        require(inputs[k].shape == (hid, hid), "lstm", f"recurrent weights {k}", (hid, hid),
                inputs[k].shape)
    for k in range(9, 13):
        require(inputs[k] is None or inputs[k].shape == (hid,), "lstm", f"bias {k}", (hid,),
                None if inputs[k] is None else inputs[k].shape)
    peep = attrs.get("peephole")
    require(peep is None or (len(peep) == 3 and all(len(p) == hid for p in peep)), "lstm",
            "peephole", f"3 x [{hid}] (input, forget, output)", peep and [len(p) for p in peep])
    return [TensorType(x.dtype, (x.shape[0], x.shape[1], hid))]
