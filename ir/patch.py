"""Patch-based execution of a prefix of the graph in row bands (MCUNetV2's patch inference with
line buffers: nothing is recomputed).

A *stage* is a chain of window ops (conv2d, depthwise_conv2d, max_pool2d, avg_pool2d, OpDef
field `patchable`; the unary elementwise lut too, as a 1x1 window, and pad of H and W as a 1x1
window with padding (OpDef patch_window, patch_pads), and a residual add whose other operand
is a whole int8 tensor from before the stage, read at each band's rows and columns (OpDef
patch_side); first, optionally, the
NCHW -> NHWC transpose of an ONNX input, OpDef `patch_lead`, whose rows are copied per band)
that starts at an activation held whole (a graph input or an arena tensor) and ends at a
tensor written whole.
The stage's output is computed `rows` rows at a time; each inner layer keeps only the rows
of its output that its consumer still needs (a line buffer of
`capacity` rows, full width, all channels): when the consumer moves down, the rows it no longer
needs are dropped (the kept ones move to the buffer's top) and the new rows are computed below.

Every kernel call of the band program runs the layer's own arithmetic on a band of rows: its
input is a run of real rows (clipped only at the image border), the padding above it is
`pad_top` (> 0 only at the top border), the rows past the band's end are the bottom border's
padding, and left/right padding is the layer's own. Integer sums are exact, so each output
element equals the unpatched one bit for bit (padding contributes nothing, average pooling
counts the same in-bounds elements, max pooling sees the same elements).

    stage = Stage(("conv1", "dw1", "pw1"), rows=2)
    prog = band_program(graph, stage)      # the steps the C and the golden model both run
    y = run_stage(graph, stage, x)         # numpy: the stage's output, band by band
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..errors import TinycError
from .ops import OPS


@dataclass(frozen=True)
class Stage:
    """A patched stage: node names (a chain, in execution order), the output rows per band
    and the number of column strips (1: full-width bands, nothing recomputed; more: each strip
    recomputes the columns of its halo, and the input and output pass through strip buffers)."""
    nodes: tuple[str, ...]
    rows: int
    cols: int = 1


@dataclass(frozen=True)
class Run:
    """One kernel call: layer `layer` computes output rows [row, row + n) (global) of `out_w`
    columns, reading `in_rows` rows of `in_w` columns of its input starting at local row
    `in_local` of the input's buffer, with `pad_top` rows / `pad_left` columns of padding
    before them; writes at local row `out_local` of its output buffer."""
    layer: int
    row: int
    n: int
    in_local: int
    in_rows: int
    pad_top: int
    out_local: int
    in_w: int = 0
    out_w: int = 0
    pad_left: int = 0
    col: int = 0            # the first output column (global; a residual operand's column)
    side_local: int = 0     # a residual add whose other operand is layer j's output (inner):
    side_w: int = 0         # its rows start at local row side_local of j's buffer (side_w
    side_c0: int = 0        # columns wide), at column side_c0


@dataclass(frozen=True)
class Shift:
    """Drop the first `drop` rows of layer `layer`'s buffer (-1: the input strip buffer): the
    next `keep` rows of `width` columns move up."""
    layer: int
    drop: int
    keep: int
    width: int = 0


@dataclass(frozen=True)
class Copy:
    """Strips: copy rows [row, row + n), columns [col, col + width) of the stage's input into
    the input strip buffer at local row `local` (into=True), or the output strip buffer's
    first n rows into the stage's output (into=False)."""
    into: bool
    row: int
    n: int
    local: int
    col: int
    width: int


@dataclass
class BandProgram:
    stage: Stage
    steps: list = field(default_factory=list)
    capacity: list[int] = field(default_factory=list)   # bytes of each layer's buffer
    channels: list[int] = field(default_factory=list)   # C * itemsize per layer output
    in_bytes: int = 0            # the input strip buffer (strips only)
    extra_macs: int = 0          # MACs recomputed (halo columns of strips)

    @property
    def buffer_bytes(self) -> list[int]:
        """Bytes of each inner layer's line buffer (the last layer's: the output strip
        buffer, 0 without strips)."""
        return self.capacity[:-1]

    @property
    def out_bytes(self) -> int:
        return self.capacity[-1]

    @property
    def calls(self) -> int:
        return sum(isinstance(s, Run) for s in self.steps)

    @property
    def moved_bytes(self) -> int:
        return sum(s.keep * s.width * (self.channels[s.layer] if s.layer >= 0 else 0)
                   for s in self.steps if isinstance(s, Shift))


def window(node, axis: int = 0) -> tuple[int, int, int, int, int]:
    """(stride, effective kernel size, pad before, input size, output size) of a window op
    along H (axis 0) or W (axis 1)."""
    if OPS[node.op].elementwise:     # a unary elementwise op (lut): a 1x1 window
        return (1, 1, 0, node.inputs[0].shape[1 + axis], node.outputs[0].shape[1 + axis])
    if OPS[node.op].patch_window is not None:     # pad: a 1x1 window with padding
        s, k, p = OPS[node.op].patch_window(node, axis)
        return (s, k, p, node.inputs[0].shape[1 + axis], node.outputs[0].shape[1 + axis])
    a = node.attrs
    k = node.inputs[1].shape[1 + axis] if "kernel" not in a else a["kernel"][axis]
    d = a.get("dilation", (1, 1))[axis]
    return (a["stride"][axis], d * (k - 1) + 1, a["pads"][axis], node.inputs[0].shape[1 + axis],
            node.outputs[0].shape[1 + axis])


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    edges = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def can_band(node) -> bool:
    """node is patchable (OpDef) and, for an op with patch_window (pad), this node's
    geometry runs in row bands (pad: H and W only)."""
    d = OPS[node.op]
    if node.attrs.get("ort_float"):         # ORT's float32 average: its own whole-tensor kernel
        return False
    return d.patchable and (d.patch_window is None or d.patch_window(node, 0) is not None)


def is_lead(node) -> bool:
    """node may lead a stage (OpDef patch_lead: the NCHW -> NHWC transpose of an ONNX input):
    each band's input rows are copied through it into the input buffer."""
    lead = OPS[node.op].patch_lead
    return lead is not None and bool(lead(node))


def stage_lead(graph, stage: Stage):
    """The stage's leading transpose (is_lead) or None."""
    by_name = {n.name: n for n in graph.nodes}
    first = by_name[stage.nodes[0]]
    return first if len(stage.nodes) > 1 and is_lead(first) else None


def chain_index(node, prev) -> int:
    """The input of node that the stage's chain feeds: 0, or for a residual add (OpDef
    patch_side) the operand that is `prev` (the previous node's output; None: 0)."""
    if OPS[node.op].patch_side and prev is not None and len(node.inputs) > 1 and \
            node.inputs[1] is prev and node.inputs[0] is not prev:
        return 1
    return 0


def side_inputs(graph, stage: Stage) -> dict[int, object]:
    """{layer: the whole tensor a residual add reads at its band's rows} of the stage."""
    nodes = stage_nodes(graph, stage)
    out = {}
    for i, n in enumerate(nodes):
        if OPS[n.op].patch_side:
            prev = nodes[i - 1].outputs[0] if i else n.inputs[0]
            out[i] = n.inputs[1 - chain_index(n, prev)]
    return out


def stage_nodes(graph, stage: Stage) -> list:
    """The stage's window nodes (without its leading transpose, stage_lead)."""
    by_name = {n.name: n for n in graph.nodes}
    nodes = [by_name[n] for n in stage.nodes]
    names = set(stage.nodes)
    lead = stage_lead(graph, stage)
    for a, b in zip(nodes, nodes[1:]):
        extra = [u for u, _ in a.outputs[0].uses if u is not b]
        residual = a is not lead and len(extra) == 1 and extra[0].name in names and \
            OPS[extra[0].op].patch_side and extra[0] is not b
        if b.inputs[chain_index(b, a.outputs[0])] is not a.outputs[0] or \
                len(a.outputs[0].uses) != 1 + len(extra) or (extra and not residual):
            raise TinycError(f"patch stage: node '{b.name}' does not take '{a.name}''s output "
                             "as its only consumer — a stage is a chain (plus residual adds)")
    if lead is not None:
        nodes = nodes[1:]
    order = {id(m): j for j, m in enumerate(graph.nodes)}
    start = order[id(by_name[stage.nodes[0]])]
    outs = {id(m.outputs[0]) for m in nodes}
    for i, n in enumerate(nodes):
        if OPS[n.op].patch_side:
            prev = nodes[i - 1].outputs[0] if i else None
            side = [n.inputs[1 - chain_index(n, prev)]] if len(n.inputs) == 2 else []
            if i and any(v is prev for v in side):
                side = []     # add(x, x)
            if any(v is None or v.is_const or (id(v) not in outs and v.producer is not None
                                               and order.get(id(v.producer), 0) >= start)
                   for v in side):
                side = []     # computed after the stage starts: not whole when it runs
            if len(side) != 1 or tuple(side[0].shape) != tuple(n.outputs[0].shape) or \
                    n.outputs[0].dtype.itemsize != 1:
                raise TinycError(f"patch stage: node '{n.name}' ({n.op}) runs in a stage only "
                                 "with one int8 operand from the chain and the other of the "
                                 "output's shape, from an earlier layer of the stage or whole "
                                 "from before the stage — end the stage before it")
        elif OPS[n.op].patchable and OPS[n.op].elementwise and sum(
                v is not None and not v.is_const for v in n.inputs) != 1:
            raise TinycError(f"patch stage: node '{n.name}' ({n.op}) has several activation "
                             "inputs — only unary elementwise ops run in a stage")
        if not can_band(n):
            raise TinycError(f"patch stage: node '{n.name}' ({n.op}) cannot run in row bands "
                             "— patchable ops: conv2d, depthwise_conv2d, max/avg_pool2d, "
                             "lut (unary activations as tables), pad of H and W only")
    return nodes


def band_program(graph, stage: Stage) -> BandProgram:
    """The steps of the stage (module doc), deterministic."""
    nodes = stage_nodes(graph, stage)
    geo = [window(n) for n in nodes]
    geo_w = [window(n, 1) for n in nodes]
    count = len(nodes)
    strips = stage.cols > 1
    in_buf = strips or stage_lead(graph, stage) is not None   # input rows go through in_flat
    prog = BandProgram(stage)
    prog.channels = [int(n.outputs[0].shape[3]) * n.outputs[0].dtype.itemsize for n in nodes]
    in_ch = int(nodes[0].inputs[0].shape[3]) * nodes[0].inputs[0].dtype.itemsize
    cap = [0] * count
    in_cap = 0
    per_pixel = [OPS[n.op].macs(n) // max(1, int(np.prod(n.outputs[0].shape[:3])))
                 for n in nodes]
    outs = {id(n.outputs[0]): j for j, n in enumerate(nodes)}
    inner_side = {i: outs[id(v)] for i, v in side_inputs(graph, stage).items()
                  if id(v) in outs}          # add layer i reads layer j's line buffer
    resid = {j: i for i, j in inner_side.items()}

    def need(i: int, a: int, b: int) -> tuple[int, int]:
        s, k, pt, h_in, _ = geo[i]
        r0 = min(h_in, max(0, a * s - pt))      # a pad's band may read no rows
        return r0, max(r0, min(h_in, (b - 1) * s - pt + k))

    for c0, c1 in _split(geo_w[-1][4], stage.cols):
        # columns per layer, from the last back: output [oc0, oc1), input [ic0, ic1)
        oc, ic, pl = [(0, 0)] * count, [(0, 0)] * count, [0] * count
        a, b = c0, c1
        used = 0            # layers before `used` are not needed in this strip (a pad's
        for i in range(count - 1, -1, -1):      # strip inside its padding reads no input)
            s, k, p, w_in, _ = geo_w[i]
            oc[i] = (a, b)
            x0 = min(w_in, max(0, a * s - p))
            ic[i] = (x0, max(x0, min(w_in, (b - 1) * s - p + k)))
            pl[i] = max(0, min(ic[i][0] - a * s + p, (b - a - 1) * s + k))
            a, b = ic[i]
            if b <= a:
                used = i
                break
        for i, j in inner_side.items():
            if j < used or oc[j][0] > oc[i][0] or oc[j][1] < oc[i][1]:
                raise TinycError(f"patch stage: residual add '{nodes[i].name}' needs columns "
                                 f"of '{nodes[j].name}' its chain does not compute in a strip "
                                 "— use full-width bands (cols=1) or end the stage before it")
        if not strips and used == 0:   # the first layer reads the stage's input in place
            ic[0] = (0, geo_w[0][3])
        width = [o[1] - o[0] for o in oc]
        in_w = ic[0][1] - ic[0][0]
        lo, hi = [0] * count, [0] * count
        in_lo, in_hi = [0], [0]

        def ensure_input(b: int) -> None:
            nonlocal in_cap
            if in_hi[0] < b:
                prog.steps.append(Copy(True, in_hi[0], b - in_hi[0], in_hi[0] - in_lo[0],
                                       ic[0][0], in_w))
                in_hi[0] = b
            in_cap = max(in_cap, (in_hi[0] - in_lo[0]) * in_w * in_ch)

        def ensure(i: int, b: int) -> None:
            while hi[i] < b:
                compute(i, hi[i], b if i == count - 1 else hi[i] + 1)

        def compute(i: int, a: int, b: int) -> None:
            r0, r1 = need(i, a, b)
            in_local = r0
            if ic[i][1] <= ic[i][0] or r1 <= r0:    # all padding: no input rows
                r1, in_local = r0, 0
            elif i > 0:
                j = i - 1
                keep = r0 if j not in resid else min(r0, hi[resid[j]])  # a residual add's rows
                if hi[j] <= keep:            # rows nobody needs (stride > kernel): skipped
                    lo[j] = hi[j] = keep
                elif lo[j] < keep:
                    prog.steps.append(Shift(j, keep - lo[j], hi[j] - keep, width[j]))
                    lo[j] = keep
                ensure(j, r1)
                cap[j] = max(cap[j], (hi[j] - lo[j]) * width[j] * prog.channels[j])
                in_local = r0 - lo[j]
            elif in_buf:
                if in_hi[0] <= r0:
                    in_lo[0] = in_hi[0] = r0
                elif in_lo[0] < r0:
                    prog.steps.append(Shift(-1, r0 - in_lo[0], in_hi[0] - r0, in_w))
                    in_lo[0] = r0
                ensure_input(r1)
                in_local = r0 - in_lo[0]
            s = geo[i][0]
            pad_top = max(0, min(r0 - a * s + geo[i][2], (b - a - 1) * s + geo[i][1]))
            last = i == count - 1
            out_local = 0 if last and strips else a if last else a - lo[i]
            side = (0, 0, 0)
            if i in inner_side:
                j = inner_side[i]
                ensure(j, b)
                cap[j] = max(cap[j], (hi[j] - lo[j]) * width[j] * prog.channels[j])
                if lo[j] > a:
                    raise TinycError(f"patch stage: residual add '{nodes[i].name}': rows of "
                                     f"'{nodes[j].name}' were dropped — end the stage before it")
                side = (a - lo[j], width[j], oc[i][0] - oc[j][0])
            prog.steps.append(Run(i, a, b - a, in_local, r1 - r0, pad_top, out_local,
                                  ic[i][1] - ic[i][0], width[i], pl[i], oc[i][0], *side))
            prog.extra_macs += (b - a) * width[i] * per_pixel[i]
            hi[i] = b
            if last and strips:
                prog.steps.append(Copy(False, a, b - a, 0, oc[i][0], width[i]))
                cap[i] = max(cap[i], (b - a) * width[i] * prog.channels[i])

        h_out = geo[-1][4]
        for a in range(0, h_out, stage.rows):
            ensure(count - 1, min(a + stage.rows, h_out))
    prog.in_bytes = in_cap
    prog.capacity = cap
    prog.extra_macs -= sum(OPS[n.op].macs(n) for n in nodes)
    return prog


def band_node(node, run: Run):
    """A copy of node whose padding makes it compute run.n x run.out_w outputs from
    run.in_rows x run.in_w inputs."""
    if OPS[node.op].elementwise:
        return node
    s, k, _, _, _ = window(node)
    bottom = max(0, (run.n - 1) * s + k - run.in_rows - run.pad_top)
    sw, kw, _, _, _ = window(node, 1)
    right = max(0, (run.out_w - 1) * sw + kw - run.in_w - run.pad_left)
    n2 = copy.copy(node)
    band_pads = (run.pad_top, run.pad_left, bottom, right)
    pads_fn = OPS[node.op].patch_pads
    n2.attrs = (pads_fn(node, band_pads) if pads_fn is not None else
                {**node.attrs, "pads": band_pads})
    return n2


def run_stage(graph, stage: Stage, x: np.ndarray, env: dict | None = None) -> np.ndarray:
    """The stage's output from its input x, computed band by band as the C does: each call
    runs the op's integer semantics on a band (band_node), through line buffers. env:
    {id(value): array} holding the residual adds' other operands (side_inputs)."""
    nodes = stage_nodes(graph, stage)
    sides = side_inputs(graph, stage)
    prog = band_program(graph, stage)
    strips = stage.cols > 1
    lead = stage_lead(graph, stage)
    in_buf = strips or lead is not None
    flat = [np.zeros(max(c, 1), n.outputs[0].dtype.np) for n, c in zip(nodes, prog.capacity)]
    in_flat = np.zeros(max(prog.in_bytes, 1), x.dtype)
    out = np.zeros(nodes[-1].outputs[0].shape, nodes[-1].outputs[0].dtype.np)
    c_in = nodes[0].inputs[0].shape[3]

    def view(buf, rows, width, ch):
        return buf[:rows * width * ch].reshape(1, rows, width, ch)

    for st in prog.steps:
        if isinstance(st, Copy):
            if st.into:
                if lead is not None:       # NCHW rows, transposed as they are copied
                    rows = x[:, :, st.row:st.row + st.n, st.col:st.col + st.width]
                    rows = np.asarray(OPS[lead.op].run_int(lead, rows))
                else:
                    rows = x[:, st.row:st.row + st.n, st.col:st.col + st.width]
                n0 = st.local * st.width * c_in
                in_flat[n0:n0 + rows.size] = rows.reshape(-1)
            else:
                c = out.shape[3]
                out[:, st.row:st.row + st.n, st.col:st.col + st.width] = view(
                    flat[-1], st.n, st.width, c)
            continue
        if isinstance(st, Shift):
            ch = c_in if st.layer < 0 else nodes[st.layer].outputs[0].shape[3]
            buf = in_flat if st.layer < 0 else flat[st.layer]
            d, k = st.drop * st.width * ch, st.keep * st.width * ch
            buf[:k] = buf[d:d + k].copy()
            continue
        node = nodes[st.layer]
        c_i = node.inputs[0].shape[3]
        if st.layer == 0 and not in_buf:
            band = x[:, st.in_local:st.in_local + st.in_rows]
        else:
            src = in_flat if st.layer == 0 else flat[st.layer - 1]
            band = view(src, st.in_local + st.in_rows, st.in_w, c_i)[:, st.in_local:]
        if st.layer in sides and st.side_w:     # a residual add: an earlier layer's rows
            j = [id(n.outputs[0]) for n in nodes].index(id(sides[st.layer]))
            other = view(flat[j], st.side_local + st.n, st.side_w, c_i)[
                :, st.side_local:, st.side_c0:st.side_c0 + st.out_w]
        elif st.layer in sides:     # a residual add: the other operand at the band's rows
            other = np.asarray(env[id(sides[st.layer])]).reshape(sides[st.layer].shape)
            other = other[:, st.row:st.row + st.n, st.col:st.col + st.out_w]
        if st.layer in sides:
            k = chain_index(node, nodes[st.layer - 1].outputs[0] if st.layer else None)
            args = [band, other] if k == 0 else [other, band]
        else:
            args = [band] + [v.data if v is not None else None for v in node.inputs[1:]]
        while args and args[-1] is None:
            args.pop()
        y = np.asarray(OPS[node.op].run_int(band_node(node, st), *args))[:, :st.n, :st.out_w]
        if st.layer == len(nodes) - 1 and not strips:
            out[:, st.row:st.row + st.n] = y
        else:
            c = y.shape[3]
            v = view(flat[st.layer], st.out_local + st.n, st.out_w, c)
            v[:, st.out_local:] = y
    return out


def stage_key(stage: Stage, what: str) -> str:
    """The memory plan's key (plan.offsets[...]) of a patched stage's shared buffer: "scratch"
    (the kernels'), "in" (the input strip buffer) or "out" (the output strip buffer)."""
    return f"{stage.nodes[0]}#stage_{what}"


def stages_of(graph) -> list[Stage]:
    """The graph's patched stages (set by passes.patch; none by default)."""
    return list(getattr(graph, "patch_stages", None) or [])
