"""Guard rails: warnings when an int8 model falls far below the float one, with the likely
cause read from the data (calibration inputs on another scale than the test inputs, a few
outliers dominating a range) and what to try. Warnings go to stderr, one paragraph each."""
from __future__ import annotations

import sys

import numpy as np

DROP_POINTS = 10.0      # int8 this many points below float (or agreement below 100 - this)
SCALE_RATIO = 8.0       # calibration vs test input spread: this far apart is another scale
OUTLIER_RATIO = 8.0     # max |x| this many times the 99th percentile: outliers set the range

TRY = ("what to try: calibration data from the same preprocessing as the data the model "
       "will see; --calib-method percentile or mse (ranges that ignore outliers); "
       "--activations LAYER=int16 for the layers that lose most (names: `tinyc inspect "
       "MODEL`); compare with `tinyc check MODEL --calib C.npz --data T.npz`.")


def _spread(a: np.ndarray) -> tuple[float, float, float, float]:
    """min, max, max |x| and the 99th percentile of |x| (the bulk, outliers aside)."""
    a = np.asarray(a, np.float64)
    return float(a.min()), float(a.max()), float(np.abs(a).max()), \
        float(np.percentile(np.abs(a), 99))


def input_causes(calib: dict[str, np.ndarray] | None, data: dict[str, np.ndarray]) -> list[str]:
    """Likely causes in the inputs: per model input, calibration samples on another scale than
    the test samples (e.g. 0..255 pixels for a model trained on 0..1), or a calibration range
    set by a few outliers."""
    causes = []
    for name, x in data.items():
        c = None if calib is None else calib.get(name)
        if c is None or np.asarray(c).size == 0 or np.asarray(x).size == 0:
            continue
        (clo, chi, cabs, cbulk), (xlo, xhi, _, xbulk) = _spread(c), _spread(x)
        if cbulk > 0 and xbulk > 0 and not 1 / SCALE_RATIO < cbulk / xbulk < SCALE_RATIO:
            causes.append(
                f"calibration inputs of '{name}' range over [{clo:g}, {chi:g}] but the test "
                f"inputs over [{xlo:g}, {xhi:g}] ({cbulk / xbulk:.3g}x): the calibration data "
                "is on another scale (e.g. 0..255 pixels for a model that expects 0..1), so "
                "every int8 scale was fitted to values the model never sees")
        elif cbulk > 0 and cabs / cbulk > OUTLIER_RATIO:
            causes.append(
                f"calibration inputs of '{name}': max |x| {cabs:g} is {cabs / cbulk:.3g}x their "
                f"99th percentile ({cbulk:g}): a few outliers set the range, the rest falls into "
                "a few int8 steps")
    return causes


def accuracy_warning(float_acc: float, int8_acc: float, what: str, causes: list[str],
                     labelled: bool = True) -> str | None:
    """The warning text when int8 (or compressed) accuracy is far below float, else None.
    Without labels `int8_acc` is the agreement with float (float_acc then is 100)."""
    if float_acc - int8_acc < DROP_POINTS:
        return None
    kind = "accuracy" if labelled else "top-1 agreement with the float model"
    lines = [f"warning: {what} {kind} {int8_acc:.2f}% is far below float's {float_acc:.2f}%."]
    lines += [f"  likely cause: {c}." for c in causes] or [
        "  likely cause: not in the inputs (calibration and test data are on the same scale): "
        "an activation range too wide for int8 in some layer."]
    lines.append(f"  {TRY}")
    return "\n".join(lines)


def warn(text: str | None) -> None:
    if text:
        print(text, file=sys.stderr)


def calib_arrays(model, calib) -> dict[str, np.ndarray] | None:
    """The model's calibration data as {input name: samples}, or None (QDQ model, none given
    or unreadable: the guard then reads only the test data)."""
    if calib is None:
        return None
    from .data import as_arrays
    from .errors import TinycError
    try:
        return as_arrays(calib, [s.name for s in model.inputs], "calibration data")
    except TinycError:
        return None
