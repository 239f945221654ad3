"""The C of a patched stage (ir/patch.py): the band program, its repeating runs of calls rolled
into loops (backend_c/loop_roll.py: the interior bands differ only in pointer offsets, the
border bands stay separate calls), so flash grows by a small constant per stage.

Each Run is the layer's own kernel call (the entry select_kernels chose, its constant arrays
rendered once) on a band: input and output pointers at the band's rows, the band's heights and
widths, the band's top/left padding (the layer's own only at the image border); the kernel
treats the rows and columns past the band's input as the border's padding. A Shift is a
memmove of the rows a line buffer keeps; a Copy moves rows of a column strip between the
stage's input/output and the strip buffers.
"""
from __future__ import annotations

from ..errors import TinycError
from ..ir.patch import (Copy, Run, Stage, band_program, chain_index, side_inputs, stage_key,
                        stage_lead, stage_nodes)
from .cgen import c_comment, dims4
from .loop_roll import roll


def _copy_rows(dst: str, dst_stride: int, src: str, src_stride: int, n: int, size: int) -> str:
    if n == 1:
        return f"memcpy({dst}, {src}, {size});"
    return (f"{{ int32_t r; for (r = 0; r < {n}; r++) {{ memcpy({dst} + r * {dst_stride}, "
            f"{src} + r * {src_stride}, {size}); }} }}")


def _copy_transposed(dst: str, src: str, n: int, width: int, ch: int, h: int, w: int,
                     ctype: str) -> str:
    """n rows of `width` pixels from an NCHW tensor (src: channel 0 of the first row's first
    pixel; h x w per channel) into NHWC rows at dst."""
    return (f"{{ const {ctype} *s = (const {ctype} *)({src}); {ctype} *d = ({ctype} *)({dst}); "
            f"int32_t r, x, c; for (r = 0; r < {n}; r++) {{ for (x = 0; x < {width}; x++) {{ "
            f"for (c = 0; c < {ch}; c++) {{ d[(r * {width} + x) * {ch} + c] = "
            f"s[c * {h * w} + r * {w} + x]; }} }} }} }}")


def lower_stage(graph, stage: Stage, ctx, kernels, env) -> tuple[dict, set[str]]:
    """({"comment", "code"}, runtime sources) of the stage."""
    nodes = stage_nodes(graph, stage)
    prog = band_program(graph, stage)
    strips = stage.cols > 1
    lead = stage_lead(graph, stage)
    sides = side_inputs(graph, stage)
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
    x0, y_last = nodes[0].inputs[0], nodes[-1].outputs[0]
    c_in = int(x0.shape[3]) * x0.dtype.itemsize
    c_out = int(y_last.shape[3]) * y_last.dtype.itemsize

    def arena(key: str, byte_offset: int = 0) -> str:
        return f"TINYC_ARENA + {ctx.offsets[stage_key(stage, key)] + byte_offset}"

    lines = [f"/* patched stage: {len(nodes)} layers in row bands of {stage.rows} output "
             f"row(s) x {stage.cols} column strip(s), {prog.calls} kernel calls, line buffers "
             f"{sum(prog.buffer_bytes) + prog.in_bytes + prog.out_bytes:,} B, "
             f"{prog.extra_macs:,} MACs recomputed */"]
    units = []
    for st in prog.steps:
        if isinstance(st, Copy):
            if st.into and lead is not None:     # the leading transpose: NCHW rows -> NHWC
                src = lead.inputs[0]
                if src.dtype.itemsize != 1:
                    raise TinycError(f"node '{lead.name}' ({lead.op}): a {src.dtype.value} "
                                     "input cannot lead a patched stage — int8 only; compile "
                                     "with a higher ram_limit")
                h, w = int(src.shape[2]), int(src.shape[3])
                units.append(_copy_transposed(arena("in", st.local * st.width * c_in),
                                              ctx.ptr(src, st.row * w + st.col), st.n,
                                              st.width, int(src.shape[1]), h, w,
                                              src.dtype.c_type)
                             + f" /* {c_comment(lead.name)}: input rows [{st.row}, "
                             f"{st.row + st.n}) */")
            elif st.into:
                w_full = int(x0.shape[2]) * c_in
                units.append(_copy_rows(arena("in", st.local * st.width * c_in),
                                        st.width * c_in,
                                        ctx.ptr(x0, st.row * w_full + st.col * c_in), w_full,
                                        st.n, st.width * c_in)
                             + f" /* input rows [{st.row}, {st.row + st.n}) */")
            else:
                w_full = int(y_last.shape[2]) * c_out
                units.append(_copy_rows(ctx.ptr(y_last, st.row * w_full + st.col * c_out),
                                        w_full, arena("out"), st.width * c_out, st.n,
                                        st.width * c_out)
                             + f" /* output rows [{st.row}, {st.row + st.n}) */")
            continue
        if not isinstance(st, Run):
            if st.keep:
                rb = st.width * (c_in if st.layer < 0 else prog.channels[st.layer])
                dst = arena("in") if st.layer < 0 else ctx.ptr(nodes[st.layer].outputs[0])
                src = (arena("in", st.drop * rb) if st.layer < 0 else
                       ctx.ptr(nodes[st.layer].outputs[0], st.drop * rb))
                units.append(f"memmove({dst}, {src}, {st.keep * rb}); /* line buffer "
                             f"{st.layer}: keep {st.keep} row(s) */")
            continue
        node = nodes[st.layer]
        k = chain_index(node, nodes[st.layer - 1].outputs[0] if st.layer else None)
        x, y = node.inputs[k], node.outputs[0]
        ci, co = int(x.shape[3]) * x.dtype.itemsize, int(y.shape[3]) * y.dtype.itemsize
        a = dict(args[st.layer])
        last = st.layer == len(nodes) - 1
        if st.layer == 0:
            a["input"] = (arena("in", st.in_local * st.in_w * ci) if strips or lead else
                          ctx.ptr(x, st.in_local * st.in_w * ci))
        else:
            a["input"] = ctx.ptr(x, st.in_local * st.in_w * ci)
        if last:
            a["output"] = arena("out") if strips else ctx.ptr(y, st.row * st.out_w * co)
        else:
            a["output"] = ctx.ptr(y, st.out_local * st.out_w * co)
        if "size" in a:       # an elementwise kernel (lut): the band's elements, contiguous
            a["size"] = st.n * st.out_w * int(y.shape[3])
        a["input_dims"] = dims4((x.shape[0], st.in_rows, st.in_w, x.shape[3]))
        a["output_dims"] = dims4((y.shape[0], st.n, st.out_w, y.shape[3]))
        a["padding"] = (st.pad_top, st.pad_left)
        if "before" in a:     # pad: the band's own padding before its input rows/columns
            a["before"] = (0, st.pad_top, st.pad_left, 0)
        if st.layer in sides:     # a residual add: the chain's band and the other operand's
            side = sides[st.layer]     # rows [row, row + n), columns [col, col + out_w)
            sh, sw, sc = (int(d) for d in side.shape[1:])
            k += 1
            a[f"in{k}"] = a["input"]
            a[f"in{k}_strides"] = (st.n * st.out_w * sc, st.in_w * sc, sc, 1)
            if st.side_w:      # an earlier layer of the stage: its line buffer
                sh, sw = st.side_local + st.n, st.side_w
                a[f"in{3 - k}"] = ctx.ptr(side, (st.side_local * sw + st.side_c0) * sc)
            else:
                a[f"in{3 - k}"] = ctx.ptr(side, (st.row * sw + st.col) * sc)
            a[f"in{3 - k}_strides"] = (sh * sw * sc, sw * sc, sc, 1)
        units.append(f"/* {c_comment(node.name)}: rows [{st.row}, {st.row + st.n}) */\n"
                     + templates[st.layer].render(**a).rstrip("\n"))
    lines += roll(units)
    names = ", ".join(n.name for n in nodes)
    return {"comment": f"patched stage ({names})", "code": "\n".join(lines)}, sources
