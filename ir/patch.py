"""Patch-based execution of a prefix of the graph in row bands (MCUNetV2's patch inference with
line buffers: nothing is recomputed).

A *stage* is a chain of window ops (conv2d, depthwise_conv2d, max_pool2d, avg_pool2d, OpDef
field `patchable`) that starts at an activation held whole (a graph input or an arena tensor)
and ends at a tensor written whole. The stage's output is computed `rows` rows at a time; each
inner layer keeps only the rows of its output that its consumer still needs (a line buffer of
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
    """A patched stage: node names (a chain, in execution order) and the output rows per band."""
    nodes: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class Run:
    """One kernel call: layer `layer` computes output rows [row, row + n) (global), reading
    `in_rows` rows of its input starting at local row `in_local` of the input's buffer, with
    `pad_top` rows of padding above them; writes at local row `out_local` of its output buffer."""
    layer: int
    row: int
    n: int
    in_local: int
    in_rows: int
    pad_top: int
    out_local: int


@dataclass(frozen=True)
class Shift:
    """Drop the first `drop` rows of layer `layer`'s buffer: the next `keep` rows move up."""
    layer: int
    drop: int
    keep: int


@dataclass
class BandProgram:
    stage: Stage
    steps: list = field(default_factory=list)
    capacity: list[int] = field(default_factory=list)   # rows held per layer (last: its H)
    row_bytes: list[int] = field(default_factory=list)  # W * C * itemsize of each layer's output

    @property
    def buffer_bytes(self) -> list[int]:
        """Bytes of each inner layer's line buffer (the last layer writes the full output)."""
        return [c * r for c, r in zip(self.capacity[:-1], self.row_bytes[:-1])]

    @property
    def calls(self) -> int:
        return sum(isinstance(s, Run) for s in self.steps)

    @property
    def moved_bytes(self) -> int:
        return sum(s.keep * self.row_bytes[s.layer] for s in self.steps if isinstance(s, Shift))


def window(node) -> tuple[int, int, int, int, int]:
    """(stride_h, effective kernel height, pad_top, input H, output H) of a window op."""
    a = node.attrs
    kh = node.inputs[1].shape[1] if "kernel" not in a else a["kernel"][0]
    dh = a.get("dilation", (1, 1))[0]
    return (a["stride"][0], dh * (kh - 1) + 1, a["pads"][0], node.inputs[0].shape[1],
            node.outputs[0].shape[1])


def stage_nodes(graph, stage: Stage) -> list:
    by_name = {n.name: n for n in graph.nodes}
    nodes = [by_name[n] for n in stage.nodes]
    for a, b in zip(nodes, nodes[1:]):
        if b.inputs[0] is not a.outputs[0] or len(a.outputs[0].uses) != 1:
            raise TinycError(f"patch stage: node '{b.name}' does not take '{a.name}''s output "
                             "as its only consumer — a stage is a chain")
    for n in nodes:
        if not OPS[n.op].patchable:
            raise TinycError(f"patch stage: node '{n.name}' ({n.op}) cannot run in row bands "
                             "— patchable ops: conv2d, depthwise_conv2d, max/avg_pool2d")
    return nodes


def band_program(graph, stage: Stage) -> BandProgram:
    """The steps of the stage (module doc), deterministic."""
    nodes = stage_nodes(graph, stage)
    geo = [window(n) for n in nodes]
    count = len(nodes)
    lo, hi, cap = [0] * count, [0] * count, [0] * count
    prog = BandProgram(stage)
    prog.row_bytes = [int(np.prod(n.outputs[0].shape[2:])) * n.outputs[0].dtype.itemsize
                      for n in nodes]

    def need(i: int, a: int, b: int) -> tuple[int, int]:
        s, k, pt, h_in, _ = geo[i]
        return max(0, a * s - pt), min(h_in, (b - 1) * s - pt + k)

    def ensure(i: int, b: int) -> None:
        """Layer i has computed its output rows up to b (exclusive): inner layers one row a
        call (the smallest line buffers), the last `rows` a call."""
        while hi[i] < b:
            compute(i, hi[i], b if i == count - 1 else hi[i] + 1)

    def compute(i: int, a: int, b: int) -> None:
        r0, r1 = need(i, a, b)
        in_local = r0
        if i > 0:
            j = i - 1
            if hi[j] <= r0:                  # rows nobody needs (stride > kernel): skipped
                lo[j] = hi[j] = r0
            elif lo[j] < r0:
                prog.steps.append(Shift(j, r0 - lo[j], hi[j] - r0))
                lo[j] = r0
            ensure(j, r1)
            cap[j] = max(cap[j], hi[j] - lo[j])
            in_local = r0 - lo[j]
        s, _, pt, _, _ = geo[i]
        pad_top = r0 - a * s + pt
        out_local = a - lo[i] if i < count - 1 else a
        prog.steps.append(Run(i, a, b - a, in_local, r1 - r0, pad_top, out_local))
        hi[i] = b

    h_out = geo[-1][4]
    for a in range(0, h_out, stage.rows):
        ensure(count - 1, min(a + stage.rows, h_out))
    cap[-1] = h_out
    prog.capacity = cap
    return prog


def band_node(node, run: Run):
    """A copy of node whose padding makes it compute run.n rows from run.in_rows rows."""
    s, k, _, _, _ = window(node)
    pads = tuple(node.attrs["pads"])
    bottom = max(0, (run.n - 1) * s + k - run.in_rows - run.pad_top)
    n2 = copy.copy(node)
    n2.attrs = {**node.attrs, "pads": (run.pad_top, pads[1], bottom, pads[3])}
    return n2


def run_stage(graph, stage: Stage, x: np.ndarray) -> np.ndarray:
    """The stage's output from its input x, computed band by band as the C does: each call
    runs the op's integer semantics on a band (band_node), through line buffers."""
    nodes = stage_nodes(graph, stage)
    prog = band_program(graph, stage)
    bufs = []
    for n, c in zip(nodes, prog.capacity):
        shape = n.outputs[0].shape
        bufs.append(np.zeros((shape[0], c) + tuple(shape[2:]), n.outputs[0].dtype.np))
    for st in prog.steps:
        if isinstance(st, Shift):
            b = bufs[st.layer]
            b[:, :st.keep] = b[:, st.drop:st.drop + st.keep].copy()
            continue
        node = nodes[st.layer]
        src = x if st.layer == 0 else bufs[st.layer - 1]
        band = src[:, st.in_local:st.in_local + st.in_rows]
        n2 = band_node(node, st)
        args = [band] + [v.data if v is not None else None for v in node.inputs[1:]]
        while args and args[-1] is None:
            args.pop()
        y = np.asarray(OPS[node.op].run_int(n2, *args))[:, :st.n]
        bufs[st.layer][:, st.out_local:st.out_local + st.n] = y
    return bufs[-1]


def stages_of(graph) -> list[Stage]:
    """The graph's patched stages (set by passes.patch; none by default)."""
    return list(getattr(graph, "patch_stages", None) or [])
