"""ONNX frontend: `load_onnx(path_or_model, input_shapes=None) -> ir.Graph`."""
from .onnx import load_onnx

__all__ = ["load_onnx"]
