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
  --cluster conv1=8 --cluster fc=16        per layer (names: `tinyc inspect MODEL`)
  --activations int16             int16 activations (16x8 kernels) where int8 loses most
  --calib-method mse --per-tensor          calibration only (plain int8)
Compare float vs int8 vs compressed first: tinyc check MODEL --calib C.npz --data T.npz --cluster 16
"""

# The tinyc.compile keywords that only change calibration (plain int8); the others compress.
CALIBRATION_OPTIONS = ("calib_method", "per_tensor")


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


# -- compression and calibration flags ------------------------------------------------------

def _number(kind, lo, hi, lo_open: bool, hi_open: bool, example: str):
    """An argparse type: int or float in the interval; the error names expected and got."""
    interval = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    expected = f"{'an integer' if kind is int else 'a number'} in {interval} such as {example}"

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not ((lo < v if lo_open else lo <= v) and (v < hi if hi_open else v <= hi)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got '{text}'")
        return v
    return parse


def _choice(choices: tuple[str, ...]):
    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(choices)}, "
                                             f"got '{text}'")
        return text
    return parse


def _per_layer(parse):
    """VALUE (every layer) or LAYER=VALUE (that layer; repeat the flag for more layers)."""
    def per_layer(text: str):
        name, eq, value = text.rpartition("=")
        if eq and not name:
            raise argparse.ArgumentTypeError(f"expected VALUE or LAYER=VALUE, got '{text}'")
        try:
            return (name or None, parse(value if eq else text))
        except argparse.ArgumentTypeError as e:
            raise argparse.ArgumentTypeError(f"{e}{' for layer ' + repr(name) if eq else ''}"
                                             ) from None
    return per_layer


def storage_choices() -> tuple[str, ...]:
    """--storage values: backend_c/formats.py's storage policies and formats, not a copy."""
    from .backend_c.formats import FORMATS, STORAGE
    return tuple(dict.fromkeys((*STORAGE, *FORMATS)))


def add_compression_args(p: argparse.ArgumentParser) -> None:
    """The tinyc.compile compression/calibration keywords as flags (passes/NOTES_COMPRESSION.md);
    every default is None: compile_options passes only what was given."""
    from .passes.calibrate import CALIB_METHODS
    from .passes.cluster import MAX_K
    from .passes.prune import PRUNE_METHODS, PRUNE_SCOPES
    from .passes.quantize import ACTIVATIONS
    g = p.add_argument_group("calibration and compression (float models; see the epilog)")
    g.add_argument("--calib-method", type=_choice(CALIB_METHODS), metavar="|".join(CALIB_METHODS),
                   help="activation range estimator (default minmax)")
    g.add_argument("--per-tensor", action="store_true", default=None,
                   help="one weight scale per tensor instead of per output channel")
    g.add_argument("--prune", action="append", metavar="SPARSITY",
                   type=_per_layer(_number(float, 0, 1, False, True, "0.5")),
                   help="fraction of conv/FC weights set to zero, in [0, 1); or LAYER=SPARSITY")
    g.add_argument("--prune-method", type=_choice(PRUNE_METHODS), metavar="|".join(PRUNE_METHODS),
                   help="which weights --prune removes: OBS saliency or magnitude (default obs)")
    g.add_argument("--prune-scope", type=_choice(PRUNE_SCOPES), metavar="|".join(PRUNE_SCOPES),
                   help="--prune's fraction in every layer, or allocated over the model by "
                   "measured error (default layer)")
    g.add_argument("--prune-structured", metavar="RATIO",
                   type=_number(float, 0, 1, True, True, "0.3"),
                   help="remove RATIO of the output channels of every prunable layer, in (0, 1)")
    g.add_argument("--cluster", action="append", metavar="K",
                   type=_per_layer(_number(int, 2, MAX_K, False, False, "16")),
                   help=f"K shared weight values per layer, 2..{MAX_K}; or LAYER=K")
    g.add_argument("--weights", action="append", metavar="int8|int4",
                   type=_per_layer(_choice(("int8", "int4"))),
                   help="weight bits (default int8); or LAYER=int4")
    g.add_argument("--activations", action="append", metavar="|".join(ACTIVATIONS),
                   type=_per_layer(_choice(ACTIVATIONS)),
                   help="activation bits (default int8; int16: TFLite's 16x8 scheme, for the "
                   "layers that have it); or LAYER=int16")
    g.add_argument("--compensate", action=argparse.BooleanOptionalAction, default=None,
                   help="re-fit the weights kept to the calibration data (OBS/GPTQ); "
                   "default: on when compressing")
    g.add_argument("--bias-correction", action=argparse.BooleanOptionalAction, default=None,
                   help="correct the mean output error in the bias (default: on when "
                   "compressing without --compensate; alone: on plain int8)")
    g.add_argument("--max-accuracy-drop", metavar="P",
                   type=_number(float, 0, 1, False, True, "0.01 (1 point)"),
                   help="pick int8/int4/clusters/sparsity per layer, keeping accuracy within "
                   "P of the float model's (a fraction: 0.01 = 1 point)")
    g.add_argument("--val", metavar="VAL.npz",
                   help="validation data for --max-accuracy-drop: inputs + 'label' (or x, y); "
                   "default: a quarter of --calib, scored against the float model")
    g.add_argument("--storage", type=_choice(storage_choices()),
                   metavar="|".join(storage_choices()),
                   help="weight storage: auto (a compact format where it saves >= 1/8, sparse "
                   "only where not slower; default), small (the smallest), dense, or one format")


def _merge(flag: str, items: list | None):
    """[(None, v)] -> v; [(layer, v), ...] -> {layer: v}; a value for all and per layer, or
    a layer twice, is an error."""
    if not items:
        return None
    layers = [n for n, _ in items if n is not None]
    if len(layers) != len(items) and (layers or len(items) > 1):
        raise TinycError(f"{flag}: given {len(items)} times with {len(layers)} per-layer "
                         f"values — expected one VALUE for every layer, or LAYER=VALUE entries")
    if not layers:
        return items[0][1]
    twice = sorted({n for n in layers if layers.count(n) > 1})
    if twice:
        raise TinycError(f"{flag}: layer(s) {twice} given twice — expected one value per layer")
    return dict(items)


def compile_options(args) -> dict:
    """The tinyc.compile keywords the command line gave (absent flags keep compile's defaults).
    `val` is left as the path (commands load it)."""
    out = {}
    for key in ("calib_method", "per_tensor", "prune_method", "prune_scope", "prune_structured",
                "compensate", "bias_correction", "max_accuracy_drop", "val", "storage"):
        if getattr(args, key, None) is not None:
            out[key] = getattr(args, key)
    for key in ("prune", "cluster", "weights", "activations"):
        v = _merge(f"--{key}", getattr(args, key, None))
        if v is not None:
            out[key] = v
    return out


# -- the parser -----------------------------------------------------------------------------

FLOAT_ABIS = ("soft", "softfp", "hard")     # tinyc.target.FLOAT_ABIS less "auto"


def add_board_args(p: argparse.ArgumentParser) -> None:
    """--board NAME|PATH.toml, --flash-size, --ram-size (docs/boards.md)."""
    p.add_argument("--board", default="stm32", metavar="NAME|PATH.toml",
                   help="target board: a name from `tinyc boards`, or your own board file "
                   "(schema: docs/boards.md); default: stm32")
    p.add_argument("--flash-size", metavar="SIZE", help="override the board's flash size "
                   "(bytes, or 256K, 1M)")
    p.add_argument("--ram-size", metavar="SIZE", help="override the size of the board's main "
                   "RAM region, the one holding .data (bytes, or 96K)")
    p.add_argument("--float-abi", type=_choice(FLOAT_ABIS), metavar="|".join(FLOAT_ABIS),
                   help="float ABI of the firmware build (default: the board's: hard with its "
                   "-mfpu where it has an FPU, else soft); the generated C is integer-only "
                   "either way, with the same output bits")


def _common(p: argparse.ArgumentParser, calib: bool = True, compression: bool = True) -> None:
    p.add_argument("model", help="the .onnx model file")
    add_board_args(p)
    if calib:
        p.add_argument("--calib", metavar="CALIB.npz",
                       help="calibration samples, one array per model input (float models)")
    p.add_argument("--input-shape", action="append", metavar="NAME=D0,D1,...",
                   help="pin a dynamic input shape, e.g. input=1,3,32,32 (repeatable); also pins a "
                        "static batch N to 1 when the graph keeps the samples apart")
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
                   help="skip linking each setting for its flash bytes (arm-none-eabi-gcc)")
    s.add_argument("--qemu", action="store_true",
                   help="also count one inference's instructions in QEMU (slow)")


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
