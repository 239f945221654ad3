"""fit_ram: meet a RAM limit — the RAM one inference needs is the arena (activations, kernel
scratch) plus the caller's input and output buffers.

In order, the first that meets the limit is kept (so a model that fits keeps today's plan):
  1. the layer-by-layer plan;
  2. the same, the kernels reading the model input from the caller's buffer (no copy in the
     arena);
  2b. the layer-by-layer plan with the input counted in the arena: the application writes it
     into {name}_input_buffer() (model.h), no separate input buffer (single-input models);
  2c. 1, 2 and 2b with in-place kernels (the depthwise: channel by channel over its input,
     one channel as the temporary) where their input dies;
  3. a patched stage (ir/patch.py) over a prefix of the graph — a chain of window ops from the
     model input — with its band grid (output rows per band x column strips), searched: every
     prefix length and grid whose peak-live bound fits is planned, cheapest estimated overhead
     first (recomputed MACs, kernel calls, bytes moved), the input read in place or (2b) in
     the arena; the first whose RAM fits wins.
If nothing meets it, the plan with the least RAM is returned with `met` False (the caller says
the smallest RAM reachable and how).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import TinycError
from ..ir import Graph
from ..ir.ops import OPS
from ..ir.patch import Stage, band_program, can_band, chain_index, is_lead
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
    in_place: tuple[str, ...] = ()              # nodes whose kernel writes over its input

    def report(self, io_bytes: int) -> dict:
        r = {"limit": self.limit, "ram_bytes": self.ram, "io_bytes": io_bytes,
             "arena_bytes": self.plan.arena_bytes, "met": self.met, "how": self.how,
             "direct_input": bool(self.plan.external),
             "input_in_arena": bool(self.plan.input_in_arena)}
        if self.in_place:
            r["in_place"] = list(self.in_place)
        if self.stage is not None:
            r["patched"] = {"nodes": list(self.stage.nodes), "rows": self.stage.rows,
                            "cols": self.stage.cols, **self.info}
        return r


def chain_prefix(g: Graph, eligible) -> list[str]:
    """The longest chain of patchable nodes from a graph input (each output read by the next
    node only), after a leading NCHW -> NHWC transpose if the graph starts with one
    (ir/patch.py is_lead: an ONNX model's input)."""
    inputs = {id(v) for v in g.inputs}
    out, prev = [], None
    for n in g.nodes:
        x = n.inputs[chain_index(n, prev.outputs[0] if prev else None)] if n.inputs else None
        if OPS[n.op].patch_side and n.inputs and (len(n.inputs) != 2 or any(
                v is None or v.is_const or (v.producer is not None and v.producer.name in out
                                            and (is_lead(v.producer) or x is v))
                or tuple(v.shape) != tuple(n.outputs[0].shape) for v in n.inputs if v is not x)
                or n.outputs[0].dtype.itemsize != 1):
            break       # a residual add: the other operand whole or an earlier layer's
        lead = prev is None and is_lead(n)
        ok = (can_band(n) or lead) and n.name in eligible and x is not None and (
            (prev is None and id(x) in inputs) or (prev is not None and x is prev.outputs[0]))
        extra = [u for u, _ in prev.outputs[0].uses if u is not n] if prev is not None else []
        if not ok or (prev is not None and (len(extra) > 1 or any(   # or a residual add's
                not OPS[u.op].patch_side or u.name not in eligible for u in extra))):
            break
        if n.outputs[0] in g.outputs:
            break
        out.append(n.name)
        prev = n
    return out


def _bound(g: Graph, scratch, direct: bool = True) -> int:
    bufs, _ = liveness(g, inplace=False, scratch=scratch, direct_inputs=direct)
    steps = max(len(g.nodes), 1)
    return max(sum(b.size for b in bufs if b.first <= s <= b.last) for s in range(steps))


def candidates(g: Graph, eligible, scratch) -> list[tuple[int, int, Stage, dict]]:
    """(overhead estimate, peak-live bound with the input read in place, the same with the
    input in the arena, stage, info) of every prefix and grid."""
    chain = chain_prefix(g, eligible)
    by_name = {n.name: n for n in g.nodes}
    first = 2 if chain and is_lead(by_name[chain[0]]) else 1    # a lead alone is no stage
    out = []
    for k in range(first, len(chain) + 1):
        for rows in ROWS:
            for cols in COLS:
                st = Stage(tuple(chain[:k]), rows, cols)
                try:
                    prog = band_program(g, st)
                except TinycError:      # cuts a residual add from its source, or strips
                    continue            # that do not compute an add's columns
                g.patch_stages = [st]
                try:
                    bound = _bound(g, scratch)
                    bound_in = _bound(g, scratch, direct=False)
                finally:
                    g.patch_stages = []
                copies = sum(1 for s in prog.steps if type(s).__name__ == "Copy")
                over = (MAC_COST * prog.extra_macs + CALL_COST * (prog.calls + copies - k)
                        + prog.moved_bytes // 2)
                info = {"extra_macs": int(prog.extra_macs), "calls": prog.calls,
                        "line_buffer_bytes": int(sum(prog.buffer_bytes) + prog.in_bytes
                                                 + prog.out_bytes),
                        "moved_bytes": int(prog.moved_bytes), "overhead_estimate": int(over)}
                out.append((over, bound, bound_in, st, info))
    return out


def _in_place_fit(g: Graph, scratch, in_place, direct: bool, arena: bool, fit) -> RamFit:
    """Step 2c: the layer-by-layer plan where the in-place kernels write over inputs that die
    there (plan_memory inplace_nodes), with their scratch instead of their dense kernel's."""
    p = plan_memory(g, scratch={**scratch, **in_place}, direct_inputs=direct,
                    inplace_nodes=set(in_place))
    outs = {v.name for n in g.nodes if n.name in in_place for v in n.outputs}
    used = tuple(n.name for n in g.nodes if n.name in in_place and any(
        o == n.outputs[0].name for o, _ in p.inplace if o in outs))
    p = plan_memory(g, scratch={**scratch, **{n: in_place[n] for n in used}},
                    direct_inputs=direct, inplace_nodes=set(used))
    p.input_in_arena = arena
    how = "in-place depthwise" + (", direct input" if direct else
                                  ", input in the arena" if arena else "")
    f = fit(p, how)
    f.in_place = used
    return f


def fit_ram(g: Graph, scratch: dict[str, int], limit: int, eligible=None,
            plan: MemoryPlan | None = None, in_place: dict[str, int] | None = None) -> RamFit:
    """The plan meeting `limit` bytes of RAM (module doc). eligible: node names whose kernel
    can run in a stage (the int8 dense kernels; default every node). in_place: {node name:
    scratch bytes} of the nodes an in-place kernel may run (the backend's in-place depthwise;
    step 2c). Sets g.patch_stages; RamFit.in_place names the nodes planned in place."""
    ins = sum(v.type.nbytes for v in g.inputs)
    outs = sum(v.type.nbytes for v in g.outputs)
    eligible = {n.name for n in g.nodes} if eligible is None else set(eligible)
    in_arena_ok = len(g.inputs) == 1
    # an input the C API converts (uint8 -> its int8 view) cannot be read in place
    direct_ok = not any(g.is_uint8_view(v) for v in g.inputs)
    g.patch_stages = []

    def fit(p: MemoryPlan, how: str, stage=None, info=None) -> RamFit:
        ram = p.arena_bytes + outs + (0 if p.input_in_arena else ins)
        return RamFit(p, ram, limit, ram <= limit, how, stage, info or {})

    def planned(stage, direct: bool, info) -> RamFit:
        g.patch_stages = [stage]
        p = plan_memory(g, scratch=scratch, direct_inputs=direct)
        p.input_in_arena = not direct
        return fit(p, "patched" + ("" if direct else ", input in the arena"), stage, info)

    base = plan or plan_memory(g, scratch=scratch)
    tried = [fit(base, "layer by layer")]
    if tried[-1].met:
        return tried[-1]
    if direct_ok:
        tried.append(fit(plan_memory(g, scratch=scratch, direct_inputs=True), "direct input"))
        if tried[-1].met:
            return tried[-1]
    if in_arena_ok:
        p = plan_memory(g, scratch=scratch)
        p.input_in_arena = True
        tried.append(fit(p, "input in the arena"))
        if tried[-1].met:
            return tried[-1]
    for direct, arena in ((False, False), (True, False), (False, True)):
        if not in_place or (direct and not direct_ok) or (arena and not in_arena_ok):
            continue
        f = _in_place_fit(g, scratch, in_place, direct, arena, fit)
        tried.append(f)
        if f.met:
            return f
    cands = candidates(g, eligible, scratch)
    modes = ((True,) if direct_ok else ()) + ((False,) if in_arena_ok else ())
    for over, bound, bound_in, st, info in sorted(cands, key=lambda c: (c[0], c[1],
                                                                        c[3].nodes)):
        for direct in modes:
            need = bound + ins + outs if direct else bound_in + outs
            if need <= limit:
                f = planned(st, direct, info)
                if f.met:
                    return f
                tried.append(f)
    # nothing meets the limit: the least RAM among the smallest bounds
    for direct in modes:
        key = (lambda c: c[1] + ins) if direct else (lambda c: c[2])
        for c in sorted(cands, key=lambda c: (key(c), c[0]))[:SMALLEST]:
            tried.append(planned(c[3], direct, c[4]))
    best = min(tried, key=lambda f: f.ram)
    g.patch_stages = [best.stage] if best.stage is not None else []
    return best
