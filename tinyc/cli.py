"""The tinyc command line. Exit codes: 0 ok, 2 user error (one line on stderr), 1 internal."""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings

from .errors import TinycError

EPILOG = """examples:
  tinyc build model.onnx --board stm32 --calib calib.npz -o build/model
  tinyc run   model.onnx --board stm32 --calib calib.npz --data test.npz
  tinyc check model.onnx --calib calib.npz --data test.npz
  tinyc inspect model.onnx
  tinyc boards

A float model needs calibration data (--calib: .npz with one array per model input, N samples
in the model's input shape). A quantized (QDQ) ONNX model carries its own scales and needs none.
Dynamic input dims: pin them with --input-shape NAME=1,3,32,32. `build` replaces its output
folder as a whole (atomically); a folder holding other files needs --force.

exit status: 0 ok; 2 a problem with the input (one `error:` line says what and how to fix it);
1 an internal error (a bug in tinyc: please report it with the command and its input files).
"""


class _Parser(argparse.ArgumentParser):
    """argparse with tinyc's one-line errors: `error: ...` on stderr, exit status 2."""

    def error(self, message: str):
        print(f"error: {self.prog}: {message} — see `{self.prog} --help`", file=sys.stderr)
        sys.exit(2)


def _shapes(items: list[str] | None) -> dict | None:
    """--input-shape NAME=D0,D1,... (repeatable) -> {name: dims}; sizes >= 1."""
    if not items:
        return None
    out: dict[str, tuple[int, ...]] = {}
    for it in items:
        name, eq, dims = it.partition("=")
        try:
            shape = tuple(int(d) for d in dims.split(","))
        except ValueError:
            shape = ()
        if not (name and eq and shape) or min(shape) < 1:
            raise TinycError(f"--input-shape '{it}': expected NAME=D0,D1,... with sizes >= 1, "
                             "e.g. input=1,3,32,32")
        if out.get(name, shape) != shape:
            raise TinycError(f"--input-shape: input '{name}' is given twice, as "
                             f"{','.join(map(str, out[name]))} and {dims} — expected one shape")
        out[name] = shape
    return out


def _c_prefix(text: str) -> str:
    """--name: a C symbol prefix (other characters become '_'); not empty, not reserved."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a C symbol prefix such as my_model, got ''")
    if text.startswith("_"):
        raise argparse.ArgumentTypeError(f"'{text}' starts with '_' (reserved in C) — "
                                         "expected a name such as my_model")
    return text


def _common(p: argparse.ArgumentParser, calib: bool = True) -> None:
    p.add_argument("model", help="the .onnx model file")
    p.add_argument("--board", default="stm32", help="target board (see `tinyc boards`); "
                   "default: stm32")
    if calib:
        p.add_argument("--calib", metavar="CALIB.npz",
                       help="calibration samples, one array per model input (float models)")
    p.add_argument("--input-shape", action="append", metavar="NAME=D0,D1,...",
                   help="pin a dynamic input shape, e.g. input=1,3,32,32 (repeatable)")
    p.add_argument("--name", default="tinyc_model", type=_c_prefix,
                   help="C symbol prefix of the generated API (default: tinyc_model)")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="tinyc", description="Compile an ONNX neural network into small, integer-only "
        "C99 for Cortex-M microcontrollers, and prove it bit-exact on the host and in QEMU.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true", help="log every pass")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    b = sub.add_parser("build", help="write the C folder (model.h/.c, weights, kernels, report)")
    _common(b)
    b.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    b.add_argument("--force", action="store_true",
                   help="replace the output folder even if it holds files tinyc did not write")
    b.add_argument("--no-measure", action="store_true",
                   help="skip linking a test firmware and the QEMU run that measure flash, "
                   "RAM and stack (and the exact board-fit check)")
    b.add_argument("--host", action="store_true",
                   help="write the folder for a normal (Linux/macOS) program instead of a "
                   "board: same C and bits, nothing measured on a board")
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
    if (sys.argv[1:] if argv is None else list(argv))[:1] == ["bench"]:   # tinyc.bench
        from .bench import main as bench_main
        return bench_main((sys.argv[1:] if argv is None else list(argv))[1:])
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(name)s: %(message)s")
    if args.verbose:
        logging.captureWarnings(True)            # numpy/onnx warnings as log lines
    else:
        warnings.simplefilter("ignore")          # stderr carries tinyc's own lines only
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
    except Exception as e:  # noqa: BLE001 — the one place internal errors are reported
        print(_internal_error(e, argv), file=sys.stderr)
        return 1


def _internal_error(e: Exception, argv: list[str] | None) -> str:
    import platform
    from importlib import metadata
    try:
        version = metadata.version("tinyc")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    cmd = " ".join(sys.argv[:1] + list(argv) if argv is not None else sys.argv)
    return (f"internal error in tinyc {version}: {type(e).__name__}: {e}\n"
            "This is a bug in tinyc, not a problem with your input. Please report it with "
            "this message, the command and its input files (model, calibration data):\n"
            f"  command: {cmd}\n"
            f"  python {platform.python_version()}, {platform.platform()}\n"
            + traceback.format_exc())


if __name__ == "__main__":
    sys.exit(main())
