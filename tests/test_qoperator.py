"""Issue 15: ONNX Runtime's QOperator format (QLinearConv, QLinearMatMul, QGemm, QLinearAdd,
QLinearMul, QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid,
QLinearSoftmax) compiles with no calibration data and agrees with ORT's own int8 run on top-1.
The QOperator files are made here with onnxruntime.quantization.quantize_static from the float
test models (no torch needed)."""
from __future__ import annotations

import pathlib

import numpy as np
import onnx
import pytest

import tinyc

from .test_qdq_tools import MODELS, _agreement


def _quantize(src: pathlib.Path, dst: pathlib.Path, per_channel: bool, act: str,
              pre: bool) -> None:
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if pre:
        quant_pre_process(str(src), str(dst))
        src = dst
    inp = onnx.load(src).graph.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    rng = np.random.default_rng(0)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{inp.name: rng.standard_normal(shape).astype(np.float32)}
                            for _ in range(16)])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QOperator,
                    per_channel=per_channel, activation_type=getattr(QuantType, act),
                    weight_type=QuantType.QInt8)


CASES = [("convnet", False, "QInt8", False), ("convnet", True, "QUInt8", True),
         ("graynet", True, "QInt8", False), ("seqnet", False, "QUInt8", False),
         ("seqnet", True, "QInt8", True)]


@pytest.mark.parametrize("name,per_channel,act,pre", CASES)
def test_ort_qoperator_models_compile_and_agree_on_top1(tmp_path, name, per_channel, act, pre):
    path = tmp_path / f"{name}_qop.onnx"
    _quantize(MODELS / f"{name}_ts13.onnx", path, per_channel, act, pre)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert ops & {"QLinearConv", "QLinearMatMul", "QGemm"}     # really the QOperator format
    m = tinyc.compile(path)                                     # no calib
    assert _agreement(path, m, m.inputs[0].shape) >= 0.98


def _top1_on_digits(path: pathlib.Path, m, n: int = 200) -> float:
    import onnxruntime as ort
    x = np.load(DIGITS / "test.npz")["input"][:n]
    sess = ort.InferenceSession(str(path))
    name = sess.get_inputs()[0].name
    want = np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(n)])
    got = np.asarray(m.run_host(x, batch=True)).reshape(want.shape)
    return float((want.argmax(1) == got.argmax(1)).mean())


DIGITS = pathlib.Path(__file__).parent.parent / "examples" / "digits"


@pytest.mark.parametrize("per_channel,act", [(False, "QInt8"), (True, "QUInt8")])
def test_qoperator_float_batchnorm_island_gets_implied_quantization(tmp_path, per_channel, act):
    """Without quant_pre_process ORT's QOperator format leaves BatchNormalization in float
    (digits.onnx: Conv -> BN -> Relu; mlp: Gemm -> BN (2-D) -> HardSigmoid): compiled with no
    calibration data, top-1 vs ORT's int8 run on 200 held-out digits >= 0.99."""
    path = tmp_path / "digits_qop.onnx"
    _quantize(DIGITS / "digits.onnx", path, per_channel, act, False)
    assert "BatchNormalization" in {n.op_type for n in onnx.load(path).graph.node}
    m = tinyc.compile(path)
    assert _top1_on_digits(path, m) >= 0.99
    mlp = tmp_path / "mlp_qop.onnx"
    _quantize(MODELS / "mlp_ts13.onnx", mlp, per_channel, act, False)
    assert "BatchNormalization" in {n.op_type for n in onnx.load(mlp).graph.node}
    m = tinyc.compile(mlp)
    assert _agreement(mlp, m, m.inputs[0].shape) >= 0.99
