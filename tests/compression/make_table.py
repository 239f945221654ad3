"""Results tables of the compression options (docs/compression.md, BENCHMARKS.md).

    python -m tests.compression.make_table [--no-qemu]           # digits, every option
    python -m tests.compression.make_table --benchmarks [--write] # issue 8 acceptance 1

For each configuration: stored weights bytes, MACs executed, measured flash of the model
(linked firmware minus an empty one), instructions of one inference in QEMU (STM32F405, TIM2),
top-1 accuracy of the integer model on the 360 test samples (float: 98.06%). --benchmarks:
the six settings of the issue on digits and on the MLPerf Tiny ic and kws float models
(calibrated on their reference inputs; metric: top-1 agreement of the integer model with the
float model on those inputs, and the SQNR of its outputs against onnxruntime's); --write puts
the table into BENCHMARKS.md between the compression markers. Not a test (but every QEMU run
is checked against interpret()).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import tinyc

ROOT = Path(__file__).resolve().parents[2]
D = ROOT / "examples" / "digits"

CONFIGS = [
    ("int8 (default)", {}),
    ("int8, bias correction", {"bias_correction": True}),
    ("int8, GPTQ", {"compensate": True}),
    ("int8, per-tensor", {"per_tensor": True}),
    ("int8, calib percentile", {"calib_method": "percentile"}),
    ("int8, calib mse", {"calib_method": "mse"}),
    ("int4, rounding", {"weights": "int4", "compensate": False, "bias_correction": False}),
    ("int4, rounding + bias corr.", {"weights": "int4", "compensate": False}),
    ("int4, GPTQ", {"weights": "int4"}),
    ("K=16", {"cluster": 16}),
    ("K=8", {"cluster": 8}),
    ("K=4", {"cluster": 4}),
    ("K=4, no compensation", {"cluster": 4, "compensate": False, "bias_correction": False}),
    ("prune 50% OBS", {"prune": 0.5}),
    ("prune 50% magnitude, no comp.", {"prune": 0.5, "prune_method": "magnitude",
                                        "compensate": False}),
    ("prune 70% OBS", {"prune": 0.7}),
    ("prune 70% OBS global", {"prune": 0.7, "prune_scope": "global"}),
    ("prune 90% OBS", {"prune": 0.9}),
    ("prune 90% OBS, storage small", {"prune": 0.9, "storage": "small"}),
    ("prune 70% OBS global, storage small", {"prune": 0.7, "prune_scope": "global",
                                             "storage": "small"}),
    ("prune 50% + int4", {"prune": 0.5, "weights": "int4"}),
    ("channels -25%", {"prune_structured": 0.25}),
    ("channels -25%, no comp.", {"prune_structured": 0.25, "compensate": False}),
    ("channels -50%", {"prune_structured": 0.5}),
    ("channels -25% + int4", {"prune_structured": 0.25, "weights": "int4"}),
    ("channels -25% + K=8", {"prune_structured": 0.25, "cluster": 8}),
    ("search, max drop 1%", {"max_accuracy_drop": 0.01}),
    ("search, max drop 3%", {"max_accuracy_drop": 0.03}),
    ("search, max drop 3%, storage small", {"max_accuracy_drop": 0.03, "storage": "small"}),
]


def row(label: str, kw: dict, x, y, qemu: bool) -> str:
    m = tinyc.compile(D / "digits.onnx", calib=D / "calib.npz", progress=None, **kw)
    out = np.asarray(m.interpret(x, batch=True)).reshape(len(y), -1)
    acc = float(np.mean(out.argmax(1) == y))
    flash = instr = "-"
    if qemu:
        with tempfile.TemporaryDirectory() as t:
            m.write(t, measure=True)
        flash = f"{m.report['memory']['flash_bytes']:,}"
        q = m.inputs[0].quantize(x[0].reshape(m.inputs[0].shape))[None]
        assert np.array_equal(m.run_qemu(q, batch=True), m.interpret(q, batch=True))
        instr = f"{int(np.mean(m.last_qemu.instructions)):,}"
    fmts = ",".join(f["format"] for f in m.report["weight_formats"])
    return (f"| {label} | {m.report['weights_bytes']:,} | {m.report['macs']:,} | {flash} | "
            f"{instr} | {100 * acc:.2f}% | {fmts} |")


# -- acceptance 1: BENCHMARKS.md -----------------------------------------------------------

SETTINGS = [
    ("int8", {}),
    ("+50% unstructured (OBS, global)", {"prune": 0.5, "prune_scope": "global"}),
    ("+30% structured (channels)", {"prune_structured": 0.3}),
    ("16-cluster sharing", {"cluster": 16}),
    ("int4 weights (GPTQ)", {"weights": "int4"}),
    ("auto mixed, max drop 1 point", {"max_accuracy_drop": 0.01}),
    ("int16 activations (16x8)", {"activations": "int16"}),
]
BEGIN, END = "<!-- compression:begin -->", "<!-- compression:end -->"
COMMAND = "python -m tests.compression.make_table --benchmarks --write"


def mlperf_data(name: str) -> tuple[dict, np.ndarray]:
    """The reference inputs of an MLPerf Tiny model, dequantized to float (calibration and
    evaluation data), and the float model's top-1 on them."""
    from tinyc.bench import models_dir
    models = models_dir() / "mlperf-tiny"
    with np.load(models / f"{name}_ref.npz") as z:
        x = (z["inputs"].astype(np.float32) - z["input_zero_point"]) * z["input_scale"]
    return models / f"{name}_float.onnx", x.astype(np.float32)


def bench_model(name: str):
    """(onnx path, calib, x, labels or None: None = agreement with the float model)."""
    if name == "digits":
        with np.load(D / "test.npz") as t:
            return D / "digits.onnx", D / "calib.npz", t["input"], t["label"]
    path, x = mlperf_data(name)
    return path, {"input_1": x}, x, None


def float_outputs(path, x: np.ndarray) -> np.ndarray:
    """The float ONNX model's outputs [N, C] under onnxruntime, one sample at a time."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.stack([sess.run(None, {name: x[i:i + 1].astype(np.float32)})[0].ravel()
                     for i in range(len(x))]).astype(np.float64)


def sqnr_db(ref: np.ndarray, out: np.ndarray) -> float:
    """10 log10(sum ref^2 / sum (out - ref)^2) over every sample and output."""
    noise = float(np.sum((out - ref) ** 2))
    return float("inf") if noise == 0 else 10 * np.log10(float(np.sum(ref ** 2)) / noise)


def bench_row(name: str, label: str, kw: dict) -> dict:
    path, calib, x, y = bench_model(name)
    m = tinyc.compile(path, calib=calib, progress=None, **kw)
    out = np.asarray(m.interpret(x, batch=True), np.float64).reshape(len(x), -1)
    sqnr = sqnr_db(float_outputs(path, x), out)
    ref = y if y is not None else np.asarray(m.run_float(x, batch=True)).reshape(
        len(x), -1).argmax(1)
    with tempfile.TemporaryDirectory() as t:
        m.write(t, measure=True)
    q = m.inputs[0].quantize(x[0].reshape(m.inputs[0].shape))[None]
    assert np.array_equal(m.run_qemu(q, batch=True), m.interpret(q, batch=True)), (name, label)
    assert np.array_equal(m.run_host(q, batch=True), m.interpret(q, batch=True)), (name, label)
    from tinyc.cycles import firmware_cycles
    cycles = m.report.get("estimated_cycles") or \
        firmware_cycles(m.last_qemu.elfs[:1], m.board, m.name).cycles[0]
    return {"model": name, "setting": label, "weights": m.report["weights_bytes"],
            "flash": m.report["memory"]["flash_bytes"], "macs": m.report["macs"],
            "insns": int(np.mean(m.last_qemu.instructions)), "cycles": int(cycles),
            "score": float(np.mean(out.argmax(1) == ref)), "n": len(x), "sqnr": sqnr,
            "search": _search_summary(m),
            "formats": ",".join(sorted({f["format"] for f in m.report["weight_formats"]}))}


def _search_summary(m: tinyc.Model) -> str:
    """What the max_accuracy_drop search chose: layer configs and int16 layers, counted."""
    s = m.report.get("compression", {}).get("search")
    if not s:
        return ""
    counts: dict[str, int] = {}
    for cfg in s["layers"].values():
        counts[cfg] = counts.get(cfg, 0) + 1
    text = ", ".join(f"{n}x {c}" for c, n in sorted(counts.items()))
    if s["activations"]:
        text += f"; int16 activations: {len(s['activations'])} layers"
    return text + f" (estimate at int8 {100 * s['start_drop']:.2f}%, {s['samples']} samples)"


def bench_table(rows: list[dict]) -> str:
    lines = [BEGIN, "## Compression (issue 8)", "",
             f"Generated by `{COMMAND}` (tests/compression/make_table.py). One inference on "
             "the STM32F405 in QEMU: instructions, and estimated Cortex-M4 cycles (tinyc/cycles.py "
             "over the exact QEMU trace; cycles / dense: against the model's int8 row); flash: the model alone, "
             "linked (firmware minus an empty one); weight bytes: as stored (dense: int8 "
             "weights + int32 bias; packed formats: packed weights, codebooks, masks and the "
             "bias, int16 where every value fits); MACs executed. Score: digits, top-1 "
             "accuracy of the integer model on the 360 test samples (float 98.06%); ic and "
             "kws, top-1 agreement of the integer model with the float model on the "
             "reference inputs (ic 7, kws 8: coarse), which are also the calibration data. "
             "SQNR: 10 log10 of the float outputs' energy over that of the error of the "
             "integer model's dequantized outputs, against the float ONNX model run by "
             "onnxruntime on the same inputs (digits: the test split; ic/kws: the reference "
             "inputs; ic and kws end in a softmax, so it is the error of the probabilities). "
             "The auto mixed setting (max_accuracy_drop) keeps a step only when a conservative "
             "estimate of the accuracy drop stays within the budget (passes/validation.py); "
             "with 7-8 samples it cannot certify 1 point, so no weights are compressed on ic "
             "and kws; it adds int16 activations where the int8 model is seen to disagree "
             "with the float one. Its choice follows the formats.", "",
             "All fitting (re-fit, OBS, GPTQ, k-means, the search's held-out quarter) uses "
             "the calibration data only. Every row: host C == interpret() == QEMU on the first "
             "input (tests/compression/test_acceptance.py: digits, all test inputs on the "
             "host).", "",
             "| model | setting | weight B | flash B | MACs | instructions | est. M4 cycles "
             "| cycles / dense | score | SQNR dB | formats |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    dense = {r["model"]: r["cycles"] for r in rows if r["setting"] == SETTINGS[0][0]}
    for r in rows:
        score = f"{100 * r['score']:.2f}%" if r["model"] == "digits" else \
            f"{round(r['score'] * r['n'])}/{r['n']}"
        fmts = r["formats"] + (f" — {r['search']}" if r.get("search") else "")
        lines.append(f"| {r['model']} | {r['setting']} | {r['weights']:,} | {r['flash']:,} | "
                     f"{r['macs']:,} | {r['insns']:,} | {r['cycles']:,} | "
                     f"{_ratio(r['cycles'], dense.get(r['model']))} | {score} | "
                     f"{r['sqnr']:.1f} | {fmts} |")
    return "\n".join(lines + [END])


def _ratio(cycles: int, dense: int | None) -> str:
    return f"{cycles / dense:.2f}x" if dense else "-"


def write_block(block: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace the text between the markers (append them when absent)."""
    text = path.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def benchmarks(argv: list[str]) -> None:
    names = [a for a in argv if a in ("digits", "ic", "kws")] or ["digits", "ic", "kws"]
    rows = []
    for name in names:
        for label, kw in SETTINGS:
            rows.append(bench_row(name, label, kw))
            print(rows[-1], file=sys.stderr, flush=True)
    block = bench_table(rows)
    print(block)
    if "--write" in argv:
        write_block(block)


def main(argv: list[str]) -> None:
    if "--benchmarks" in argv:
        benchmarks(argv)
        return
    with np.load(D / "test.npz") as t:
        x, y = t["input"], t["label"]
    print("| configuration | weights B | MACs | flash B | instructions | accuracy | "
          "formats (conv0,conv1,dw,pw,fc) |")
    print("|---|---|---|---|---|---|---|")
    for label, kw in CONFIGS:
        print(row(label, kw, x, y, "--no-qemu" not in argv), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
