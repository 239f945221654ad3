"""ONNX's own backend test cases through tinyc.

Sources: the node tests the installed onnx package generates (`collect_testcases`), and the
`pytorch-operator` / `pytorch-converted` data folders shipped in onnx/backend/test/data. A case
is attributed to the ONNX op its name is about (test_conv_with_strides -> Conv; a single-node
model -> its op); only cases of ops that tinyc's ONNX frontend reads are run.

How a case is run (the ONNX tests feed weights as graph inputs; tinyc compiles static graphs):
- graph inputs that are not activations (weights, biases, shapes, axes, pads, scales: any
  input other than the model's first input or a float or int8/uint8 first operand, or of
  Add/Mul/Concat; a scalar other than the first input; in a function-expanded model, the
  op's inputs, any but the first) become initializers holding the test's data (the first
  input is data: an expanded Clip reads Less(max, x), an expanded PRelu Mul(slope, x));
- models outside tinyc's opsets 11..21 are converted with onnx.version_converter (old ones
  to 13, as tinyc's error message advises; the node tests of newer opsets down to 21);
- a batch-N case (static inputs of shape (N, ...), N > 1, rank >= 2) is compiled as a user
  would: with the batch pinned, input_shapes={x: (1, ...)} (tinyc refuses it, naming the node,
  where the graph mixes samples); each of the N samples runs through the batch-1 int8 model and
  the per-sample outputs, stacked along dim 0, are compared with the expected output;
- float models are calibrated on the test input itself (its N samples); QDQ models need none;
- outputs: tinyc's interpret() output, dequantized, within TOL_STEPS output quantization
  steps of the expected float output; integer outputs (QuantizeLinear) exactly;
- then the generated C of every passing case, compiled for the host (all cases in one cffi
  extension), must give interpret()'s bits for every sample (check_host).
Status: "pass", "fail" (wrong numbers, or an internal error), "unsupported" (tinyc refuses the
model with a TinycError: the reason is its message).
"""
from __future__ import annotations

import glob
import os
import re
import tempfile
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper

TOL_STEPS = 3.0
MIN_OPSET, MAX_OPSET = 11, 21          # what tinyc reads; other models are converted
TWO_ACTIVATION_OPS = {"Add", "Mul", "Concat", "Sum"}
LN_INT8 = ("int8 limit: the optional InvStdDev output, TFLite's 1/sqrt table of the int8 "
           "variance, is 3.04 steps off (Y, tinyc's fixed-point layer_norm, within 1.5)")
KNOWN_FAILURES = {   # source/case: why tinyc's int8 answer is off (kept "fail" in the table)
    "node/test_softmax_large_number":
        "int8 limit: one input scale for samples 0..3 and 10000..10003 (step ~39) "
        "flattens sample 0",
    "node/test_logsoftmax_large_number":
        "int8 limit: one input scale for samples 0..3 and 10000..10003 (step ~39) "
        "flattens sample 0",
    **dict.fromkeys(["node/test_layer_normalization_4d_axis3",
                     "node/test_layer_normalization_4d_axis_negative_1",
                     "node/test_layer_normalization_default_axis"], LN_INT8),
    # the function-expanded twins: recognised as the same op, the same int8 limits
    **dict.fromkeys([f"node/test_softmax_large_number_expanded{v}" for v in ("", "_ver18")],
                    "int8 limit: as test_softmax_large_number (the same Softmax, written out)"),
    **dict.fromkeys([f"node/test_layer_normalization_{c}_expanded{v}" for v in ("", "_ver18")
                     for c in ("4d_axis3", "4d_axis_negative_1", "default_axis")], LN_INT8),
}
SOURCES = ("node", "pytorch-operator", "pytorch-converted")


@dataclass
class Case:
    name: str
    source: str
    op: str
    model: onnx.ModelProto
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]


@dataclass
class Result:
    status: str                    # pass | fail | unsupported
    reason: str = ""
    err_steps: float | None = None  # max |error| in output quantization steps
    model: object = None            # the tinyc.Model of a passing case
    samples: list = field(default_factory=list)   # per sample: its int8 inputs
    golden: list = field(default_factory=list)    # per sample: interpret()'s int8 outputs


def supported_ops() -> set[str]:
    from tinyc.frontend.onnx import OPS
    return set(OPS)


def _snake(op: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op).lower()


def attribute(name: str, model: onnx.ModelProto, ops: set[str]) -> str | None:
    """The op a test is about: the longest op whose snake name starts the test name."""
    stem = re.sub(r"^test_(operator_)?", "", name).lower()
    hits = [op for op in ops if stem == _snake(op) or stem.startswith(_snake(op) + "_")
            or stem.replace("_", "") == op.lower()]
    if hits:
        return max(hits, key=len)
    kinds = {n.op_type for n in model.graph.node}
    return kinds.pop() if len(kinds) == 1 else None


def _node_cases():
    import warnings
    from onnx.backend.test.case.node import collect_testcases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tc in collect_testcases(None):
            if tc.model is None or not tc.data_sets:
                continue
            ins, outs = tc.data_sets[0]
            yield tc.name, "node", tc.model, list(ins), list(outs)


def _data_cases(source: str):
    root = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", source)
    for d in sorted(glob.glob(os.path.join(root, "*"))):
        sets = sorted(glob.glob(os.path.join(d, "test_data_set_*")))
        if not os.path.isfile(os.path.join(d, "model.onnx")) or not sets:
            continue
        model = onnx.load(os.path.join(d, "model.onnx"))

        def load(kind):
            files = sorted(glob.glob(os.path.join(sets[0], f"{kind}_*.pb")),
                           key=lambda p: int(re.findall(r"_(\d+)\.pb$", p)[0]))
            return [numpy_helper.to_array(onnx.load_tensor(f)) for f in files]
        yield os.path.basename(d), source, model, load("input"), load("output")


def collect(sources=SOURCES) -> list[Case]:
    """Every case of an op tinyc reads, from the given sources."""
    ops = supported_ops()
    all_ops = ops | {s.name for s in onnx.defs.get_all_schemas()}
    out = []
    for src in sources:
        gen = _node_cases() if src == "node" else _data_cases(src)
        for name, source, model, ins, outs in gen:
            op = attribute(name, model, all_ops)
            if op in ops:
                out.append(Case(name, source, op, model, ins, outs))
    return out


# -- running --------------------------------------------------------------------------------

def _activation(model: onnx.ModelProto, name: str) -> bool:
    for node in model.graph.node:
        for i, n in enumerate(node.input):
            if n == name and (i == 0 or node.op_type in TWO_ACTIVATION_OPS):
                return True
    return False


def prepare(case: Case) -> tuple[onnx.ModelProto, list[str], list[np.ndarray]]:
    """The model with weight-like graph inputs as initializers; the remaining inputs/data."""
    m = onnx.ModelProto()
    m.CopyFrom(case.model)
    inits = {t.name for t in m.graph.initializer}
    keep, data = [], []
    graph_inputs = [vi for vi in m.graph.input if vi.name not in inits]
    expanded = "_expanded" in case.name          # the op's inputs: only the first is data
    for vi, a in zip(graph_inputs, case.inputs):
        a = np.asarray(a)
        first = vi is graph_inputs[0]
        if (first or _activation(m, vi.name) and a.ndim and not expanded) and a.dtype != object:
            keep.append(vi.name)
            data.append(a)
        else:
            m.graph.initializer.append(numpy_helper.from_array(a, vi.name))
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 13)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        m = _convert(m, min(max(opset, 13), MAX_OPSET))
    m.ir_version = max(m.ir_version, 8)
    return m, keep, data


def _convert(m: onnx.ModelProto, target: int) -> onnx.ModelProto:
    """onnx.version_converter; for a newer model whose converter adapter is missing, relabel the
    opset when every node's op has the same schema at `target` (newer versions only widened
    the op's types)."""
    try:
        return onnx.version_converter.convert_version(m, target)
    except Exception:                            # noqa: BLE001 (no adapter)
        opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
        for n in m.graph.node:
            old = onnx.defs.get_schema(n.op_type, target)
            new = onnx.defs.get_schema(n.op_type, opset)
            if opset < target or [i.name for i in old.inputs] != [i.name for i in new.inputs] \
                    or sorted(old.attributes) != sorted(new.attributes):
                raise
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = target
        return m


def batch_of(m: onnx.ModelProto, names: list[str]) -> tuple[int, dict[str, tuple]]:
    """The case's static batch N and the input_shapes that pin it to 1 ({} when N == 1), as a
    user reads them off the model: N is dim 0 of the first tensor input of rank >= 2 whose
    dim 0 is static; every such input with that dim 0 is pinned."""
    dims = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
            for vi in m.graph.input if vi.type.HasField("tensor_type")}
    big = [(x, dims[x]) for x in names if len(dims.get(x, ())) >= 2 and dims[x][0] > 0]
    n = big[0][1][0] if big else 1
    if n <= 1:
        return 1, {}
    return n, {x: (1, *d[1:]) for x, d in big if d[0] == n}


def _feed(spec, a: np.ndarray) -> np.ndarray:
    """A test input as tinyc's int8 input: uint8 data in int8 terms, float data quantized."""
    a = np.asarray(a).reshape(spec.shape)
    if a.dtype == np.uint8:
        return (a.astype(np.int16) - 128).astype(np.int8)
    return spec.quantize(a)


def _sample(data: list[np.ndarray], names: list[str], pinned: dict, i: int) -> list:
    return [a[i:i + 1] if name in pinned else a for name, a in zip(names, data)]


def _run_samples(model, data, names, pinned, n: int) -> tuple[list, list]:
    """interpret() on each sample: ([int8 inputs per sample], [int8 outputs per sample])."""
    from tinyc.ir import interpret
    samples = [[_feed(spec, a) for spec, a in zip(model.inputs, _sample(data, names, pinned, i))]
               for i in range(n)]
    return samples, [[np.asarray(g) for g in interpret(model.graph, s)] for s in samples]


def _stack(outs: list[list[np.ndarray]], k: int, want: np.ndarray) -> np.ndarray:
    """Output k of every sample, stacked along dim 0 into the expected output's shape."""
    per = [o[k] for o in outs]
    if len(per) == 1:
        g = per[0]
        return g.reshape(want.shape) if g.size == want.size else g
    rows = want.shape[0] // len(per) if want.ndim else 0
    if any(g.size * len(per) != want.size for g in per) or not rows:
        return np.stack(per)
    return np.concatenate([g.reshape((rows,) + want.shape[1:]) for g in per])


def _compare(case: Case, model, data, names, pinned, n: int) -> Result:
    samples, outs = _run_samples(model, data, names, pinned, n)
    worst = 0.0
    if len(outs[0]) != len(case.outputs):
        return Result("fail", f"{len(outs[0])} outputs, expected {len(case.outputs)}")
    for k, (spec, want) in enumerate(zip(model.outputs, case.outputs)):
        want = np.asarray(want)
        g = _stack(outs, k, want)
        if g.shape != want.shape:
            return Result("fail", f"output shape {g.shape}, expected {want.shape}")
        if want.dtype in (np.int8, np.uint8):
            q = g.astype(np.int16) + (128 if want.dtype == np.uint8 else 0)
            bad = int(np.abs(q - want.astype(np.int16)).max()) if q.size else 0
            worst = max(worst, float(bad))
            if bad:
                return Result("fail", f"integer output off by up to {bad}", float(bad))
            continue
        y = spec.dequantize(np.asarray(g, np.int8))
        err = float(np.abs(y - want.astype(np.float64)).max()) / spec.scale if y.size else 0.0
        worst = max(worst, err)
        if not err <= TOL_STEPS:
            known = KNOWN_FAILURES.get(f"{case.source}/{case.name}")
            return Result("fail", f"max error {err:.2f} output steps (scale {spec.scale:.3g}) "
                          f"> {TOL_STEPS}" + (f" — known: {known}" if known else ""), err)
    return Result("pass", err_steps=worst, model=model, samples=samples, golden=outs)


def run(case: Case, name: str = "tinyc_model") -> Result:
    import tinyc
    from tinyc.errors import TinycError
    try:
        m, names, data = prepare(case)
    except Exception as e:                       # noqa: BLE001
        return Result("unsupported", f"opset conversion: {str(e).splitlines()[0][:120]}")
    n, pinned = batch_of(m, names)
    calib = {x: a[:, None] if x in pinned else np.repeat(a[None], n, 0)     # (N, *shape)
             for x, a in zip(names, data) if a.dtype == np.float32}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{case.name}.onnx")
        onnx.save(m, path)
        try:
            model = tinyc.compile(path, board="mps2-an386", calib=calib or None, progress=None,
                                  name=name, input_shapes=pinned or None)
        except TinycError as e:
            return Result("unsupported", _short(str(e), path))
        except Exception as e:                   # noqa: BLE001 — an internal error is a failure
            return Result("fail", f"internal error: {type(e).__name__}: {e}"[:200])
        try:
            return _compare(case, model, data, names, pinned, n)
        except Exception as e:                   # noqa: BLE001
            return Result("fail", f"internal error: {type(e).__name__}: {e}"[:200])


def _short(msg: str, path: str) -> str:
    msg = msg.replace(path + ": ", "").replace(path, "<model>")
    msg = re.sub(r" — supported: .*", "", msg)
    return msg.splitlines()[0][:160]


def check_host(results: list[Result]) -> None:
    """The generated C of the passing cases on the host, bit-exact with interpret(); a case
    whose C differs becomes a failure."""
    from pathlib import Path

    from ..property.graphs import build_many
    passing = [r for r in results if r.status == "pass"]
    if not passing:
        return
    with tempfile.TemporaryDirectory() as tmp:       # sorted folder names: cacheable build
        dirs = [r.model.write(Path(tmp) / f"c{i:03d}") for i, r in enumerate(passing)]
        hosts = build_many(dirs, None, ("-O0",))
        _compare_host(passing, hosts)


def _compare_host(passing: list[Result], hosts: list) -> None:
    """The samples are the graph's (int8 terms); the C API takes the model's own types (a
    uint8 I/O is uint8 there: Model's IOSpec converts)."""
    for r, h in zip(passing, hosts):
        for i, (sample, golden) in enumerate(zip(r.samples, r.golden)):
            native = [_from_graph(spec, x) for spec, x in zip(r.model.inputs, sample)]
            got = [spec.to_graph(y) for spec, y in zip(r.model.outputs, h.invoke(native))]
            for k, (g, w) in enumerate(zip(got, golden)):
                if not np.array_equal(np.asarray(g).reshape(-1), w.reshape(-1)):
                    r.status = "fail"
                    r.reason = f"host C output {k} differs from interpret() (sample {i})"


def _from_graph(spec, x: np.ndarray) -> np.ndarray:
    """A graph input value as the C API takes it (uint8: x + 128)."""
    if spec.dtype == "uint8":
        return (np.asarray(x).astype(np.int16) + 128).astype(np.uint8)
    return x


def run_all(sources=SOURCES) -> list[tuple[Case, Result]]:
    cases = collect(sources)
    results = [run(c, f"c{i}") for i, c in enumerate(cases)]
    check_host(results)
    return list(zip(cases, results))
