"""Compressed storage of the layers' weights (OpDef.layer: conv2d, depthwise_conv2d,
fully_connected) — the one place where weight formats are defined.

A format stores a layer's int8 weight values differently; the values themselves (hence the
IR, interpret() and the bits of every output) do not change:

    s4      two int4 values per byte, low nibble first (values in [-8, 7]: int4 weights)
    cb      a codebook of the layer's K distinct values + ceil(log2 K)-bit indices (clustering)
    sparse  per output channel, (zeros skipped, value) byte pairs of the nonzeros (pruning)
    mask    a bitmask of the nonzeros + the nonzero values: N/8 + nnz bytes (pruning, 15-85%)
    wide    fully connected: the int8 values stored as int16, twice the bytes (no widening in
            the DSP kernel; fewer instructions, but more est. M4 cycles than the pair-packed
            dense kernel: only when asked for, storage="wide"; layout and kernel in fast.py)
    wino    conv2d 3x3 stride 1: Winograd-transformed weights U = 4 G g G^T as int16, 16 per
            filter (3.6x the bytes), for speed (storage="speed" where wino.wins; wino.py)
    pw      conv2d 1x1, unpadded: the weights doubled and stored int16 in the order the kernel's
            passes read them, with the bias and requantization constants per channel pair
            (2x the bytes), for speed (storage="speed" where pw.wins; pw.py)

Every packed kernel also takes the bias as int16 where each of the layer's int32 values fits
(bias16_fits): a property of the packed kernels, so the dense layers keep the int32 bias.

choose_format(node, storage) (select_kernels runs it for every layer after quantize) sizes each
format that fits the values and has a kernel for the op (KERNELS["<op>.<format>"]: a runtime
file tinyc_<op>_<source>.c exists), picks the smallest when it saves at least AUTO_MIN_SAVING
of the dense bytes (compact kernels decode, into scratch or as they go: a small saving is not
worth it; conv2d / depthwise in s4, cb, mask run the dense DSP loops on decoded blocks,
backend_c/packed_fast.py, at ~1.1x the dense cycles; s4 and
cb fit where int4 or clustering was asked for, and then save 50% and more), "sparse" only where
skipping the zeros is estimated not slower than the dense DSP kernels (sparse_pays), "mask"
only in layers that compression pruned (attrs["prune_sparsity"]: the user asked for the zeros;
natural zeros of a model stay on the faster dense kernels) — storage="small" drops these
conditions — and returns one report row per layer saying which format it got and why (its
bytes: the weights as stored plus the bias as stored). The graph is not changed; emit_c renders
the choice.

Adding a format: a pack function and a FORMATS entry here, a runtime kernel per op
(runtime/tinyc_<op>_<source>.c), its branch in templates/call_<op>_packed.c.j2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import TinycError
from ..ir import OPS, DType, Graph, Node
from ..ir.ops import layer_ops
from ..ir.ops.conv import CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED
from ..runtime import RUNTIME_DIR
from . import packed_fast, pw, wino
from .fast import fc_scratch, fc_wide, wide_applies
from .kernels import KERNELS, Kernel, bias16_fits

STORAGE = ("auto", "small", "dense", "speed")
AUTO_MIN_SAVING = 1 / 8      # a layer stays dense unless a format saves this much
# Estimated instructions (Cortex-M4, QEMU-measured orders of magnitude): the dense DSP
# kernels ~1 per MAC + ~10 per output; the sparse kernel ~9 per nonzero + ~40 per output
# (1x1 / fully connected), ~20 per nonzero + ~60 per output (windowed conv2d).
DENSE_COST = (1.0, 10.0)
SPARSE_COST = {True: (20.0, 60.0), False: (9.0, 40.0)}


@dataclass(frozen=True)
class WeightFormat:
    name: str
    fits: Callable[[np.ndarray], str | None]        # None, or why the values do not fit
    pack: Callable[[np.ndarray], dict]               # name -> (ctype, array) or int
    source: str = ""                                 # runtime file stem, default: the name

    @property
    def stem(self) -> str:
        return self.source or self.name

    @property
    def ops(self) -> tuple[str, ...]:
        """The layer ops with a kernel for this format: runtime/tinyc_<op>_<stem>.c exists."""
        return tuple(op for op in layer_ops()
                     if (RUNTIME_DIR / f"tinyc_{op}_{self.stem}.c").is_file())


def pack_s4(w: np.ndarray) -> dict:
    flat = w.astype(np.int64).ravel() & 15
    if flat.size % 2:
        flat = np.append(flat, 0)
    return {"filter": ("uint8_t", (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8))}


def _s4_fits(w: np.ndarray) -> str | None:
    lo, hi = int(w.min()), int(w.max())
    return None if -8 <= lo and hi <= 7 else f"values in [{lo}, {hi}], not [-8, 7]"


def index_bits(k: int) -> int:
    return max(1, int(np.ceil(np.log2(k))))


def pack_cb(w: np.ndarray) -> dict:
    book = np.unique(w)
    bits = index_bits(book.size)
    idx = np.searchsorted(book, w.ravel()).astype(np.int64)
    stream = ((idx[:, None] >> np.arange(bits)) & 1).astype(np.uint8).ravel()
    packed = np.packbits(stream, bitorder="little")
    return {"codebook": ("int8_t", book.astype(np.int8)),
            "indices": ("uint8_t", np.append(packed, np.uint8(0))), "bits": bits}


def _cb_fits(w: np.ndarray) -> str | None:
    k = np.unique(w).size
    return None if k <= 128 else f"{k} distinct values (at most 128)"


def pack_sparse(w: np.ndarray) -> dict:
    rows = w.reshape(w.shape[0], -1)
    counts, skips, values = [], [], []
    for row in rows:
        n, pos = 0, -1
        for p in np.flatnonzero(row):
            while p - pos - 1 > 255:             # bridge long gaps with a zero entry
                pos += 256
                skips.append(255)
                values.append(0)
                n += 1
            skips.append(p - pos - 1)
            values.append(int(row[p]))
            pos, n = p, n + 1
        counts.append(n)
    return {"count": ("uint16_t", np.asarray(counts, np.uint16)),
            "skip": ("uint8_t", np.asarray(skips, np.uint8)),
            "value": ("int8_t", np.asarray(values, np.int8))}


def _sparse_fits(w: np.ndarray) -> str | None:
    n = int(np.count_nonzero(w.reshape(w.shape[0], -1), axis=1).max(initial=0))
    return None if n * 2 < 65536 else f"{n} nonzeros in one channel"


def pack_mask(w: np.ndarray) -> dict:
    flat = w.ravel()
    nz = flat != 0
    return {"mask": ("uint8_t", np.packbits(nz, bitorder="little")),
            "value": ("int8_t", flat[nz].astype(np.int8))}


FORMATS: dict[str, WeightFormat] = {
    "s4": WeightFormat("s4", _s4_fits, pack_s4),
    "cb": WeightFormat("cb", _cb_fits, pack_cb),
    "sparse": WeightFormat("sparse", _sparse_fits, pack_sparse),
    "mask": WeightFormat("mask", lambda w: None, pack_mask, source="sparse"),
    "wide": WeightFormat("wide", lambda w: None,
                         lambda w: {"filter": ("int16_t", fc_wide(w).reshape(-1))}),
    "wino": WeightFormat("wino", wino._fits, lambda w: {"filter": ("int16_t", wino.pack(w))},
                         source="wino_s8"),
    "pw": WeightFormat("pw", pw._fits, lambda w: {"filter": ("int16_t", pw.pack(w))},
                       source="pw_s8"),
}
_CTYPE_BYTES = {"int8_t": 1, "uint8_t": 1, "uint16_t": 2, "int16_t": 2}
BUFFERED = ("s4", "cb", "mask")          # conv2d kernels that unpack a filter row to scratch


def packed_bytes(fmt: WeightFormat, w: np.ndarray) -> int:
    return sum(a.size * _CTYPE_BYTES[c] for c, a in
               (v for v in fmt.pack(w).values() if isinstance(v, tuple)))


# -- kernels --------------------------------------------------------------------------------

def bias_bytes(node: Node, packed: bool) -> int:
    """Stored bias bytes: int32, or int16 in a packed format where every value fits."""
    b = node.input(2)
    if b is None or not b.is_const:
        return 0
    return 2 * b.data.size if packed and bias16_fits(node) else b.type.nbytes


def packed_scratch(node: Node, fmt: str) -> int:
    """Arena scratch of a compressed-weight kernel: one unpacked filter row (conv2d: s4, cb,
    mask) or the whole unpacked filter (depthwise: s4, cb; and, with an int16 bias, room to
    widen it for the dense kernel), so that each weight is unpacked once."""
    if fmt == "wide":
        return fc_scratch(node, wide=True)             # the widened input row
    if fmt not in BUFFERED or node.op == FULLY_CONNECTED:
        return 0
    shape = node.inputs[1].shape
    n = -(-int(np.prod(shape[1:] if node.op == CONV2D else shape)) // 4) * 4
    if node.op == DEPTHWISE_CONV2D and bias16_fits(node):
        n += 4 * shape[3] + 4
    return n


def _scratch_ptr(node: Node, ctx, fmt: str) -> str:
    off = ctx.scratch_offset(node)
    return "NULL" if off is None or not packed_scratch(node, fmt) else f"TINYC_ARENA + {int(off)}"


def _variant_args(op: str, fmt: WeightFormat) -> Callable:
    base = KERNELS[op].args

    def args(node: Node, ctx) -> dict:
        w, b = node.inputs[1], node.input(2)
        short = bias16_fits(node)
        fast_path = ctx.choice(node).fast           # packed_fast: decode into the dense layout
        out = {} if fast_path else base(node, ctx)  # filter (and an int16 bias) "NULL": below
        if fast_path:
            out["bias"] = "NULL" if b is None or short else ctx.ptr(b)
        out["bias16"] = ctx.array(f"{b.name}_b16", "int16_t", b.data.astype(np.int16),
                                  comment=f"{b.name}: {b.type} stored int16") \
            if short else "NULL"
        out["scratch"] = _scratch_ptr(node, ctx, fmt.name)
        out["buffered"] = out["scratch"] != "NULL"
        out["fn"] = f"tinyc_{op}_{fmt.name}" + ("" if out["buffered"] or not
                                                 packed_scratch(node, fmt.name) else "_unbuffered")
        for key, val in fmt.pack(w.data).items():
            if isinstance(val, tuple):
                ctype, arr = val
                val = ctx.array(f"{w.name}_{key}", ctype, arr,
                                comment=f"{w.name}: {w.type} stored {fmt.name} ({key})")
            out[key] = val
        if fast_path:
            return packed_fast.args(node, ctx, fmt.name, out)
        return {**out, "fmt": fmt.name}
    return args


def _register() -> dict[str, Kernel]:
    out = {}
    for fmt in FORMATS.values():
        for op in fmt.ops:
            extra = ("tinyc_depthwise_conv2d_s8.c",) if op == DEPTHWISE_CONV2D else ()
            if fmt.name in packed_fast.FORMATS and op in packed_fast.OPS:
                extra += (f"tinyc_{op}_packed_fast.c", "tinyc_fast.h", "tinyc_clamp_s8.c")
                extra += ("tinyc_depthwise_conv2d_fast_s8.c",) if op == DEPTHWISE_CONV2D else ()
            out[f"{op}.{fmt.name}"] = Kernel(
                f"call_{op}_packed.c.j2", (f"tinyc_{op}_{fmt.stem}.c", "tinyc_packed.c",
                                           "tinyc_packed.h", "tinyc_dot.h", "tinyc_dsp.h",
                                           "tinyc_window.h") + extra,
                _variant_args(op, fmt))
    return out


FORMAT_KERNELS = _register()
_FC = KERNELS[FULLY_CONNECTED]       # wide: the fast fully-connected call (fast.py), own .c
FORMAT_KERNELS[f"{FULLY_CONNECTED}.wide"] = Kernel(
    _FC.template, _FC.sources + ("tinyc_fully_connected_wide.c",), _FC.args)
FORMAT_KERNELS[f"{CONV2D}.wino"] = Kernel(     # Winograd F(2x2, 3x3): its own call (wino.py)
    "call_conv2d_wino.c.j2", ("tinyc_conv2d_wino_s8.c", "tinyc_conv2d_wino_dsp.h",
                              "tinyc_conv2d_wino_c.h", "tinyc_dsp.h", "tinyc_fast.h",
                              "tinyc_clamp_s8.c"), wino.args)
FORMAT_KERNELS[f"{CONV2D}.pw"] = Kernel(       # 1x1 with pre-widened weights (pw.py)
    "call_conv2d_pw.c.j2", ("tinyc_conv2d_pw_s8.c", "tinyc_conv2d_pw.h",
                            "tinyc_conv2d_pw_dsp.h", "tinyc_conv2d_pw_c.h", "tinyc_dsp.h",
                            "tinyc_fast.h", "tinyc_clamp_s8.c"), pw.args)
KERNELS.update(FORMAT_KERNELS)


# -- the choice -------------------------------------------------------------------------------

def _candidates(node: Node, kernels: dict) -> tuple[dict[str, int], dict[str, str]]:
    w = node.inputs[1].data
    sizes, why_not = {}, {}
    for fmt in FORMATS.values():
        if node.op not in fmt.ops or f"{node.op}.{fmt.name}" not in kernels:
            continue
        reason = fmt.fits(w)
        if reason:
            why_not[fmt.name] = reason
        else:
            sizes[fmt.name] = packed_bytes(fmt, w)
    return sizes, why_not


def sparse_pays(node: Node, density: float) -> bool:
    """Whether the sparse kernel is estimated not slower than dense (SPARSE_COST)."""
    w, outputs = node.inputs[1], node.outputs[0].type.size
    macs = outputs * (w.type.size // w.shape[0])
    per_nz, per_out = SPARSE_COST[OPS[node.op].layer.window and tuple(w.shape[1:3]) != (1, 1)]
    return per_nz * density * macs + per_out * outputs <= DENSE_COST[0] * macs + \
        DENSE_COST[1] * outputs


def _choose(node: Node, storage: str, kernels: dict) -> dict:
    dense = node.inputs[1].type.nbytes
    sizes, why_not = _candidates(node, kernels)
    if storage not in ("speed", "wino"):    # Winograd weights: only asked for (never smaller)
        sizes.pop("wino", None)
        why_not.pop("wino", None)
    if storage not in ("speed", "pw"):      # pre-widened 1x1 weights: only asked for
        sizes.pop("pw", None)
        why_not.pop("pw", None)
    density = float(np.count_nonzero(node.inputs[1].data)) / max(node.inputs[1].data.size, 1)
    if storage in ("auto", "small"):
        if storage == "auto" and "sparse" in sizes and not sparse_pays(node, density):
            why_not["sparse"] = f"{density:.0%} nonzero: estimated slower than dense"
            sizes.pop("sparse")
        if storage == "auto" and "mask" in sizes and not node.attrs.get("prune_sparsity"):
            if sizes.pop("mask") <= dense * (1 - AUTO_MIN_SAVING):
                why_not["mask"] = "zeros not from pruning: slower than dense"
        best = min(sizes, key=lambda f: (sizes[f], f), default=None)
        limit = dense - 1 if storage == "small" else dense * (1 - AUTO_MIN_SAVING)
        chosen = best if best is not None and sizes[best] <= limit else "dense"
    elif storage == "wide":                 # int16 fc weights where the wide kernel applies
        chosen = "wide" if "wide" in sizes and wide_applies(node) else "dense"
    elif storage == "speed":                # flash for est. cycles: Winograd where it wins
        chosen = "wino" if "wino" in sizes and wino.wins(node) else "dense"
        if chosen == "dense" and "pw" in sizes and pw.wins(node):
            chosen = "pw"
    else:
        chosen = storage if storage in sizes else "dense"
    if chosen == "wino" and not wino.applies(node):
        why_not["wino"] = wino.why_not(node)
        chosen = "dense"
    if chosen == "pw" and not pw.applies(node):
        why_not["pw"] = pw.why_not(node)
        chosen = "dense"
    listed = ", ".join(f"{f} {b:,} B" for f, b in sorted(sizes.items(), key=lambda t: t[1]))
    why = f"dense {dense:,} B" + (f"; {listed}" if listed else "")
    why += "".join(f"; no {f}: {r}" for f, r in sorted(why_not.items()))
    b32, b_kept = bias_bytes(node, False), bias_bytes(node, chosen not in ("dense", "wide", "pw"))
    if b_kept < b32:
        why += f"; bias int16 {b_kept:,} B (int32 {b32:,} B)"
    return {"layer": node.name, "op": node.op, "format": chosen, "dense_bytes": dense + b32,
            "weights_bytes": sizes.get(chosen, dense) + b_kept, "density": round(density, 4),
            "why": why}


def int8_activations(node: Node) -> bool:
    """Whether the layer reads and writes int8 activations: the packed kernels (and "wide")
    are int8 kernels; a layer with int16 activations (16x8) stays on the dense s16 kernel."""
    acts = [v for v in (*node.inputs, *node.outputs) if v is not None and not v.is_const]
    return all(v.dtype is DType.INT8 for v in acts)


def _dense_row(node: Node, why: str) -> dict:
    w, b32 = node.inputs[1], bias_bytes(node, False)
    density = float(np.count_nonzero(w.data)) / max(w.data.size, 1)
    return {"layer": node.name, "op": node.op, "format": "dense",
            "dense_bytes": w.type.nbytes + b32, "weights_bytes": w.type.nbytes + b32,
            "density": round(density, 4), "why": f"dense {w.type.nbytes:,} B; {why}"}


def check_storage(storage: str) -> str:
    if storage not in STORAGE and storage not in FORMATS:
        raise TinycError(f"storage must be one of {STORAGE + tuple(FORMATS)}, got {storage!r}")
    return storage


def has_stored_weights(node: Node) -> bool:
    """A layer whose weights are a constant (the formats apply to it)."""
    return OPS[node.op].layer is not None and node.inputs[1].is_const


def choose_format(node: Node, storage: str = "auto", kernels: dict | None = None) -> dict:
    """A layer's weight format (module doc) as its report row; storage: "auto" (the smallest,
    sparse only where estimated not slower), "small" (the smallest), "dense", or a format name
    (used wherever the values fit it). Layers with int16 activations stay dense (their 16x8
    kernel reads int8 weights only)."""
    if not int8_activations(node):
        return _dense_row(node, "int16 activations: the 16x8 kernel reads dense int8 weights")
    return _choose(node, check_storage(storage), KERNELS if kernels is None else kernels)


def choose_formats(g: Graph, storage: str = "auto", kernels: dict | None = None) -> list[dict]:
    """choose_format for every layer with constant weights: one row per layer. The graph is
    not changed (select_kernels records the choice)."""
    check_storage(storage)
    return [choose_format(n, storage, kernels) for n in g.nodes if has_stored_weights(n)]
