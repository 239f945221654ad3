"""The compile-time half of the fast kernels (runtime/tinyc_*_fast_s8.c, tinyc_add_lut_s8.c).

A fast kernel is chosen per node when its preconditions hold, otherwise the generic kernel:

* requantization: every channel has shift <= -1 (or multiplier 0), so it is the tinyc_rq
  form {m, h = 2^(e-1), e = -shift} that the DSP path computes with SMMLAR/ASR/SSAT;
* the accumulator bound |bias| + sum|w| * max|x + input_offset| < 2^29 (exact int64, here), so
  that 2 * acc fits int32 and the rounding terms cannot overflow;
* layouts the kernels want, made here once: conv filter rows padded to a multiple of 4,
  depthwise filters widened to int16 in lane order {c0, c2, c1, c3}, fully-connected weights
  interleaved by 4 output channels, add's per-input tables;
* the arena scratch (im2col block, widened fc input): select_kernels (select.py) decides
  once whether the fast kernel runs (`applies`) and how much scratch it needs
  (`conv2d_scratch`, `fc_scratch`); plan_memory reserves it; the functions below only render.

Nothing here depends on the board: the DSP and portable paths share every array.
"""
from __future__ import annotations

import numpy as np

from ..ir import DType, Node, qmath
from ..ir.ops.conv import CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED

ACC_LIMIT = 1 << 29
_LANES = np.array([0, 2, 1, 3])          # element j of a group of 4 sits at lane _LANES[j]


def _ceil4(n: int) -> int:
    return (n + 3) // 4 * 4


def _channels(node: Node, key: str, channels: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(node.attrs[key], np.int64).reshape(-1), (channels,))


def rq_table(mult, shift, bias, s_max, offset: int) -> np.ndarray | None:
    """(C, 3) int64 rows {m, h, e} (tinyc_rq), or None when the fast form does not apply.

    Per channel the accumulator is bias + S with |S| <= s_max. A channel is
    * exact in the fast form when |bias| + s_max < 2^29 and shift <= -1 (or m == 0): the
      output offset is folded into h = 2^(e-1) + offset * 2^e, so that
      (SMMLAR(2 acc, m, h + sign) >> e) == rdbpot(srdhm(acc, m), e) + offset; a channel
      whose result is 0 for every such acc gets the smallest e that keeps it 0;
    * constant when its saturated output is the same value c at both ends of the range (the
      requantization is monotonic): {0, 1 + 2 c, 1} gives (h + sign) >> 1 == c;
    otherwise the kernel is not used (None)."""
    m, s = np.asarray(mult, np.int64), np.asarray(shift, np.int64)
    bias = np.broadcast_to(np.asarray(bias, np.int64), m.shape)
    s_max = np.broadcast_to(np.asarray(s_max, np.int64), m.shape)
    rows = []
    for mc, sc, bc, sm in zip(m.tolist(), s.tolist(), bias.tolist(), s_max.tolist()):
        lo, hi = (int(np.clip(qmath.requantize(a, mc, sc) + offset, -128, 127))
                  for a in (max(bc - sm, -(1 << 31)), min(bc + sm, (1 << 31) - 1)))
        if lo == hi:
            rows.append((0, 1 + 2 * lo, 1))
            continue
        if (sc > -1 and mc != 0) or abs(bc) + sm >= ACC_LIMIT:
            return None
        e = 1 if mc == 0 else -sc
        x_max = ((abs(bc) + sm) * mc >> 31) + 1         # |SMMLAR(2 acc, m, 0)| <= x_max
        if (1 << (e - 1)) > x_max:                      # result always 0: shrink e
            e = min(e, x_max.bit_length() + 1)
        h = (1 << (e - 1)) + offset * (1 << e)
        if x_max + abs(h) + 1 >= (1 << 31):
            return None
        rows.append((mc, h, e))
    return np.array(rows, np.int64).reshape(-1, 3)


def _x_max(node: Node, key: str = "in_offset") -> int:
    off = int(np.asarray(node.attrs[key]).reshape(-1)[0])
    return max(abs(-128 + off), abs(127 + off))


def _dense_spec(node: Node, w2d_of):
    """(w2d [C, K] int64, bias or None, rq [C, 3]) when the fast preconditions hold (for the
    weights as they are: select_kernels asks only for dense and "wide" storage)."""
    w, b = node.inputs[1], node.input(2)
    if not w.is_const or (b is not None and not b.is_const):
        return None
    w2d = w2d_of(np.asarray(w.data).astype(np.int64))
    c = w2d.shape[0]
    bias = None if b is None else np.asarray(b.data, np.int64).reshape(-1)
    rq = rq_table(_channels(node, "multiplier", c), _channels(node, "shift", c),
                  0 if bias is None else bias, np.abs(w2d).sum(axis=1) * _x_max(node),
                  int(np.asarray(node.attrs["out_offset"]).reshape(-1)[0]))
    if rq is None:
        return None
    return w2d, bias, rq


def _conv_spec(node: Node):
    return _dense_spec(node, lambda w: w.reshape(w.shape[0], -1))


def _dw_spec(node: Node):
    x, w = node.inputs[0], node.inputs[1]
    if w.shape[3] != x.shape[3] or x.shape[3] % 4:
        return None
    return _dense_spec(node, lambda w: w.reshape(-1, w.shape[3]).T)


def _fc_spec(node: Node):
    return _dense_spec(node, lambda w: w)


def _ceil8(n: int) -> int:
    return (n + 7) // 8 * 8


def _fc_k(node: Node, wide: bool) -> int:
    """The padded depth of the fully-connected kernels' rows: 8 k for wide, 4 k else."""
    k = node.inputs[1].shape[1]
    return _ceil8(k) if wide else _ceil4(k)


def _conv_k4(node: Node) -> tuple[int, int]:
    """(k4, row4): k per filter row padded to 4 when in_c is not a multiple of 4 (so each
    row's im2col run starts on a group of four), times the rows."""
    _, kh, kw, cin = node.inputs[1].shape
    row4 = kw * cin if cin % 4 == 0 else _ceil4(kw * cin)
    return kh * row4, row4


def conv2d_scratch(node: Node) -> int:
    spec = _conv_spec(node)     # 6 im2col columns of k4 int16, 6 pixels of outputs (tail)
    return 0 if spec is None else 12 * _conv_k4(node)[0] + _ceil4(6 * spec[0].shape[0])


def dw3_applies(node: Node) -> bool:
    """The depthwise kernel's 3x3 path: 3x3 filter, stride 1 or 2, dilation 1."""
    a = node.attrs
    return (tuple(node.inputs[1].shape[1:3]) == (3, 3) and tuple(a["dilation"]) == (1, 1)
            and all(s in (1, 2) for s in a["stride"]))


def dw3_width(node: Node) -> int:
    """tinyc_dw3_width: int16 per channel plane row (4 output pixels per pass; a single last
    pixel joins the last four)."""
    sw, ow = node.attrs["stride"][1], node.outputs[0].shape[2]
    return sw * 4 * (ow // 4) + 4 if ow % 4 == 1 and ow > 4 else sw * 4 * ((ow + 3) // 4) + 2


def depthwise_scratch(node: Node) -> int:
    """The 3x3 path's ring of three widened input rows: 3 * channels * dw3_width int16."""
    if _dw_spec(node) is None or not dw3_applies(node):
        return 0
    return 2 * 3 * node.inputs[0].shape[3] * dw3_width(node)


def depthwise_ring_steps(node: Node) -> list[int]:
    """Smaller rings of the 3x3 path, largest first: the ring over a block of channels (a
    multiple of 4; every input row is still widened once per block, the same work)."""
    if _dw_spec(node) is None or not dw3_applies(node):
        return []
    groups = node.inputs[0].shape[3] // 4
    blocks = sorted({4 * -(-groups // n) for n in range(2, groups + 1)}, reverse=True)
    return [2 * 3 * cb * dw3_width(node) for cb in blocks]


def dw3_ring_channels(node: Node, scratch: int) -> int:
    """The channels per block of a ring of `scratch` bytes (0: all; tinyc_dw_fast_params
    ring_c)."""
    cb = scratch // (2 * 3 * dw3_width(node)) // 4 * 4
    return 0 if cb >= node.inputs[0].shape[3] else cb


def fc_scratch(node: Node, wide: bool = False) -> int:
    return 0 if _fc_spec(node) is None else 2 * _fc_k(node, wide)


def _words(ctx, base: str, values: np.ndarray, ctype: str, comment: str) -> str:
    """An int8 / int16 array stored as int32 words (so it is 4-byte aligned, as LDRD wants),
    little-endian, cast back to `ctype *` for the kernel."""
    dt = {"int8_t": "<i1", "int16_t": "<i2"}[ctype]
    raw = np.asarray(values, np.int64).astype(dt).tobytes()
    raw += bytes(-len(raw) % 4)
    sym = ctx.array(base, "int32_t", np.frombuffer(raw, "<i4").astype(np.int64), comment=comment)
    return f"(const {ctype} *)(const void *){sym}"


def _scratch_ptr(node: Node, ctx) -> str | None:
    off = ctx.scratch_offset(node)
    return None if off is None else f"(int16_t *)(void *)(TINYC_ARENA + {off})"


def _rq_ptr(node: Node, ctx, rq: np.ndarray) -> str:
    sym = ctx.array(f"{node.name}_rq", "int32_t", rq.reshape(-1),
                    comment=f"{node.name}: requantization {{m, h, e}} x {rq.shape[0]}")
    return f"(const tinyc_rq *)(const void *){sym}"


# -- per op: extra template variables ---------------------------------------------------------

def _bias_ptr(node: Node, ctx) -> str:
    b = node.input(2)
    return "NULL" if b is None else ctx.ptr(b)


def conv2d(node: Node, ctx) -> dict | None:
    if not ctx.choice(node).fast:
        return None
    spec, scratch = _conv_spec(node), _scratch_ptr(node, ctx)
    w2d, _, rq = spec
    k4, row4 = _conv_k4(node)
    kh = node.inputs[1].shape[1]
    rows = w2d.reshape(w2d.shape[0], kh, -1)                 # [out][kh][kw * in_c]
    pairs = (w2d.shape[0] + 1) // 2                          # an odd last channel: + zeros
    padded = np.zeros((2 * pairs, kh, row4), np.int64)
    padded[:w2d.shape[0], :, :rows.shape[2]] = rows
    # channel pairs interleaved per group of four k: [pair][k4 / 4][2][4]
    paired = padded.reshape(pairs, 2, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(pairs, -1)
    filt = _words(ctx, f"{node.name}_filter", paired, "int8_t",
                  f"{node.name}: filter [{pairs}][{k4 // 4}][2][4] int8: channel pairs "
                  f"interleaved per four k of rows [{kh}][{row4}] (padded to 4)")
    bias = _bias_ptr(node, ctx) if spec[1] is not None else ctx.array(
        f"{node.name}_bias0", "int32_t", np.zeros(w2d.shape[0], np.int64))
    return {"fast": True, "k4": k4, "row4": row4, "rq": _rq_ptr(node, ctx, rq),
            "filter": filt, "bias": bias, "scratch": scratch,
            "kernel": tuple(node.inputs[1].shape[1:3])}


def depthwise(node: Node, ctx) -> dict | None:
    if not ctx.choice(node).fast:
        return None
    spec = _dw_spec(node)
    w2d, bias, rq = spec                                   # w2d: [C, kh * kw]
    c = w2d.shape[0]
    const = rq[:, 0] == 0                      # constant channels: their sums do not matter
    w2d = np.where(const[:, None], 0, 2 * w2d)             # doubled: the sums are 2 acc
    bias = np.where(const, 0, 2 * (0 if bias is None else bias))
    groups = w2d.reshape(c // 4, 4, -1).transpose(0, 2, 1)  # [group][tap][j]
    w16 = np.empty_like(groups)
    w16[:, :, _LANES] = groups
    scratch = _scratch_ptr(node, ctx)
    if dw3_applies(node) and scratch is not None:          # the 3x3 path: rows widened once
        rows = w2d.reshape(c, 3, 3)
        f3 = np.stack([rows[:, :, 0], rows[:, :, 1], rows[:, :, 1], rows[:, :, 2]], axis=2)
        pairs = np.frombuffer(f3.astype("<i2").tobytes(), "<i4").reshape(c, 6)
        rec = np.concatenate([np.asarray(bias, np.int64).reshape(c, 1),
                              np.asarray(rq, np.int64).reshape(c, 3), pairs], axis=1)
        filt3 = ctx.array(f"{node.name}_filter3", "int32_t", rec.reshape(-1),
                          comment=f"{node.name}: per channel {{2 * bias, m, h, e, 2 * filter "
                          "rows as int16 [w0 w1 w1 w2] x 3}")
        return {"fast": True, "rq": "NULL", "filter16": "NULL", "bias": "NULL",
                "bias_full": "NULL", "filter3": filt3, "scratch": scratch,
                "kernel": tuple(node.inputs[1].shape[1:3]),
                "ring_c": dw3_ring_channels(node, ctx.choice(node).scratch)}
    b = ctx.array(f"{node.name}_bias_x2", "int32_t", bias,
                  comment=f"{node.name}: 2 * bias (0 for constant channels)")
    filt = _words(ctx, f"{node.name}_filter", w16.reshape(-1), "int16_t",
                  f"{node.name}: 2 * filter, int16 [group of 4][tap][lanes c0 c2 c1 c3]")
    full = bias + w2d.sum(axis=1) * int(np.asarray(node.attrs["in_offset"]).reshape(-1)[0])
    b_full = ctx.array(f"{node.name}_bias_full", "int32_t", full,
                       comment=f"{node.name}: 2 * (bias + input_offset * sum w), whole windows")
    return {"fast": True, "rq": _rq_ptr(node, ctx, rq), "filter16": filt, "bias": b,
            "bias_full": b_full, "filter3": "NULL", "scratch": "NULL",
            "kernel": tuple(node.inputs[1].shape[1:3]), "ring_c": 0}


PK_LIMIT = 1 << 23          # |S1| bound of the pair-packed kernel: 256 * S1 fits int32


def _padded(w2d: np.ndarray, rows: int, cols: int) -> np.ndarray:
    w = np.zeros((rows, cols), np.int64)
    w[:w2d.shape[0], :w2d.shape[1]] = w2d
    return w


def fc_pairs(w2d: np.ndarray) -> np.ndarray | None:
    """The pair-packed weights of tinyc_fully_connected_paired_fast_s8,
    int16 [out4 / 4][k4 / 4][pair]
    [lane], h = 256 * w[2i + 1][k] + w[2i][k], or None when they do not apply: h must fit
    int16 (no -128 above a negative weight) and |sum_k w[2i + 1][k] * x[k]| < 2^23 for every
    int8 input x (the sums are taken without the input offset)."""
    out, k = w2d.shape
    w = _padded(w2d, _ceil4(out), _ceil4(k))
    lo, hi = w[0::2], w[1::2]
    h = 256 * hi + lo
    if h.min() < -(1 << 15) or 128 * np.abs(hi).sum(axis=1).max() >= PK_LIMIT:
        return None
    h = h.reshape(-1, 2, w.shape[1] // 4, 4).transpose(0, 2, 1, 3)     # [blk][g][pair][j]
    out16 = np.empty_like(h)
    out16[..., _LANES] = h
    return out16


def _folded_bias(node: Node, w2d: np.ndarray, bias, rows: int) -> np.ndarray | None:
    """bias + input_offset * sum_k w (the kernels that widen the input without its offset),
    zero padded to `rows`; None if a value does not fit int32."""
    off = int(np.asarray(node.attrs["in_offset"]).reshape(-1)[0])
    b = np.zeros(rows, np.int64)
    b[:w2d.shape[0]] = (0 if bias is None else bias) + off * w2d.sum(axis=1)
    return None if np.abs(b).max(initial=0) >= (1 << 31) else b


def _rq_rows(rq: np.ndarray, rows: int) -> np.ndarray:
    out = np.tile(np.array([[0, 1, 1]], np.int64), (rows, 1))   # padding: constant 0
    out[:rq.shape[0]] = rq
    return out


def fc_wide(w2d: np.ndarray) -> np.ndarray:
    """The weights of the "wide" format (tinyc_fully_connected_wide): int16 [out4 / 4][k8 / 4]
    [4 channels][4], each group of four k in the lanes of the widened input (_LANES)."""
    out, k = w2d.shape
    w = _padded(w2d, _ceil4(out), _ceil8(k))
    return w.reshape(-1, 4, w.shape[1] // 4, 4)[..., _LANES].transpose(0, 2, 1, 3)


def wide_applies(node: Node) -> bool:
    """Whether a fully-connected layer can take the wide kernel (formats.py, storage="speed"):
    the fast kernels' requantization and accumulator bounds, a folded bias that fits int32."""
    spec = _fc_spec(node) if node.op == FULLY_CONNECTED else None
    return spec is not None and _folded_bias(node, spec[0], spec[1], spec[0].shape[0]) is not None


def fully_connected(node: Node, ctx) -> dict | None:
    choice = ctx.choice(node)
    if not choice.fast:
        return None
    spec, scratch = _fc_spec(node), _scratch_ptr(node, ctx)
    w2d, bias, rq = spec
    out, k = w2d.shape
    out4, k4 = _ceil4(out), _ceil4(k)
    folded = _folded_bias(node, w2d, bias, out4)
    if choice.weight_format == "wide":
        return {"fast": True, "fn": "tinyc_fully_connected_wide", "k4": _fc_k(node, True),
                "rq": _rq_ptr(node, ctx, _rq_rows(rq, out4)), "scratch": scratch,
                "filter": _words(ctx, f"{node.name}_filter", fc_wide(w2d).reshape(-1),
                                 "int16_t", f"{node.name}: weights stored int16 (wide), four "
                                 "channels, 4 k at a time"),
                "bias": ctx.array(f"{node.name}_bias_folded", "int32_t", folded,
                                  comment=f"{node.name}: bias + input offset * sum w")}
    pairs = fc_pairs(w2d)
    if pairs is not None and folded is not None:
        return {"fast": True, "fn": "tinyc_fully_connected_paired_fast_s8", "k4": k4,
                "rq": _rq_ptr(node, ctx, _rq_rows(rq, out4)), "scratch": scratch,
                "filter": _words(ctx, f"{node.name}_filter", pairs.reshape(-1), "int16_t",
                                 f"{node.name}: weights of channels 2i, 2i + 1 packed as "
                                 "256 w[2i + 1] + w[2i]"),
                "bias": ctx.array(f"{node.name}_bias_folded", "int32_t", folded,
                                  comment=f"{node.name}: bias + input offset * sum w")}
    w = _padded(w2d, out4, k4)
    w = w.reshape(out4 // 4, 4, k4 // 4, 4).transpose(0, 2, 1, 3)
    b = np.zeros(out4, np.int64)
    b[:out] = 0 if bias is None else bias
    rq4 = _rq_rows(rq, out4)
    return {"fast": True, "fn": "tinyc_fully_connected_fast_s8", "k4": k4,
            "rq": _rq_ptr(node, ctx, rq4), "scratch": scratch,
            "filter": _words(ctx, f"{node.name}_filter", w.reshape(-1), "int8_t",
                             f"{node.name}: weights interleaved by 4 channels"),
            "bias": ctx.array(f"{node.name}_bias_x4", "int32_t", b)}


def _add_tables(node: Node):
    """(the two inputs' rescale tables, out rq) of the table add, rq None when it does not
    apply."""
    a = node.attrs
    v = np.arange(-128, 128, dtype=np.int64)
    tables = []
    for i in (1, 2):
        s = qmath.wrap_int32((v + a[f"in{i}_offset"]) << a["left_shift"])
        tables.append(qmath.requantize(s, a[f"in{i}_mult"], a[f"in{i}_shift"]).astype(np.int64))
    bound = np.abs(tables[0]).max() + np.abs(tables[1]).max()
    return tables, rq_table([a["out_mult"]], [a["out_shift"]], [0], [bound],
                            int(a["out_offset"]))


SUM_K = 16     # tinyc_add_sum_s8: table1[x] + table2[y] is the output in 16.16 fixed point


def add_sum_tables(node: Node, tables=None):
    """(table1, table2) int64 [256] of tinyc_add_sum_s8, or None: table_i[x + 128] = the
    input's rescaled value times the output multiplier in 16.16 fixed point (rounded down),
    table1 with the output offset and rounding. Kept only when the saturated output
    (table1[x] + table2[y]) >> 16 equals TFLite's arithmetic (the IR add) for all 65,536
    input pairs; a few constant corrections of the rounding are tried."""
    a = node.attrs
    if tables is None:
        tables, _ = _add_tables(node)
    om, os_, oo = int(a["out_mult"]), int(a["out_shift"]), int(a["out_offset"])
    d = 31 - SUM_K - os_
    if d < 1 or d > 62:
        return None
    want = np.clip(qmath.requantize(tables[0][:, None] + tables[1][None, :], om, os_) + oo,
                   -128, 127)
    u2 = (tables[1] * om) >> d
    for c in (0, 1, -1, 2, -2):
        u1 = ((tables[0] * om) >> d) + (oo << SUM_K) + (1 << (SUM_K - 1)) + c
        if np.abs(u1).max() + np.abs(u2).max() >= (1 << 31) - 1:
            return None
        got = np.clip((u1[:, None] + u2[None, :]) >> SUM_K, -128, 127)
        if np.array_equal(got, want):
            return u1, u2
    return None


def add(node: Node, ctx) -> dict:
    if not ctx.choice(node).fast:
        return {"fast": False, "sum": False}
    tables, rq = _add_tables(node)
    sums = add_sum_tables(node, tables)
    if sums is not None:
        syms = [ctx.array(f"{node.name}_sum{i}", "int32_t", t,
                          comment=f"{node.name}: input {i}'s share of the output in 16.16 "
                                  "fixed point, by value + 128")
                for i, t in zip((1, 2), sums)]
        return {"fast": True, "sum": True, "table1": syms[0], "table2": syms[1]}
    syms = [ctx.array(f"{node.name}_table{i}", "int32_t", 2 * t,
                      comment=f"{node.name}: input {i} rescaled, times 2, by value + 128")
            for i, t in zip((1, 2), tables)]
    return {"fast": True, "sum": False, "table1": syms[0], "table2": syms[1],
            "out_rq": tuple(int(x) for x in rq[0])}


# -- the choice (select.py): does the fast kernel apply, and the scratch it needs ---------------

APPLIES = {
    CONV2D: lambda node: _conv_spec(node) is not None,
    DEPTHWISE_CONV2D: lambda node: _dw_spec(node) is not None,
    FULLY_CONNECTED: lambda node: _fc_spec(node) is not None,
    "add": lambda node: _add_tables(node)[1] is not None,
}
SCRATCH = {CONV2D: conv2d_scratch, FULLY_CONNECTED: fc_scratch,
           DEPTHWISE_CONV2D: depthwise_scratch}
# The scratch a fast kernel still runs with when a plan has less than SCRATCH gives (a RAM
# limit): the depthwise kernel's per-tap path needs none (the 3x3 path's ring is a speed-up).
LEAN_SCRATCH = {DEPTHWISE_CONV2D: 0}
# Smaller scratch sizes the fast kernel also runs faster with than with LEAN_SCRATCH, largest
# first (the depthwise 3x3 path's ring over blocks of channels): what fits under a plan's peak.
SCRATCH_STEPS = {DEPTHWISE_CONV2D: depthwise_ring_steps}


def applies(node: Node) -> bool:
    """Whether the op's fast kernel can run this node (int8, dense or "wide" weights)."""
    check = APPLIES.get(node.op)
    return check is not None and check(node)


def dense_scratch(node: Node) -> int:
    """Arena scratch of the op's fast kernel (dense weights), 0 if it needs none or does not
    apply."""
    size = SCRATCH.get(node.op)
    return 0 if size is None else size(node)


def lean_scratch(node: Node) -> int | None:
    """The least arena scratch the op's fast kernel runs with (LEAN_SCRATCH), None if it needs
    all of dense_scratch."""
    return LEAN_SCRATCH.get(node.op)


def scratch_steps(node: Node) -> list[int]:
    """SCRATCH_STEPS of the op's fast kernel (dense weights), largest first; [] if none."""
    steps = SCRATCH_STEPS.get(node.op)
    return [] if steps is None else steps(node)


def int8_conv_why_not(node: Node, fits) -> str | None:
    """The checks the storage="speed" conv formats (wino.py, pw.py) share: a conv2d with
    constant weights, int8 activations, and fits(weights) (None, else why not)."""
    if node.op != CONV2D or not node.inputs[1].is_const:
        return "not a conv2d with constant weights"
    if any(v.dtype is not DType.INT8 for v in (node.inputs[0], node.outputs[0])):
        return "not int8 activations"
    return fits(np.asarray(node.inputs[1].data))
