"""The CLI's commands: each takes the parsed arguments and returns an exit code."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .data import as_arrays, load_npy
from .errors import OutputError, TinycError
from .report import format_layers, format_summary


def _compile(args, shapes):
    from .pipeline import compile
    return compile(args.model, board=args.board, calib=getattr(args, "calib", None),
                   input_shapes=shapes, name=args.name)


def _test_set(model, path) -> tuple[list[np.ndarray], np.ndarray | None]:
    from .data import _load_npz
    raw = _load_npz(path)
    labels = raw.get("label", raw.get("labels"))
    arrays = as_arrays({k: v for k, v in raw.items() if k not in ("label", "labels")},
                       [s.name for s in model.inputs], str(path))
    xs = []
    for spec in model.inputs:
        a = arrays[spec.name]
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
    out = output_folder(args.output, args.force, [args.model, getattr(args, "calib", None)])
    m = _compile(args, shapes)
    measure = not (args.no_measure or args.host) and all(
        shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm"))
    write_atomic(out, lambda tmp: m.write(tmp, measure=measure, host=args.host),  # recheck,
                 lambda tmp: output_folder(args.output, args.force, [],  # what a build writes
                                           {e.name for e in tmp.iterdir()}))
    print(format_summary(m))
    if args.host:
        print("  (host build: compile the folder into any C99 program, see tinyc.mk)")
    elif not measure:
        print("  (flash and stack not measured: needs arm-none-eabi-gcc and qemu-system-arm)")
    print(f"wrote {out}/ (model.h, model.c, model_data.c, kernels/, report.json, report.html)")
    return 0


def cmd_run(args, shapes) -> int:
    m = _compile(args, shapes)
    print(format_summary(m))
    if args.input:
        x = load_npy(args.input)
        y = m.run_qemu(x)
        print(f"output: {np.array2string(np.asarray(y), max_line_width=100)}")
    else:
        xs, labels = _test_set(m, args.data)
        y = m.run_qemu(xs if len(xs) > 1 else xs[0], batch=True)
        if labels is not None:
            yf = m.run_float(xs if len(xs) > 1 else xs[0], batch=True)
            print(f"accuracy on {len(labels)} samples: float {_top1(yf, labels):.2f}%, "
                  f"int8 in QEMU {_top1(y, labels):.2f}%")
    counts = [c for c in m.last_qemu.instructions if c is not None]
    if counts:
        print(f"instructions per inference on {m.board.name} (QEMU, not cycles): "
              f"{counts[0]:,}" + (f" (min {min(counts):,}, max {max(counts):,})"
                                  if len(counts) > 1 else ""))
    return 0


def cmd_check(args, shapes) -> int:
    m = _compile(args, shapes)
    xs, labels = _test_set(m, args.data)
    x = xs if len(xs) > 1 else xs[0]
    golden = m.interpret(x, batch=True)
    host = m.run_host(x, batch=True)
    exact = all(np.array_equal(a, b) for a, b in zip(np.atleast_1d(golden), np.atleast_1d(host)))
    print(format_summary(m))
    print(f"host C == golden model on {len(xs[0])} samples: {'yes' if exact else 'NO'}")
    if labels is not None:
        yf = m.run_float(x, batch=True)
        print(f"accuracy: float {_top1(yf, labels):.2f}%, int8 {_top1(golden, labels):.2f}%")
    return 0 if exact else 1


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
        print(format_graph(g))
        plan = plan_memory(g, elem_bytes=1)
        print(f"float model (pass --calib for the int8 plan): arena as int8 ≈ "
              f"{plan.arena_bytes:,} B, peak-live lower bound {plan.lower_bound:,} B")
        return 0
    print(format_graph(m.graph))
    print(format_layers(m))
    print(format_summary(m))
    return 0


def cmd_boards(args, shapes) -> int:
    from .target import list_boards
    for b in list_boards():
        print(b.summary())
    return 0


if __name__ == "__main__":
    sys.exit(1)
