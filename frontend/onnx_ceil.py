"""ceil_mode pooling and ONNX shape inference before opset 22.

ONNX's shape inference for MaxPool / AveragePool with ceil_mode=1 up to opset 21 keeps a last
window that starts in the right padding; opset 22 (and onnxruntime, PyTorch at every opset)
drops it. tinyc computes pools by the dropping rule (onnx_ops.spatial_pads / onnx_nd.nd_pads),
so a model whose declared shapes follow it would fail strict inference at opset <= 21.
`for_inference` gives the model with each such node rewritten as the same window with
ceil_mode=0 and the end pads the dropping rule implies (same output shape by ONNX's rule);
`restore` puts the original nodes back into the inferred model (inference adds value_info only).
"""
from __future__ import annotations

import onnx
from onnx import helper

CEIL_POOLS = ("MaxPool", "AveragePool")
FIXED_OPSET = 22          # where ONNX's own inference drops the window


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _end_pads(node: onnx.NodeProto, shapes: dict) -> list[int] | None:
    """Pads (begin..., end...) giving the dropping rule's output with ceil_mode=0, or None
    when the node needs no rewrite (or its input shape is not known yet)."""
    a = _attrs(node)
    if not a.get("ceil_mode") or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID"):
        return None
    kernel = list(a.get("kernel_shape") or [])
    shape = shapes.get(node.input[0]) if node.input else None
    if not kernel or shape is None or len(shape) != len(kernel) + 2 or None in shape[2:]:
        return None
    n = len(kernel)
    stride = list(a.get("strides") or [1] * n)
    dil = list(a.get("dilations") or [1] * n)
    pads = ([0] * (2 * n) if a.get("auto_pad", b"NOTSET") == b"VALID"
            else list(a.get("pads") or [0] * (2 * n)))
    if len(stride) != n or len(dil) != n or len(pads) != 2 * n:
        return None
    changed = False
    for i, h in enumerate(shape[2:]):
        dk = (kernel[i] - 1) * dil[i] + 1
        span = h + pads[i] + pads[i + n]
        if span < dk or stride[i] <= 0:
            return None
        out = -(-(span - dk) // stride[i]) + 1   # ceil rule (ONNX inference before 22)
        if (out - 1) * stride[i] >= h + pads[i]:  # the last window starts in the end padding
            out -= 1
            changed = True
        end = max((out - 1) * stride[i] + dk - h - pads[i], 0)
        if (h + pads[i] + end - dk) // stride[i] + 1 != out:
            return None
        pads[i + n] = end                         # ceil_mode=0 with this end pad gives out
    return pads if changed else None


def needs_rewrite(model: onnx.ModelProto, opset: int) -> bool:
    return opset < FIXED_OPSET and any(
        n.op_type in CEIL_POOLS and n.domain in ("", "ai.onnx") and _attrs(n).get("ceil_mode")
        for n in model.graph.node)


def _known(model: onnx.ModelProto, infer) -> dict:
    inferred = infer(model)
    known = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info):
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            known[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                   for d in tt.shape.dim)
    return known


def for_inference(model: onnx.ModelProto, infer) -> tuple[onnx.ModelProto, dict]:
    """(model copy with the ceil_mode pools rewritten, {node index: original node}).
    `infer(model)` is ONNX's non-strict inference, used to learn each pool's input shape; the
    pools are settled in graph order, inferring again after each rewrite (a later pool's input
    shape depends on an earlier pool's rule)."""
    shadow = onnx.ModelProto()
    shadow.CopyFrom(model)
    originals = {}
    known = None
    for i, node in enumerate(shadow.graph.node):
        if node.op_type not in CEIL_POOLS or node.domain not in ("", "ai.onnx") \
                or not _attrs(node).get("ceil_mode"):
            continue
        if known is None:
            known = _known(shadow, infer)
        pads = _end_pads(node, known)
        if pads is None:
            continue
        orig = onnx.NodeProto()
        orig.CopyFrom(node)
        originals[i] = orig
        keep = [x for x in node.attribute if x.name not in ("ceil_mode", "pads", "auto_pad")]
        del node.attribute[:]
        node.attribute.extend(keep + [helper.make_attribute("pads", pads)])
        known = None                             # shapes after this pool change
    return shadow, originals


def restore(inferred: onnx.ModelProto, originals: dict) -> onnx.ModelProto:
    for i, node in originals.items():
        inferred.graph.node[i].CopyFrom(node)
    return inferred
