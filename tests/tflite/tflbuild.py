"""Build small .tflite flatbuffers by hand (flatbuffers builder + the `tflite` package's
generated builder functions), for tests: int8 one-op models, float and hybrid models, models
with ops tinyc does not support.

    b = TflBuilder()
    x = b.tensor("x", (1, 8, 8, 3), scale=0.05, zp=-3)
    y = b.tensor("y", (1, 4, 4, 3), scale=0.05, zp=-3)
    b.op("MAX_POOL_2D", [x], [y], "Pool2DOptions", Padding=1, StrideW=2, StrideH=2,
         FilterWidth=2, FilterHeight=2)
    data = b.build([x], [y])
"""
from __future__ import annotations

import flatbuffers
import numpy as np
import tflite

NP_TO_TFL = {np.dtype(np.int8): "INT8", np.dtype(np.int32): "INT32",
             np.dtype(np.float32): "FLOAT32", np.dtype(np.int16): "INT16",
             np.dtype(np.int64): "INT64", np.dtype(np.uint8): "UINT8"}
OPCODES = {k: v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class TflBuilder:
    def __init__(self):
        self.buffers: list[bytes] = [b""]             # buffer 0: the empty buffer
        self.tensors: list[dict] = []
        self.ops: list[dict] = []
        self.opcodes: list[str] = []

    def tensor(self, name: str, shape, dtype: str = "INT8", scale=None, zp=None,
               qdim: int = 0, data: np.ndarray | None = None, variable: bool = False) -> int:
        """A tensor; `data` makes it a constant (its dtype wins); scale/zp: scalar or list;
        `variable`: a variable tensor (an op's state, e.g. SVDF's)."""
        buf = 0
        if data is not None:
            data = np.ascontiguousarray(data)
            dtype = NP_TO_TFL[data.dtype]
            self.buffers.append(data.tobytes())
            buf = len(self.buffers) - 1
        scale = None if scale is None else np.atleast_1d(np.asarray(scale, np.float32))
        if scale is not None and zp is None:
            zp = np.zeros(scale.size, np.int64)
        zp = None if zp is None else np.atleast_1d(np.asarray(zp, np.int64))
        self.tensors.append({"name": name, "shape": tuple(shape), "dtype": dtype, "buf": buf,
                             "scale": scale, "zp": zp, "qdim": qdim, "variable": variable})
        return len(self.tensors) - 1

    def const(self, name: str, data, scale=None, zp=None, qdim: int = 0) -> int:
        data = np.asarray(data)
        return self.tensor(name, data.shape, scale=scale, zp=zp, qdim=qdim, data=data)

    def op(self, name: str, inputs, outputs, options: str | None = None, **fields) -> None:
        if name not in self.opcodes:
            self.opcodes.append(name)
        self.ops.append({"code": self.opcodes.index(name), "inputs": list(inputs),
                         "outputs": list(outputs), "options": options, "fields": fields})

    # -- serialisation ---------------------------------------------------------------------------
    def build(self, inputs, outputs) -> bytes:
        b = flatbuffers.Builder(1024)
        buffers = [self._buffer(b, data) for data in self.buffers]
        tensors = [self._tensor(b, t) for t in self.tensors]
        ops = [self._op(b, o) for o in self.ops]
        codes = [self._opcode(b, OPCODES[name]) for name in self.opcodes]
        sg_name = b.CreateString("main")
        t_vec, ops_vec = _offsets(b, tensors), _offsets(b, ops)
        in_vec, out_vec = _ints(b, inputs), _ints(b, outputs)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, t_vec)
        tflite.SubGraphAddInputs(b, in_vec)
        tflite.SubGraphAddOutputs(b, out_vec)
        tflite.SubGraphAddOperators(b, ops_vec)
        tflite.SubGraphAddName(b, sg_name)
        subgraph = tflite.SubGraphEnd(b)
        codes_vec, sg_vec, buf_vec = _offsets(b, codes), _offsets(b, [subgraph]), \
            _offsets(b, buffers)
        desc = b.CreateString("tinyc test model")
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, codes_vec)
        tflite.ModelAddSubgraphs(b, sg_vec)
        tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buf_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    @staticmethod
    def _buffer(b, data: bytes) -> int:
        vec = None
        if data:
            b.StartVector(1, len(data), 16)
            b.head -= len(data)
            b.Bytes[b.head:b.head + len(data)] = data
            vec = _end_vector(b, len(data))
        tflite.BufferStart(b)
        if vec is not None:
            tflite.BufferAddData(b, vec)
        return tflite.BufferEnd(b)

    @staticmethod
    def _tensor(b, t: dict) -> int:
        name = b.CreateString(t["name"])
        shape = _ints(b, t["shape"])
        quant = None
        if t["scale"] is not None:
            scale = b.CreateNumpyVector(t["scale"].astype(np.float32))
            zp = b.CreateNumpyVector(t["zp"].astype(np.int64))
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, scale)
            tflite.QuantizationParametersAddZeroPoint(b, zp)
            tflite.QuantizationParametersAddQuantizedDimension(b, t["qdim"])
            quant = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, getattr(tflite.TensorType, t["dtype"]))
        tflite.TensorAddBuffer(b, t["buf"])
        tflite.TensorAddName(b, name)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        if t.get("variable"):
            tflite.TensorAddIsVariable(b, True)
        return tflite.TensorEnd(b)

    @staticmethod
    def _op(b, o: dict) -> int:
        ins, outs = _ints(b, o["inputs"]), _ints(b, o["outputs"])
        opts = None
        if o["options"]:
            cls = o["options"]
            getattr(tflite, f"{cls}Start")(b)
            for field, value in o["fields"].items():
                getattr(tflite, f"{cls}Add{field}")(b, value)
            opts = getattr(tflite, f"{cls}End")(b)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, o["code"])
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if opts is not None:
            tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, o["options"]))
            tflite.OperatorAddBuiltinOptions(b, opts)
        return tflite.OperatorEnd(b)

    @staticmethod
    def _opcode(b, code: int) -> int:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        return tflite.OperatorCodeEnd(b)


def _ints(b, values) -> int:
    return b.CreateNumpyVector(np.asarray(list(values), np.int32))


def _offsets(b, offsets) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return _end_vector(b, len(offsets))


def _end_vector(b, n: int) -> int:
    try:
        return b.EndVector()                 # flatbuffers >= 2
    except TypeError:
        return b.EndVector(n)
