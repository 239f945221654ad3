"""plan_memory: every activation gets a byte offset in one static arena (DESIGN.md §5).

Liveness in execution order: a buffer lives from the step that writes it to the last step that
reads it (graph inputs from step 0, graph outputs to the end). Aliases (reshape) share their
source's buffer and extend its life. In-place: an elementwise op (OpDef.inplace) whose input
buffer dies at that op and has the output's size writes into it (one buffer, longer life).

Offsets: for several orderings of the buffers (by size, by start, by size × lifetime, and
seeded random ones), place each at the best-fitting aligned gap among the buffers already
placed that are alive at the same time; keep the smallest arena. Deterministic.
The lower bound is the largest sum of sizes alive at one step, without in-place reuse.

Kernel scratch: `scratch={node name: bytes}` (the backend's kernel selection, plain data) —
each is a buffer alive only during its node; its offset is plan.scratch[node name].

Patched stages (ir/patch.py, graph.patch_stages): the stage's inner tensors are line buffers
(BandProgram.buffer_bytes; a leading transpose's output: none, its rows go through the input
buffer) and, with its input, its output and one scratch buffer shared by
its kernels (the largest), alive during the whole stage.
direct_inputs: the graph inputs are read from the caller's buffers (no arena room, never
overwritten in place); plan.external names them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..ir import DType, Graph, TensorType, Value
from ..ir.ops import OPS
from ..ir.patch import band_program, stage_key, stage_lead, stage_nodes, stages_of

ALIGN = 4
RANDOM_ORDERS = 64


@dataclass
class Buffer:
    root: Value
    size: int
    first: int
    last: int
    values: list[Value] = field(default_factory=list)

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class MemoryPlan:
    arena_bytes: int
    lower_bound: int
    offsets: dict[str, int]                  # value name -> byte offset
    buffers: list[Buffer]
    live_bytes: list[int]                    # per step: bytes alive (without in-place)
    inplace: list[tuple[str, str]] = field(default_factory=list)   # (output, input) pairs
    scratch: dict[str, int] = field(default_factory=dict)   # node name -> scratch offset
    scratch_bytes: dict[str, int] = field(default_factory=dict)   # node name -> its size
    external: dict[str, int] = field(default_factory=dict)   # value -> graph input index
    #                                        (read from the caller's buffer, not the arena)
    stage_values: dict[str, int] = field(default_factory=dict)   # patched stages' line
    #                                        buffers: value name -> bytes
    input_in_arena: bool = False     # the application writes the (single) input into its
    #                                  arena slot ({name}_input_buffer()): no separate buffer

    def offset(self, v: Value) -> int:
        return self.offsets[v.name]


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _nbytes(v: Value, elem_bytes: int | None) -> int:
    return v.type.size * elem_bytes if elem_bytes else v.type.nbytes


def _inplace_source(node, step: int, root: dict, g: Graph,
                    keep: tuple = ()) -> Buffer | None:
    """The input buffer an elementwise node may overwrite: same size, dies here (never one of
    `keep`: the caller's input buffers)."""
    out = node.outputs[0]
    for i in OPS[node.op].inplace:
        v = node.input(i)
        if v is None or v.is_const or v.shape != out.shape or root[id(v)] in keep:
            continue
        b = root[id(v)]
        uses_later = any(g.nodes.index(u) > step for bv in b.values for u, _ in bv.uses)
        if not uses_later and not any(bv in g.outputs for bv in b.values):
            return b
    return None


def scratch_name(node) -> str:
    """The plan's key for a node's scratch buffer (offsets[scratch_name(node)])."""
    return f"{node.name}#scratch"


def _inplace_window(node, step: int, root: dict, g: Graph, keep: tuple) -> Buffer | None:
    """The input buffer a node named in plan_memory's `inplace_nodes` (a window op whose kernel
    overwrites its input, e.g. the in-place depthwise) writes into: it dies here, is no
    caller's buffer and is no smaller than the output."""
    x = node.inputs[0]
    b = root[id(x)]
    if b in keep or b.size < node.outputs[0].type.nbytes or any(bv in g.outputs
                                                                 for bv in b.values):
        return None
    if any(g.nodes.index(u) > step for bv in b.values for u, _ in bv.uses):
        return None
    return b


def liveness(g: Graph, elem_bytes: int | None = None, inplace: bool = True,
             scratch: dict[str, int] | None = None, direct_inputs: bool = False,
             inplace_nodes=()) -> tuple[list[Buffer], list[tuple[str, str]]]:
    root: dict[int, Buffer] = {}
    bufs: list[Buffer] = []
    pairs: list[tuple[str, str]] = []
    for v in g.inputs:
        root[id(v)] = Buffer(v, 0 if direct_inputs else _nbytes(v, elem_bytes), 0, 0, [v])
        bufs.append(root[id(v)])
    keep = tuple(bufs) if direct_inputs else ()
    span, line, shared = _stage_facts(g, scratch)
    for step, node in enumerate(g.nodes):
        for v in node.inputs:
            if v is not None and not v.is_const:
                root[id(v)].last = max(root[id(v)].last, span.get(node.name, (0, step))[1])
        need = (scratch or {}).get(node.name, 0)
        if need and node.name not in shared:
            tmp = Value(scratch_name(node), TensorType(DType.INT8, (need,)))
            bufs.append(Buffer(tmp, need, step, step, [tmp]))
        for key, (first, (lo, hi)) in shared.items():
            if first == node.name:
                tmp = Value(key, TensorType(DType.INT8, (max(hi, 1),)))
                bufs.append(Buffer(tmp, hi, step, lo, [tmp]))
        for v in node.outputs:
            b = root[id(node.inputs[0])] if OPS[node.op].alias else None
            if b is None and inplace and node.name in inplace_nodes and node.name not in span:
                b = _inplace_window(node, step, root, g, keep)
                if b is not None:
                    pairs.append((v.name, node.inputs[0].name))
            if b is None and inplace and node.name not in span:
                b = _inplace_source(node, step, root, g, keep)
                if b is not None:
                    pairs.append((v.name, b.values[-1].name))
            if b is None:
                size = line.get(v.name, _nbytes(v, elem_bytes))
                b = Buffer(v, size, span.get(node.name, (step,))[0], step)
                bufs.append(b)
            b.values.append(v)
            root[id(v)] = b
        if node.name in span:
            for v in node.outputs:
                root[id(v)].last = max(root[id(v)].last, span[node.name][1])
    for v in g.outputs:
        root[id(v)].last = max(len(g.nodes) - 1, 0)
    return bufs, pairs


def _stage_facts(g: Graph, scratch: dict[str, int] | None):
    """Patched stages: ({node: (first step, last step) of its stage}, {inner value: line
    buffer bytes}, {shared scratch key: (first node, (last step, bytes))})."""
    span, line, shared = {}, {}, {}
    index = {n.name: i for i, n in enumerate(g.nodes)}
    for st in stages_of(g):
        steps = [index[n] for n in st.nodes]
        prog = band_program(g, st)
        for name in st.nodes:
            span[name] = (steps[0], steps[-1])
        for node, size in zip(stage_nodes(g, st)[:-1], prog.buffer_bytes):
            line[node.outputs[0].name] = size
        lead = stage_lead(g, st)
        if lead is not None:    # its output is never whole: the band input rows (in_bytes)
            line[lead.outputs[0].name] = 0
        need = max((scratch or {}).get(n, 0) for n in st.nodes)
        for key, size in ((stage_key(st, "scratch"), need), (stage_key(st, "in"), prog.in_bytes),
                          (stage_key(st, "out"), prog.out_bytes)):
            if size:
                shared[key] = (st.nodes[0], (steps[-1], size))
    return span, line, shared


def _place(buf: Buffer, placed: list[tuple[int, Buffer]]) -> int:
    """Lowest aligned offset in the tightest gap among time-overlapping placed buffers."""
    busy = sorted((off, off + _align(b.size)) for off, b in placed if b.overlaps_in_time(buf))
    need = _align(buf.size)
    best, best_gap, cursor = None, None, 0
    for start, end in busy:
        gap = start - cursor
        if gap >= need and (best_gap is None or gap < best_gap):
            best, best_gap = cursor, gap
        cursor = max(cursor, end)
    return best if best is not None else cursor


def _assign(order: list[Buffer]) -> tuple[int, list[tuple[int, Buffer]]]:
    placed: list[tuple[int, Buffer]] = []
    for b in order:
        placed.append((_place(b, placed), b))
    return max((off + _align(b.size) for off, b in placed), default=0), placed


def _orders(bufs: list[Buffer]):
    yield sorted(bufs, key=lambda b: (-b.size, b.first))
    yield sorted(bufs, key=lambda b: (b.first, -b.size))
    yield sorted(bufs, key=lambda b: (-b.size * (b.last - b.first + 1), b.first))
    yield sorted(bufs, key=lambda b: (-(b.last - b.first), -b.size))
    rng = random.Random(0)
    for _ in range(RANDOM_ORDERS if len(bufs) > 2 else 0):
        order = list(bufs)
        rng.shuffle(order)
        yield order


def plan_memory(g: Graph, elem_bytes: int | None = None, inplace: bool = True,
                scratch: dict[str, int] | None = None, direct_inputs: bool = False,
                inplace_nodes=()) -> MemoryPlan:
    """Plan the arena; elem_bytes overrides dtype sizes (e.g. 1 to size a float graph as int8).

    scratch {node name: bytes}: a kernel's working buffer (im2col, ...), alive only during its
    node, planned like a tensor; its offset is plan.scratch[node name].
    direct_inputs: the kernels read the graph inputs from the caller's buffers (module doc).
    inplace_nodes: names of window nodes whose kernel may write over their input (the in-place
    depthwise, under a RAM limit): where the input dies there, the output shares its buffer
    (plan.inplace lists the pairs)."""
    if scratch is not None and not isinstance(scratch, dict):
        raise TypeError(f"plan_memory: scratch — expected a dict node name -> bytes (the "
                        f"backend's select_kernels), got {type(scratch).__name__}")
    bufs, pairs = liveness(g, elem_bytes, inplace, scratch, direct_inputs, inplace_nodes)
    best = min((_assign(o) for o in _orders(bufs)), key=lambda r: r[0])
    arena, placed = best
    offsets = {v.name: off for off, b in placed for v in b.values}
    plain, _ = liveness(g, elem_bytes, inplace=False, scratch=scratch,
                        direct_inputs=direct_inputs)
    steps = max(len(g.nodes), 1)
    live = [sum(b.size for b in plain if b.first <= s <= b.last) for s in range(steps)]
    _, line, shared = _stage_facts(g, scratch)
    stage_of = {n: stage_key(st, "scratch") for st in stages_of(g) for n in st.nodes}
    by_node = {}
    for n in g.nodes:
        key = stage_of.get(n.name, scratch_name(n))
        if key in offsets and (scratch or {}).get(n.name):
            by_node[n.name] = offsets[key]
    sizes = {n.name: int(scratch[n.name]) for n in g.nodes if n.name in by_node}
    external = {}
    if direct_inputs:
        for b in bufs:
            for i, v in enumerate(g.inputs):
                if b.root is v:
                    external.update({x.name: i for x in b.values})
    return MemoryPlan(arena, max(live, default=0), offsets, bufs, live, pairs, by_node, sizes,
                      external, line)
