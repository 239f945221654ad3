"""Helpers for pass tests: tiny IR graph builders and structural comparison."""
from __future__ import annotations

import numpy as np

from tinyc.ir import DType, Graph, TensorType

CONV = {"stride": (1, 1), "pads": (1, 1, 1, 1), "dilation": (1, 1)}


def rand(rng, *shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def new_graph(shape=(1, 6, 6, 3)):
    g = Graph("t")
    return g, g.add_input("x", TensorType(DType.FLOAT32, shape))


def signature(g: Graph) -> list:
    """Structure of a graph independent of value names: ops, wiring, attrs, constants."""
    index = {id(v): f"in{i}" for i, v in enumerate(g.inputs)}
    sig = []
    for k, n in enumerate(g.nodes):
        args = []
        for v in n.inputs:
            if v is None:
                args.append(None)
            elif v.is_const:
                args.append(("const", v.shape, np.round(v.data.astype(np.float64), 5).tobytes()))
            else:
                args.append(index[id(v)])
        for j, v in enumerate(n.outputs):
            index[id(v)] = f"n{k}.{j}"
        attrs = {a: (round(x, 6) if isinstance(x, float) else x) for a, x in n.attrs.items()}
        sig.append((n.op, tuple(args), sorted(attrs.items()), [v.shape for v in n.outputs]))
    return sig + [("return", [index[id(v)] for v in g.outputs])]


def assert_same_graph(a: Graph, b: Graph) -> None:
    sa, sb = signature(a), signature(b)
    assert sa == sb, f"graphs differ:\n{a}\n--- expected ---\n{b}"
