"""interpret(): the numpy golden model. Float graphs run the float semantics; integer graphs
run the exact integer arithmetic the generated C must reproduce bit for bit."""
from __future__ import annotations

import numpy as np

from ..errors import TinycError
from .graph import Graph, Value
from .ops import OPS


def float_data(v: Value) -> np.ndarray:
    """A constant's real values: quantized constants (QDQ weights) are dequantized."""
    if v.dtype.is_float or v.q is None:
        return v.data
    shape = [1] * v.data.ndim
    if v.q.axis is not None:
        shape[v.q.axis] = -1
    scale = np.asarray(v.q.scale, np.float64).reshape(shape)
    zp = np.asarray(v.q.zero_point, np.float64).reshape(shape)
    return ((v.data - zp) * scale).astype(np.float32)


def interpret(graph: Graph, feeds: dict[str, np.ndarray] | list[np.ndarray],
              keep: bool = False) -> list[np.ndarray] | dict[Value, np.ndarray]:
    """Run the graph on one batch. feeds: by graph-input name or in input order.

    Returns the outputs in order, or with keep=True a dict of every activation's value.
    A patched stage (ir/patch.py, graph.patch_stages) runs band by band as the C does; with
    keep=True every activation is kept, so the graph runs unpatched (the same bits).
    """
    from .patch import run_stage, stages_of
    stages = {} if keep else {s.nodes[0]: s for s in stages_of(graph)}
    inner = {name for s in stages.values() for name in s.nodes}
    by_name = {n.name: n for n in graph.nodes}
    if not isinstance(feeds, dict):
        feeds = {v.name: a for v, a in zip(graph.inputs, feeds)}
    env: dict[int, np.ndarray] = {}
    for v in graph.inputs:
        if v.name not in feeds:
            raise TinycError(f"interpret: no value given for graph input '{v.name}'")
        env[id(v)] = np.asarray(feeds[v.name], dtype=v.dtype.np).reshape(v.shape)
    for node in graph.nodes:
        if node.name in stages:
            st = stages[node.name]
            last = by_name[st.nodes[-1]].outputs[0]
            env[id(last)] = run_stage(graph, st, env[id(node.inputs[0])], env).reshape(
                last.shape)
        if node.name in stages or node.name in inner:
            continue
        integer = not node.outputs[0].dtype.is_float
        args = [None if v is None else (env[id(v)] if not v.is_const else
                                        v.data if integer else float_data(v))
                for v in node.inputs]
        while args and args[-1] is None:
            args.pop()
        opdef = OPS[node.op]
        fn = opdef.run_int if integer else opdef.run_float
        if fn is None:
            kind = "integer" if integer else "float"
            raise TinycError(f"node '{node.name}' ({node.op}): has no {kind} semantics")
        out = fn(node, *args)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for v, a in zip(node.outputs, outs):
            env[id(v)] = np.asarray(a).astype(v.dtype.np, copy=False).reshape(v.shape)
    if keep:
        by_id = {id(v): v for v in graph.values()}
        return {by_id[k]: a for k, a in env.items()}
    return [env[id(v)] for v in graph.outputs]
