"""Helpers for the frontend tests: run a model in onnxruntime and the IR, compare."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from tinyc.frontend import load_onnx
from tinyc.ir import OPS, interpret, verify


def session(model) -> ort.InferenceSession:
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def random_feeds(graph, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {v.name: rng.standard_normal(v.shape).astype(np.float32) for v in graph.inputs}


def assert_close(got, want, rtol: float = 1e-4) -> None:
    """Within rtol relative to the largest magnitude of the reference output."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    tol = rtol * max(np.abs(want).max(), 1e-6)
    err = np.abs(got - want).max()
    assert err <= tol, f"max abs error {err:.3g} > {tol:.3g} (rtol {rtol} of max |ref|)"


def check_float(model, input_shapes=None, rtol: float = 1e-4, seeds=(0, 1)):
    """Import `model`, verify the IR and compare interpret() with onnxruntime; return the graph."""
    g = load_onnx(model, input_shapes)
    verify(g)
    sess = session(model)
    for seed in seeds:
        feeds = random_feeds(g, seed)
        want = sess.run(None, feeds)
        got = interpret(g, feeds)
        assert len(got) == len(want)
        for gv, wv in zip(got, want):
            assert_close(gv, wv, rtol)
    return g


def ops_of(g) -> list[str]:
    return [n.op for n in g.nodes]


# -- the QDQ view: float ops, rounding every annotated activation to its quantization grid -----

def dequantize_const(v) -> np.ndarray:
    """A constant's real values (int8 weights / int32 biases with q; float as is)."""
    if v.q is None:
        return v.data.astype(np.float64)
    shape = [1] * v.data.ndim
    if v.q.axis is not None:
        shape[v.q.axis] = -1
    s = np.asarray(v.q.scale).reshape(shape)
    zp = np.asarray(v.q.zero_point).reshape(shape)
    return (v.data.astype(np.float64) - zp) * s


def fake_quant(x: np.ndarray, q) -> np.ndarray:
    y = np.clip(np.round(x / q.s) + q.zp, -128, 127)
    return ((y - q.zp) * q.s).astype(np.float32)


def interpret_qdq(g, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Float semantics with each q-annotated activation rounded to its grid (what ORT runs)."""
    env = {}
    for v in g.inputs:
        x = np.asarray(feeds[v.name], np.float32).reshape(v.shape)
        env[id(v)] = fake_quant(x, v.q) if v.q else x
    for node in g.nodes:
        args = [None if v is None else dequantize_const(v) if v.is_const else env[id(v)]
                for v in node.inputs]
        while args and args[-1] is None:
            args.pop()
        out = np.asarray(OPS[node.op].run_float(node, *args), np.float32)
        v = node.outputs[0]
        env[id(v)] = fake_quant(out, v.q) if v.q else out.reshape(v.shape)
    return [env[id(v)] for v in g.outputs]


# -- building small models with onnx.helper ---------------------------------------------------

def make_model(nodes, inputs: dict, outputs, inits: dict | None = None,
               opset: int = 13, itype=onnx.TensorProto.FLOAT) -> onnx.ModelProto:
    """inputs: name -> shape (dims may be str for symbolic); outputs: names (shapes inferred)
    or name -> float32 shape."""
    from onnx import helper, numpy_helper
    outs = outputs if isinstance(outputs, dict) else dict.fromkeys(outputs)
    g = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(n, itype, s) for n, s in inputs.items()],
        [helper.make_empty_tensor_value_info(n) if s is None else
         helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, s) for n, s in outs.items()],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset < 19 else 10
    return onnx.shape_inference.infer_shapes(m)          # fills in the output types


def rand(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
