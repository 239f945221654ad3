"""Tensor types of the IR: dtype, static shape, optional quantization parameters."""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

import numpy as np


class DType(Enum):
    FLOAT32 = "f32"
    INT8 = "i8"
    INT16 = "i16"
    INT32 = "i32"
    INT64 = "i64"
    UINT8 = "u8"

    @property
    def np(self) -> np.dtype:
        return np.dtype({"f32": np.float32, "i8": np.int8, "i16": np.int16,
                         "i32": np.int32, "i64": np.int64, "u8": np.uint8}[self.value])

    @property
    def is_float(self) -> bool:
        return self is DType.FLOAT32

    @property
    def itemsize(self) -> int:
        return self.np.itemsize

    @property
    def c_type(self) -> str:
        return {"f32": "float", "i8": "int8_t", "i16": "int16_t",
                "i32": "int32_t", "i64": "int64_t", "u8": "uint8_t"}[self.value]

    @property
    def qrange(self) -> tuple[int, int]:
        """The integer range of an activation of this dtype (int8: [-128, 127], ...)."""
        info = np.iinfo(self.np)
        return int(info.min), int(info.max)

    @staticmethod
    def from_np(dtype) -> "DType":
        for d in DType:
            if d.np == np.dtype(dtype):
                return d
        raise ValueError(f"no IR dtype for numpy dtype {dtype}")


@dataclass(frozen=True)
class QParams:
    """real = scale * (q - zero_point); len(scale) > 1 means per-channel along `axis`."""
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None

    def __post_init__(self):
        if len(self.scale) != len(self.zero_point):
            raise ValueError("QParams: scale and zero_point lengths differ")
        if len(self.scale) > 1 and self.axis is None:
            raise ValueError("QParams: per-channel parameters need an axis")

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1 or self.axis is not None

    @property
    def s(self) -> float:
        """The per-tensor scale (error if per-channel)."""
        assert len(self.scale) == 1, "per-tensor scale asked of per-channel QParams"
        return self.scale[0]

    @property
    def zp(self) -> int:
        assert len(self.zero_point) == 1, "per-tensor zero point asked of per-channel QParams"
        return self.zero_point[0]

    def __str__(self) -> str:
        if len(self.scale) == 1:
            return f"q(s={self.scale[0]:.6g},zp={self.zero_point[0]})"
        return f"q(axis={self.axis},s[{len(self.scale)}]={self.scale[0]:.4g}..)"


@dataclass(frozen=True)
class TensorType:
    dtype: DType
    shape: tuple[int, ...]
    q: QParams | None = None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def with_(self, **kw) -> "TensorType":
        return replace(self, **kw)

    def __str__(self) -> str:
        s = f"{self.dtype.value}[{','.join(map(str, self.shape))}]"
        return s + (f" {self.q}" if self.q else "")
