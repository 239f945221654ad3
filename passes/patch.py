"""fit_ram: meet a RAM limit — the RAM one inference needs is the arena (activations, kernel
scratch) plus the caller's input and output buffers.

In order, the first that meets the limit is kept (so a model that fits keeps today's plan):
  1. the layer-by-layer plan;
  2. the same, the kernels reading the model input from the caller's buffer (no copy in the
     arena);
  3. a patched stage (ir/patch.py) over a prefix of the graph — a chain of window ops from the
     model input — with its band grid (output rows per band x column strips), searched: every
     prefix length and grid whose peak-live bound fits is planned, cheapest estimated overhead
     first (recomputed MACs, kernel calls, bytes moved); the first whose arena fits wins.
If nothing meets it, the plan with the least RAM is returned with `met` False (the caller says
the smallest RAM reachable and how).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Graph
from ..ir.ops import OPS
from ..ir.patch import Stage, band_program
from .plan_memory import MemoryPlan, liveness, plan_memory

ROWS = (1, 2, 4)            # output rows per band of the stage's last layer
COLS = (1, 2, 3, 4)         # column strips
SMALLEST = 6               # plans tried for the smallest reachable RAM
# The overhead estimate, fitted to vww on the STM32 in QEMU (BENCHMARKS.md, RAM-limit table):
# full-width bands (~290 calls, nothing recomputed) cost ~1.5 k instructions a call; column
# strips cost ~4 instructions per MAC recomputed (narrow bands run the kernels' edge paths).
CALL_COST = 1500
MAC_COST = 4


@dataclass
class RamFit:
    plan: MemoryPlan
    ram: int                                    # arena + input + output bytes
    limit: int
    met: bool
    how: str                                    # "layer by layer", "direct input", "patched"
    stage: Stage | None = None
    info: dict = field(default_factory=dict)    # patched: grid, extra MACs, calls, buffers

    def report(self, io_bytes: int) -> dict:
        r = {"limit": self.limit, "ram_bytes": self.ram, "io_bytes": io_bytes,
             "arena_bytes": self.plan.arena_bytes, "met": self.met, "how": self.how,
             "direct_input": bool(self.plan.external)}
        if self.stage is not None:
            r["patched"] = {"nodes": list(self.stage.nodes), "rows": self.stage.rows,
                            "cols": self.stage.cols, **self.info}
        return r


def chain_prefix(g: Graph, eligible) -> list[str]:
    """The longest chain of patchable nodes from a graph input (each output read by the next
    node only)."""
    inputs = {id(v) for v in g.inputs}
    out, prev = [], None
    for n in g.nodes:
        x = n.inputs[0] if n.inputs else None
        ok = OPS[n.op].patchable and n.name in eligible and x is not None and (
            (prev is None and id(x) in inputs) or (prev is not None and x is prev.outputs[0]))
        if not ok or (prev is not None and len(prev.outputs[0].uses) != 1):
            break
        if n.outputs[0] in g.outputs:
            break
        out.append(n.name)
        prev = n
    return out


def _bound(g: Graph, scratch) -> int:
    bufs, _ = liveness(g, inplace=False, scratch=scratch, direct_inputs=True)
    steps = max(len(g.nodes), 1)
    return max(sum(b.size for b in bufs if b.first <= s <= b.last) for s in range(steps))


def candidates(g: Graph, eligible, scratch) -> list[tuple[int, int, Stage, dict]]:
    """(overhead estimate, peak-live bound, stage, info) of every prefix and grid."""
    chain = chain_prefix(g, eligible)
    out = []
    for k in range(1, len(chain) + 1):
        for rows in ROWS:
            for cols in COLS:
                st = Stage(tuple(chain[:k]), rows, cols)
                prog = band_program(g, st)
                g.patch_stages = [st]
                try:
                    bound = _bound(g, scratch)
                finally:
                    g.patch_stages = []
                copies = sum(1 for s in prog.steps if type(s).__name__ == "Copy")
                over = (MAC_COST * prog.extra_macs + CALL_COST * (prog.calls + copies - k)
                        + prog.moved_bytes // 2)
                info = {"extra_macs": int(prog.extra_macs), "calls": prog.calls,
                        "line_buffer_bytes": int(sum(prog.buffer_bytes) + prog.in_bytes
                                                 + prog.out_bytes),
                        "moved_bytes": int(prog.moved_bytes), "overhead_estimate": int(over)}
                out.append((over, bound, st, info))
    return out


def fit_ram(g: Graph, scratch: dict[str, int], limit: int, eligible=None,
            plan: MemoryPlan | None = None) -> RamFit:
    """The plan meeting `limit` bytes of RAM (module doc). eligible: node names whose kernel
    can run in a stage (the int8 dense kernels; default every node). Sets g.patch_stages."""
    io = sum(v.type.nbytes for v in (*g.inputs, *g.outputs))
    eligible = {n.name for n in g.nodes} if eligible is None else set(eligible)
    g.patch_stages = []
    base = plan or plan_memory(g, scratch=scratch)
    best = RamFit(base, base.arena_bytes + io, limit, base.arena_bytes + io <= limit,
                  "layer by layer")
    if best.met:
        return best
    direct = plan_memory(g, scratch=scratch, direct_inputs=True)
    fit = RamFit(direct, direct.arena_bytes + io, limit, direct.arena_bytes + io <= limit,
                 "direct input")
    if fit.met:
        return fit
    best = min((best, fit), key=lambda f: f.ram)
    cands = candidates(g, eligible, scratch)

    def planned(st, info) -> RamFit:
        g.patch_stages = [st]
        p = plan_memory(g, scratch=scratch, direct_inputs=True)
        return RamFit(p, p.arena_bytes + io, limit, p.arena_bytes + io <= limit, "patched",
                      st, info)
    for over, bound, st, info in sorted(cands, key=lambda c: (c[0], c[1], c[2].nodes)):
        if bound + io <= limit:
            f = planned(st, info)
            if f.met:
                return f
            best = min((best, f), key=lambda f: f.ram)
    # nothing meets the limit: the least RAM among the smallest bounds
    for over, bound, st, info in sorted(cands, key=lambda c: (c[1], c[0]))[:SMALLEST]:
        best = min((best, planned(st, info)), key=lambda f: f.ram)
    g.patch_stages = [best.stage] if best.stage is not None else []
    return best
