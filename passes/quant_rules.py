"""Per-op quantization rules: integer kernel constants from the tensors' QParams.

Each rule mirrors TFLite Micro's Prepare for the op: float32 scales widened to double,
effective scale → QuantizeMultiplier, activation range → CalculateActivationRangeQuantized.
One function per op; register with @rule("op"); every layer op (OpDef.layer) has the layer
rule. int16 activations (16x8 scheme): symmetric,
zero offsets, activation ranges within int16, add with left shift 15 (TFLM add_common.cc).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import QuantizationError
from ..ir import OPS, DType, Node, QParams
from ..ir.qmath import f64  # noqa: F401  (the passes' name for it)
from ..ir.qmath import (calculate_input_radius, f32_parts, ort_output_scale,
                        preprocess_softmax_scaling, quantize_multiplier, round_half_away)

QUANT_RULES = {}


def rule(*ops):
    def wrap(fn):
        for o in ops:
            QUANT_RULES[o] = fn
        return fn
    return wrap


def activation_range(node: Node, q: QParams) -> dict:
    """TFLite CalculateActivationRangeQuantized for the node's fused `act` (real units)."""
    lo, hi = node.attrs.get("act", (-np.inf, np.inf))
    act_min, act_max = (-32768, 32767) if node.outputs[0].dtype is DType.INT16 else (-128, 127)
    if np.isfinite(lo):
        act_min = max(act_min, q.zp + round_half_away(lo / f64(q.s)))
    if np.isfinite(hi):
        act_max = min(act_max, q.zp + round_half_away(hi / f64(q.s)))
    return {"act_min": int(act_min), "act_max": int(act_max)}


def quant_rule(op: str):
    """The rule that computes an op's integer constants, or None (no constants)."""
    return layer_rule if OPS[op].layer is not None else QUANT_RULES.get(op)


def layer_rule(node: Node) -> dict:
    x, w = node.inputs[0], node.inputs[1]
    y = node.outputs[0]
    n_out = OPS[node.op].out_channels(w.shape)
    w_scales = np.broadcast_to(np.asarray(w.q.scale, np.float64), (n_out,))
    mults, shifts = [], []
    for ws in w_scales:
        m, s = quantize_multiplier(f64(x.q.s) * f64(ws) / f64(y.q.s))
        mults.append(m)
        shifts.append(s)
    if x.dtype is DType.INT16 and max(shifts) >= 8:
        raise QuantizationError(f"node '{node.name}' ({node.op}): 16x8 requantization needs "
                                f"shift < 8 (input scale * weight scale / output scale < 128)"
                                f" — got shift {max(shifts)}")
    ort = {}
    if node.attrs.get("requant") == "ort" and OPS[node.op].ort_requant and \
            x.dtype is DType.INT8:       # an ORT-family QDQ import: ONNX Runtime's float32 scale
        try:
            parts = [f32_parts(ort_output_scale(x.q.s, ws, y.q.s)) for ws in w_scales]
            ort = {"ort_mult": tuple(m for m, _ in parts), "ort_exp": tuple(e for _, e in parts)}
        except ValueError:               # a scale that is no normal float32: TFLM's as before
            ort = {}
    return {"in_offset": -x.q.zp, "out_offset": y.q.zp, "multiplier": tuple(mults),
            "shift": tuple(shifts), **activation_range(node, y.q), **ort}


@rule("add", "sub")
def add_rule(node: Node) -> dict:
    """TFLM add_common.cc / sub_common.cc (the tflite-micro interpreter computes sub's ratios
    in double as add's, not in float32 as some TFLM sources write them)."""
    q1, q2, qo = node.inputs[0].q, node.inputs[1].q, node.outputs[0].q
    left_shift = 15 if node.outputs[0].dtype is DType.INT16 else 20
    twice_max = 2 * max(f64(q1.s), f64(q2.s))
    m1, s1 = quantize_multiplier(f64(q1.s) / twice_max)
    m2, s2 = quantize_multiplier(f64(q2.s) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * f64(qo.s)))
    return {"in1_offset": -q1.zp, "in2_offset": -q2.zp, "left_shift": left_shift,
            "in1_mult": m1, "in1_shift": s1, "in2_mult": m2, "in2_shift": s2,
            "out_mult": mo, "out_shift": so, "out_offset": qo.zp,
            **activation_range(node, qo)}


@rule("squared_difference")
def squared_difference_rule(node: Node) -> dict:
    """TFLM squared_difference.cc: left shift 7, scales in double, output multiplier
    (2 max s)^2 / (2^14 s_out)."""
    q1, q2, qo = node.inputs[0].q, node.inputs[1].q, node.outputs[0].q
    twice_max = 2.0 * max(f64(q1.s), f64(q2.s))
    m1, s1 = quantize_multiplier(f64(q1.s) / twice_max)
    m2, s2 = quantize_multiplier(f64(q2.s) / twice_max)
    wide = node.outputs[0].dtype is DType.INT16      # 16x8: left shift 0 (TFLM)
    ls = 0 if wide else 7
    mo, so = quantize_multiplier(twice_max * twice_max / ((1 << (2 * ls)) * f64(qo.s)))
    return {"in1_offset": -q1.zp, "in2_offset": -q2.zp, "left_shift": ls,
            "in1_mult": m1, "in1_shift": s1, "in2_mult": m2, "in2_shift": s2,
            "out_mult": mo, "out_shift": so, "out_offset": qo.zp,
            "act_min": -32768 if wide else -128, "act_max": 32767 if wide else 127}


@rule("prelu")
def prelu_rule(node: Node) -> dict:
    """TFLM prelu_common.cc: s_x / s_out for x >= 0, s_x s_alpha / s_out for x * alpha."""
    qx, qa, qo = node.inputs[0].q, node.inputs[1].q, node.outputs[0].q
    m1, s1 = quantize_multiplier(f64(qx.s) / f64(qo.s))
    m2, s2 = quantize_multiplier(f64(qx.s) * f64(qa.s) / f64(qo.s))
    return {"in1_offset": -qx.zp, "in2_offset": -qa.zp, "in1_mult": m1, "in1_shift": s1,
            "out_mult": m2, "out_shift": s2, "out_offset": qo.zp,
            **dict(zip(("act_min", "act_max"), node.outputs[0].dtype.qrange))}


@rule("mul")
def mul_rule(node: Node) -> dict:
    q1, q2, qo = node.inputs[0].q, node.inputs[1].q, node.outputs[0].q
    m, s = quantize_multiplier(f64(q1.s) * f64(q2.s) / f64(qo.s))
    ort = {}
    if node.attrs.get("ort_mul") and node.outputs[0].dtype is DType.INT8:   # ORT's QLinearMul
        ort = dict(zip(("ort_mult", "ort_exp"), f32_parts(ort_output_scale(q1.s, q2.s, qo.s))))
    return {"in1_offset": -q1.zp, "in2_offset": -q2.zp, "out_mult": m, "out_shift": s,
            "out_offset": qo.zp, **activation_range(node, qo), **ort}


@rule("requantize")
def requantize_rule(node: Node) -> dict:
    """TFLM QUANTIZE between integer types: QuantizeMultiplier(in_scale / out_scale)."""
    qi, qo = node.inputs[0].q, node.outputs[0].q
    m, s = quantize_multiplier(f64(qi.s) / f64(qo.s))
    return {"in_offset": -qi.zp, "out_offset": qo.zp, "multiplier": (m,), "shift": (s,)}


@rule("avg_pool2d", "max_pool2d")
def pool_rule(node: Node) -> dict:
    return activation_range(node, node.outputs[0].q)


@rule("softmax")
def softmax_rule(node: Node) -> dict:
    beta = node.attrs.get("beta", 1.0)
    mult, left_shift = preprocess_softmax_scaling(beta, f64(node.inputs[0].q.s))
    return {"input_multiplier": mult, "input_left_shift": left_shift,
            "diff_min": -calculate_input_radius(5, left_shift)}


@rule("log_softmax")
def log_softmax_rule(node: Node) -> dict:
    """TFLM log_softmax.cc: PreprocessLogSoftmaxScalingExp (beta 1, 5 integer bits)."""
    mult, left_shift = preprocess_softmax_scaling(1.0, f64(node.inputs[0].q.s))
    rev_m, rev_s = quantize_multiplier((1 << (31 - left_shift)) / float(mult))
    return {"input_multiplier": mult, "input_left_shift": left_shift,
            "reverse_multiplier": rev_m, "reverse_shift": rev_s,
            "diff_min": -calculate_input_radius(5, left_shift)}


@rule("pad")
def pad_rule(node: Node) -> dict:
    q = node.outputs[0].q
    value = node.attrs.get("value", 0.0)
    lo, hi = (-32768, 32767) if node.outputs[0].dtype is DType.INT16 else (-128, 127)
    return {"pad_value": int(np.clip(q.zp + round_half_away(value / f64(q.s)), lo, hi))}


@rule("mean", "sum")
def reduce_rule(node: Node) -> dict:
    """TFLM PrepareMeanOrSum: QuantizeMultiplier(s_in / s_out); MEAN folds 1/count in as
    reference_ops::QuantizedMeanOrSum does — shift = min(floor(log2 n), 32, 31 + s),
    M' = (M << shift) / n (C division, un-normalised), s' = s - shift."""
    from ..ir.ops.reduce import reduce_count
    qi, qo = node.inputs[0].q, node.outputs[0].q
    if (node.op == "mean" and node.attrs.get("round_half_even")          # ONNX QDQ, int8
            and node.outputs[0].dtype is DType.INT8):                     # (ir/ops/reduce.py)
        m, s = (0, 0) if qi == qo else quantize_multiplier(
            f64(qi.s) / (f64(qo.s) * reduce_count(node)))
        return {"in_offset": -qi.zp, "out_offset": qo.zp, "multiplier": (int(m),),
                "shift": (int(max(s, -31)),)}
    m, s = quantize_multiplier(f64(qi.s) / f64(qo.s))
    if node.op == "mean":
        n = reduce_count(node)
        shift = min(n.bit_length() - 1, 32, 31 + s)
        m, s = (m << shift) // n, s - shift
    return {"in_offset": -qi.zp, "out_offset": qo.zp, "multiplier": (int(m),), "shift": (int(s),)}


@rule("batch_matmul")
def batch_matmul_rule(node: Node) -> dict:
    """TFLM batch_matmul.cc: GetQuantizedConvolutionMultipler — the scales' product in float32,
    then widened and divided by the output scale in double; no fused activation."""
    qa, qb, qo = node.inputs[0].q, node.inputs[1].q, node.outputs[0].q
    m, s = quantize_multiplier(float(np.float32(qa.s) * np.float32(qb.s)) / f64(qo.s))
    return {"a_offset": -qa.zp, "b_offset": -qb.zp, "out_offset": qo.zp, "multiplier": (m,),
            "shift": (s,), **dict(zip(("act_min", "act_max"), node.outputs[0].dtype.qrange))}


@rule("l2_norm")
def l2_norm_rule(node: Node) -> dict:
    """TFLM l2norm.cc: only the input zero point (the output is fixed at 1/128, 0)."""
    return {"in_offset": -node.inputs[0].q.zp}
@rule("lstm")
def lstm_rule(node: Node) -> dict:
    """TFLM unidirectional_sequence_lstm.cc / lstm_eval_common.cc (PrepareGateParametersInteger):
    each gate's input and recurrent FC to int16 at 2^-12, the multiplier from the float32
    product of the scales (GetQuantizedConvolutionMultipler without bias); the inter-gate
    multiplications in double (CreateInterGateMulParams, gate outputs at 2^-15); the cell
    state's power of two (CheckedLog2, rounded) and its clip in cell units (truncated)."""
    from ..ir.ops.lstm import tanh16_params
    x, y = node.inputs[0], node.outputs[0]
    hq = y.q                                # the hidden state's quantization (= the output's)
    for k in range(1, 9):
        w = node.inputs[k]
        if w.q is None or len(w.q.scale) != 1 or any(w.q.zero_point):
            raise QuantizationError(f"node '{node.name}' (lstm): weights '{w.name}' must be "
                                    f"int8 symmetric per tensor (TFLite Micro's LSTM uses one "
                                    f"multiplier per gate), got {w.q}")
    gate_s = 2.0 ** -12
    mults = [quantize_multiplier(float(np.float32(np.float32(src.s) *
                                                  np.float32(node.inputs[k].q.s))) / gate_s)
             for src, ks in ((x.q, range(1, 5)), (hq, range(5, 9))) for k in ks]
    cell_s = f64(node.attrs["cell_scale"])
    power = int(np.round(np.float32(np.log(np.float32(cell_s))) *
                         np.float32(1.0 / np.log(np.float32(2.0)))))
    out_s = 2.0 ** -15
    fc_m, fc_s = quantize_multiplier(out_s * cell_s / cell_s)
    ic_m, ic_s = quantize_multiplier(out_s * out_s / cell_s)
    h_m, h_s = quantize_multiplier(out_s * out_s / f64(hq.s))
    clip = f64(node.attrs.get("cell_clip", 0.0))
    clip_q = int(min(max(clip / cell_s, -32768.0), 32767.0)) if clip > 0 else -1
    tanh_m, tanh_s = tanh16_params(power)
    peep = _lstm_peephole(node.attrs.get("peephole"), power)
    return {**peep, "in_offset": -x.q.zp, "h_offset": -hq.zp, "h_zp": hq.zp,
            "in_mult": tuple(m for m, _ in mults[:4]), "in_shift": tuple(s for _, s in mults[:4]),
            "rec_mult": tuple(m for m, _ in mults[4:]), "rec_shift": tuple(s for _, s in mults[4:]),
            "fc_mult": fc_m, "fc_shift": fc_s, "ic_mult": ic_m, "ic_shift": ic_s,
            "h_mult": h_m, "h_shift": h_s, "tanh_mult": tanh_m, "tanh_shift": tanh_s,
            "cell_clip_q": clip_q, "cell_power": power}
def _lstm_peephole(peephole, power: int) -> dict:
    """TFLite's integer LSTM (lstm.cc PopulateQuantizedLstmParams8x8_16): cell-to-gate weights
    int16 symmetric per tensor (max |w| / 32767), multiplier 2^cell_power * s_w / 2^-12."""
    if peephole is None:
        return {}
    ws, mults, shifts = [], [], []
    for p in peephole:
        p = np.asarray(p, np.float64)
        m = float(np.max(np.abs(p))) if p.size else 0.0
        s_w = m / 32767.0 if m > 0 else 1.0
        ws.append(tuple(int(v) for v in np.clip(np.round(p / s_w), -32767, 32767)))
        mm, sh = quantize_multiplier(2.0 ** power * s_w / 2.0 ** -12)
        mults.append(mm)
        shifts.append(sh)
    return {"peep_w": tuple(ws), "peep_mult": tuple(mults), "peep_shift": tuple(shifts)}


@rule("layer_norm")
def layer_norm_rule(node: Node) -> dict:
    """ir/ops/norm.py's fixed-point form: epsilon in input units (n^2 eps / s_in^2), one
    multiplier gamma_c / (s_out 2^16) (sign kept) and bias beta_c / s_out per element."""
    qi, qo = node.inputs[0].q, node.outputs[0].q
    n = node.inputs[0].shape[-1]
    eps = float(node.attrs.get("epsilon", 1e-5))
    e = min(round_half_away(n * n * eps / (f64(qi.s) * f64(qi.s))), 1 << 46)
    mult, shift = [], []
    for g in node.attrs["gamma"]:
        m, s = quantize_multiplier(abs(float(g)) / (f64(qo.s) * 65536.0))
        mult.append(-m if g < 0 else m)
        shift.append(s)
    bias = [int(np.clip(round_half_away(float(b) / f64(qo.s)), -(1 << 30), 1 << 30))
            for b in node.attrs["beta"]]
    return {"eps_q": int(e), "multiplier": tuple(mult), "shift": tuple(shift),
            "bias": tuple(bias), "in_offset": -int(qi.zp), "out_offset": int(qo.zp)}
@rule("svdf")
def svdf_rule(node: Node) -> dict:
    """TFLM svdf_common.cc PrepareSvdf: the scale products in float32, then
    QuantizeMultiplier; a fresh int16 state resets to 0 (ir/ops/svdf.py)."""
    f32 = np.float32
    x, wf, wt, y = node.inputs[0].q, node.inputs[1].q, node.inputs[2].q, node.outputs[0].q
    s_state = f32(node.attrs["state_scale"])
    m1, s1 = quantize_multiplier(float(f32(f32(x.s) * f32(wf.s)) / s_state))
    m2, s2 = quantize_multiplier(float(f32(s_state * f32(wt.s)) / f32(y.s)))
    zp_state = int(node.attrs.get("state_zp", 0))
    reset = zp_state if node.attrs.get("state_dtype") == "i8" else 0
    return {"in_offset": -x.zp, "state_offset": zp_state, "reset": reset, "mult1": m1,
            "shift1": s1, "mult2": m2, "shift2": s2, "out_offset": y.zp}


@rule("leaky_requantize")
def leaky_requantize_rule(node: Node) -> dict:
    """TFLM's int16 RELU / LEAKY_RELU Prepare: QuantizeMultiplier of float32(s_in / s_out) and
    float32(s_in * alpha / s_out), widened to double."""
    f32 = np.float32
    s_in, s_out = f32(node.inputs[0].q.s), f32(node.outputs[0].q.s)
    alpha = f32(node.attrs.get("alpha", 0.0))
    mp, sp = quantize_multiplier(float(f32(s_in / s_out)))
    mn, sn = quantize_multiplier(float(f32(f32(s_in * alpha) / s_out)))
    return {"mult_pos": mp, "shift_pos": sp, "mult_neg": mn, "shift_neg": sn}


@rule("logistic16")
def logistic16_rule(node: Node) -> dict:
    """TFLM LogisticPrepare, int16: a Q3.12 input (scale 2^-12) is the power-of-two case
    (3, 0); any other scale: multiplier = double(s_in) * 4096 * 3, doubled (shift + 1) while
    <= 32767 / 2 and shift <= 30, then truncated to int."""
    return _table16_input(node, (0,))


@rule("tanh16")
def tanh16_rule(node: Node) -> dict:
    """TFLM TanhPrepare, int16: as LogisticPrepare, but the power-of-two case also takes an
    input at 2^-11 (left shift 1: multiplier 3 << 1, shift 0)."""
    return _table16_input(node, (0, 1))


def _table16_input(node: Node, pot_shifts: tuple) -> dict:
    s_in = float(np.float32(node.inputs[0].q.s))
    lg = math.log(s_in) / math.log(2.0)
    pot_shift = 12 + round(lg)
    if abs(lg - round(lg)) < 1e-3 and pot_shift in pot_shifts:
        return {"in_mult": 3 << pot_shift, "in_shift": 0}
    m, shift = s_in * 4096.0 * 3.0, 0
    while m <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        m *= 2.0
    return {"in_mult": int(m), "in_shift": shift}


@rule("resize")
def resize_rule(node: Node) -> dict:
    """ir/ops/resize.py's integer form: QuantizeMultiplier(s_in / (s_out 2^16)) for the Q16
    weighted sum, the extrapolation value quantized as the output."""
    from ..ir.ops.resize import W_BITS
    qi, qo = node.inputs[0].q, node.outputs[0].q
    m, s = quantize_multiplier(f64(qi.s) / (f64(qo.s) * (1 << W_BITS)))
    value = float(node.attrs.get("extrapolation_value", 0.0))
    lo, hi = node.outputs[0].dtype.qrange
    return {"in_offset": -int(qi.zp), "out_offset": int(qo.zp), "multiplier": (int(m),),
            "shift": (int(s),),
            "extrapolation_q": int(np.clip(qo.zp + round_half_away(value / f64(qo.s)), lo, hi))}


@rule("l1_norm")
def l1_norm_rule(node: Node) -> dict:
    """ir/ops/l1norm.py's integer form: QuantizeMultiplier(1 / s_out) (shift in [-8, 30] and
    rows of at most 2^15 elements keep S 2^(31 - shift) within int64)."""
    qi, qo = node.inputs[0].q, node.outputs[0].q
    m, s = quantize_multiplier(1.0 / f64(qo.s))
    if not -8 <= s <= 30 or node.inputs[0].shape[-1] > (1 << 15):
        raise QuantizationError(f"node '{node.name}' (l1_norm): output scale {qo.s:g} or row "
                                f"of {node.inputs[0].shape[-1]} out of the integer form's "
                                "range — expected a scale in [2^-30, 256] and rows <= 32768")
    return {"in_offset": -int(qi.zp), "out_offset": int(qo.zp), "multiplier": (int(m),),
            "shift": (int(s),)}
@rule("softmax16")
def softmax16_rule(node: Node) -> dict:
    """TFLM CalculateSoftmaxParams, int16 input: QuantizeMultiplier(double(s_in) * double(beta)
    / (10 / 65535)), so that a difference of -65535 scaled is -10.0 on the exp table."""
    s_in = float(np.float32(node.inputs[0].q.s))
    beta = float(np.float32(node.attrs.get("beta", 1.0)))
    mult, shift = quantize_multiplier(s_in * beta / (10.0 / 65535.0))
    return {"input_multiplier": mult, "input_left_shift": shift}


@rule("rsqrt16")
def rsqrt16_rule(node: Node) -> dict:
    """TFLM SetRsqrtOutputMultiplier: QuantizeMultiplier(1 / double(sqrtf(s_in) * s_out)),
    the product in float32."""
    f32 = np.float32
    s_in, s_out = f32(node.inputs[0].q.s), f32(node.outputs[0].q.s)
    mult, shift = quantize_multiplier(1.0 / float(f32(np.sqrt(s_in) * s_out)))
    return {"out_mult": mult, "out_shift": shift}
@rule("avg_pool3d", "max_pool3d")
def pool3d_rule(node: Node) -> dict:
    """As avg_pool2d / max_pool2d, plus the input zero point that a counted padding tap
    (ONNX count_include_pad=1) adds to an average's sum."""
    return {**activation_range(node, node.outputs[0].q), "pad_value": int(node.inputs[0].q.zp)}


@rule("gru")
def gru_rule(node: Node) -> dict:
    """ir/ops/gru.py's integer form (the int8 LSTM's pieces): each gate's input FC and
    recurrent FC to int16 at 2^-12, multipliers from the float32 products of the scales (as
    lstm_rule); the hidden state int16 at 2^-15, so rbh (linear_before_reset's recurrent
    candidate bias) in 2^-15 s_Rh units and the output multiplier 2^-15 / s_y."""
    x, y = node.inputs[0], node.outputs[0]
    for k in range(1, 7):
        w = node.inputs[k]
        if w.q is None or len(w.q.scale) != 1 or any(w.q.zero_point):
            raise QuantizationError(f"node '{node.name}' (gru): weights '{w.name}' must be "
                                    f"int8 symmetric per tensor (one multiplier per gate), "
                                    f"got {w.q}")
    if y.dtype is not DType.INT8:
        raise QuantizationError(f"node '{node.name}' (gru): int8 output only, got {y.dtype}")
    gate_s, h_s = 2.0 ** -12, 2.0 ** -15
    f32 = np.float32
    mults = [quantize_multiplier(float(f32(f32(src) * f32(node.inputs[k].q.s))) / gate_s)
             for src, ks in ((x.q.s, range(1, 4)), (h_s, range(4, 7))) for k in ks]
    rbh_unit = h_s * f64(node.inputs[6].q.s)
    rbh = [round_half_away(float(v) / rbh_unit) for v in (node.attrs.get("rbh") or ())]
    if any(abs(v) > (1 << 30) for v in rbh):
        raise QuantizationError(f"node '{node.name}' (gru): recurrent candidate bias too large"
                                f" for int32 sums ({max(abs(v) for v in rbh)} units)")
    y_m, y_s = quantize_multiplier(h_s / f64(y.q.s))
    hid = node.inputs[1].shape[0]
    return {"in_offset": -x.q.zp, "in_mult": tuple(m for m, _ in mults[:3]),
            "in_shift": tuple(s for _, s in mults[:3]),
            "rec_mult": tuple(m for m, _ in mults[3:]), "rec_shift": tuple(s for _, s in mults[3:]),
            "rbh_q": tuple(int(v) for v in rbh) or (0,) * hid, "y_mult": y_m, "y_shift": y_s,
            "y_zp": y.q.zp}


@rule("softmax8_16")
def softmax8_16_rule(node: Node) -> dict:
    """TFLM CalculateSoftmaxParams for int8 input (either output type): the int8 softmax's."""
    return softmax_rule(node)
