"""tinyc: compile an ONNX neural network into small, integer-only C for microcontrollers.

    m = tinyc.compile("model.onnx", board="stm32", calib="calib.npz")
    m.interpret(x); m.run_host(x); m.run_qemu(x); m.write("build/model"); m.report
"""
from .errors import (BoardError, IRError, ModelError, QuantizationError, TinycError,
                     ToolchainError, UnsupportedOpError)
from .model import IOSpec, Model
from .pipeline import compile

__version__ = "0.1.0"
__all__ = ["compile", "Model", "IOSpec", "TinycError", "ModelError", "UnsupportedOpError",
           "IRError", "QuantizationError", "BoardError", "ToolchainError", "__version__"]
