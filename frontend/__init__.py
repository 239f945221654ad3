"""Frontends: ONNX `load_onnx(path_or_model, input_shapes=None)` and TFLite
`load_tflite(path_or_bytes, input_shapes=None)`, each returning an ir.Graph."""
from .onnx import load_onnx
from .tflite import load_tflite

__all__ = ["load_onnx", "load_tflite"]
