"""The C of a patched stage (ir/patch.py): the band program unrolled, straight-line.

Each Run is the layer's own kernel call (the entry select_kernels chose, its constant arrays
rendered once) on a band: input and output pointers at the band's rows, input/output heights
of the band, the top padding of the band (the layer's own only at the top border); the kernel
treats the rows past the band's input as the bottom border's padding. Each Shift is a memmove
of the rows a line buffer keeps.
"""
from __future__ import annotations

from ..errors import TinycError
from ..ir.patch import Run, Stage, band_program, stage_nodes
from .cgen import dims4


def _row_bytes(v) -> int:
    return int(v.shape[2]) * int(v.shape[3]) * v.dtype.itemsize


def lower_stage(graph, stage: Stage, ctx, kernels, env) -> tuple[dict, set[str]]:
    """({"comment", "code"}, runtime sources) of the stage."""
    nodes = stage_nodes(graph, stage)
    prog = band_program(graph, stage)
    args, templates, sources = [], [], set()
    for node in nodes:
        choice = ctx.choice(node)
        if choice.kernel != node.op:
            raise TinycError(f"node '{node.name}' ({node.op}): kernel '{choice.kernel}' cannot "
                             "run in a patched stage — only the int8 dense kernels do; "
                             "compile with storage='dense' or a higher ram_limit")
        k = kernels[choice.kernel]
        args.append(k.args(node, ctx))
        templates.append(env.get_template(k.template))
        sources.update(k.sources)
    lines = [f"/* patched stage: {len(nodes)} layers in row bands of {stage.rows} output "
             f"row(s), {prog.calls} kernel calls, line buffers "
             f"{sum(prog.buffer_bytes):,} B */"]
    for st in prog.steps:
        if not isinstance(st, Run):
            if st.keep:
                v = nodes[st.layer].outputs[0]
                rb = _row_bytes(v)
                lines.append(f"memmove({ctx.ptr(v)}, {ctx.ptr(v, st.drop * rb)}, "
                             f"{st.keep * rb}); /* line buffer {st.layer}: keep {st.keep} "
                             "row(s) */")
            continue
        node = nodes[st.layer]
        x, y = node.inputs[0], node.outputs[0]
        a = dict(args[st.layer])
        a["input"] = ctx.ptr(x, st.in_local * _row_bytes(x))
        a["output"] = ctx.ptr(y, st.out_local * _row_bytes(y))
        a["input_dims"] = dims4((x.shape[0], st.in_rows) + tuple(x.shape[2:]))
        a["output_dims"] = dims4((y.shape[0], st.n) + tuple(y.shape[2:]))
        a["padding"] = (st.pad_top, tuple(node.attrs["pads"])[1])
        lines.append(f"/* {node.name}: rows [{st.row}, {st.row + st.n}) */")
        lines.append(templates[st.layer].render(**a).rstrip("\n"))
    names = ", ".join(n.name for n in nodes)
    return {"comment": f"patched stage ({names})", "code": "\n".join(lines)}, sources
