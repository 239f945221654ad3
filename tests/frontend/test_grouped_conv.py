"""ONNX Conv with 1 < group < channels (not depthwise): one frontend change — the weights
[O, C/G, KH, KW] become one convolution's [O, C, KH, KW], zeros outside each group (the same
sums, so the same bits as a grouped kernel). The float import matches onnxruntime; the int8
build's host C equals the golden model and stays within quantization steps of onnxruntime."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

import tinyc

from .util import check_float, make_model, rand, session


def _model(group: int, c_in: int = 4, c_out: int = 6):
    nodes = [h.make_node("Conv", ["x", "W", "B"], ["y"], group=group, pads=[1, 1, 1, 1],
                         strides=[1, 2])]
    return make_model(nodes, {"x": [1, c_in, 7, 6]}, ["y"],
                      {"W": rand(c_out, c_in // group, 3, 3, seed=1) * 0.3,
                       "B": rand(c_out, seed=2) * 0.1})


@pytest.mark.parametrize("group,c_in,c_out", [(2, 4, 6), (3, 6, 3), (2, 8, 8)])
def test_float_import_matches_onnxruntime(group, c_in, c_out):
    g = check_float(_model(group, c_in, c_out))
    conv = next(n for n in g.nodes if n.op == "conv2d")
    w = conv.inputs[1].data                                    # OHWI, block diagonal
    ci, co = c_in // group, c_out // group
    for o in range(c_out):
        outside = np.delete(np.arange(c_in), np.arange(o // co * ci, (o // co + 1) * ci))
        assert not w[o][..., outside].any()


def test_int8_build(tmp_path):
    model = _model(2)
    path = tmp_path / "grouped.onnx"
    path.write_bytes(model.SerializeToString())
    m = tinyc.compile(path, calib={"x": np.stack([rand(4, 7, 6, seed=s) for s in range(32)])},
                      progress=None)
    x = rand(1, 4, 7, 6, seed=99)
    xq = m.inputs[0].quantize(x)
    np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
    want = session(model).run(None, {"x": x})[0]
    assert np.abs(m.interpret(x) - want).max() <= 3 * m.outputs[0].scale


def test_one_input_channel_stays_a_plain_conv():
    """group=1 with one input channel is an ordinary convolution (not depthwise), as before."""
    nodes = [h.make_node("Conv", ["x", "W"], ["y"], pads=[1, 1, 1, 1])]
    g = check_float(make_model(nodes, {"x": [1, 1, 5, 5]}, ["y"], {"W": rand(4, 1, 3, 3)}))
    assert [n.op for n in g.nodes if n.op != "transpose" and n.op != "reshape"] == ["conv2d"]
