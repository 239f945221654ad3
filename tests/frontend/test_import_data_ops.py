"""ONNX data-movement and reduction ops (issues #15, #16): ReduceMean/Sum/Max over any axes,
Slice, Split, Gather (constant indices), Resize (nearest). Float: IR interpret() == onnxruntime;
int8 (calibrated): within quantization error of onnxruntime, host C == interpret()."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

import tinyc

from .. import models
from .util import check_float, make_model, ops_of, session


def node(op, ins, outs, **kw):
    return h.make_node(op, ins, outs, **kw)


def conv_w(o, c, k=1, seed=1):
    return (np.random.default_rng(seed).standard_normal((o, c, k, k)) * 0.4).astype(np.float32)


def _after_conv(op_nodes, x_shape=(1, 3, 6, 5), c_out=4, outputs=("y",), inits=None,
                opset=13):
    """x -> Conv 1x1 (so the data is NHWC in the IR) -> op_nodes (reading 'c')."""
    inits = {"W": conv_w(c_out, x_shape[1]), **(inits or {})}
    return make_model([node("Conv", ["x", "W"], ["c"]), *op_nodes], {"x": list(x_shape)},
                      list(outputs), inits, opset)


REDUCE = [("ReduceMean", [1], 1), ("ReduceMean", [1, 2, 3], 0), ("ReduceMean", [0, 2, 3], 1),
          ("ReduceSum", [-1], 0), ("ReduceSum", [2, 3], 1), ("ReduceMax", [1], 1),
          ("ReduceMax", [1, 2], 0)]


def reduce_model(op, axes, keepdims, opset=13):
    if opset >= 18 or op == "ReduceSum":
        return _after_conv([node(op, ["c", "axes"], ["y"], keepdims=keepdims)],
                           inits={"axes": np.array(axes, np.int64)}, opset=opset)
    return _after_conv([node(op, ["c"], ["y"], axes=axes, keepdims=keepdims)], opset=opset)


@pytest.mark.parametrize("op,axes,keepdims", REDUCE)
def test_reduce_float(op, axes, keepdims):
    g = check_float(reduce_model(op, axes, keepdims))
    want = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "reduce_max"}[op]
    assert want in ops_of(g)


def test_reduce_mean_opset18_and_all_axes():
    check_float(reduce_model("ReduceMean", [1, 2], 0, opset=18))
    m = _after_conv([node("ReduceMax", ["c"], ["y"], keepdims=0)])
    check_float(m)


SLICES = [
    dict(starts=[1, 0], ends=[5, 100], axes=[2, 1], steps=[2, 1]),
    dict(starts=[-1, 4], ends=[-100, 0], axes=[3, 2], steps=[-2, -1]),
    dict(starts=[1], ends=[3], axes=[1], steps=None),
]


def slice_model(starts, ends, axes, steps):
    inits = {"starts": np.array(starts, np.int64), "ends": np.array(ends, np.int64),
             "axes": np.array(axes, np.int64)}
    ins = ["c", "starts", "ends", "axes"]
    if steps is not None:
        inits["steps"] = np.array(steps, np.int64)
        ins.append("steps")
    return _after_conv([node("Slice", ins, ["y"])], inits=inits)


@pytest.mark.parametrize("kw", SLICES)
def test_slice_float(kw):
    assert "slice" in ops_of(check_float(slice_model(**kw)))


def split_model(opset=13):
    if opset >= 18:
        return _after_conv([node("Split", ["c"], ["y0", "y1", "y2"], axis=3, num_outputs=3)],
                           x_shape=(1, 3, 4, 7), outputs=("y0", "y1", "y2"), opset=18)
    return _after_conv([node("Split", ["c", "split"], ["y0", "y1"], axis=1)], c_out=5,
                       outputs=("y0", "y1"), inits={"split": np.array([2, 3], np.int64)})


@pytest.mark.parametrize("opset", [13, 18])
def test_split_float(opset):
    g = check_float(split_model(opset))
    assert ops_of(g).count("slice") == (3 if opset >= 18 else 2)


GATHERS = [(1, [3, 0, 0]), (2, 4), (3, [[1, 0], [4, 2]]), (1, [-1, 1])]


def gather_model(axis, indices):
    return _after_conv([node("Gather", ["c", "idx"], ["y"], axis=axis)],
                       inits={"idx": np.array(indices, np.int64)})


@pytest.mark.parametrize("axis,indices", GATHERS)
def test_gather_float(axis, indices):
    assert "gather" in ops_of(check_float(gather_model(axis, indices)))


RESIZES = [
    dict(scales=[1, 1, 2, 2], mode_kw={}),
    dict(sizes=[1, 4, 9, 4], mode_kw=dict(coordinate_transformation_mode="asymmetric",
                                          nearest_mode="floor")),
    dict(sizes=[1, 4, 11, 7], mode_kw=dict(coordinate_transformation_mode="align_corners",
                                           nearest_mode="round_prefer_ceil")),
    dict(scales=[1, 1, 1.5, 0.6], mode_kw=dict(coordinate_transformation_mode="pytorch_half_pixel",
                                               nearest_mode="ceil")),
    dict(scales=[1, 1, 2, 1.6], mode_kw=dict(mode="linear")),
    dict(sizes=[1, 4, 9, 4], mode_kw=dict(mode="linear",
                                          coordinate_transformation_mode="align_corners")),
    dict(sizes=[1, 4, 11, 3], mode_kw=dict(mode="linear",
                                           coordinate_transformation_mode="asymmetric")),
]


def resize_model(scales=None, sizes=None, mode_kw=None):
    inits = {"roi": np.zeros(0, np.float32)}
    if scales is not None:
        inits["scales"] = np.array(scales, np.float32)
        ins = ["c", "roi", "scales"]
    else:
        inits["scales"] = np.zeros(0, np.float32)
        inits["sizes"] = np.array(sizes, np.int64)
        ins = ["c", "roi", "scales", "sizes"]
    return _after_conv([node("Resize", ins, ["y"], **{"mode": "nearest", **mode_kw})],
                       inits=inits)


@pytest.mark.parametrize("kw", RESIZES)
def test_resize_float(kw):
    want = "resize_bilinear" if kw["mode_kw"].get("mode") == "linear" else "resize_nearest"
    assert want in ops_of(check_float(resize_model(**kw)))


# -- int8: calibrated, onnxruntime within quantization error, host C == interpret() -----------

INT8 = {"reduce_mean": lambda: reduce_model("ReduceMean", [1], 0),
        "reduce_sum": lambda: reduce_model("ReduceSum", [2, 3], 1),
        "reduce_max": lambda: reduce_model("ReduceMax", [1], 1),
        "slice": lambda: slice_model(**SLICES[1]),
        "split": lambda: split_model(13),
        "gather": lambda: gather_model(3, [[1, 0], [4, 2]]),
        "resize": lambda: resize_model(**RESIZES[2]),
        "resize_linear": lambda: resize_model(**RESIZES[4])}


@pytest.mark.parametrize("name", sorted(INT8))
def test_int8_close_to_onnxruntime_and_host_c_exact(name, tmp_path):
    model = INT8[name]()
    path = models.save(model, tmp_path / f"{name}.onnx")
    m = tinyc.compile(path, calib=models.calib_data(model, 64))
    x = next(iter(models.test_data(model, 8, seed=3).values()))
    xq = np.stack([m.inputs[0].quantize(s.reshape(m.inputs[0].shape)) for s in x])
    got, host = (_outputs(m, run(xq, batch=True)) for run in (m.interpret, m.run_host))
    for g, c in zip(got, host):
        np.testing.assert_array_equal(np.asarray(c), np.asarray(g))
    sess = session(model)
    for k, s in enumerate(x):
        want = sess.run(None, {m.inputs[0].name: s.reshape(m.inputs[0].shape)})
        for spec, g, w in zip(m.outputs, got, want):
            deq = spec.dequantize(np.asarray(g)[k]).reshape(w.shape)
            err = np.abs(deq - w).max()       # output rounding + the inputs' (Conv, sums)
            assert err <= 3 * spec.scale + 0.05 * np.abs(w).max(), (name, err, spec.scale)


def _outputs(m, y) -> list:
    return list(y) if len(m.outputs) > 1 else [y]


# -- int8 QDQ models (Q/DQ around the op, as quantizers write them) -----------------------------

QDQ_OPS = {
    "ReduceMean": ([node("ReduceMean", ["c_dq"], ["r"], axes=[1], keepdims=0)], {}),
    "ReduceSum": ([node("ReduceSum", ["c_dq", "axes"], ["r"], keepdims=1)],
                  {"axes": np.array([2, 3], np.int64)}),
    "ReduceMax": ([node("ReduceMax", ["c_dq"], ["r"], axes=[1, 3], keepdims=1)], {}),
    "Slice": ([node("Slice", ["c_dq", "st", "en", "ax", "sp"], ["r"])],
              {"st": np.array([-1, 1], np.int64), "en": np.array([-100, 6], np.int64),
               "ax": np.array([3, 2], np.int64), "sp": np.array([-2, 2], np.int64)}),
    "Gather": ([node("Gather", ["c_dq", "idx"], ["r"], axis=1)],
               {"idx": np.array([3, 0, 3], np.int64)}),
    "Resize": ([node("Resize", ["c_dq", "", "scales"], ["r"], mode="nearest")],
               {"scales": np.array([1, 1, 2, 2], np.float32)}),
}


def qdq_model(op):
    """int8 x -> DQ -> Conv (int8 weights) -> Q -> DQ -> op -> Q -> int8 y."""
    from onnx import TensorProto
    rng = np.random.default_rng(4)
    w = rng.integers(-127, 128, (4, 3, 1, 1)).astype(np.int8)
    nodes = [node("DequantizeLinear", ["x", "xs", "xz"], ["x_dq"]),
             node("DequantizeLinear", ["w", "ws", "wz"], ["w_dq"]),
             node("Conv", ["x_dq", "w_dq"], ["c"]),
             node("QuantizeLinear", ["c", "cs", "cz"], ["c_q"]),
             node("DequantizeLinear", ["c_q", "cs", "cz"], ["c_dq"]),
             *QDQ_OPS[op][0],
             node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    inits = {"xs": np.float32(0.03), "xz": np.int8(3), "w": w, "ws": np.float32(0.004),
             "wz": np.int8(0), "cs": np.float32(0.02), "cz": np.int8(-5),
             "ys": np.float32(0.05 if op == "ReduceSum" else 0.025), "yz": np.int8(7),
             **QDQ_OPS[op][1]}
    return make_model(nodes, {"x": [1, 3, 6, 5]}, {"y": None}, inits,
                      itype=TensorProto.INT8)


@pytest.mark.parametrize("op", sorted(QDQ_OPS))
def test_qdq_int8_within_one_step_of_onnxruntime(op, tmp_path):
    model = qdq_model(op)
    path = models.save(model, tmp_path / f"{op}.onnx")
    m = tinyc.compile(path)
    x = np.random.default_rng(5).integers(-128, 128, (6, 1, 3, 6, 5)).astype(np.int8)
    got = np.asarray(m.interpret(x, batch=True))
    np.testing.assert_array_equal(np.asarray(m.run_host(x, batch=True)), got)
    sess = session(model)
    want = np.stack([sess.run(None, {"x": s})[0] for s in x])
    diff = np.abs(got.reshape(want.shape).astype(int) - want.astype(int))
    assert diff.max() <= 1, (op, int(diff.max()))
