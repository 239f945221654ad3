"""tinyc: compile an ONNX neural network into small, integer-only C for microcontrollers.

    m = tinyc.compile("model.onnx", board="stm32", calib="calib.npz")
    m.interpret(x); m.run_host(x); m.run_qemu(x); m.write("build/model"); m.report

The names below load on first use, so that `import tinyc.ir` loads only the IR.
"""
from .errors import (BoardError, IRError, ModelError, QuantizationError, TinycError,
                     ToolchainError, UnsupportedOpError)

__version__ = "0.1.0"
__all__ = ["compile", "Model", "IOSpec", "TinycError", "ModelError", "UnsupportedOpError",
           "IRError", "QuantizationError", "BoardError", "ToolchainError", "__version__"]
_LAZY = {"compile": "pipeline", "Model": "model", "IOSpec": "model"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tinyc' has no attribute {name!r}")
