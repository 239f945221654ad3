"""Helpful errors: "did you mean" for names, and how to get an ONNX file from other formats."""
from __future__ import annotations

from pathlib import Path

from .errors import did_you_mean  # noqa: F401  (one place; passes may import errors only)


_TORCH = ("a PyTorch file: export it to ONNX with\n"
          "  import torch\n"
          "  torch.onnx.export(model.eval(), example_input, \"model.onnx\", opset_version=17)\n"
          "(example_input: a tensor of the input shape, batch 1, e.g. torch.randn(1, 3, 32, 32))")
_KERAS = ("a Keras/TensorFlow model: convert it with tf2onnx\n"
          "  python -m tf2onnx.convert --saved-model DIR --output model.onnx --opset 13\n"
          "  (Keras: model.export(\"DIR\") first; or in Python tf2onnx.convert.from_keras(model, "
          "opset=13, output_path=\"model.onnx\")),\n"
          "or to int8 TFLite with tf.lite.TFLiteConverter (optimizations=[tf.lite.Optimize."
          "DEFAULT], a representative_dataset, inference_input_type=tf.int8) and pass the "
          ".tflite file")
RECIPES = {".pt": _TORCH, ".pth": _TORCH, ".ckpt": _TORCH, ".h5": _KERAS, ".keras": _KERAS,
           ".hdf5": _KERAS, ".pb": _KERAS, ".savedmodel": _KERAS}

_MAGIC = {b"PK\x03\x04": ".pt", b"\x89HDF": ".h5"}    # zip: a PyTorch checkpoint (or .keras)


def sniff(path: Path) -> str | None:
    """What a file's first bytes say it is: '.tflite', '.pt' (a zip), '.h5', or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    if head[4:8] == b"TFL3":
        return ".tflite"
    return next((k for m, k in _MAGIC.items() if head.startswith(m)), None)


def format_hint(path: Path) -> str:
    """What to do with a model file whose name tinyc does not read ('' when nothing to say):
    the export recipe of its suffix, else of what its bytes are."""
    kind = path.suffix.lower() if path.suffix.lower() in RECIPES else sniff(path)
    if kind == ".tflite":
        return (f" — its bytes are a TFLite flatbuffer (TFL3), not {path.suffix or 'ONNX'}: "
                "rename it to .tflite")
    recipe = RECIPES.get(kind)
    if recipe:
        return f" — this is {recipe}"
    return ""
