"""The command line's options shared by every command: board, calibration and compression
flags (argparse), and their conversion into tinyc.compile keywords. Imported by the CLI
(tinyc.cli), the commands (tinyc.commands) and the sweep (tinyc.sweep), and imports none of
them."""
from __future__ import annotations

import argparse

from .errors import TinycError

# The tinyc.compile keywords that only change calibration or the memory plan (plain int8);
# the others compress.
CALIBRATION_OPTIONS = ("calib_method", "per_tensor", "ram_limit", "ort_exact")


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
    """The tinyc.compile compression/calibration keywords as flags (docs/compression.md);
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
    g.add_argument("--max-latency-ms", metavar="MS",
                   type=_number(float, 0, float("inf"), True, True, "2.5"),
                   help="with --max-accuracy-drop: a latency budget per inference (estimated "
                   "cycles at the board's clock, measured in QEMU); compression that makes "
                   "the model slower than MS is undone")
    g.add_argument("--max-flash", metavar="SIZE",
                   help="with --max-accuracy-drop: a flash budget for the model (bytes, or "
                   "64K); only as much compression as needed to fit it is kept")
    g.add_argument("--storage", type=_choice(storage_choices()),
                   metavar="|".join(storage_choices()),
                   help="weight storage: auto (a compact format where it saves >= 1/8, sparse "
                   "only where not slower; default), small (the smallest), dense, speed (more "
                   "flash for fewer cycles: stride-1 3x3 convs as Winograd and 1x1 convs with "
                   "pre-widened int16 weights, and every kernel's scratch whole), or one "
                   "format")
    g.add_argument("--finetune", metavar="EPOCHS", type=_number(int, 1, 10**6, False, False,
                                                                "10"),
                   help="quantization-aware fine-tuning with distillation for EPOCHS epochs "
                   "after compression (docs/finetune.md)")
    g.add_argument("--train", metavar="TRAIN.npz",
                   help="--finetune's training data: input arrays (+ 'label' for "
                   "cross-entropy); default: --calib, distillation only")
    g.add_argument("--teacher", metavar="T.onnx",
                   help="--finetune's teacher (same inputs and outputs); default: the float "
                   "model itself")


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
                "compensate", "bias_correction", "max_accuracy_drop", "val", "storage",
                "ram_limit", "finetune", "train", "teacher", "ort_exact"):
        if getattr(args, key, None) is not None:
            out[key] = getattr(args, key)
    for key in ("prune", "cluster", "weights", "activations"):
        v = _merge(f"--{key}", getattr(args, key, None))
        if v is not None:
            out[key] = v
    return out


def _size(flag: str):
    def parse(text: str) -> int:
        from .target import parse_size
        try:
            return parse_size(text, flag)
        except TinycError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return parse


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
    p.add_argument("--ram-limit", metavar="BYTES", type=_size("--ram-limit"),
                   help="RAM one inference may use: arena + the input and output buffers "
                   "(bytes, or 40K); default: the board's RAM. Below the layer-by-layer plan "
                   "tinyc reads the input in place and runs the first layers in patches")
    p.add_argument("--float-abi", type=_choice(FLOAT_ABIS), metavar="|".join(FLOAT_ABIS),
                   help="float ABI of the firmware build (default: the board's: hard with its "
                   "-mfpu where it has an FPU, else soft); the generated C is integer-only "
                   "either way, with the same output bits")
