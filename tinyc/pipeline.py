"""compile(): frontend → passes → quantize → plan_memory → tinyc.Model."""
from __future__ import annotations

import copy
import logging
import re
import sys
from pathlib import Path

import numpy as np

from .data import as_arrays, split_samples
from .errors import TinycError
from .fit import check_fit, check_tensors, estimate
from .model import Model
from .passes.canonicalize import canonicalize
from .passes.fold_batchnorm import fold_batchnorm
from .passes.fuse_activation import fuse_activation
from .passes.manager import run_passes
from .passes.plan_memory import plan_memory
from .passes.quantize import activation_report, mark_activations, quantize
from .passes.schedule import schedule

log = logging.getLogger("tinyc")

FLOAT_PASSES = [fold_batchnorm, canonicalize, fuse_activation]


def load_model(path, input_shapes: dict | None = None, ort_exact: bool = False):
    p = Path(path)
    if not p.exists():
        raise TinycError(f"{p}: no such file")
    if p.suffix.lower() == ".onnx":
        from .frontend.onnx import load_onnx
        return load_onnx(p, input_shapes=input_shapes, ort_exact=ort_exact)
    if p.suffix.lower() == ".tflite":
        from .frontend.tflite import load_tflite
        return load_tflite(p, input_shapes=input_shapes)
    from .hints import format_hint
    raise TinycError(f"{p}: unknown model format '{p.suffix}' — tinyc reads .onnx and "
                     f".tflite files{format_hint(p).replace(' — ', '; ', 1)}")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total:
        end = "\n" if done == total else "\r"
        print(f"calibrating: {done}/{total} samples", end=end, file=sys.stderr)


def _ft_progress(progress):
    from .finetune import print_progress
    return print_progress if progress is not None else None


def c_name(name: str) -> str:
    s = re.sub(r"\W", "_", name)
    return s if s and not s[0].isdigit() else f"m_{s}"


def _calib_samples(g, calib):
    if calib is None:
        return None
    names = [v.name for v in g.inputs]
    arrays = as_arrays(calib, names, "calibration data")
    src = str(calib) if isinstance(calib, (str, Path)) else "calibration data"
    return split_samples(arrays, {v.name: v.shape for v in g.inputs}, src, need_float=True)


def _val_data(g, val):
    """The validation set as {model input: its samples, "label": labels} (a .npz path or a
    dict; checked as calibration data is)."""
    if val is None:
        return None
    data = dict(np.load(val)) if isinstance(val, (str, Path)) else dict(val)
    labels = data.get("label", data.get("labels"))
    arrays = as_arrays({k: v for k, v in data.items() if k not in ("label", "labels")},
                       [v.name for v in g.inputs], "validation data")
    feeds = split_samples(arrays, {v.name: v.shape for v in g.inputs}, str(val)[:60], True)
    out = {v.name: np.stack([f[v.name] for f in feeds]) for v in g.inputs}
    return out if labels is None else {**out, "label": labels}


def _compression_report(model: Model, compression: dict | None, formats: list[dict]) -> None:
    """Put the compression report and each layer's weight storage into model.report: weights
    bytes are those stored (packed formats), MACs those executed (a sparse kernel skips the
    zero weights; dense_macs keeps the dense count)."""
    r = model.report
    if compression is not None:
        r["compression"] = compression
    by_layer = {f["layer"]: f for f in formats}
    for layer in r["layers"]:
        f = by_layer.get(layer["name"])
        if f is not None:
            layer["weights_bytes"] -= f["dense_bytes"] - f["weights_bytes"]
            layer["weight_format"] = f["format"]
            if f["format"] == "sparse":
                layer["macs"] = int(round(layer["macs"] * f["density"]))
    r["weights_bytes"] -= sum(f["dense_bytes"] - f["weights_bytes"] for f in formats)
    r["dense_macs"] = r["macs"]
    r["macs"] = int(sum(layer["macs"] for layer in r["layers"]))
    r["weight_formats"] = formats


def _free_speedups(g, storage: str, kernels):
    """Kernels whose scratch is only a speed-up (fast.LEAN_SCRATCH: the depthwise 3x3 path's
    ring of rows) keep it only where it does not raise the arena: tinyc's RAM stays at the
    layer-by-layer bound, the speed-up takes the room under the peak (graph order); where the
    whole does not fit, the largest smaller speed-up that does (fast.SCRATCH_STEPS: a ring
    over a block of channels). A packed-weight conv2d (packed_fast) takes its whole filter as
    one decoded block where that fits under the peak (one im2col pass instead of several).
    Under storage="speed" every kernel keeps its whole speed-up: that setting trades memory
    for cycles (kws: the depthwise rings whole, arena 16,576 -> 19,072 B, 247,610 -> 213,606
    est. cycles per depthwise layer)."""
    from .backend_c import packed_fast
    from .backend_c.fast import scratch_steps
    from .backend_c.select import (lean_scratch_sizes, packed_whole_blocks, scratch_sizes,
                                   select_kernels)
    if storage == "speed":
        return kernels
    lean = lean_scratch_sizes(g, kernels)
    full = scratch_sizes(kernels)
    whole = {n.name: packed_fast.whole_scratch(n) for n in packed_whole_blocks(g, kernels)}
    if lean is None and not whole:
        return kernels
    lean = lean or full
    peak = plan_memory(schedule(g), scratch=lean).arena_bytes
    keep = dict(lean)
    for n in g.nodes:
        sizes = [whole[n.name]] if n.name in whole else []
        if lean.get(n.name, 0) != full.get(n.name, 0):
            sizes += [full[n.name]] + [s for s in scratch_steps(n) if s > lean.get(n.name, 0)]
        for size in sizes:
            trial = {**keep, n.name: size}          # the whole speed-up, else a smaller one
            if plan_memory(schedule(g), scratch=trial).arena_bytes <= peak:
                keep = trial
                break
    return select_kernels(g, storage, planned=keep)


def _fit_ram(g, plan, kernels, brd, ram_limit, where: str, storage: str):
    """passes.patch.fit_ram under ram_limit (default: the board's RAM), and the kernels it
    is for: when the limit is not met with every fast kernel's scratch, or only by a patched
    stage, a second try gives the kernels that can run on less (the depthwise 3x3 path's ring
    of rows) only that, kept if it meets the limit with fewer recomputed MACs or less RAM. A
    limit the user gave that cannot be met is a TinycError with the smallest RAM reachable
    and how."""
    from .backend_c.select import (in_place_kernels, lean_scratch_sizes, scratch_sizes,
                                   select_kernels)
    from .passes.patch import fit_ram
    from .target import parse_size
    limit = brd.ram_size if ram_limit is None else parse_size(ram_limit, "ram_limit")

    def fit_for(kernels, plan):
        eligible = {n.name for n in g.nodes if kernels[n.name].kernel == n.op
                    and n.outputs[0].dtype.name == "INT8"}
        return fit_ram(g, scratch_sizes(kernels), limit, eligible, plan,
                       in_place_kernels(g, kernels))
    def cost(f):        # not met, then recomputed MACs of a patched stage, then RAM
        return (not f.met, f.info.get("extra_macs", 0) if f.stage is not None else 0, f.ram)
    fit = fit_for(kernels, plan)
    lean = None if fit.met and fit.stage is None else lean_scratch_sizes(g, kernels)
    if lean is not None:
        lean_kernels = select_kernels(g, storage, planned=lean)
        lean_fit = fit_for(lean_kernels, plan_memory(schedule(g),
                                                     scratch=scratch_sizes(lean_kernels)))
        if cost(lean_fit) < cost(fit):
            fit, kernels = lean_fit, lean_kernels
    if not fit.met and ram_limit is not None:
        io = fit.ram - fit.plan.arena_bytes
        how = (f"patching {len(fit.stage.nodes)} layers ({fit.stage.nodes[0]} .. "
               f"{fit.stage.nodes[-1]}) in bands of {fit.stage.rows} row(s) x "
               f"{fit.stage.cols} strip(s)" if fit.stage is not None else fit.how)
        raise TinycError(f"{where}: ram_limit {limit:,} B cannot be met — the smallest RAM "
                         f"tinyc reaches is {fit.ram:,} B (arena {fit.plan.arena_bytes:,} + "
                         f"buffers outside it {io:,}), {how} ({fit.how}). Raise --ram-limit "
                         f"to at least {fit.ram:,}, or shrink the model's early layers "
                         "(input size, channels)")
    return fit, kernels


def compile(path, board="stm32", calib=None, input_shapes: dict | None = None,
            name: str = "tinyc_model", verify: bool = True, progress=_progress,
            calib_method: str = "minmax", per_tensor: bool = False, prune=None,
            prune_method: str = "obs", prune_scope: str = "layer", prune_structured=None,
            cluster=None, weights="int8", compensate=None, bias_correction=None,
            max_accuracy_drop=None, val=None, storage: str = "auto",
            activations=None, precision: dict | None = None,
            ram_limit: int | None = None, finetune=None, train=None, teacher=None,
            finetune_options: dict | None = None, ort_exact: bool = False) -> Model:
    """Compile an ONNX model for a board. board: a name (`tinyc boards`), a .toml board file,
    a dict in the board-file schema (docs/boards.md) or a Board. calib: .npz path,
    {input: array}, or array.

    calib_method "minmax" | "percentile" | "mse"; per_tensor: one weight scale per tensor.
    Compression (float model + calib; docs/compression.md): prune (fraction or
    {layer: fraction}; prune_method "obs" | "magnitude", prune_scope "layer" | "global"),
    prune_structured (fraction of channels), cluster (K or {layer: K}), weights ("int8" |
    "int4" or {layer: ...}), compensate (OBS/GPTQ re-fit; default on when compressing),
    bias_correction, max_accuracy_drop (per-layer search on val, .npz with labels),
    storage ("auto" | "small" | "dense" | "s4" | "cb" | "sparse": how weights are stored);
    activations ("int8" | "int16" or {layer: ...}: int16 activations, TFLite's 16x8 scheme;
    the max_accuracy_drop search may add int16 layers; report["activations"] lists them);
    precision: a search's result (report["compression"]["search"], or passes.search.replay of
    it) applied without searching again.
    ram_limit: bytes of RAM one inference may use — the arena plus the caller's input and
    output buffers (default: the board's RAM); tinyc reads the input in place and runs a
    prefix in patches (passes/patch.py) to meet it; report["ram"] says how. A limit it cannot
    meet is an error naming the smallest RAM reachable.
    finetune (epochs): quantization-aware fine-tuning with distillation after compression
    (docs/finetune.md); train (.npz path, dict or array like calib, plus an optional "label"
    array; default: the calibration data); teacher (an ONNX/TFLite path; default: the float
    model itself); finetune_options (passes.finetune.FinetuneOptions fields).
    ort_exact: a QDQ model from ONNX Runtime's quantizer, PyTorch or NNCF requantizes its conv,
    depthwise and fully connected layers exactly as ONNX Runtime does (float32 scale, half to
    even; integer C on the generic kernels: several times the cycles of the default fast
    kernels, whose TFLite-style fixed point differs from ORT by 1 step on ~1 % of a layer's
    outputs; docs/frontend.md)."""
    from .passes.compress import Compression
    from .passes.search import compress_model
    from .target import load_board
    brd = load_board(board)
    g = load_model(path, input_shapes, ort_exact)
    g = run_passes(g, FLOAT_PASSES, check=verify)
    if any(isinstance(v, dict) for v in (prune, cluster, weights, activations)):
        from .names import onnx_aliases, resolve
        named = resolve({"prune": prune, "cluster": cluster, "weights": weights,
                         "activations": activations}, g, onnx_aliases(path))
        prune, cluster, weights, activations = (named[k] for k in
                                                ("prune", "cluster", "weights", "activations"))
    check_tensors(g, brd, str(path))
    float_graph = copy.deepcopy(g)
    samples = _calib_samples(g, calib)
    io_dtype = "int8" if getattr(g, "io_quant", None) else "float32"
    comp = Compression(prune, prune_method, prune_scope, prune_structured, cluster, weights,
                       compensate, bias_correction, per_tensor)
    mark_activations(g, activations)
    val = _val_data(g, val) if max_accuracy_drop is not None and precision is None else None
    say = (lambda msg: print(f"searching: {msg}", file=sys.stderr, flush=True)) \
        if progress is not None else None
    g, compression = compress_model(g, samples, comp, max_accuracy_drop, val, calib_method,
                                    storage, say, precision)
    ft_report, ft_graph = None, None
    if finetune:
        from .finetune import run_finetune
        t_graph = None if teacher is None else \
            run_passes(load_model(teacher, input_shapes), FLOAT_PASSES, check=verify)
        g, ft_report = run_finetune(g, float_graph, samples, finetune, train, teacher,
                                    t_graph, compression, finetune_options,
                                    progress=_ft_progress(progress))
        ft_graph = copy.deepcopy(g)
    g = quantize(g, samples, progress=progress, calib_method=calib_method,
                 per_tensor=per_tensor)
    from .backend_c.select import scratch_sizes, select_kernels, weight_rows
    kernels = _free_speedups(g, storage, select_kernels(g, storage))
    plan = plan_memory(schedule(g), scratch=scratch_sizes(kernels))
    ram, kernels = _fit_ram(g, plan, kernels, brd, ram_limit, str(path), storage)
    plan = ram.plan
    if ram.in_place:
        from .backend_c.select import use_in_place
        kernels = use_in_place(g, kernels, ram.in_place)
    options = {"board": brd.name, "calib": bool(calib is not None),
               "calib_method": calib_method, "per_tensor": per_tensor}
    model = Model(g, float_graph, plan, brd, c_name(name), io_dtype, str(path), options,
                  kernels)
    _compression_report(model, compression, weight_rows(kernels))
    model.report["activations"] = activation_report(g)
    model.report["ram"] = ram.report(sum(v.type.nbytes for v in (*g.inputs, *g.outputs)))
    if ft_report is not None:
        model.report["finetune"] = ft_report
        model.finetuned_graph = ft_graph
    check_fit(model, estimate(model), "estimated before compiling the C")
    return model
