"""A dynamic first dim (dim_param 'batch' / 'N', a dim with no value, or -1) on inputs whose
other dims are static is pinned to 1 by default, when the graph keeps the samples apart:

    shapes = default_pins(model, input_shapes, path, infer)   # {input: (1, *rest)} to add

batch.pin_batch proves it: the model is written with batch 2 on those inputs and pinned back to
1, which refuses any node that mixes samples. Then one note line says the batch was pinned; a
graph that mixes samples keeps asking for --input-shape, naming the input, the dim and the node.
Other dynamic dims are left to onnx._input_shape (it asks for --input-shape naming them).
"""
from __future__ import annotations

import logging

import onnx

from ..errors import ModelError, UnsupportedOpError
from . import batch

log = logging.getLogger("tinyc.frontend")

PROBE = 2                    # the batch size the proof is run at


def is_dynamic(d) -> bool:
    """An ONNX dim without a static size (dim_param, nothing, or -1; 0 is a static size)."""
    return not d.HasField("dim_value") or d.dim_value == -1


def _label(d) -> str:
    return f"'{d.dim_param}'" if d.dim_param else str(d.dim_value) if d.HasField(
        "dim_value") else "?"


def default_pins(model: onnx.ModelProto, input_shapes: dict, path: str, infer) -> dict:
    """{input: (1, *static rest)} for each input whose only dynamic dim is dim 0 (rank >= 2)
    and that input_shapes does not set, if the graph keeps the samples apart."""
    inits = {t.name for t in model.graph.initializer}
    found = {}
    for vi in model.graph.input:
        if vi.name in inits or vi.name in input_shapes:
            continue
        tt = vi.type.tensor_type
        if not tt.HasField("shape") or len(tt.shape.dim) < 2:
            continue
        dims = tt.shape.dim
        if is_dynamic(dims[0]) and not any(is_dynamic(d) for d in dims[1:]):
            found[vi.name] = (_label(dims[0]), tuple(d.dim_value for d in dims[1:]))
    if not found:
        return {}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for vi in probe.graph.input:
        if vi.name in found:
            d = vi.type.tensor_type.shape.dim[0]
            d.Clear()
            d.dim_value = PROBE
    for vi in probe.graph.output:                # declared output batch dims: left to inference
        tt = vi.type.tensor_type
        if tt.HasField("shape") and tt.shape.dim and is_dynamic(tt.shape.dim[0]):
            tt.shape.dim[0].Clear()
    try:
        batch.pin_batch(probe, dict.fromkeys(found, PROBE), path, infer)
    except (UnsupportedOpError, ModelError) as e:   # mixes samples, or no shapes at batch 2
        name, (label, rest) = next(iter(found.items()))
        example = ",".join(map(str, (1,) + rest))
        raise ModelError(f"{path}: input '{name}' has a dynamic dim 0 ({label}), which tinyc "
                         f"does not pin to 1 by itself: the graph mixes the samples, or tinyc "
                         f"cannot prove it does not ({str(e).split(': ', 1)[-1]}) — give the "
                         f"shape: --input-shape "
                         f"{name}={example} (load_onnx(..., input_shapes={{'{name}': "
                         f"({example})}}))") from None
    log.warning("%s: note: dynamic batch dim pinned to 1 (%s); the graph keeps the samples "
                "apart — --input-shape sets other shapes", path,
                ", ".join(f"input '{n}' dim 0 {label}" for n, (label, _) in found.items()))
    return {n: (1,) + rest for n, (_, rest) in found.items()}
