"""tinyc's C runtime: hand-written C99 int8 kernels in CMSIS-NN style, shipped as package data.

    tinyc_nn.h        types and prototypes (the kernel API); TINYC_DSP, the one DSP-path gate
    tinyc_requant.h   tinyc_requantize & co. (bit-exact with ir/qmath.py, no UB)
    tinyc_window.h    valid taps of a padded filter window (conv, depthwise, pools)
    tinyc_dsp.h       the DSP intrinsic wrappers (SXTB16/SXTAB16 ROR #8, SSAT #16, word load)
    tinyc_dot.h       int8 dot product: portable C and a TINYC_DSP path (same bits)
    tinyc_packed.h    packed weight formats (s4, cb, sparse, mask): declarations, inline helpers
    tinyc_packed.c    their shared conv2d loops (DSP window loops), compiled once
    tinyc_<op>_s8.c   one kernel per file
"""
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent


def runtime_file(name: str) -> Path:
    """The path of one runtime file (e.g. 'tinyc_conv2d_s8.c')."""
    path = RUNTIME_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"tinyc runtime has no file {name!r} (in {RUNTIME_DIR})")
    return path
