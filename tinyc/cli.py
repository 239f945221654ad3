"""The tinyc command line. Exit codes: 0 ok, 2 user error (one line on stderr), 1 internal."""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from .errors import TinycError

EPILOG = """examples:
  tinyc build model.onnx --board stm32 --calib calib.npz -o build/model
  tinyc run   model.onnx --board stm32 --calib calib.npz --data test.npz
  tinyc check model.onnx --calib calib.npz --data test.npz
  tinyc inspect model.onnx
  tinyc boards

A float model needs calibration data (--calib: .npz with one array per model input, N samples
in the model's input shape). A quantized (QDQ) ONNX model carries its own scales and needs none.
"""


def _shapes(items: list[str] | None) -> dict | None:
    if not items:
        return None
    out = {}
    for it in items:
        name, _, dims = it.partition("=")
        try:
            out[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            raise TinycError(f"--input-shape '{it}': expected NAME=D0,D1,... e.g. "
                             "input=1,3,32,32") from None
    return out


def _common(p: argparse.ArgumentParser, calib: bool = True) -> None:
    p.add_argument("model", help="the .onnx model file")
    p.add_argument("--board", default="stm32", help="target board (see `tinyc boards`); "
                   "default: stm32")
    if calib:
        p.add_argument("--calib", metavar="CALIB.npz",
                       help="calibration samples, one array per model input (float models)")
    p.add_argument("--input-shape", action="append", metavar="NAME=D0,D1,...",
                   help="pin a dynamic input shape, e.g. input=1,3,32,32 (repeatable)")
    p.add_argument("--name", default="tinyc_model",
                   help="C symbol prefix of the generated API (default: tinyc_model)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tinyc", description="Compile an ONNX neural network into small, integer-only "
        "C99 for Cortex-M microcontrollers, and prove it bit-exact on the host and in QEMU.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true", help="log every pass")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    b = sub.add_parser("build", help="write the C folder (model.h/.c, weights, kernels, report)")
    _common(b)
    b.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    b.add_argument("--no-measure", action="store_true",
                   help="skip linking a test firmware and the QEMU run that measure flash, "
                   "RAM and stack (and the exact board-fit check)")
    r = sub.add_parser("run", help="build, run in QEMU on the board; outputs + instructions")
    _common(r)
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--input", metavar="X.npy", help="one input sample (model input shape)")
    g.add_argument("--data", metavar="TEST.npz",
                   help="test set: input arrays (+ 'label'); prints accuracy vs float")
    c = sub.add_parser("check", help="host: float vs int8 golden model vs generated C")
    _common(c)
    c.add_argument("--data", required=True, metavar="TEST.npz", help="test set (+ 'label')")
    i = sub.add_parser("inspect", help="ops, parameters, MACs, tensor sizes, memory plan")
    _common(i)
    sub.add_parser("boards", help="list the known boards and their limits")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(name)s: %(message)s")
    from . import commands
    try:
        return getattr(commands, f"cmd_{args.cmd}")(args, _shapes(getattr(args, "input_shape",
                                                                           None)))
    except TinycError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 — the one place internal errors are reported
        print("internal error in tinyc — please report it with the model and command:\n"
              + traceback.format_exc(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
