"""One stable line per node:
%conv1: i8[1,16,16,8] q(s=0.0235,zp=-128) = conv2d(%x, %w3, %b3) {stride=(1,1), ...}"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:                        # annotations only: graph imports the printer
    from .graph import Graph, Node


def _fmt_attr(v) -> str:
    if isinstance(v, (tuple, list, np.ndarray)) and len(v) > 6:
        v = list(v)
        return f"[{v[0]}, {v[1]}, ... x{len(v)}]"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, tuple):
        return "(" + ",".join(_fmt_attr(x) for x in v) + ")"
    return str(v)


def format_node(node: Node) -> str:
    outs = ", ".join(f"%{v.name}: {v.type}" for v in node.outputs)
    args = ", ".join("_" if v is None else f"%{v.name}" for v in node.inputs)
    attrs = ", ".join(f"{k}={_fmt_attr(v)}" for k, v in sorted(node.attrs.items()))
    return f"{outs} = {node.op}({args})" + (f" {{{attrs}}}" if attrs else "")


def format_graph(g: Graph) -> str:
    lines = [f"graph {g.name}("
             + ", ".join(f"%{v.name}: {v.type}" for v in g.inputs) + ")"]
    for c in g.constants():
        lines.append(f"  const %{c.name}: {c.type}")
    lines += ["  " + format_node(n) for n in g.nodes]
    lines.append("  return " + ", ".join(f"%{v.name}" for v in g.outputs))
    return "\n".join(lines)
