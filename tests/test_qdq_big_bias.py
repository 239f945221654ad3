"""Issue 15: an ONNX Runtime int32 bias near the int32 limit (2,147,268,832: less room than the
accumulator's worst case) compiles when the arithmetic shows the channel's int8 output is
saturated for every input; the output is then the same as ORT's (which runs the model), and a
bias whose channel output depends on the input is still refused."""
from __future__ import annotations

import pathlib

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import tinyc
from tinyc.errors import ModelError

HERE = pathlib.Path(__file__).parent / "qdq_models"
BIG = 2_147_268_832


def _with_bias(tmp_path, value: int, name="cnn_ort_qdq_s8") -> pathlib.Path:
    m = onnx.load(HERE / f"{name}.onnx")
    bias = [t for t in m.graph.initializer if t.name.endswith("bias_quantized")][-1]   # Gemm
    b = numpy_helper.to_array(bias).copy()
    b[3] = value
    bias.CopyFrom(numpy_helper.from_array(b, bias.name))
    path = tmp_path / "big_bias.onnx"
    onnx.save(m, path)
    return path


@pytest.mark.parametrize("sign", [1, -1])
def test_bias_near_int32_limit_with_saturated_output_compiles_like_ort(tmp_path, sign):
    import onnxruntime as ort
    path = _with_bias(tmp_path, sign * BIG)
    m = tinyc.compile(path)                                 # no calib, no overflow refusal
    x = np.load(HERE / "ref.npz")["input"]
    sess = ort.InferenceSession(str(path))
    want = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])
    got = np.asarray(m.interpret(x, batch=True)).reshape(want.shape)
    assert np.array_equal(got[:, 3], want[:, 3])            # saturated channel: exact
    assert np.all(got[:, 3] == want[:, 3][0])
    assert (got.argmax(1) == want.argmax(1)).mean() >= 0.99
    assert np.array_equal(np.asarray(m.run_host(x, batch=True)).reshape(want.shape), got)


def test_bias_past_the_room_with_input_dependent_output_is_refused(tmp_path):
    # the same bias with an output scale so coarse that the channel's output depends on the
    # input (not saturated): the int32 sum could overflow, so it is still refused
    path = _with_bias(tmp_path, 2**31 - 1)
    model = onnx.load(path)
    out = [t for t in model.graph.initializer if t.name == "/2/Gemm_output_0_scale" or
           t.name.endswith("logits_scale")]
    if not out:
        pytest.fail("output scale initializer not found: " +
                    ", ".join(t.name for t in model.graph.initializer if "scale" in t.name))
    for t in out:
        t.CopyFrom(numpy_helper.from_array(np.array(1e6, np.float32), t.name))
    onnx.save(model, path)
    with pytest.raises(ModelError, match="overflow the int32 accumulator"):
        tinyc.compile(path)
