"""One place per op: an op registered in a test-only module (newops.py) — an OpDef and, for
ONNX, one op function — is folded, fused, calibrated, quantized, pruned (unstructured and
structured), compressed and batch-pinned with no other edit; and every registered op has the
facts the passes read."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from onnx import TensorProto
from onnx import helper as h

from tinyc.errors import UnsupportedOpError
from tinyc.frontend import load_onnx
from tinyc.ir import OPS, DType, Graph, TensorType, interpret, verify
from tinyc.ir.ops import layer_ops
from tinyc.ir.ops.conv import INT_ATTRS
from tinyc.passes.compress import Compression, compress
from tinyc.passes.fold_batchnorm import fold_batchnorm
from tinyc.passes.fuse_activation import fuse_activation
from tinyc.passes.prune_structured import prune_structured
from tinyc.passes.quant_rules import quant_rule
from tinyc.passes.quantize import quantize

from . import newops


@pytest.fixture
def new_ops():
    newops.register()
    yield
    newops.unregister()


def _rand(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _net(seed: int = 0) -> Graph:
    """x[1, 8] -> dense_t -> batch_norm -> relu -> dense_t -> softsign"""
    rng = np.random.default_rng(seed)
    g = Graph("new_op")
    x = g.add_input("x", TensorType(DType.FLOAT32, (1, 8)))
    y = g.emit("dense_t", [x, g.const("w1", _rand(rng, 8, 12)), g.const("b1", _rand(rng, 12))])
    bn = [g.const(n, v) for n, v in (("s", np.abs(_rand(rng, 12)) + 0.5), ("b", _rand(rng, 12)),
                                      ("m", _rand(rng, 12)), ("v", np.abs(_rand(rng, 12)) + 0.5))]
    y = g.emit("relu", [g.emit("batch_norm", [y, *bn], {"epsilon": 1e-5})])
    y = g.emit("dense_t", [y, g.const("w2", _rand(rng, 12, 6)), g.const("b2", _rand(rng, 6))])
    g.outputs = [g.emit("softsign", [y])]
    return verify(g)


def _samples(n: int = 64, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"x": _rand(rng, 1, 8, scale=1.0)} for _ in range(n)]


def _float_passes(g: Graph) -> Graph:
    return verify(fuse_activation(fold_batchnorm(g)))


def _run_int(g: Graph, feed: dict) -> np.ndarray:
    qi, qo = g.inputs[0].q, g.outputs[0].q
    x = np.clip(np.round(feed["x"] / qi.s) + qi.zp, -128, 127).astype(np.int8)
    return (interpret(g, {"x": x})[0].astype(np.float64) - qo.zp) * qo.s


def test_fold_and_fuse(new_ops):
    g = _net()
    want = [interpret(g, s)[0] for s in _samples(4)]
    g = _float_passes(g)
    assert [n.op for n in g.nodes] == ["dense_t", "dense_t", "softsign"]
    assert g.nodes[0].attrs["act"] == (0.0, np.inf)                 # the relu, fused
    for s, w in zip(_samples(4), want):
        np.testing.assert_allclose(interpret(g, s)[0], w, rtol=1e-4, atol=1e-5)


def test_calibrate_and_quantize(new_ops):
    g = _float_passes(_net())
    ref = [interpret(g, s)[0] for s in _samples(8)]
    q = quantize(g, _samples())
    first, second, table = q.nodes
    w = first.inputs[1]
    assert w.dtype is DType.INT8 and w.q.axis == 1 and len(w.q.scale) == 12   # per channel
    assert first.inputs[2].dtype is DType.INT32 and len(first.attrs["multiplier"]) == 12
    assert second.inputs[1].q.axis == 1 and len(second.inputs[1].q.scale) == 6
    assert table.op == "lut" and table.attrs["fn"] == "softsign"
    err = max(np.abs(_run_int(q, s) - r).max() for s, r in zip(_samples(8), ref))
    assert err < 0.05, err


def test_prune_and_compress(new_ops):
    g = _float_passes(_net())
    g, report = compress(g, _samples(), Compression(prune=0.5, weights="int4"))
    assert sorted(report["layers"]) == sorted(n.name for n in g.nodes if n.op == "dense_t")
    for n in g.nodes[:2]:
        w = n.inputs[1].data
        assert w.dtype == np.int8 and np.abs(w).max() <= 7 and n.inputs[1].q.axis == 1
        assert 0.4 <= np.mean(w == 0) <= 0.6, np.mean(w == 0)
    q = quantize(g, _samples())
    assert [n.op for n in q.nodes] == ["dense_t", "dense_t", "lut"]


def test_structured_pruning(new_ops):
    g = _float_passes(_net())
    kept, report = prune_structured(g, _samples(), 0.25)
    first, second = g.nodes[:2]
    assert report["groups"] and report["groups"][0]["layers"] == [first.name]
    assert first.inputs[1].shape == (8, 9) and first.inputs[2].shape == (9,)   # axis 1 shrank
    assert second.inputs[1].shape == (9, 6)                                     # its K rows
    assert list(kept[first.name]) == sorted(kept[first.name]) and len(kept[first.name]) == 9
    verify(g)


def _softsign_model(batch: int):
    return h.make_model(h.make_graph(
        [h.make_node("Softsign", ["X"], ["Y"])], "softsign",
        [h.make_tensor_value_info("X", TensorProto.FLOAT, [batch, 5])],
        [h.make_tensor_value_info("Y", TensorProto.FLOAT, [batch, 5])]),
        opset_imports=[h.make_opsetid("", 13)])


def test_batch_pinning_reads_the_new_op():
    with pytest.raises(UnsupportedOpError, match="Softsign"):       # not registered: refused
        load_onnx(_softsign_model(4), input_shapes={"X": (1, 5)})
    newops.register()
    try:
        g = load_onnx(_softsign_model(4), input_shapes={"X": (1, 5)})
    finally:
        newops.unregister()
    assert [n.op for n in g.nodes] == ["softsign"] and g.inputs[0].shape == (1, 5)


# -- every op has the facts the passes read ------------------------------------------------------

def missing_facts(name: str, opdef) -> list[str]:
    """What a pass would miss on this op (empty: nothing)."""
    out = []
    if opdef.run_float is None:
        out.append("run_float (interpret, calibrate, compress)")
    if opdef.layer is not None:
        layer = opdef.layer
        if not isinstance(layer.weight_axis, int):
            out.append("layer.weight_axis (quantize, fold_batchnorm, prune)")
        if opdef.run_int is None or not set(INT_ATTRS) <= set(opdef.int_attrs):
            out.append("run_int and the layer's int_attrs (quantize, interpret)")
        if quant_rule(name) is None:
            out.append("a quantization rule")
        if not opdef.clamps:
            out.append("clamps (fuse_activation)")
    if opdef.table is not None and not (opdef.elementwise and opdef.channel_tie):
        out.append("elementwise and channel_tie (a lookup-table op: batch pinning, pruning)")
    if opdef.clamp_range is not None and opdef.table is None:
        out.append("table (a clamp that does not fuse becomes a lookup table)")
    if opdef.int16_follow and not opdef.int16:
        out.append("int16 (an op that follows int16 inputs has an int16 form)")
    return out


def test_every_op_has_the_facts_the_passes_read():
    assert set(layer_ops()) >= {"conv2d", "depthwise_conv2d", "fully_connected"}
    bad = {name: m for name, d in OPS.items() if (m := missing_facts(name, d))}
    assert not bad, bad


def test_a_layer_without_integer_form_is_caught():
    fc = OPS["fully_connected"]
    broken = dataclasses.replace(fc, run_int=None, clamps=False)
    assert len(missing_facts("fully_connected", broken)) == 2
    assert missing_facts("fully_connected", dataclasses.replace(
        fc, layer=dataclasses.replace(fc.layer, weight_axis=None)))
