"""tinyc: ONNX -> integer-only C for microcontrollers."""
