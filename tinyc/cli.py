"""The tinyc command line. Exit codes: 0 ok, 2 user error (one line on stderr), 1 internal."""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings

from .errors import TinycError
from .options import (CALIBRATION_OPTIONS, add_board_args, add_compression_args,  # noqa: F401
                      compile_options)

EPILOG = """examples:
  tinyc build model.onnx --board stm32 --calib calib.npz -o build/model
  tinyc run   model.onnx --board stm32 --calib calib.npz --data test.npz
  tinyc check model.onnx --calib calib.npz --data test.npz
  tinyc check model.onnx --calib calib.npz --data test.npz --cluster 16
  tinyc sweep model.onnx --calib calib.npz --data test.npz -o sweep/
  tinyc inspect model.onnx
  tinyc boards
  tinyc build model.onnx --board my_chip.toml --calib calib.npz -o build/model   (docs/boards.md)
  tinyc bench --board stm32 -o BENCHMARKS.md

A float model needs calibration data (--calib: .npz with one array per model input, N samples
in the model's input shape). A quantized (QDQ) ONNX model carries its own scales and needs none.
Dynamic input dims (or a static batch > 1): pin them with --input-shape NAME=1,3,32,32.
`build` replaces its output folder as a whole (atomically); a folder holding other files needs
--force.
Compression (--prune, --cluster, --weights int4, ...): `tinyc build --help`.

exit status: 0 ok; 2 a problem with the input (one `error:` line says what and how to fix it);
1 an internal error (a bug in tinyc: please report it with the command and its input files).
"""

COMPRESSION_EPILOG = """compression (a float model and --calib; without retraining: the calibration
data re-fits what is pruned, clustered or rounded):
  --cluster 16                    16 shared weight values per layer (4-bit indices)
  --weights int4                  int4 weights, two per byte
  --prune 0.5 --storage small     half the weights zero, stored sparse
  --prune-structured 0.3          30% fewer output channels: fewer MACs
  --max-accuracy-drop 0.01 --val val.npz   per-layer precision within 1 point
  --max-accuracy-drop 0.01 --max-latency-ms 2   ... no slower than 2 ms (or --max-flash 64K)
  --cluster conv1=8 --cluster fc=16        per layer (names: `tinyc inspect MODEL`)
  --cluster features.3=8          ... or the ONNX node name, or the PyTorch module path
  --activations int16             int16 activations (16x8 kernels) where int8 loses most
  --calib-method mse --per-tensor          calibration only (plain int8)
Compare float vs int8 vs compressed first: tinyc check MODEL --calib C.npz --data T.npz --cluster 16
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


# -- the parser -----------------------------------------------------------------------------

def _common(p: argparse.ArgumentParser, calib: bool = True, compression: bool = True) -> None:
    p.add_argument("model", help="the .onnx model file")
    add_board_args(p)
    if calib:
        p.add_argument("--calib", metavar="CALIB.npz",
                       help="calibration samples, one array per model input (float models)")
    p.add_argument("--input-shape", action="append", metavar="NAME=D0,D1,...",
                   help="pin a dynamic input shape, e.g. input=1,3,32,32 (repeatable); also pins a "
                        "static batch N to 1 when the graph keeps the samples apart")
    p.add_argument("--ort-exact", action="store_true", default=None,
                   help="a QDQ model from ONNX Runtime's quantizer, PyTorch or NNCF: requantize "
                        "conv / depthwise / fully connected layers bit for bit as ONNX Runtime "
                        "(float32 math emulated in integers, generic kernels: slower; default: "
                        "the fast kernels, within 1 step of ORT per layer)")
    p.add_argument("--name", default="tinyc_model", type=_c_prefix,
                   help="C symbol prefix of the generated API (default: tinyc_model)")
    if compression:
        add_compression_args(p)


def _sub(sub, name: str, help: str, examples: str):
    return sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                          epilog="examples:\n" + examples + "\n\n" + COMPRESSION_EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _sweep_parser(sub) -> None:
    from .sweep import GRID_HELP
    s = sub.add_parser("sweep", help="build a grid of compression settings; table + plot",
                       description="Build the model once per setting of a grid and measure "
                       "each: weight bytes, flash, MACs, instructions (QEMU), accuracy of the "
                       "generated C on the host. Writes DIR/sweep.md, sweep.csv, sweep.svg.",
                       epilog=GRID_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(s)
    s.add_argument("--data", required=True, metavar="TEST.npz",
                   help="test set: inputs (or x) + 'label' (or y); without labels, agreement "
                   "with the float model")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    s.add_argument("--grid", nargs="+", metavar="SETTING", default=["default"],
                   help="settings to try: 'default', 'quick', or entries like cluster=16, "
                   "prune=0.5,weights=int4 (flags without --)")
    s.add_argument("--no-measure", action="store_true",
                   help="skip linking each setting for its flash bytes (arm-none-eabi-gcc) "
                   "and running it in QEMU")
    s.add_argument("--qemu", action=argparse.BooleanOptionalAction, default=None,
                   help="count one inference's instructions in QEMU, for the estimated "
                   "cycles and latency of every setting (default: on when arm-none-eabi-gcc "
                   "and qemu-system-arm are installed and not --no-measure)")


def _bench_parser(sub) -> None:
    b = sub.add_parser("bench", help="MLPerf Tiny models + the example in QEMU: BENCHMARKS.md",
                       description="Build each MLPerf Tiny model and the bundled example for a "
                       "board, count instructions in QEMU, link for flash and RAM, and write "
                       "the table (tinyc/bench.py; other flags, such as --no-ptq, go to it). Needs "
                       "arm-none-eabi-gcc and qemu-system-arm.",
                       epilog="examples:\n  tinyc bench\n  tinyc bench --board mps2-an386 "
                       "--models /data/models -o /tmp/BENCHMARKS.md",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--board", default="stm32", metavar="NAME|PATH.toml",
                   help="target board: a name or a board file (default: stm32)")
    b.add_argument("--models", metavar="DIR", help="folder holding mlperf-tiny/ (default: "
                   "$TINYC_MODELS, else the repository's models/)")
    b.add_argument("-o", "--output", default="BENCHMARKS.md", metavar="BENCHMARKS.md",
                   help="the Markdown file to write (default: BENCHMARKS.md)")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="tinyc", description="Compile an ONNX neural network into small, integer-only "
        "C99 for Cortex-M microcontrollers, and prove it bit-exact on the host and in QEMU.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true", help="log every pass")
    ap.add_argument("--version", action="version", version=f"tinyc {_version()}")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    b = _sub(sub, "build", "write the C folder (model.h/.c, weights, kernels, report)",
             "  tinyc build model.onnx --calib calib.npz -o build/model\n"
             "  tinyc build model.onnx --calib calib.npz -o build/model --cluster 16")
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
    b.add_argument("--firmware", action="store_true",
                   help="also write firmware/: a bare-metal program around the model (tinyc's "
                   "startup code, linker scripts, a main.c that prints the outputs, a Makefile "
                   "with `make` for the chip and `make qemu` to run it; docs/firmware.md)")
    b.add_argument("--input", metavar="X.npy",
                   help="with --firmware: the input sample of firmware/input.c (default: zeros)")
    r = _sub(sub, "run", "build, run in QEMU on the board; outputs + instructions",
             "  tinyc run model.onnx --calib calib.npz --input x.npy\n"
             "  tinyc run model.onnx --calib calib.npz --data test.npz --weights int4")
    _common(r)
    r.add_argument("--profile", action="store_true",
                   help="also print each layer's estimated cycles, latency and share "
                   "(a second firmware with a hook between layers)")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--input", metavar="X.npy", help="one input sample (model input shape)")
    g.add_argument("--data", metavar="TEST.npz",
                   help="test set: input arrays (+ 'label'); prints accuracy vs float")
    c = _sub(sub, "check", "host: float vs int8 (vs compressed) and golden model vs generated C",
             "  tinyc check model.onnx --calib calib.npz --data test.npz\n"
             "  tinyc check model.onnx --calib calib.npz --data test.npz --prune 0.5 "
             "--storage small")
    _common(c)
    c.add_argument("--data", required=True, metavar="TEST.npz",
                   help="test set: inputs (or x) + 'label' (or y); without labels, agreement "
                   "and error against the float model")
    i = _sub(sub, "inspect", "ops, parameters, MACs, tensor sizes, memory plan",
             "  tinyc inspect model.onnx\n"
             "  tinyc inspect model.onnx --calib calib.npz --prune-structured 0.3")
    _common(i)
    i.add_argument("--ir", action="store_true", help="also print the IR (every tensor and op)")
    f = _sub(sub, "finetune", "fine-tune (QAT + distillation) and write a QDQ ONNX model",
             "  tinyc finetune model.onnx --calib calib.npz --train train.npz --cluster 2 "
             "-o ft.onnx\n"
             "  tinyc finetune model.onnx --calib calib.npz --finetune 20 --teacher big.onnx "
             "-o ft.onnx")
    _common(f)
    f.add_argument("-o", "--output", required=True, metavar="OUT.onnx",
                   help="the fine-tuned model as QDQ ONNX (ONNX Runtime runs it; tinyc "
                   "compiles it back to the same int8 weights)")
    _sweep_parser(sub)
    _bench_parser(sub)
    bd = sub.add_parser("boards", help="list the known boards and their memory regions",
                        description="List every board with its memory regions (chip map, and "
                        "where QEMU has them); or check and show one board file.")
    bd.add_argument("board", nargs="?", metavar="NAME|PATH.toml",
                    help="show only this board (a name, or your own board file)")
    bd.add_argument("--flash-size", metavar="SIZE", help="as for build")
    bd.add_argument("--ram-size", metavar="SIZE", help="as for build")
    return ap


def _version() -> str:
    from . import __version__
    return __version__


def check_flags(ap: argparse.ArgumentParser, argv: list[str]) -> None:
    """Before argparse (whose errors name missing arguments first): an unknown command or
    --flag is an error that says the closest one ("did you mean --calib?")."""
    from .hints import did_you_mean
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    cmd = next((a for a in argv if not a.startswith("-")), None)
    if cmd is not None and cmd not in sub.choices:
        ap.error(f"unknown command '{cmd}'{did_you_mean(cmd, sub.choices)}")
    if cmd is None or cmd == "bench":       # bench passes its other flags to tinyc.bench
        return
    p = sub.choices[cmd]
    known = [o for a in p._actions for o in a.option_strings if o.startswith("--")]
    for tok in argv[argv.index(cmd) + 1:]:
        if tok == "--":
            break
        flag = tok.split("=", 1)[0]
        if tok.startswith("--") and not any(k.startswith(flag) for k in known):
            p.error(f"unrecognized argument {flag}{did_you_mean(flag, known)}")


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    check_flags(ap, list(sys.argv[1:] if argv is None else argv))
    args, extra = ap.parse_known_args(argv)
    if extra and args.cmd != "bench":       # bench passes its other flags to tinyc.bench
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(name)s: %(message)s")
    if args.verbose:
        logging.captureWarnings(True)            # numpy/onnx warnings as log lines
    else:
        warnings.simplefilter("ignore")          # stderr carries tinyc's own lines only
    from . import commands, sweep
    command = sweep.cmd_sweep if args.cmd == "sweep" else getattr(commands, f"cmd_{args.cmd}")
    try:
        rc = command(args, _shapes(getattr(args, "input_shape", None)))
        sys.stdout.flush()                        # a closed pipe shows here, not at exit
        return rc
    except TinycError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                       # `tinyc inspect m.onnx | head`: reader left
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141
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
