"""Guards against hostile or broken ONNX files, run before onnx or numpy touch their data.

- read_model: a readable file (not a folder, not empty, not an HTML page / LFS pointer / zip
  ...), every tensor's declared size checked against its data and MAX_TENSOR_BYTES before
  anything is allocated, external data only from files inside the model's folder (no absolute
  paths, no `..`, no symlinks out of it), read by tinyc itself with bounds checks.
The graph-level guards (structure, constant folding, the imported graph) are in guard_graph.py.
"""
from __future__ import annotations

import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

from ..errors import ModelError

# 256 MiB: far above the flash and RAM of any microcontroller, far below what a host can
# allocate without trouble. Anything bigger is refused before it is allocated.
MAX_TENSOR_BYTES = 1 << 28

SNIFF = [  # (prefix, what it is, how to fix)
    (b"version https://git-lfs", "a Git LFS pointer file, not the model",
     "Run `git lfs pull` (or download the file itself)."),
    (b"<!doctype html", "an HTML page (a web page saved instead of the file)",
     "Download the raw file (on GitHub: the 'Raw' or download button)."),
    (b"<html", "an HTML page (a web page saved instead of the file)",
     "Download the raw file (on GitHub: the 'Raw' or download button)."),
    (b"pk\x03\x04", "a zip archive", "Unzip it; tinyc reads the .onnx file itself."),
    (b"\x1f\x8b", "gzip-compressed", "Decompress it (gunzip) first."),
    (b"\x93numpy", "a NumPy .npy array", "Pass the model, not the data."),
    (b"\x89png", "a PNG image", "Pass the .onnx model file."),
    (b"\x7felf", "an executable (ELF)", "Pass the .onnx model file."),
    (b"%pdf", "a PDF document", "Pass the .onnx model file."),
]
PICKLE = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def _n(x: int) -> str:
    return f"{x:,}"


# -- reading ---------------------------------------------------------------------------------

def _sniff(head: bytes) -> tuple[str, str] | None:
    low = head.lstrip().lower()
    for prefix, what, hint in SNIFF:
        if low.startswith(prefix):
            return what, hint
    if head.startswith(PICKLE):
        return ("a Python pickle (a PyTorch checkpoint?)",
                "Export the model to ONNX first (torch.onnx.export).")
    if head[4:8] == b"TFL3":
        return "a TFLite flatbuffer", "Name it .tflite."
    if low.startswith((b"ir_version", b"<", b"{")) or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("text, not a binary ONNX protobuf",
                "Save the model with onnx.save (binary), not as text or JSON.")
    return None


def read_model(path: str) -> onnx.ModelProto:
    """Parse an .onnx file; check its tensors and load its external data safely."""
    if os.path.isdir(path):
        raise ModelError(f"{path}: is a folder — expected an .onnx file")
    if not os.path.isfile(path):
        raise ModelError(f"{path}: no such file")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise ModelError(f"{path}: the file is empty (0 bytes) — expected an ONNX model. "
                         "Export it again or check the path.")
    known = _sniff(data[:64])
    if known:
        raise ModelError(f"{path}: not a readable ONNX file — it is {known[0]}. {known[1]}")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:                       # noqa: BLE001 (protobuf decode errors vary)
        raise ModelError(f"{path}: not a readable ONNX file ({str(e).strip() or 'corrupt'})"
                         ". Export the model again or check the path.") from None
    if not model.HasField("graph") or model.ir_version <= 0:
        raise ModelError(f"{path}: not a readable ONNX file — it parses, but has no graph or "
                         f"no ir_version (got ir_version {model.ir_version}). Export the "
                         "model again or check the path.")
    check_tensors(model, path, os.path.dirname(os.path.abspath(path)))
    return model


# -- tensors -----------------------------------------------------------------------------------

def _graph_tensors(g: onnx.GraphProto, where: str):
    for t in g.initializer:
        yield t, f"initializer '{t.name}'"
    for t in g.sparse_initializer:
        yield t.values, f"sparse initializer '{t.values.name}'"
    for node in g.node:
        nw = f"node '{node.name or (node.output[0] if node.output else '?')}' ({node.op_type})"
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                yield a.t, f"{nw} attribute '{a.name}'"
            for t in a.tensors:
                yield t, f"{nw} attribute '{a.name}'"
            for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else []) + list(a.graphs):
                yield from _graph_tensors(sub, where)


def all_tensors(model: onnx.ModelProto):
    """(TensorProto, description) of every tensor in the model, subgraphs and functions too."""
    yield from _graph_tensors(model.graph, "graph")
    for fn in model.functions:
        for node in fn.node:
            for a in node.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    yield a.t, f"function '{fn.name}' node '{node.name}' attribute '{a.name}'"


def _itemsize(t: TensorProto) -> int | None:
    if t.data_type in (TensorProto.STRING, TensorProto.UNDEFINED):
        return None
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
    except Exception:                            # noqa: BLE001 (unknown / sub-byte types)
        return None


def _declared(t: TensorProto, desc: str, path: str) -> tuple[int, int | None]:
    """(elements, bytes) a tensor declares; refuses negative dims and anything too big."""
    dims = list(t.dims)
    if any(d < 0 for d in dims):
        raise ModelError(f"{path}: {desc} has dims {dims} — expected sizes >= 0. "
                         "The file is corrupt; export it again.")
    n = math.prod(dims)
    size = _itemsize(t)
    nbytes = None if size is None else n * size
    if (nbytes if nbytes is not None else n) > MAX_TENSOR_BYTES:
        raise ModelError(
            f"{path}: {desc} declares {_n(n)} elements ({_n(nbytes or n)} B) — expected at "
            f"most {_n(MAX_TENSOR_BYTES)} B; no microcontroller holds it. The file is corrupt "
            "or not a model for a microcontroller.")
    return n, nbytes


def check_tensors(model: onnx.ModelProto, path: str, base_dir: str | None) -> None:
    """Declared sizes against the data actually present; external data read safely."""
    for t, desc in all_tensors(model):
        n, nbytes = _declared(t, desc, path)
        if t.data_location == TensorProto.EXTERNAL:
            _load_external(t, desc, nbytes, path, base_dir)
        elif t.HasField("raw_data") and nbytes is not None and len(t.raw_data) != nbytes:
            raise ModelError(f"{path}: {desc} holds {_n(len(t.raw_data))} bytes of data — "
                             f"expected {_n(nbytes)} ({_n(n)} elements of "
                             f"{helper.tensor_dtype_to_string(t.data_type)}, dims "
                             f"{list(t.dims)}). The file is truncated or corrupt.")


def _external_file(location: str, desc: str, path: str, base_dir: str | None) -> str:
    """The real path of an external data file, which must lie inside the model's folder."""
    if base_dir is None:
        raise ModelError(f"{path}: {desc} keeps its data in an external file — expected "
                         "load_onnx(<path of the .onnx file>) so the file can be found")
    if not location or "\0" in location:
        raise ModelError(f"{path}: {desc} has external data location {location!r} — expected "
                         "a file name next to the model")
    root = os.path.realpath(base_dir)
    full = os.path.realpath(os.path.join(root, location))
    lexical = os.path.normpath(location)
    if (os.path.isabs(location) or lexical == ".." or lexical.startswith(".." + os.sep)
            or os.path.commonpath([root, full]) != root):
        raise ModelError(f"{path}: {desc} has external data at {location!r}, which escapes "
                         f"the model's folder {root} — expected a file inside it. tinyc reads "
                         "no file outside the model's folder (a symlink out of it counts).")
    if not os.path.isfile(full):
        raise ModelError(f"{path}: {desc} has external data in {location!r} — expected a file "
                         f"in {root}, got {'a folder' if os.path.isdir(full) else 'nothing'}. "
                         "Copy the data file next to the model.")
    return full


def _int_key(t: TensorProto, key: str, desc: str, path: str) -> int | None:
    for kv in t.external_data:
        if kv.key == key:
            try:
                v = int(kv.value)
            except ValueError:
                v = -1
            if v < 0:
                raise ModelError(f"{path}: {desc} has external data {key} {kv.value!r} — "
                                 "expected an integer >= 0")
            return v
    return None


def _load_external(t: TensorProto, desc: str, nbytes: int | None, path: str,
                   base_dir: str | None) -> None:
    loc = next((kv.value for kv in t.external_data if kv.key == "location"), "")
    full = _external_file(loc, desc, path, base_dir)
    offset = _int_key(t, "offset", desc, path) or 0
    length = _int_key(t, "length", desc, path)
    size = os.path.getsize(full)
    if offset > size:
        raise ModelError(f"{path}: {desc} has external data offset {_n(offset)} in {loc!r} — "
                         f"expected at most the file size {_n(size)}")
    if length is not None and offset + length > size:
        raise ModelError(f"{path}: {desc} has external data length {_n(length)} at offset "
                         f"{_n(offset)} in {loc!r} — expected at most {_n(size - offset)} "
                         f"(the file has {_n(size)} B)")
    length = size - offset if length is None else length
    if nbytes is not None and length != nbytes:
        raise ModelError(f"{path}: {desc} has {_n(length)} B of external data in {loc!r} — "
                         f"expected {_n(nbytes)} B for dims {list(t.dims)}")
    with open(full, "rb") as f:
        f.seek(offset)
        t.raw_data = f.read(length)
    t.data_location = TensorProto.DEFAULT
    del t.external_data[:]
