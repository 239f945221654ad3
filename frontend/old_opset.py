"""Models below the supported opset range (opsets 7..10): converted with onnx.version_converter
to the lowest supported opset before anything else reads them; one note line says so.

    model = upgrade(model, path)        # the same model when its opset is already supported

Below opset 7 there is no converter path worth trusting (the ops' broadcast and
consumed_inputs attributes changed), so those models are refused naming the opset.
"""
from __future__ import annotations

import logging

import onnx
from onnx import version_converter

from ..errors import ModelError

log = logging.getLogger("tinyc.frontend")

LOWEST = 11                  # the lowest opset the frontend reads (onnx.OPSETS starts here)
OLDEST = 7                   # the oldest opset converted
DOMAINS = ("", "ai.onnx")


def upgrade(model: onnx.ModelProto, path: str) -> onnx.ModelProto:
    versions = [o.version for o in model.opset_import if o.domain in DOMAINS]
    if not versions or versions[0] >= LOWEST:
        return model
    v = versions[0]
    fix = (f"convert it to opset {LOWEST} or later yourself (onnx.version_converter."
           f"convert_version(model, {LOWEST}), or re-export it from the training framework "
           f"with opset_version={LOWEST}+)")
    if v < OLDEST:
        raise ModelError(f"{path}: opset {v} is too old — tinyc converts opsets {OLDEST}.."
                         f"{LOWEST - 1} and reads {LOWEST}+; {fix}")
    try:
        new = version_converter.convert_version(model, LOWEST)
        onnx.checker.check_model(new)
    except Exception as e:                       # noqa: BLE001 (the converter raises several)
        lines = [s for s in str(e).strip().splitlines() if s.strip()]
        raise ModelError(f"{path}: opset {v} could not be converted to opset {LOWEST} "
                         f"by onnx.version_converter ({lines[0] if lines else type(e).__name__})"
                         f" — {fix}") from None
    log.warning("%s: note: opset %d model converted to opset %d with onnx.version_converter",
                path, v, LOWEST)
    return new
