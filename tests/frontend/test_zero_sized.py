"""Zero-sized tensors (a dim of size 0; frontend/onnx_empty.py, ir/ops/empty.py): a node whose
outputs have no elements is not computed, a model input or output of size 0 stays in the C API
as a pointer the code never reads or writes (model.h documents it), and the rest of the model
runs as usual — checked against onnxruntime and, bit for bit, host C == interpret()."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto
from onnx import helper as h

import tinyc
from tinyc.errors import UnsupportedOpError

from .util import make_model, rand, session


def _i64(*v):
    return np.array(v, np.int64)


def _mixed():
    """x (1,4,5) -> Relu -> y; x -> Slice(axis 1, 10:10) -> e (1,0,5); z (1,0,3) -> Relu
    -> w (1,0,3): one output with elements, two without, one input without."""
    nodes = [h.make_node("Relu", ["x"], ["y"]),
             h.make_node("Slice", ["x", "st", "en", "ax"], ["e"]),
             h.make_node("Relu", ["z"], ["w"])]
    return make_model(nodes, {"x": [1, 4, 5], "z": [1, 0, 3]}, ["y", "e", "w"],
                      {"st": _i64(10), "en": _i64(10), "ax": _i64(1)})


def _compile(model, tmp_path, calib):
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    return tinyc.compile(path, calib=calib, progress=None, name="zs")


def test_empty_outputs_and_input_match_onnxruntime_and_host_c(tmp_path):
    model = _mixed()
    calib = {"x": np.stack([rand(1, 4, 5, seed=s) for s in range(8)]),
             "z": np.zeros((8, 1, 0, 3), np.float32)}
    m = _compile(model, tmp_path, calib)
    assert [s.shape for s in m.inputs] == [(1, 4, 5), (1, 0, 3)]
    assert [s.shape for s in m.outputs] == [(1, 4, 5), (1, 0, 5), (1, 0, 3)]
    assert sorted(n.op for n in m.graph.nodes if n.op == "empty") == ["empty", "empty"]
    z = np.zeros((1, 0, 3), np.float32)
    for seed in (20, 21, 22):
        x = rand(1, 4, 5, seed=seed)
        want = session(model).run(None, {"x": x, "z": z})
        got = m.interpret([x, z])
        assert [g.shape for g in got] == [w.shape for w in want]
        # int8 Relu: the input's rounding (half an input step) plus one output step
        assert np.abs(got[0] - want[0]).max() <= m.inputs[0].scale / 2 + m.outputs[0].scale
        xq = [s.quantize(a) for s, a in zip(m.inputs, (x, z))]
        gold = m.interpret(xq)
        host = m.run_host(xq)
        for g, c in zip(gold, host):
            assert g.shape == c.shape and np.array_equal(g, c)


def test_header_documents_size_0_and_c_never_touches_it(tmp_path):
    m = _compile(_mixed(), tmp_path, {"x": np.stack([rand(1, 4, 5, seed=s) for s in range(4)]),
                                      "z": np.zeros((4, 1, 0, 3), np.float32)})
    d = m.write(tmp_path / "c")
    header = (d / "zs.h").read_text()
    assert "#define ZS_IN1_SIZE 0" in header and "#define ZS_OUT1_SIZE 0" in header
    assert header.count("no elements, the pointer is never read or written") == 3
    assert "[ZS_IN1_SIZE]" not in header and "[ZS_OUT2_SIZE]" not in header  # no 0-length arrays
    body = (d / "zs.c").read_text()
    assert "(void)in1;" in body and "(void)out1;" in body and "(void)out2;" in body
    assert "memcpy(out1" not in body and "in1)" not in body.replace("(void)in1", "")
    # the C API: NULL for the size-0 buffers (cffi), the other output as interpret()
    from tinyc.backend_c.host import build_host
    hm = build_host(d)
    ffi, fn = hm.module.ffi, hm._fn
    x = m.inputs[0].quantize(rand(1, 4, 5, seed=5))
    y = np.zeros(20, np.int8)
    fn(ffi.from_buffer("int8_t[]", x), ffi.NULL, ffi.from_buffer("int8_t[]", y), ffi.NULL,
       ffi.NULL)
    assert np.array_equal(y, m.interpret([x, np.zeros((1, 0, 3), np.int8)])[0].reshape(-1))


@pytest.mark.parametrize("op,const", [("ReduceMax", "-inf"), ("ReduceMean", "NaN")])
def test_reduction_over_an_empty_set_is_refused_naming_the_node(tmp_path, op, const):
    model = make_model([h.make_node(op, ["z", "ax"], ["r"], name="red")], {"z": [1, 0, 4]},
                       ["r"], {"ax": _i64(1)}, opset=18)
    with pytest.raises(UnsupportedOpError, match=rf"node 'red' \({op}.*empty set.*constant "
                                                 rf"{const}"):
        _compile(model, tmp_path, {"z": np.zeros((2, 1, 0, 4), np.float32)})


def test_split_with_an_empty_part_matches_onnxruntime_and_host_c(tmp_path):
    model = make_model([h.make_node("Split", ["x", "sp"], ["a", "b", "c"], axis=1)],
                       {"x": [1, 5, 3]}, ["a", "b", "c"], {"sp": _i64(2, 0, 3)})
    m = _compile(model, tmp_path, {"x": np.stack([rand(1, 5, 3, seed=s) for s in range(8)])})
    assert [s.shape for s in m.outputs] == [(1, 2, 3), (1, 0, 3), (1, 3, 3)]
    for seed in (30, 31):
        x = rand(1, 5, 3, seed=seed)
        want = session(model).run(None, {"x": x})
        got = m.interpret(x)
        assert [g.shape for g in got] == [w.shape for w in want]
        for g, w in ((got[0], want[0]), (got[2], want[2])):   # bytes moved: the input's step
            assert np.abs(g - w).max() <= m.inputs[0].scale / 2 + 1e-6
        xq = m.inputs[0].quantize(x)
        for g, c in zip(m.interpret(xq), m.run_host(xq)):
            assert g.shape == c.shape and np.array_equal(g, c)


@pytest.mark.parametrize("op,value", [("ReduceSum", 0.0)])
def test_reduction_over_an_empty_set_is_its_constant(tmp_path, op, value):
    """ONNX's value for no elements (onnx.reference and onnxruntime agree), as int8 at scale
    1, zero point 0: exact; the C writes it with memset."""
    model = make_model([h.make_node(op, ["z", "ax"], ["r"], keepdims=1)], {"z": [1, 0, 4]},
                       ["r"], {"ax": _i64(1)}, opset=18)
    m = _compile(model, tmp_path, {"z": np.zeros((2, 1, 0, 4), np.float32)})
    z = np.zeros((1, 0, 4), np.float32)
    from onnx.reference import ReferenceEvaluator
    want = session(model).run(None, {"z": z})[0]
    assert np.array_equal(want, ReferenceEvaluator(model).run(None, {"z": z})[0])
    assert want.shape == (1, 1, 4) and np.all(want == value)
    assert np.array_equal(m.interpret(z), want)
    zq = np.zeros((1, 0, 4), np.int8)
    assert np.array_equal(m.run_host(zq), m.interpret(zq))
    assert np.all(m.interpret(zq) == int(value))


@pytest.mark.parametrize("kw,how", [({}, r"per axis, 3 scales along axis 1"),
                                    ({"block_size": 2}, r"blocked, 6 scales in blocks of 2")])
def test_per_axis_or_blocked_quantized_io_is_refused_with_the_fix(tmp_path, kw, how):
    """(Not zero-sized, the other ONNX backend refusals of issue 15 acceptance 4.) A model
    input quantized per axis / in blocks: the C API describes an I/O by one scale."""
    shape, s_shape = ([1, 3, 2, 2], [3]) if not kw else ([1, 4, 3], [1, 2, 3])
    model = make_model([h.make_node("DequantizeLinear", ["x", "s", "zp"], ["y"], axis=1, **kw)],
                       {"x": shape}, ["y"],
                       {"s": np.full(s_shape, 0.5, np.float32),
                        "zp": np.zeros(s_shape, np.uint8)},
                       opset=21, itype=TensorProto.UINT8)
    with pytest.raises(UnsupportedOpError, match=rf"per-channel quantization of an activation "
                                                 rf"\({how}.*quantize this tensor with one"):
        _compile(model, tmp_path, None)


def test_qemu_equals_host_c_with_size_0_io(tmp_path):
    """The board build (QEMU, mps2-an386): the same bits as host C and interpret(), the size-0
    output buffers untouched."""
    m = _compile(_mixed(), tmp_path, {"x": np.stack([rand(1, 4, 5, seed=s) for s in range(4)]),
                                      "z": np.zeros((4, 1, 0, 3), np.float32)})
    xq = [m.inputs[0].quantize(rand(1, 4, 5, seed=3)), np.zeros((1, 0, 3), np.int8)]
    gold = m.interpret(xq)
    for got in (m.run_host(xq), m.run_qemu(xq)):
        assert [g.shape for g in got] == [(1, 4, 5), (1, 0, 5), (1, 0, 3)]
        assert all(np.array_equal(g, w) for g, w in zip(got, gold))


def test_concat_drops_a_zero_sized_operand(tmp_path):
    """Concat(z (1,0,4), x (1,3,4), w (1,2,4)) on axis 1 is the Concat of x and w."""
    model = make_model([h.make_node("Concat", ["z", "x", "w"], ["c"], axis=1),
                        h.make_node("Relu", ["c"], ["y"])],
                       {"z": [1, 0, 4], "x": [1, 3, 4], "w": [1, 2, 4]}, ["y"])
    calib = {"z": np.zeros((8, 1, 0, 4), np.float32),
             "x": np.stack([rand(1, 3, 4, seed=s) for s in range(8)]),
             "w": np.stack([rand(1, 2, 4, seed=s + 50) for s in range(8)])}
    m = _compile(model, tmp_path, calib)
    assert [n.op for n in m.graph.nodes if n.op == "concat"] == ["concat"]
    for seed in (40, 41):
        feeds = {"z": np.zeros((1, 0, 4), np.float32), "x": rand(1, 3, 4, seed=seed),
                 "w": rand(1, 2, 4, seed=seed + 9)}
        want = session(model).run(None, feeds)[0]
        got = m.interpret(list(feeds.values()))
        steps = max(s.scale for s in m.inputs[1:]) / 2 + m.outputs[0].scale
        assert got.shape == want.shape == (1, 5, 4) and np.abs(got - want).max() <= steps
        xq = [s.quantize(a) for s, a in zip(m.inputs, feeds.values())]
        assert np.array_equal(m.run_host(xq), m.interpret(xq))
