"""plan_memory: every activation gets a byte offset in one static arena (DESIGN.md §5).

Liveness in execution order: a buffer lives from the step that writes it to the last step that
reads it (graph inputs from step 0, graph outputs to the end). Aliases (reshape) share their
source's buffer and extend its life. Offsets: largest buffers first, each at the lowest
4-byte-aligned offset that overlaps no buffer alive at the same time.
The lower bound is the largest sum of buffer sizes alive at one step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Graph, Value
from ..ir.ops import OPS

ALIGN = 4


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
    live_bytes: list[int]                    # per step: bytes alive

    def offset(self, v: Value) -> int:
        return self.offsets[v.name]


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _nbytes(v: Value, elem_bytes: int | None) -> int:
    return v.type.size * elem_bytes if elem_bytes else v.type.nbytes


def liveness(g: Graph, elem_bytes: int | None = None) -> list[Buffer]:
    root: dict[int, Buffer] = {}
    bufs: list[Buffer] = []
    last_step = len(g.nodes) - 1
    for v in g.inputs:
        root[id(v)] = Buffer(v, _nbytes(v, elem_bytes), 0, 0, [v])
        bufs.append(root[id(v)])
    for step, node in enumerate(g.nodes):
        for v in node.inputs:
            if v is not None and not v.is_const:
                root[id(v)].last = max(root[id(v)].last, step)
        for v in node.outputs:
            if OPS[node.op].alias:
                b = root[id(node.inputs[0])]
            else:
                b = Buffer(v, _nbytes(v, elem_bytes), step, step)
                bufs.append(b)
            b.values.append(v)
            root[id(v)] = b
    for v in g.outputs:
        root[id(v)].last = max(last_step, 0)
    return bufs


def _place(buf: Buffer, placed: list[tuple[int, Buffer]]) -> int:
    """Lowest aligned offset where buf fits among time-overlapping placed buffers (best fit)."""
    busy = sorted((off, off + _align(b.size)) for off, b in placed if b.overlaps_in_time(buf))
    need = _align(buf.size)
    best, best_gap, cursor = None, None, 0
    for start, end in busy:
        gap = start - cursor
        if gap >= need and (best_gap is None or gap < best_gap):
            best, best_gap = cursor, gap
        cursor = max(cursor, end)
    return best if best is not None else cursor


def plan_memory(g: Graph, elem_bytes: int | None = None) -> MemoryPlan:
    """Plan the arena; elem_bytes overrides dtype sizes (e.g. 1 to size a float graph as int8)."""
    bufs = liveness(g, elem_bytes)
    placed: list[tuple[int, Buffer]] = []
    for b in sorted(bufs, key=lambda b: (-b.size, b.first, b.root.name)):
        placed.append((_place(b, placed), b))
    offsets = {v.name: off for off, b in placed for v in b.values}
    arena = max((off + _align(b.size) for off, b in placed), default=0)
    steps = max(len(g.nodes), 1)
    live = [sum(b.size for b in bufs if b.first <= s <= b.last) for s in range(steps)]
    return MemoryPlan(arena, max(live, default=0), offsets, bufs, live)
