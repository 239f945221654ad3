"""tinyc sweep: build a model once per compression setting of a grid, measure each setting
(weight bytes, flash, MACs, QEMU instructions, accuracy of the generated C on the host) and
write DIR/sweep.md (table), DIR/sweep.csv and DIR/sweep.svg (accuracy against flash or weight
bytes, and against instructions or MACs; hand-written SVG, report_html's helpers)."""
from __future__ import annotations

import argparse
import copy
import csv
import html
import io
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .errors import OutputError, TinycError, ToolchainError
from .report_html import COLORS, svg_doc, svg_text

GRIDS = {
    "default": ("int8", "prune=0.5", "prune-structured=0.3", "cluster=16", "cluster=8", "int4",
                "max-accuracy-drop=0.01"),
    "quick": ("int8", "cluster=16", "prune-structured=0.3"),
}
SHORTHAND = {"int8": [], "int4": ["--weights", "int4"]}

GRID_HELP = f"""a setting is the compression flags without '--', joined by commas:
  int8                      plain int8 (int4 = weights=int4)
  cluster=16                16 shared values per layer
  prune=0.5,storage=small   50% zeros, stored sparse
  prune=0.5,no-compensate   no re-fit to the calibration data
  cluster=logits=8          per layer, as --cluster LAYER=K
flags given outside --grid (e.g. --calib-method mse) apply to every setting.
grids: default = {' '.join(GRIDS['default'])}
       quick = {' '.join(GRIDS['quick'])}

examples:
  tinyc sweep model.onnx --calib calib.npz --data test.npz -o sweep/
  tinyc sweep model.onnx --calib calib.npz --data test.npz -o sweep/ --qemu \\
      --grid int8 cluster=16 cluster=8 prune=0.5,storage=small
"""

COLUMNS = ("configuration", "weights_bytes", "flash_bytes", "macs", "instructions", "accuracy",
           "latency_ms", "formats", "error", "fine_tuned")
SHOWN = COLUMNS[1:7]        # the table's and the progress line's numbers


class _GridParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise TinycError(f"--grid '{self.prog}': {message} — expected settings such as "
                         "cluster=16 or prune=0.5,weights=int4 (flags without --; see "
                         "`tinyc sweep --help`)")


def parse_setting(entry: str) -> argparse.Namespace:
    """'prune=0.5,no-compensate' -> the namespace of `--prune 0.5 --no-compensate`."""
    from .options import add_compression_args
    argv = []
    for token in filter(None, (t.strip() for t in entry.split(","))):
        if token in SHORTHAND:
            argv += SHORTHAND[token]
        else:
            name, eq, value = token.partition("=")
            argv += [f"--{name.lstrip('-')}"] + ([value] if eq else [])
    p = _GridParser(prog=entry, add_help=False, allow_abbrev=False)
    add_compression_args(p)
    return p.parse_args(argv)


def settings(args) -> list[tuple[str, argparse.Namespace, dict]]:
    """(label, the command line's namespace with the setting's flags on top, its tinyc.compile
    options) per grid entry, all parsed and checked before anything is compiled."""
    from .commands import cli_options
    out = []
    for entry in (e for g in args.grid for e in GRIDS.get(g, (g,))):
        ns = copy.copy(args)
        for k, v in vars(parse_setting(entry)).items():
            if v is not None:
                setattr(ns, k, v)
        out.append((entry, ns, {**cli_options(ns), "progress": None}))
    return out


def _folder(out: str) -> Path:
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise OutputError(f"-o {out}: is a file — expected a folder for sweep.md, sweep.csv "
                          "and sweep.svg. Choose another path.")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"-o {out}: cannot create the folder ({e.strerror})") from None
    return p


def _formats(m) -> str:
    counts: dict[str, int] = {}
    for f in m.report.get("weight_formats", []):
        counts[f["format"]] = counts.get(f["format"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in counts.items())


class _Data:
    """The test set and the float model's outputs, loaded with the first model compiled."""

    def __init__(self, model, path):
        from .commands import _test_set
        xs, self.labels = _test_set(model, path)
        self.x = xs if len(xs) > 1 else xs[0]
        self.first = [a[:1] for a in xs] if len(xs) > 1 else xs[0][:1]
        self.ref = model.run_float(self.x, batch=True)
        self.n = len(xs[0])


def _without_finetune(options: dict) -> dict:
    """The setting's options without --finetune/--train/--teacher: its PTQ model."""
    from .commands import FINETUNE_OPTIONS
    return {k: v for k, v in options.items() if k not in FINETUNE_OPTIONS}


def measure(m, data: _Data, work: Path, flash: bool, qemu: bool, ptq=None) -> dict:
    """One setting's row: sizes from the report, accuracy of the host C, flash and
    instructions when asked. ptq: with --finetune, the setting compiled without it — the
    accuracy column is its, the fine-tuned column m's (sizes, flash and instructions are m's:
    fine-tuning keeps the compressed formats)."""
    from .commands import scores
    from .firmware import model_size
    acc = scores(m.run_host(data.x, batch=True), data.ref, data.labels)["accuracy"]
    row = {"weights_bytes": m.report["weights_bytes"], "macs": m.report["macs"],
           "formats": _formats(m), "accuracy": acc}
    if ptq is not None:
        row["accuracy"] = scores(ptq.run_host(data.x, batch=True), data.ref,
                                 data.labels)["accuracy"]
        row["fine_tuned"] = acc
    if flash:
        row["flash_bytes"] = model_size(m.c_dir(), m.board, work / "size", name=m.name)["flash"]
    if qemu:
        from .cycles import model_report
        m.run_qemu(data.first, batch=True)
        counts = m.last_qemu.estimated_instructions       # SysTick boards: ticks x ratio
        row["instructions"] = counts[0] if counts else None
        row["latency_ms"] = model_report(m.last_qemu, m)["latency_ms"]   # estimated cycles
    return row


def _tools(args) -> tuple[bool, bool]:
    """(link for flash, run in QEMU for cycles): --qemu unset means both when the tools are
    there and --no-measure is not given, so that every setting shows its price in time."""
    gcc = shutil.which("arm-none-eabi-gcc") is not None
    tools = gcc and shutil.which("qemu-system-arm") is not None
    if args.qemu and not tools:
        raise ToolchainError("--qemu: counting instructions needs arm-none-eabi-gcc and "
                             "qemu-system-arm — expected both on PATH. Install them "
                             "(scripts/setup.sh) or drop --qemu.")
    qemu = bool(args.qemu) if args.qemu is not None else (tools and not args.no_measure)
    return gcc and not args.no_measure, qemu


def _count_note(board: str) -> str:
    """How the board counts instructions in QEMU, when not exactly (for sweep.md)."""
    from .qemu import counter_note
    from .target import load_board
    note = counter_note(load_board(board))
    return f" ({note})" if note else ""


def cmd_sweep(args, shapes) -> int:
    from .commands import _compile
    grid = settings(args)
    flash, qemu = _tools(args)
    out = _folder(args.output)
    rows, data, board = [], None, args.board
    with tempfile.TemporaryDirectory(prefix="tinyc-sweep-") as tmp:
        for i, (label, ns, options) in enumerate(grid, 1):
            t0 = time.monotonic()
            row = {"configuration": label}
            step = "compiling, measuring" + (" flash" if flash else "") + \
                (", cycles in QEMU" if qemu else "")
            print(f"[{i}/{len(grid)}] {label}: {step}…", file=sys.stderr, flush=True)
            try:
                m = _compile(ns, shapes, options)
                ptq = _compile(ns, shapes, _without_finetune(options)) \
                    if options.get("finetune") else None
            except TinycError as e:
                row["error"] = str(e)
            else:
                data, board = data or _Data(m, args.data), m.board.name  # bad data: stop
                try:
                    row.update(measure(m, data, Path(tmp) / str(i), flash, qemu, ptq))
                except TinycError as e:
                    row["error"] = str(e)
            rows.append(row)
            print(f"sweep [{i}/{len(grid)}] {label}: {_progress(row)} "
                  f"({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    if all("error" in r for r in rows):
        raise TinycError(f"sweep: every setting failed — the first: {rows[0]['error']}")
    info = {"model": Path(args.model).name, "board": board, "n": data.n,
            "data": Path(args.data).name, "labelled": data.labels is not None,
            "float": _float_accuracy(data), "flash": flash, "qemu": qemu,
            "count": _count_note(board) if qemu else ""}
    write(out, rows, info)
    failed = [r["configuration"] for r in rows if "error" in r]
    if failed:
        raise TinycError(f"sweep: {len(failed)} of {len(rows)} settings failed "
                         f"({', '.join(failed)}) — the others are in {out}/sweep.md, which "
                         "gives each error")
    return 0


def write(out: Path, rows: list[dict], info: dict) -> None:
    (out / "sweep.csv").write_text(to_csv(rows))
    (out / "sweep.md").write_text(to_markdown(rows, info))
    (out / "sweep.svg").write_text(to_svg(rows, info) + "\n")
    print(to_markdown(rows, info, title=False))
    print(f"wrote {out}/sweep.md, sweep.csv, sweep.svg")


def _float_accuracy(data: _Data) -> float | None:
    from .commands import scores
    return scores(data.ref, data.ref, data.labels)["accuracy"] if data.labels is not None \
        else None


def _progress(row: dict) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    return ", ".join(f"{k.replace('_', ' ')} {_cell(row, k)}" for k in SHOWN + ("fine_tuned",)
                     if row.get(k) is not None)


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return "-"
    if key == "latency_ms":
        return f"{v:.3f}"
    if key in ("accuracy", "fine_tuned"):
        return f"{v:.2f}%"
    return f"{v:,}" if isinstance(v, int) else str(v)


def to_csv(rows: list[dict]) -> str:
    f = io.StringIO()
    w = csv.writer(f, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if r.get(k) is None else f"{r[k]:.4f}" if k in ("accuracy", "fine_tuned")
                    else r[k] for k in COLUMNS])
    return f.getvalue()


def to_markdown(rows: list[dict], info: dict, title: bool = True) -> str:
    metric = "top-1 accuracy" if info["labelled"] else "top-1 agreement with the float model"
    ft = any("fine_tuned" in r for r in rows)     # --finetune: accuracy = PTQ, + fine-tuned
    head = [f"# tinyc sweep: {info['model']} on {info['board']}", "",
            f"Accuracy: {metric} on {info['n']} samples of {info['data']}, computed with the "
            "generated C on the host" + (f" (float model: {info['float']:.2f}%)."
                                         if info["float"] is not None else ".")
            + " Flash: the model alone (linked firmware minus an empty one), "
            + ("arm-none-eabi-gcc." if info["flash"] else "not measured (-).")
            + " Instructions: one inference in QEMU (not cycles)"
            + (info.get("count", "") + "; latency: its estimated cycles at the board's clock "
               "(tinyc/cycles.py)." if info["qemu"] else
               ", not measured (-: install arm-none-eabi-gcc and qemu-system-arm, or pass "
               "--qemu; so is the latency).")
            + (" Accuracy: the setting without fine-tuning (PTQ); fine-tuned: with --finetune "
               "(sizes, flash and instructions are the fine-tuned model's)." if ft else ""),
            ""] if title else []
    table = ["| configuration | weights B | flash B | MACs | instructions | accuracy | "
             "latency ms | formats |" + (" fine-tuned |" if ft else ""),
             "|---|---|---|---|---|---|---|---|" + ("---|" if ft else "")]
    for r in rows:
        tail = f"error: {r['error']}" if "error" in r else r.get("formats", "")
        table.append(f"| {r['configuration']} | " + " | ".join(
            _cell(r, k) for k in SHOWN) + f" | {tail} |"
            + (f" {_cell(r, 'fine_tuned')} |" if ft else ""))
    return "\n".join(head + table) + "\n"


# -- the picture ----------------------------------------------------------------------------

PANEL_W, PANEL_H = 480, 330
LEFT, RIGHT, TOP, BOTTOM = 70, 30, 40, 50
LEGEND_ROW = 16


def _axis(lo: float, hi: float) -> tuple[float, float, float]:
    """(lo, hi, step): 4 or 5 round steps (1, 2, 2.5 or 5 × 10^k) that cover [lo, hi]."""
    if hi <= lo:
        lo, hi = (lo - 1, hi + 1) if lo else (0.0, 1.0)
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _panel(rows: list[dict], x_key: str, x_label: str, y_axis, info: dict, left: float) -> list:
    x0, y0 = left + LEFT, TOP
    w, h = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    xmin, xmax, xstep = _axis(0.0, max(r[x_key] for r in rows))
    ymin, ymax, ystep = y_axis
    px = lambda v: x0 + (v - xmin) / (xmax - xmin) * w          # noqa: E731
    py = lambda v: y0 + h - (v - ymin) / (ymax - ymin) * h      # noqa: E731
    y_name = "accuracy %" if info["labelled"] else "agreement with float %"
    parts = [f'<g class="panel" data-x="{x_key}">',
             f'<rect class="frame" x="{x0}" y="{y0}" width="{w}" height="{h}" fill="#f7f7f7" '
             f'stroke="#999" data-x-min="{xmin:g}" data-x-max="{xmax:g}" '
             f'data-y-min="{ymin:g}" data-y-max="{ymax:g}"/>',
             svg_text(x0 + w / 2, TOP - 15, f"{y_name} vs {x_label}", 13, "middle")]
    for k in range(round((xmax - xmin) / xstep) + 1):
        parts.append(svg_text(px(xmin + k * xstep), y0 + h + 16, f"{xmin + k * xstep:,g}", 10,
                              "middle", class_="tick"))
    for k in range(round((ymax - ymin) / ystep) + 1):
        parts.append(svg_text(x0 - 6, py(ymin + k * ystep) + 4, f"{ymin + k * ystep:g}", 10,
                              "end", class_="tick"))
    parts.append(svg_text(x0 + w / 2, y0 + h + 38, x_label, 12, "middle"))
    if info["float"] is not None:
        y = py(info["float"])
        parts.append(f'<line x1="{x0}" y1="{y:.2f}" x2="{x0 + w}" y2="{y:.2f}" stroke="#888" '
                     f'stroke-dasharray="4 3"><title>float model {info["float"]:.2f}%</title>'
                     "</line>")
    for i, r in enumerate(rows):
        cx, cy = px(r[x_key]), py(r["accuracy"])
        tip = html.escape(f"{r['configuration']}: {x_label} {r[x_key]:,}, "
                          f"{r['accuracy']:.2f}%")
        parts.append(f'<circle class="point" cx="{cx:.2f}" cy="{cy:.2f}" r="5" '
                     f'fill="{COLORS[i % len(COLORS)]}" stroke="#333" '
                     f'data-config="{html.escape(r["configuration"])}" '
                     f'data-x="{r[x_key]}" data-y="{r["accuracy"]:.4f}"><title>{tip}</title>'
                     "</circle>")
        parts.append(svg_text(cx + 6, cy - 5, str(i + 1), 10))
    return parts + ["</g>"]


def _legend(rows: list[dict], top: float) -> list[str]:
    parts, per_column = [], (len(rows) + 1) // 2
    for i, r in enumerate(rows):
        x, y = LEFT + (i // per_column) * PANEL_W, top + (i % per_column) * LEGEND_ROW
        parts.append(f'<circle cx="{x}" cy="{y - 4}" r="5" fill="{COLORS[i % len(COLORS)]}" '
                     'stroke="#333"/>')
        parts.append(svg_text(x + 10, y, f"{i + 1}  {r['configuration']}: "
                              f"{r['accuracy']:.2f}%", 11, class_="legend"))
    return parts


def to_svg(rows: list[dict], info: dict) -> str:
    """Two scatter plots of the settings that built: accuracy against flash bytes (weight
    bytes when flash was not measured) and against instructions (MACs when not counted); the
    float model's accuracy as a dashed line; a numbered legend."""
    ok = [r for r in rows if "error" not in r]
    ys = [r["accuracy"] for r in ok] + ([info["float"]] if info["float"] is not None else [])
    y_axis = _axis(min(ys), min(max(ys), 100.0))
    size = ("flash_bytes", "flash bytes") if all(r.get("flash_bytes") is not None for r in ok) \
        else ("weights_bytes", "weight bytes")
    work = ("instructions", "instructions (QEMU)") if all(
        r.get("instructions") is not None for r in ok) else ("macs", "MACs")
    body = (_panel(ok, *size, y_axis, info, 0) + _panel(ok, *work, y_axis, info, PANEL_W)
            + _legend(ok, PANEL_H + 4))
    height = PANEL_H + 4 + LEGEND_ROW * ((len(ok) + 1) // 2)
    return svg_doc(2 * PANEL_W, height, f"tinyc sweep of {info['model']}", body)
