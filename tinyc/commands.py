"""The CLI's commands: each takes the parsed arguments and returns an exit code."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .data import as_arrays
from .errors import TinycError
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


def cmd_build(args, shapes) -> int:
    import shutil
    m = _compile(args, shapes)
    measure = not args.no_measure and all(shutil.which(t) for t in
                                          ("arm-none-eabi-gcc", "qemu-system-arm"))
    out = m.write(Path(args.output), measure=measure)
    print(format_summary(m))
    if not measure:
        print("  (flash and stack not measured: needs arm-none-eabi-gcc and qemu-system-arm)")
    print(f"wrote {out}/ (model.h, model.c, model_data.c, kernels/, report.json, report.html)")
    return 0


def cmd_run(args, shapes) -> int:
    m = _compile(args, shapes)
    print(format_summary(m))
    if args.input:
        x = np.load(args.input, allow_pickle=False)
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
