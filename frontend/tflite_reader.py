"""The .tflite flatbuffer read with every offset, length, index and enum checked.

    model = read_model(data, path)     # TflModel: opcodes, tensors (with data), operators

A damaged file raises TfliteFormatError (a ModelError) naming what is broken — "tensor 12
'w': buffer 7 is 40 bytes, shape [64, 10] needs 640", "operator 3: opcode index 9 out of
range (5 opcodes)" — never struct.error, IndexError or a numpy error. The tables are read
with `Table`, a flatbuffers.table.Table whose reads are bounds-checked; it is also the `_tab`
of the `tflite` package's generated option classes (Conv2DOptions ...), so options are read
through the package's accessors, checked. Only subgraph 0 is read (tinyc compiles one graph).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import flatbuffers.number_types as N
import flatbuffers.table
import numpy as np

from ..errors import ModelError
from ..ir import QParams
from .guard import MAX_TENSOR_BYTES
from .qcheck import check_qparams

NP_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
            "INT32": np.int32, "INT64": np.int64, "INT16": np.int16, "INT8": np.int8,
            "UINT8": np.uint8, "BOOL": np.bool_, "UINT16": np.uint16, "UINT32": np.uint32}
MAX_RANK = 8


class TfliteFormatError(ModelError):
    """The .tflite flatbuffer is damaged: an offset, length, index or value is out of range."""


class Table(flatbuffers.table.Table):
    """A flatbuffer table at `pos` of `buf`; every read is bounds-checked and a bad one raises
    TfliteFormatError naming `what` (e.g. "tensor 3")."""
    __slots__ = ("what",)

    def __init__(self, buf: bytes, pos: int, what: str):
        self.Bytes, self.Pos, self.what = buf, pos, what
        vtable = pos - self.Get(N.SOffsetTFlags, pos)
        size = self.Get(N.VOffsetTFlags, vtable)
        if size < 4 or size % 2:
            raise self.error(f"damaged table (a vtable of {size} bytes at offset {vtable})")
        self.need(vtable, size)

    def error(self, what: str) -> TfliteFormatError:
        return TfliteFormatError(f"{self.what}: {what}")

    def need(self, pos: int, size: int) -> None:
        if pos < 0 or pos + size > len(self.Bytes):
            raise self.error(f"{size} bytes at offset {pos} are outside the file "
                             f"({len(self.Bytes)} bytes): the file is truncated or damaged")

    # -- flatbuffers.table.Table, checked (the generated accessors call these) -------------------
    def Get(self, flags, off):
        self.need(off, flags.bytewidth)
        return flags.py_type(flags.packer_type.unpack_from(self.Bytes, off)[0])

    def Indirect(self, off):
        return off + self.Get(N.UOffsetTFlags, off)

    def VectorLen(self, off):
        return self.Get(N.UOffsetTFlags, self.Indirect(off + self.Pos))

    def String(self, off):
        start = self.Indirect(off)
        n = self.Get(N.UOffsetTFlags, start)
        self.need(start + 4, n)
        return bytes(self.Bytes[start + 4:start + 4 + n])

    def GetVectorAsNumpy(self, flags, off):
        start, n = self.Vector(off), self.VectorLen(off)
        self.need(start, n * flags.bytewidth)
        return np.frombuffer(self.Bytes, N.to_numpy_type(flags), n, start).copy()

    def Union(self, t2, off):
        return Table(self.Bytes, self.Indirect(off + self.Pos), self.what)

    # -- reading fields by vtable offset (4, 6, 8 ... as in the generated code) ----------------
    def scalar(self, field: int, flags, default=0):
        o = self.Offset(field)
        return self.Get(flags, self.Pos + o) if o else default

    def ints(self, field: int, flags=N.Int32Flags) -> np.ndarray:
        o = self.Offset(field)
        return self.GetVectorAsNumpy(flags, o) if o else np.zeros(0, N.to_numpy_type(flags))

    def string(self, field: int) -> str:
        o = self.Offset(field)
        return self.String(self.Pos + o).decode("utf-8", "replace") if o else ""

    def table(self, field: int, what: str) -> Table | None:
        o = self.Offset(field)
        return Table(self.Bytes, self.Indirect(self.Pos + o), what) if o else None

    def tables(self, field: int, what: str) -> list[Table]:
        o = self.Offset(field)
        if not o:
            return []
        start, n = self.Vector(o), self.VectorLen(o)
        self.need(start, 4 * n)
        return [Table(self.Bytes, self.Indirect(start + 4 * i), f"{what} {i}") for i in range(n)]


@dataclass
class TflTensor:
    """One tensor of the subgraph: type name, static shape, quantization, constant data."""
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    q: QParams | None
    data: np.ndarray | None
    is_variable: bool = False             # a variable tensor: an op's state (LSTM, SVDF)

    @property
    def is_const(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"tensor '{self.name}' ({self.dtype.lower()}{list(self.shape)})"


@dataclass
class TflOperator:
    index: int
    opcode: int                       # builtin code
    custom: str                       # custom code (CUSTOM ops)
    inputs: list[int]                 # tensor indices, -1 = optional input absent
    outputs: list[int]
    options_type: int                 # BuiltinOptions enum
    options: Table | None


@dataclass
class TflModel:
    name: str
    tensors: list[TflTensor]
    inputs: list[int]
    outputs: list[int]
    operators: list[TflOperator]


def read_model(data: bytes, path: str, type_names: dict[int, str]) -> TflModel:
    """Read subgraph 0 of a .tflite file, everything checked. type_names: TensorType enum."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise TfliteFormatError(f"{path}: not a TFLite flatbuffer (no 'TFL3' file identifier "
                                "at bytes 4-7)")
    try:
        return _Reader(data, path, type_names).model()
    except ModelError as e:
        raise type(e)(f"{path}: {e}") from None


class _Reader:
    def __init__(self, data: bytes, path: str, type_names: dict[int, str]):
        self.data, self.path, self.type_names = data, path, type_names
        self.root = Table(data, int.from_bytes(data[:4], "little"), "model")
        self.buffers = self.root.tables(12, "buffer")

    def model(self) -> TflModel:
        subgraphs = self.root.tables(8, "subgraph")
        if not subgraphs:
            raise TfliteFormatError("the model has no subgraph")
        codes = [self._opcode(t) for t in self.root.tables(6, "operator code")]
        sg = subgraphs[0]
        tensors = [self._tensor(t, i) for i, t in enumerate(sg.tables(4, "tensor"))]
        n = len(tensors)
        ops = [self._operator(t, k, codes, n) for k, t in enumerate(sg.tables(10, "operator"))]
        inputs, outputs = (_indices(sg.ints(6), n, "subgraph input"),
                           _indices(sg.ints(8), n, "subgraph output"))
        for what, idx in (("inputs", inputs), ("outputs", outputs)):
            if len(set(idx)) != len(idx):
                raise TfliteFormatError(f"subgraph {what} {idx} list a tensor twice")
        if not outputs:
            raise TfliteFormatError("the subgraph has no outputs")
        return TflModel(sg.string(12) or "model", tensors, inputs, outputs, ops)

    @staticmethod
    def _opcode(t: Table) -> tuple[int, str]:
        builtin = max(t.scalar(10, N.Int32Flags), t.scalar(4, N.Int8Flags))
        return builtin, t.string(6)

    def _operator(self, t: Table, k: int, codes: list, n_tensors: int) -> TflOperator:
        where = f"operator #{k}"
        i = t.scalar(4, N.Uint32Flags)
        if i >= len(codes):
            raise TfliteFormatError(f"{where}: opcode index {i} out of range "
                                    f"({len(codes)} opcodes)")
        options_type = t.scalar(10, N.Uint8Flags)
        options = t.table(12, f"{where} options") if options_type else None
        return TflOperator(k, *codes[i], _indices(t.ints(6), n_tensors, f"{where} input", True),
                           _indices(t.ints(8), n_tensors, f"{where} output"),
                           options_type, options)

    def _tensor(self, t: Table, i: int) -> TflTensor:
        name = t.string(10) or f"t{i}"
        where = f"tensor {i} '{name}'"
        code = t.scalar(6, N.Int8Flags)
        if code not in self.type_names:
            raise TfliteFormatError(f"{where}: type {code} is not a TFLite tensor type")
        dtype = self.type_names[code]
        shape = tuple(int(d) for d in t.ints(4))
        if len(shape) > MAX_RANK or any(d < 0 for d in shape):
            raise TfliteFormatError(f"{where}: shape {list(shape)} — expected at most "
                                    f"{MAX_RANK} dimensions, none negative")
        size = math.prod(shape)
        nbytes = size * np.dtype(NP_TYPES.get(dtype, np.int32)).itemsize
        if nbytes > MAX_TENSOR_BYTES:
            raise TfliteFormatError(f"{where}: shape {list(shape)} has {size:,} elements "
                                    f"({nbytes:,} bytes) — expected at most "
                                    f"{MAX_TENSOR_BYTES:,} bytes")
        if t.Offset(16):
            raise ModelError(f"{where}: sparse tensors are not supported")
        q = _qparams(t.table(12, f"{where} quantization"), dtype, shape, where)
        buffer = t.scalar(8, N.Uint32Flags)
        raw = self._buffer(buffer, where)
        array = None
        if raw is not None:
            if dtype not in NP_TYPES:
                raise ModelError(f"{where}: constant of type {dtype} is not supported")
            item = np.dtype(NP_TYPES[dtype]).itemsize
            if len(raw) != size * item:
                raise TfliteFormatError(f"{where}: buffer {buffer} is {len(raw)} bytes, shape "
                                        f"{list(shape)} of {dtype.lower()} needs {size * item}")
            array = np.frombuffer(raw, NP_TYPES[dtype]).reshape(shape).copy()
        return TflTensor(i, name, dtype, shape, q, array, bool(t.scalar(14, N.BoolFlags)))

    def _buffer(self, index: int, where: str) -> bytes | None:
        """The constant data of buffer `index` (0: none, by convention), checked."""
        if index >= len(self.buffers):
            raise TfliteFormatError(f"{where}: buffer {index} out of range "
                                    f"({len(self.buffers)} buffers)")
        if index == 0:
            return None
        buf = self.buffers[index]
        offset, size = buf.scalar(6, N.Uint64Flags), buf.scalar(8, N.Uint64Flags)
        if offset > 1:                           # large models: data after the flatbuffer
            buf.need(offset, size)
            return self.data[offset:offset + size]
        o = buf.Offset(4)
        if not o:
            return None
        start, n = buf.Vector(o), buf.VectorLen(o)
        buf.need(start, n)
        return self.data[start:start + n] if n else None


def _indices(a: np.ndarray, n: int, what: str, optional: bool = False) -> list[int]:
    """Tensor indices, each in [0, n) (or -1 for an absent optional input)."""
    for k, i in enumerate(a.tolist()):
        if not (0 <= i < n or (optional and i == -1)):
            raise TfliteFormatError(f"{what} {k}: tensor index {i} out of range ({n} tensors)")
    return a.tolist()


def _qparams(tq: Table | None, dtype: str, shape: tuple, where: str) -> QParams | None:
    """The quantization of a tensor, checked: positive finite scales, zero points in the
    type's range, one of each per channel of the quantized dimension."""
    if tq is None:
        return None
    scale = tq.ints(8, N.Float32Flags)
    if scale.size == 0:
        return None
    if tq.scalar(12, N.Uint8Flags) != 0:
        raise ModelError(f"{where}: custom quantization details are not supported")
    return check_qparams(scale, tq.ints(10, N.Int64Flags), tq.scalar(16, N.Int32Flags),
                         dtype, shape, where, TfliteFormatError)
