"""The CLI's commands: each takes the parsed arguments and returns an exit code."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .data import as_arrays, load_npy
from .errors import DataError, OutputError, TinycError
from .report import format_layers, format_summary


def _compile(args, shapes, options: dict | None = None):
    """tinyc.compile with the command line's options (cli_options), or with `options`; with
    --max-flash/--max-latency-ms and --max-accuracy-drop, the point of the search that meets
    them (tinyc/budget.py)."""
    from .budget import budgets, compile_within
    from .pipeline import compile
    opts = cli_options(args) if options is None else options
    board = board_of(args)

    def run(precision=None):
        return compile(args.model, board=board, calib=getattr(args, "calib", None),
                       input_shapes=shapes, name=args.name, **opts,
                       **({} if precision is None else {"precision": precision}))
    want = budgets(args)
    if want and opts.get("max_accuracy_drop") is not None:
        return compile_within(run, want)
    return run()


def board_of(args):
    """The Board of --board NAME|PATH.toml with --flash-size/--ram-size and --float-abi
    applied."""
    import dataclasses

    from .firmware import float_abi
    from .target import load_board
    board = load_board(args.board, getattr(args, "flash_size", None),
                       getattr(args, "ram_size", None))
    abi = getattr(args, "float_abi", None)
    if abi is not None:
        board = dataclasses.replace(board, float_abi=abi)
        float_abi(board)                # hard/softfp on a board without an FPU: BoardError
    return board


def cli_options(args) -> dict:
    """compile_options(args), checked against each other, with --val loaded."""
    from .options import compile_options
    opts = compile_options(args)
    for flag in ("max_flash", "max_latency_ms"):
        if getattr(args, flag, None) is not None and "max_accuracy_drop" not in opts:
            raise TinycError(f"--{flag.replace('_', '-')}: a budget for the compression search "
                             "— expected --max-accuracy-drop P with it")
    if "val" in opts and "max_accuracy_drop" not in opts:
        raise TinycError(f"--val {opts['val']}: it is the validation data of "
                         "--max-accuracy-drop — expected --max-accuracy-drop P with it")
    asked = [k for k in COMPRESSING
             if opts.get(k) is not None and opts[k] is not False and opts[k] != "int8"]
    if asked and getattr(args, "calib", None) is None:
        flags = " ".join(f"--{k.replace('_', '-')}" for k in asked)
        raise TinycError(f"{flags}: compression needs a float model and its calibration data "
                         "— expected --calib CALIB.npz (one array per model input), got none")
    if "val" in opts:
        arrays, labels = load_data(opts["val"], None)
        opts["val"] = {**arrays, **({"label": labels} if labels is not None else {})}
    return opts


FINETUNE_OPTIONS = ("finetune", "train", "teacher")
# Options that change the weights: each needs calibration data (and a float model).
COMPRESSING = ("prune", "prune_structured", "cluster", "weights", "compensate",
               "bias_correction", "max_accuracy_drop")
LABEL_KEYS = ("label", "labels", "y")


def load_data(path, input_names: list[str] | None) -> tuple[dict, np.ndarray | None]:
    """A test/validation .npz: (arrays, labels or None). Labels are 'label', 'labels' or 'y'
    (integer class per sample); inputs are named like the model's inputs, or one array (x) for
    a single-input model. input_names None: the input arrays as they are named in the file."""
    from .data import _load_npz
    raw = _load_npz(path)
    key = next((k for k in LABEL_KEYS if k in raw and k not in (input_names or ())), None)
    labels = raw.pop(key) if key else None
    arrays = raw if input_names is None else as_arrays(raw, input_names, str(path))
    if labels is not None:
        n = len(next(iter(arrays.values()))) if arrays else 0
        labels = np.asarray(labels)
        labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
        whole = labels.dtype.kind in "iu" or (labels.dtype.kind == "f" and labels.ndim == 1
                                              and np.all(labels == np.round(labels)))
        if labels.ndim != 1 or len(labels) != n or not whole:
            raise DataError(f"{path}: array '{key}' has shape {labels.shape} ({labels.dtype}) — "
                            f"expected integer class labels of shape ({n},), one per sample. "
                            "Save them with np.savez(path, x=..., y=labels.astype(np.int64))")
        labels = labels.astype(np.int64)
    return arrays, labels


def _test_set(model, path) -> tuple[list[np.ndarray], np.ndarray | None]:
    arrays, labels = load_data(path, [s.name for s in model.inputs])
    xs = []
    for spec in model.inputs:
        a = np.asarray(arrays[spec.name])
        if a.ndim == 0 or len(a) == 0 or a[0].size != int(np.prod(spec.shape)):
            raise DataError(f"{path}: array for input '{spec.name}' has shape {a.shape} — "
                            f"expected (N, {', '.join(map(str, spec.shape))}), N samples")
        xs.append(a.reshape((a.shape[0],) + tuple(spec.shape)))
    return xs, labels


def _top1(out, labels) -> float:
    pred = np.asarray(out).reshape(len(labels), -1).argmax(axis=1)
    return float((pred == labels).mean() * 100.0)


# What `build` writes; a folder holding only what a build writes is a previous build, which
# is replaced silently.
BUILD_FILES = {"model.h", "model.c", "model_data.h", "model_data.c", "kernels", "report.json",
               "report.html"}


def _previous_build(p: Path) -> bool:
    return (p / "report.json").is_file() and (p / "model.h").is_file()


def output_folder(out: str, force: bool, inputs: list, written: set | None = None) -> Path:
    """Check -o; return the folder to write (symlinks resolved). Before compiling `written` is
    None; before replacing the folder it is the set of names the new build wrote.

    Refused: a file, a dangling symlink, a path below a file, a folder holding the model or
    calibration data, and (unless force) a folder holding files a build does not write."""
    p = Path(out)
    if p.is_symlink() and not p.exists():
        raise OutputError(f"-o {out}: is a symlink to {os.readlink(p)}, which does not exist — "
                         "expected a folder (or a path where one can be made)")
    p = Path(os.path.realpath(p))
    if p.exists() and not p.is_dir():
        raise OutputError(f"-o {out}: is a file — expected a folder. Choose another path; "
                         "tinyc never replaces a file with its output folder.")
    above = next((a for a in p.parents if a.exists()), None)
    if above is not None and not above.is_dir():
        raise OutputError(f"-o {out}: {above} is a file — expected a folder path")
    for f in inputs:
        if f and (p == Path(os.path.realpath(f)).parent or p in Path(os.path.realpath(f)).parents):
            raise OutputError(f"-o {out}: holds the input file {f} — expected a separate output "
                             "folder (the build replaces the whole folder)")
    if p.is_dir() and not force:
        ours = BUILD_FILES | (written or set())
        other = sorted(e.name for e in p.iterdir() if e.name not in ours)
        if other and (written is not None or not _previous_build(p)):
            shown = ", ".join(other[:5]) + (", ..." if len(other) > 5 else "")
            raise OutputError(f"-o {out}: the folder holds files a build does not write "
                             f"({shown}) — expected an empty folder or a previous build. "
                             "Choose another folder, or pass --force to replace it.")
    return p


def write_atomic(target: Path, write, check=None) -> Path:
    """write(tmp) into a fresh folder next to target, check(tmp), then rename it over target:
    the output folder is either the old one or the complete new one, nothing else is left."""
    made = [a for a in target.parents if not a.exists()]       # nearest first
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tinyc-", dir=target.parent))
    except OSError as e:
        _remove_made(made)
        raise OutputError(f"-o {target}: cannot create the folder ({e.strerror})") from None
    old = None
    try:
        write(tmp)
        if check is not None:
            check(tmp)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "prev")
        os.replace(tmp, target)
    except BaseException as e:
        if old is not None and (old / "prev").exists() and not target.exists():
            os.replace(old / "prev", target)
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_made(made)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise OutputError(f"-o {target}: cannot write the output ({e})") from None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target


def _remove_made(made: list[Path]) -> None:
    for d in made:
        try:
            d.rmdir()
        except OSError:
            pass


def cmd_build(args, shapes) -> int:
    if (args.firmware or args.input) and args.host:
        raise TinycError("build: --firmware and --input make a bare-metal program — expected "
                         "them without --host")
    if args.input and not args.firmware:
        raise TinycError("build: --input is the sample of the --firmware program — expected "
                         "--firmware with it")
    out = output_folder(args.output, args.force, [args.model, getattr(args, "calib", None)])
    m = _compile(args, shapes)
    measure = not (args.no_measure or args.host) and can_measure()
    sample = m._samples(load_npy(args.input), False)[0][0] if args.input else None

    def write(tmp: Path) -> None:
        m.write(tmp, measure=measure, host=args.host, profile=measure)
        if args.firmware:
            from .starter import write_starter
            write_starter(m, tmp / "firmware", sample)

    write_atomic(out, write,  # recheck,
                 lambda tmp: output_folder(args.output, args.force, [],  # what a build writes
                                           {e.name for e in tmp.iterdir()}))
    print(format_summary(m))
    if args.host:
        print("  (host build: compile the folder into any C99 program, see tinyc.mk)")
    elif not measure:
        print("  (flash and stack not measured: needs arm-none-eabi-gcc and qemu-system-arm)")
    print(f"wrote {out}/ ({written_files(out)})")
    return 0


def written_files(folder: Path) -> str:
    """'kws.h, kws.c, ..., kernels/': what a build actually wrote, headers first."""
    names = sorted(folder.iterdir(), key=lambda p: (p.is_dir(), p.suffix not in (".h", ".c"),
                                                    p.suffix != ".h", p.name))
    return ", ".join(p.name + ("/" if p.is_dir() else "") for p in names)


def cmd_run(args, shapes) -> int:
    m = _compile(args, shapes)
    _measure_for_run(m, args.profile)
    print(format_summary(m))
    if args.profile:
        print(format_profile(m))
    from .guard import TRY, accuracy_warning, calib_arrays, input_causes, warn
    calib = calib_arrays(m, getattr(args, "calib", None))
    if args.input:
        x, batch = load_npy(args.input), False
        y = m.run_qemu(x)
        print(f"output: {np.array2string(np.asarray(y), max_line_width=100)}")
        causes = input_causes(calib, {m.inputs[0].name: np.asarray(x)})
        warn("\n".join([f"warning: {c}." for c in causes] + [f"  {TRY}"]) if causes else None)
    else:
        xs, labels = _test_set(m, args.data)
        x, batch = (xs if len(xs) > 1 else xs[0]), True
        y = m.run_qemu(x, batch=True)
        from .options import CALIBRATION_OPTIONS, compile_options
        kind = "compressed" if set(compile_options(args)) - set(CALIBRATION_OPTIONS) \
            else "int8"
        if is_qdq(m):
            if labels is not None:
                print(f"accuracy on {len(labels)} samples: {kind} in QEMU "
                      f"{_top1(y, labels):.2f}% (QDQ model: no float reference)")
        else:
            yf = m.run_float(x, batch=True)
            fa, qa = (scores(yf, yf, labels)["accuracy"], scores(y, yf, labels)["accuracy"])
            what = "accuracy" if labels is not None else "top-1 agreement with float"
            print(f"{what} on {len(xs[0])} samples: float {fa:.2f}%, {kind} in QEMU {qa:.2f}%")
            causes = input_causes(calib, dict(zip((s.name for s in m.inputs), xs)))
            warn(accuracy_warning(fa, qa, f"{kind} in QEMU", causes, labels is not None))
    from .firmware import float_abi
    exact = _same(m.interpret(x, batch=batch), y)
    n = len(m.last_qemu.outputs)
    print(f"QEMU on {m.board.name} ({float_abi(m.board)}-float ABI) == golden model "
          f"(interpret), {n} sample"
          f"{'s' if n > 1 else ''}: {'yes, bit-exact' if exact else 'NO'}")
    print(m.last_qemu.describe_count(m.board.name))
    from .cycles import print_run_estimate
    print_run_estimate(m)
    return 0 if exact else 1


def can_measure() -> bool:
    """Linking and QEMU (flash, RAM, cycles) need arm-none-eabi-gcc and qemu-system-arm."""
    return all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm"))


def _step(i: int, n: int, what: str) -> None:
    """A progress line on stderr for a step that may take seconds: '[2/5] int8: ...'."""
    print(f"[{i}/{n}] {what}", file=sys.stderr, flush=True)


def is_qdq(m) -> bool:
    """A model that came quantized (QDQ): its scales are its own, it has no float reference."""
    return not m.options.get("calib")


def _measure_for_run(m, profile: bool) -> None:
    """Link the model for its flash and RAM and estimate its cycles (all-zero input); with
    profile, per layer too. A missing toolchain is the run's own error, raised later."""
    from .fit import check_fit, measure
    if not can_measure():
        return
    mem = measure(m, m.c_dir(), Path(m._tmpdir()) / "measure", layers=profile)
    m.report["memory"] = mem
    check_fit(m, mem["flash_bytes"], "measured",
              data=max(mem["ram_static_bytes"] - m.plan.arena_bytes, 0))


def format_profile(m) -> str:
    """`tinyc run --profile`: estimated cycles, latency and share of each layer."""
    rows = m.report["layers"]
    if not rows or rows[0].get("estimated_cycles") is None:
        return f"per-layer profile: {m.report.get('cycle_model', 'not estimated')}"
    head = (f"{'#':>3} {'layer':<28} {'op':<17} {'MACs':>10} {'est. cycles':>12} "
            f"{'ms':>8} {'share':>6}")
    out = [f"per layer (all-zero input, at {m.board.clock_hz / 1e6:g} MHz):", head]
    for i, r in enumerate(rows):
        name = r["name"] if len(r["name"]) <= 28 else "…" + r["name"][-27:]
        out.append(f"{i:>3} {name:<28} {r['op']:<17} {r['macs']:>10,} "
                   f"{r['estimated_cycles']:>12,} {r['latency_ms']:>8.3f} "
                   f"{r['cycles_percent']:>5.1f}%")
    return "\n".join(out)


def describe(options: dict) -> str:
    """The flags that give these tinyc.compile options, e.g. '--cluster 16 --no-compensate'."""
    out = []
    for k, v in options.items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, bool):
            out.append(flag if v else f"--no-{flag[2:]}")
        elif isinstance(v, dict):
            out += [f"{flag} {n}={x}" for n, x in v.items()]
        else:
            out.append(f"{flag} {v}")
    return " ".join(out)


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(np.atleast_1d(a), np.atleast_1d(b)))


def flat_outputs(out, n: int) -> np.ndarray:
    """The model's outputs (one array or a list of them) as [n, features] float64."""
    outs = out if isinstance(out, list) else [out]
    return np.concatenate([np.asarray(o, np.float64).reshape(n, -1) for o in outs], axis=1)


def scores(out, ref, labels) -> dict:
    """Accuracy of outputs `out` (first output's argmax): top-1 against labels, or agreement
    with the float outputs `ref`'s top-1; plus the RMS and max error against `ref`."""
    def top1(o) -> np.ndarray:
        return np.asarray(o[0] if isinstance(o, list) else o).reshape(n, -1).argmax(axis=1)
    n = len(np.asarray(ref[0] if isinstance(ref, list) else ref))
    pred, want = top1(out), (labels if labels is not None else top1(ref))
    err = flat_outputs(out, n) - flat_outputs(ref, n)
    return {"accuracy": float((pred == want).mean() * 100.0),
            "rms_error": float(np.sqrt(np.mean(err ** 2))), "max_error": float(np.abs(err).max())}


def cmd_check(args, shapes) -> int:
    from .options import CALIBRATION_OPTIONS, compile_options
    opts = cli_options(args)
    plain = {k: v for k, v in opts.items() if k in CALIBRATION_OPTIONS}
    ptq = {k: v for k, v in opts.items() if k not in FINETUNE_OPTIONS}
    variants = {"int8": plain, **({"compressed": ptq} if ptq != plain else {}),
                **({"fine-tuned": opts} if opts.get("finetune") else {})}
    tools = can_measure()
    steps = len(variants) * (3 if tools else 2)
    step = iter(range(1, steps + 1))
    models = {}
    for key, o in variants.items():
        _step(next(step), steps, f"{key}: compiling…")
        models[key] = _compile(args, shapes, o)
    xs, labels = _test_set(models["int8"], args.data)
    x = xs if len(xs) > 1 else xs[0]
    n = len(xs[0])
    ref = models["int8"].run_float(x, batch=True)
    cols = {"float": {"accuracy": scores(ref, ref, labels)["accuracy"],
                      "macs": models["int8"].report["macs"]}}
    exact = True
    for key, m in models.items():
        _step(next(step), steps, f"{key}: the generated C on the host, {n} samples…")
        host = m.run_host(x, batch=True)
        cols[key] = {**scores(host, ref, labels), "exact": _same(m.interpret(x, batch=True), host),
                     "weights": m.report["weights_bytes"], "macs": m.report["macs"]}
        exact &= cols[key]["exact"]
    for key, m in models.items() if tools else ():
        _step(next(step), steps, f"{key}: flash and estimated cycles (link, QEMU)…")
        from .fit import measure
        try:
            cols[key]["flash"] = measure(m, m.c_dir(), Path(m._tmpdir()) / "m")["flash_bytes"]
            cols[key]["latency_ms"] = m.report["latency_ms"]
            cols[key]["cycles"] = m.report.get("estimated_cycles")
        except TinycError as e:         # the accuracy stands; say why these cells are empty
            print(f"{key}: flash and latency not measured — {str(e).splitlines()[0]}",
                  file=sys.stderr)
    qdq = is_qdq(models["int8"])
    if qdq:     # ORT on the QDQ graph is not a float model: no float column
        cols["float"] = {"macs": cols["float"]["macs"]}
    print(format_summary(models.get("fine-tuned", models.get("compressed", models["int8"]))))
    print(f"check on {n} samples of {Path(args.data).name}: the generated C on the host")
    print(check_table(cols, labels is not None))
    if qdq:
        print("float: QDQ model: no float reference" + ("" if labels is not None else
              " (agreement and errors are against ONNX Runtime on the QDQ graph)"))
    else:
        from .guard import accuracy_warning, calib_arrays, input_causes, warn
        causes = input_causes(calib_arrays(models["int8"], getattr(args, "calib", None)),
                              dict(zip((s.name for s in models["int8"].inputs), xs)))
        for key in models:
            warn(accuracy_warning(cols["float"]["accuracy"], cols[key]["accuracy"], key,
                                  causes, labels is not None))
    if "compressed" in models:
        extra = {k: v for k, v in compile_options(args).items()
                 if k not in plain and k not in FINETUNE_OPTIONS}
        print(f"compressed: {describe(extra)}")
    if "fine-tuned" in models:
        extra = {k: v for k, v in compile_options(args).items() if k in FINETUNE_OPTIONS}
        print(f"fine-tuned: the compressed (or int8) model with {describe(extra)}")
    return 0 if exact else 1


def check_table(cols: dict, labelled: bool) -> str:
    """check's table: one column per model (float, int8, compressed)."""
    def cell(key, c):
        v = c.get(key)
        if v is None:
            return "-"
        if key == "exact":
            return "yes" if v else "NO"
        if key == "accuracy":
            return f"{v:.2f}%"
        if key.endswith("_error"):
            return f"{v:.4g}"
        if key == "latency_ms":
            return f"{v:.3f}"
        base = cols["int8"][key]
        return f"{v:,}" + (f" ({(v - base) / base:+.0%})" if c in (
            cols.get("compressed"), cols.get("fine-tuned")) and base and v != base else "")
    rows = [("top-1 accuracy" if labelled else "top-1 agreement with float", "accuracy")]
    if not labelled:
        rows += [("RMS error vs float", "rms_error"), ("max error vs float", "max_error")]
    rows += [("weights B", "weights"), ("flash B (linked)", "flash"), ("MACs", "macs"),
             ("latency ms (est. cycles)", "latency_ms"), ("estimated cycles", "cycles"),
             ("host C == golden model", "exact")]
    lines = [f"{'':<27}" + "".join(f"{k:>16}" for k in cols)]
    for label, key in rows:
        lines.append(f"{label:<27}" + "".join(f"{cell(key, c):>16}" for c in cols.values()))
    return "\n".join(lines)


def cmd_inspect(args, shapes) -> int:
    from .ir import format_graph
    from .passes.plan_memory import plan_memory
    from .pipeline import FLOAT_PASSES, load_model
    from .passes.manager import run_passes
    try:
        m = _compile(args, shapes)
    except TinycError as e:
        if "calibration data is needed" not in str(e):
            raise
        g = run_passes(load_model(args.model, shapes), FLOAT_PASSES)
        if args.ir:
            print(format_graph(g))
        print(format_float_layers(g))
        plan = plan_memory(g, elem_bytes=1)
        print(f"float model (pass --calib for the int8 plan): arena as int8 ≈ "
              f"{plan.arena_bytes:,} B, peak-live lower bound {plan.lower_bound:,} B")
        return 0
    if args.ir:
        print(format_graph(m.graph))
    print(format_layers(m))
    print(format_summary(m))
    return 0


def format_float_layers(g) -> str:
    """`tinyc inspect` before calibration: each layer's op, shapes, MACs and parameters."""
    from .ir.ops import OPS
    out = [f"{'#':>3} {'layer':<28} {'op':<17} {'input':<14} {'output':<14} {'MACs':>11} "
           f"{'params':>8}"]
    macs = params = 0
    for i, node in enumerate(g.nodes):
        n_macs = int(OPS[node.op].macs(node))
        n_params = int(sum(v.type.size for v in node.inputs if v is not None and v.is_const))
        macs, params = macs + n_macs, params + n_params
        shape = "x".join(map(str, node.inputs[0].shape)) if node.inputs else "-"
        name = node.name if len(node.name) <= 28 else "…" + node.name[-27:]
        out.append(f"{i:>3} {name:<28} {node.op:<17} {shape:<14} "
                   f"{'x'.join(map(str, node.outputs[0].shape)):<14} {n_macs:>11,} "
                   f"{n_params:>8,}")
    out.append(f"{'':>3} {'total':<28} {'':<17} {'':<14} {'':<14} {macs:>11,} {params:>8,}")
    return "\n".join(out)


def cmd_bench(args, shapes) -> int:
    """tinyc bench: tinyc/bench.py's own command line, with the flags parsed here."""
    from .bench import main, models_dir
    folder = Path(args.models) if args.models else models_dir()
    if not (folder / "mlperf-tiny").is_dir():
        raise TinycError(f"bench: {folder}/mlperf-tiny: no such folder — expected the MLPerf "
                         "Tiny models there. Pass --models DIR (the folder holding "
                         "mlperf-tiny/) or set TINYC_MODELS.")
    argv = ["--board", args.board, "-o", args.output, *args.extra]
    return main(argv + (["--models", str(folder)] if args.models else []))


def cmd_boards(args, shapes) -> int:
    from .target import list_boards
    boards = list_boards() if args.board is None else [board_of(args)]
    print("\n".join(b.listing() for b in boards))
    return 0


if __name__ == "__main__":
    sys.exit(1)


def cmd_finetune(args, shapes) -> int:
    """tinyc finetune: compile with --finetune (default 10 epochs), write the QDQ ONNX."""
    from .qdq_export import export_qdq
    if getattr(args, "calib", None) is None:
        raise TinycError("finetune: needs calibration data — expected --calib CALIB.npz")
    out = Path(args.output)
    if out.suffix.lower() != ".onnx":
        raise TinycError(f"-o {out}: expected an .onnx file name")
    opts = cli_options(args)
    opts.setdefault("finetune", 10)
    m = _compile(args, shapes, opts)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tinyc-tmp")
        export_qdq(m, tmp)
        os.replace(tmp, out)
    except OSError as e:
        raise OutputError(f"-o {out}: cannot write the output ({e})") from None
    r = m.report["finetune"]
    print(f"fine-tuned {r['epochs']} epochs (best {r['best_epoch']}) on {r['train_samples']} "
          f"samples{' with labels' if r['labels'] else ''} in {r['seconds']:.1f} s; "
          f"wrote {out}")
    return 0
