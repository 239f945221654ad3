"""select_kernels: which C kernel runs each node, decided once before memory planning (as
TFLite Micro's Prepare) — the kernel table entry, the layer's weight format, the arena scratch
the kernel works in, whether the fast (DSP) kernel runs, and why.

    choices = select_kernels(g, storage)                       # {node name: KernelChoice}
    plan = plan_memory(g, scratch=scratch_sizes(choices))      # plain {node: bytes}
    emit_c(g, plan, out, options={"selection": choices})       # renders, decides nothing

The graph is not changed. Precedence: int16 activations take the 16x8 kernel ("<op>.s16"; its
fast form where fast_s16.applies); a layer with attrs["ort_mult"] (ONNX Runtime's
requantization, an ORT-family QDQ import) takes the generic "<op>.ort"; an average with
attrs["round_half_even"] (an ONNX QDQ import) takes "<op>.even"; a layer with constant int8
weights takes its weight format's kernel ("<op>.<format>", formats.choose_format; the fast,
decoding form for s4 / cb / mask conv2d and depthwise where packed_fast.applies); the fast
kernel runs where its preconditions hold (fast.applies) on dense or "wide" weights; everything
else takes the op's kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph, Node
from . import fast, fast_s16, fewch, packed_fast, pw, wino
from .formats import choose_format, has_stored_weights, packed_scratch
from .kernels import KERNELS, s16_key


@dataclass(frozen=True)
class KernelChoice:
    """What runs for one node."""
    node: str
    op: str
    kernel: str                # the KERNELS entry: "<op>", "<op>.s16" or "<op>.<format>"
    weight_format: str = ""    # layers: "dense" or a formats.FORMATS name; other ops: ""
    scratch: int = 0           # arena bytes the kernel works in during the node (0: none)
    fast: bool = False         # the fast kernel runs (fast.py's preconditions hold)
    why: str = ""
    weights: dict | None = None   # layers: the storage row (formats.choose_format) for reports

    @property
    def compressed(self) -> bool:
        return self.weight_format not in ("", "dense")


def choose_kernel(node: Node, storage: str = "dense", kernels: dict | None = None,
                  planned: dict | None = None) -> KernelChoice:
    """One node's KernelChoice (module doc). planned: the scratch a plan already reserved
    ({node name: bytes}); a kernel that would need scratch the plan lacks is not chosen (the
    generic or the unbuffered kernel runs instead)."""
    s16 = s16_key(node)
    weights = choose_format(node, storage, kernels) if has_stored_weights(node) else None
    fmt = "" if weights is None else weights["format"]
    room = None if planned is None else planned.get(node.name, 0)
    if s16 is not None:
        # The arena keeps the room the int8 fast kernel would use (the 16x8 kernel does not
        # use it): the plans, hence the C, stay as they were. To drop in a separate change.
        kept = fast.dense_scratch(node) if room is None or room else 0
        entry = (KERNELS if kernels is None else kernels).get(s16)
        if fast_s16.applies(node):      # the 16x8 fast kernel; the plan keeps at least `kept`
            need = fast_s16.scratch(node)
            if room is None or room >= need:
                return KernelChoice(node.name, node.op, s16, fmt, max(kept, need), True,
                                    f"int16 activations: the 16x8 fast kernel ({need:,} B "
                                    "scratch)", weights)
        if entry is not None and entry.scratch is not None:      # the kernel's own (lstm)
            kept = entry.scratch(node)
            return KernelChoice(node.name, node.op, s16, fmt, kept, why="int16 activations: "
                                f"the 16x8 kernel ({kept:,} B scratch)", weights=weights)
        return KernelChoice(node.name, node.op, s16, fmt, kept, why="int16 activations: the "
                            "16x8 kernel" + (f" ({kept:,} B int8 scratch kept, unused)"
                                             if kept else ""), weights=weights)
    if node.attrs.get("peep_w") is not None:
        entry = (KERNELS if kernels is None else kernels).get(f"{node.op}.peephole")
        if entry is not None:
            need = entry.scratch(node) if entry.scratch is not None else 0
            return KernelChoice(node.name, node.op, f"{node.op}.peephole", fmt, need,
                                why=f"peephole weights ({need:,} B scratch)", weights=weights)
    if "ort_mult" in node.attrs and node.outputs[0].dtype.name == "INT8":
        dense = choose_format(node, "dense", kernels) if weights is not None else None
        return KernelChoice(node.name, node.op, f"{node.op}.ort", "dense" if dense else "",
                            why="ONNX Runtime's float32 requantization in integers (an "
                            "ORT-family QDQ import): the generic kernel", weights=dense)
    if node.op == "mul" and "ort_mult" in node.attrs and node.outputs[0].dtype.name == "INT8":
        return KernelChoice(node.name, node.op, "mul.ort", fmt, why="ONNX Runtime's QLinearMul "
                            "(float32 requantization in integers, ort_exact)")
    if node.attrs.get("ort_float") and node.outputs[0].dtype.name == "INT8":
        return KernelChoice(node.name, node.op, f"{node.op}.ortf", fmt, why="ONNX Runtime's "
                            "float32 average in integers (ort_exact, a QDQ import)")
    if node.attrs.get("round_half_even") and node.outputs[0].dtype.name == "INT8":
        return KernelChoice(node.name, node.op, f"{node.op}.even", fmt, why="average rounded "
                            "half to even (ONNX Runtime's rounding, a QDQ import)")
    if fmt == "wino":               # Winograd F(2x2, 3x3) (storage="speed", wino.py)
        need = wino.scratch(node)
        if room is None or room >= need:
            return KernelChoice(node.name, node.op, f"{node.op}.wino", fmt, need, True,
                                f"Winograd F(2x2, 3x3), int16 transformed weights ({need:,} B "
                                "scratch)", weights)
        return choose_kernel(node, "dense", kernels, planned)
    if fmt == "pw":                 # 1x1 with pre-widened weights (storage="speed", pw.py)
        need = pw.scratch(node)
        if room is None or room >= need:
            return KernelChoice(node.name, node.op, f"{node.op}.pw", fmt, need, True,
                                f"1x1 with int16 weights in pass order ({need:,} B scratch)",
                                weights)
        return choose_kernel(node, "dense", kernels, planned)
    if packed_fast.applies(node, fmt):
        need = packed_fast.scratch(node, room)
        if room is None or room >= need:
            return KernelChoice(node.name, node.op, f"{node.op}.{fmt}", fmt, need, True,
                                f"{fmt} weights, fast: decoded into the dense fast layout "
                                f"({need:,} B scratch)", weights)
    if fmt not in ("", "dense", "wide"):
        scratch = packed_scratch(node, fmt)
        if room is not None and room < scratch:
            scratch = 0
        why = f"{fmt} weights" + (f", buffered ({scratch:,} B scratch)" if scratch else
                                  ", unbuffered" if packed_scratch(node, fmt) else "")
        return KernelChoice(node.name, node.op, f"{node.op}.{fmt}", fmt, scratch,
                            why=why, weights=weights)
    kernel = f"{node.op}.{fmt}" if fmt == "wide" else node.op
    if node.op not in fast.APPLIES:
        entry = (KERNELS if kernels is None else kernels).get(kernel)
        need = entry.scratch(node) if entry is not None and entry.scratch is not None else 0
        return KernelChoice(node.name, node.op, kernel, fmt, need,
                            why=f"{need:,} B scratch" if need else "", weights=weights)
    if not fast.applies(node):
        return KernelChoice(node.name, node.op, kernel, fmt, why="generic kernel: the fast "
                            "kernel's preconditions (requantization shift <= -1, accumulator "
                            "< 2^29, layout) do not hold", weights=weights)
    scratch = packed_scratch(node, fmt) if fmt == "wide" else fast.dense_scratch(node)
    if room is not None and room < scratch:
        step = next((s for s in fast.scratch_steps(node) if s <= room), None)
        if step is not None and fmt != "wide":
            return KernelChoice(node.name, node.op, kernel, fmt, step, True, "fast kernel "
                                f"with {step:,} of its {scratch:,} B speed-up scratch",
                                weights)
        lean = fast.lean_scratch(node)
        if lean is not None and room >= lean:
            return KernelChoice(node.name, node.op, kernel, fmt, lean, True, "fast kernel "
                                f"without its {scratch:,} B speed-up scratch (RAM limit)",
                                weights)
        return KernelChoice(node.name, node.op, kernel, fmt, why="generic kernel: the plan "
                            "reserves no scratch for the fast kernel", weights=weights)
    why = "fast kernel" + (f" ({scratch:,} B scratch)" if scratch else "")
    if fewch.applies(node, scratch):
        why += ": few input channels (tinyc_conv2d_fewch_s8, windows widened once per row)"
    return KernelChoice(node.name, node.op, kernel, fmt, scratch, True, why, weights)


def select_kernels(g: Graph, storage: str = "auto", kernels: dict | None = None,
                   planned: dict | None = None) -> dict[str, KernelChoice]:
    """{node name: KernelChoice} for every node of an integer graph (module doc); storage:
    formats.choose_format's policy; kernels: the kernel table (default KERNELS)."""
    kernels = KERNELS if kernels is None else kernels
    return {n.name: choose_kernel(n, storage, kernels, planned) for n in g.nodes}


def lean_scratch_sizes(g: Graph, choices: dict[str, KernelChoice]) -> dict[str, int] | None:
    """scratch_sizes with every fast kernel that can run on less (fast.lean_scratch) cut to
    that: a RAM limit's second try (pass it as choose_kernel's `planned`). None if no
    kernel can."""
    sizes = scratch_sizes(choices)
    cut = {n.name: fast.lean_scratch(n) for n in g.nodes if choices[n.name].fast
           and n.op in fast.LEAN_SCRATCH and choices[n.name].kernel == n.op
           and sizes.get(n.name, 0) > fast.lean_scratch(n)}
    cut.update({n.name: packed_fast.scratch(n) for n in packed_whole_blocks(g, choices)
                if sizes.get(n.name, 0) > packed_fast.scratch(n)})   # back to BLOCK_BYTES
    return {**sizes, **cut} if cut else None


def packed_whole_blocks(g: Graph, choices: dict[str, KernelChoice]) -> list[Node]:
    """The fast packed conv2d layers (packed_fast) whose whole filter as one block would
    take more scratch than their BLOCK_BYTES blocks: a speed-up where it fits (fewer
    im2col passes)."""
    return [n for n in g.nodes if n.op == "conv2d" and choices[n.name].fast
            and choices[n.name].weight_format in packed_fast.FORMATS
            and packed_fast.whole_scratch(n) > packed_fast.scratch(n)]


def scratch_sizes(choices: dict[str, KernelChoice]) -> dict[str, int]:
    """{node name: scratch bytes} of the kernels that need arena scratch (plan_memory's
    `scratch`)."""
    return {name: c.scratch for name, c in choices.items() if c.scratch}


def weight_rows(choices: dict[str, KernelChoice]) -> list[dict]:
    """The layers' storage rows in graph order (report["weight_formats"])."""
    return [c.weights for c in choices.values() if c.weights is not None]


def in_place_kernels(g: Graph, choices: dict[str, KernelChoice]) -> dict[str, int]:
    """{node name: scratch bytes} of the nodes an in-place kernel ("<op>.inplace", Kernel
    in_place) could run instead of their dense kernel (the in-place depthwise: one channel as
    the temporary). Only a RAM limit uses them (passes.patch.fit_ram); plain plans never do."""
    from .kernels import depthwise_inplace_fits
    out = {}
    for n in g.nodes:
        entry = KERNELS.get(f"{n.op}.inplace")
        if (entry is not None and entry.in_place and choices[n.name].kernel == n.op
                and depthwise_inplace_fits(n)):
            out[n.name] = int(entry.scratch(n))
    return out


def use_in_place(g: Graph, choices: dict[str, KernelChoice], names) -> dict[str, KernelChoice]:
    """choices with the in-place kernel for the nodes `names` (the plan's in-place windows)."""
    out = dict(choices)
    by_name = {n.name: n for n in g.nodes}
    for name in names:
        n, c = by_name[name], choices[name]
        entry = KERNELS[f"{n.op}.inplace"]
        scratch = int(entry.scratch(n))
        out[name] = KernelChoice(name, n.op, f"{n.op}.inplace", c.weight_format, scratch,
                                 False, f"in place under the RAM limit ({scratch:,} B: one "
                                 "input channel)", c.weights)
    return out
