"""Generate tests/bad_inputs/cases/: malformed, hostile or impossible inputs for `tinyc build`.

    python scripts/make_bad_inputs.py [--out tests/bad_inputs/cases]

Every case is a folder with the files the command reads (model.onnx, calib.npz, external data
...) and `case.json`:

    {"args":   argv after `tinyc build`; {case} is the case folder, {out} the output folder,
               {sandbox} the test's scratch folder (default: model, --calib if present,
               -o {out}, --no-measure),
     "setup":  what the test makes in its sandbox before running: ["mkdir", path],
               ["write", path, text], ["symlink", path, target] (paths relative to the sandbox),
     "expect": substrings the one `error: ...` line must contain,
     "why":    what the case is about}

tests/bad_inputs/test_bad_inputs.py runs each through `python -m tinyc.cli build` and wants exit
status 2, exactly one `error:` line, no traceback, and the sandbox unchanged. The output is
deterministic (seeded data, fixed zip timestamps): running the script again changes nothing.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tests" / "bad_inputs" / "cases"
CASES: dict[str, dict] = {}
node = helper.make_node


# -- building blocks ------------------------------------------------------------------------

def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def vi(name: str, shape, dtype=TP.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


class T(NamedTuple):
    """A typed graph input/output for model(): T(TP.INT8, [1, 4])."""
    dtype: int
    shape: list | None


def init(name: str, a) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(a), name)


def raw_tensor(name: str, dims, raw: bytes = b"", dtype=TP.FLOAT) -> onnx.TensorProto:
    """A TensorProto with any dims and raw bytes (helper.make_tensor checks they agree)."""
    t = onnx.TensorProto(name=name, data_type=dtype, dims=list(dims))
    if raw:
        t.raw_data = raw
    return t


def model(nodes, inputs, outputs, inits=(), opset=13, ir=8, **kw) -> onnx.ModelProto:
    """An unchecked ModelProto. inputs/outputs: {name: shape} or {name: (dtype, shape)}."""
    def vis(d):
        return [vi(n, s.shape, s.dtype) if isinstance(s, T) else vi(n, s) for n, s in d.items()]
    g = helper.make_graph(nodes, kw.pop("name", "g"), vis(inputs), vis(outputs),
                          initializer=list(inits), **kw)
    ops = [helper.make_opsetid("", opset)] if opset is not None else []
    m = helper.make_model(g, opset_imports=ops, ir_version=ir, producer_name="bad_inputs")
    return _output_shapes(m, [n for n, s in outputs.items() if s is None])


def _output_shapes(m: onnx.ModelProto, names: list[str]) -> onnx.ModelProto:
    """Give outputs declared with shape None a shape, as exporters do: the inferred one, else
    symbolic dims of the first input's rank (the checker wants a shape on every output)."""
    if not names:
        return m
    try:
        inferred = {o.name: o for o in onnx.shape_inference.infer_shapes(m).graph.output}
    except Exception:                            # noqa: BLE001 (a bad model may not infer)
        inferred = {}
    rank = len(m.graph.input[0].type.tensor_type.shape.dim) if m.graph.input else 1
    for o in m.graph.output:
        if o.name in names:
            got = inferred.get(o.name)
            if got is not None and got.type.tensor_type.HasField("shape"):
                o.CopyFrom(got)
            else:
                o.CopyFrom(vi(o.name, [f"{o.name}_d{i}" for i in range(rank)],
                              o.type.tensor_type.elem_type or TP.FLOAT))
    return m


def w(seed: int, *shape) -> np.ndarray:
    return rng(seed).normal(0, 0.3, shape).astype(np.float32)


def tiny(opset: int = 13) -> onnx.ModelProto:
    """A valid float CNN: x[1,3,8,8] -> Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm."""
    nodes = [node("Conv", ["x", "conv.w", "conv.b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             node("Relu", ["c"], ["r"], name="relu"),
             node("GlobalAveragePool", ["r"], ["p"], name="gap"),
             node("Flatten", ["p"], ["f"], name="flatten"),
             node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1)]
    inits = [init("conv.w", w(1, 4, 3, 3, 3)), init("conv.b", w(2, 4)),
             init("fc.w", w(3, 2, 4)), init("fc.b", w(4, 2))]
    return model(nodes, {"x": [1, 3, 8, 8]}, {"y": [1, 2]}, inits, opset)


def calib(n: int = 4, shape=(3, 8, 8), name: str = "x", seed: int = 7, dtype=np.float32):
    return {name: rng(seed).uniform(-1, 1, (n, *shape)).astype(dtype)}


def unary(op: str, shape=(1, 4), opset: int = 13, inits=(), extra_inputs=(), out=None,
          **attrs):
    """x -> op -> y (+ constant inputs); out: the output's T(dtype, shape) if not float."""
    n = node(op, ["x", *extra_inputs], ["y"], name=f"my_{op.lower()}", **attrs)
    return model([n], {"x": list(shape)}, {"y": out}, inits, opset)


def conv_model(x_shape, w_shape, opset=13, bias=True, **attrs):
    ins = ["x", "w"] + (["b"] if bias else [])
    inits = [init("w", w(5, *w_shape))] + ([init("b", w(6, w_shape[0]))] if bias else [])
    return model([node("Conv", ins, ["y"], name="conv", **attrs)], {"x": list(x_shape)},
                 {"y": None}, inits, opset)


def qdq_conv(act_scale=0.05, w_scale=None, zp=0, out_scale=0.1, shape=(1, 1, 8, 8), cout=4,
             dq_scale=None, opset=13, zp_dtype=np.int8):
    """A QDQ model as ONNX Runtime writes it: Q(x) -> DQ -> Conv(DQ(w), DQ(b)) -> Q -> DQ."""
    cin = shape[1]
    wq = rng(11).integers(-127, 128, (cout, cin, 3, 3)).astype(np.int8)
    ws = np.full(cout, 0.01, np.float32) if w_scale is None else np.asarray(w_scale, np.float32)
    bq = rng(12).integers(-500, 500, cout).astype(np.int32)
    bs = (act_scale * ws).astype(np.float32) if ws.size > 1 else np.float32(act_scale * ws)
    dq = act_scale if dq_scale is None else dq_scale
    inits = [init("xs", np.float32(act_scale)), init("xz", zp_dtype(zp)),
             init("xds", np.float32(dq)), init("wq", wq), init("ws", ws),
             init("wz", np.zeros(ws.shape, np.int8)), init("bq", bq), init("bs", bs),
             init("bz", np.zeros(np.shape(bs), np.int32)), init("ys", np.float32(out_scale)),
             init("yz", zp_dtype(0))]
    nodes = [node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q_in"),
             node("DequantizeLinear", ["xq", "xds", "xz"], ["xd"], name="dq_in"),
             node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], name="dq_w", axis=0),
             node("DequantizeLinear", ["bq", "bs", "bz"], ["bd"], name="dq_b", axis=0),
             node("Conv", ["xd", "wd", "bd"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             node("QuantizeLinear", ["c", "ys", "yz"], ["cq"], name="q_out"),
             node("DequantizeLinear", ["cq", "ys", "yz"], ["y"], name="dq_out")]
    return model(nodes, {"x": list(shape)}, {"y": None}, inits, opset)


def npz_bytes(arrays: dict, compress: bool = False) -> bytes:
    """An .npz with fixed timestamps (np.savez stamps the current time)."""
    buf = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", mode) as z:
        for k, a in arrays.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asanyarray(a), allow_pickle=True)
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = mode
            z.writestr(info, data.getvalue())
    return buf.getvalue()


def npy_bytes(a) -> bytes:
    data = io.BytesIO()
    np.lib.format.write_array(data, np.asanyarray(a))
    return data.getvalue()


def add(name: str, mdl=None, *, expect, why: str, cal=None, args=None, setup=(),
        files=None, model_file: str = "model.onnx") -> None:
    """Register a case: model (ModelProto or bytes), calibration ({name: array} or bytes)."""
    assert name not in CASES, name
    fs = dict(files or {})
    if mdl is not None:
        fs[model_file] = mdl.SerializeToString() if isinstance(mdl, onnx.ModelProto) else mdl
    if cal is not None:
        fs["calib.npz"] = cal if isinstance(cal, bytes) else npz_bytes(cal)
    if args is None:
        args = [f"{{case}}/{model_file}", "-o", "{out}", "--no-measure"]
        if cal is not None:
            args += ["--calib", "{case}/calib.npz"]
    CASES[name] = {"files": fs, "spec": {
        "args": args, "setup": [list(s) for s in setup],
        "expect": [expect] if isinstance(expect, str) else list(expect), "why": why}}


def ok_args(*extra, model_file="model.onnx") -> list[str]:
    return [f"{{case}}/{model_file}", "--calib", "{case}/calib.npz", "-o", "{out}",
            "--no-measure", *extra]


# -- the corpus (one function per category, below) ------------------------------------------

def cases_files() -> None:
    good = tiny().SerializeToString()
    add("file_empty", b"", expect="empty", why="a 0-byte model file")
    for i, n in enumerate((7, 64, 700, 4096)):
        add(f"file_garbage_{i}", rng(100 + i).integers(0, 256, n, np.uint8).tobytes(),
            expect="model.onnx", why=f"{n} random bytes")
    for frac in (10, 50, 90):
        add(f"file_truncated_{frac}pct", good[:len(good) * frac // 100],
            expect="not a readable ONNX file", why=f"the first {frac}% of a valid model")
    add("file_truncated_last_byte", good[:-1], expect="not a readable ONNX file",
        why="a valid model minus its last byte")
    magic = {"png": b"\x89PNG\r\n\x1a\n" + bytes(64), "elf": b"\x7fELF\x02\x01\x01" + bytes(60),
             "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
             "tflite": b"\x1c\x00\x00\x00TFL3" + bytes(64),
             "zip": npz_bytes({"w": np.zeros(3, np.float32)}),
             "gzip": gzip.compress(good, mtime=0),
             "npy": npy_bytes(np.zeros((2, 2), np.float32)),
             "pytorch_pickle": b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.",
             "utf16": "ir_version: 8".encode("utf-16")}
    for k, data in magic.items():
        add(f"file_magic_{k}", data, expect="not", why=f"a {k} file named model.onnx")
    add("file_html_page", b"<!DOCTYPE html>\n<html><head><title>model.onnx</title></head>"
        b"<body>GitHub</body></html>\n", expect="HTML",
        why="a downloaded web page instead of the raw model")
    add("file_git_lfs_pointer", b"version https://git-lfs.github.com/spec/v1\noid sha256:"
        + b"4d7a" * 16 + b"\nsize 1234567\n", expect="Git LFS",
        why="a Git LFS pointer file (git lfs pull not run)")
    add("file_onnx_text_format", b'ir_version: 8\ngraph {\n  node { op_type: "Relu" }\n}\n',
        expect="not a readable ONNX file", why="the protobuf text format")
    add("file_json", b'{"irVersion": "8", "graph": {"node": []}}', expect="not",
        why="JSON (onnx.helper.printable_graph/MessageToJson output)")
    add("file_missing", args=["{case}/absent.onnx", "-o", "{out}"], expect="no such file",
        why="the model path does not exist")
    add("file_is_a_directory", args=["{sandbox}/dir.onnx", "-o", "{out}"],
        setup=[("mkdir", "dir.onnx")], expect="folder", why="the model path is a folder")
    add("file_suffix_tflite", good, model_file="model.tflite", expect="TFLite",
        why="a .tflite suffix")
    add("file_suffix_none", good, model_file="model", expect="unknown model format",
        why="no suffix")
    add("file_nul_bytes", bytes(256), expect="not", why="256 zero bytes")


def cases_model() -> None:
    m = tiny()
    m.ir_version = 99
    add("model_ir_version_99", m, cal=calib(), expect="ir_version",
        why="IR version from the future")
    m = tiny()
    m.ir_version = 0
    add("model_ir_version_0", m, cal=calib(), expect="ir_version", why="IR version unset")
    m = tiny()
    del m.opset_import[:]
    add("model_no_opset_import", m, cal=calib(), expect="opset", why="no opset_import")
    for v in (1, 6, 99):                       # 7..10 are converted (onnx.version_converter)
        add(f"model_opset_{v}", tiny(opset=v), cal=calib(), expect=f"opset {v}",
            why=f"ai.onnx opset {v}")
    m = tiny()
    m.opset_import[0].domain = "com.microsoft"
    add("model_only_custom_opset", m, cal=calib(), expect="opset",
        why="only a custom-domain opset")
    m = unary("Relu")
    m.graph.node[0].domain = "com.example"
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    add("model_custom_domain_op", m, cal=calib(shape=(4,)), expect="com.example",
        why="an op from a custom domain")
    fn = helper.make_function("local", "MyRelu", ["a"], ["b"], [node("Relu", ["a"], ["b"])],
                              [helper.make_opsetid("", 13)])
    m = unary("Relu")
    m.graph.node[0].op_type, m.graph.node[0].domain = "MyRelu", "local"
    m.opset_import.append(helper.make_opsetid("local", 1))
    m.functions.append(fn)
    add("model_local_function", m, cal=calib(shape=(4,)), expect="MyRelu",
        why="a model-local function (not inlined)")
    add("model_empty_graph", model([], {}, {}), expect="empty", why="no nodes, inputs, outputs")
    add("model_no_nodes", model([], {"x": [1, 4]}, {"x": [1, 4]}), cal=calib(shape=(4,)),
        expect="no nodes", why="an input passed straight to an output")
    add("model_no_outputs", model([node("Relu", ["x"], ["y"])], {"x": [1, 4]}, {}),
        cal=calib(shape=(4,)), expect="no outputs", why="a graph without outputs")
    add("model_no_inputs", model([node("Constant", [], ["y"], value=init("v", w(1, 1, 4)))],
                                 {}, {"y": [1, 4]}), expect="input",
        why="a graph without inputs (all constant)")
    m = tiny()
    m.graph.node[1].ClearField("name")
    add("model_node_without_name_unsupported", _set_op(m, 1, "Tan"), cal=calib(),
        expect=["Tan", "'r'"], why="unnamed node: the message names its output instead")


def _set_op(m, i, op):
    m.graph.node[i].op_type = op
    return m


def cases_graph() -> None:
    m = model([node("Relu", ["b"], ["a"], name="r1"), node("Relu", ["a"], ["b"], name="r2"),
               node("Add", ["x", "b"], ["y"], name="add")], {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_cycle_two_nodes", m, cal=calib(shape=(4,)), expect="cycle",
        why="r1 reads r2's output and r2 reads r1's")
    m = model([node("Add", ["x", "a"], ["a"], name="loop")], {"x": [1, 4]}, {"a": [1, 4]})
    add("graph_cycle_self_loop", m, cal=calib(shape=(4,)), expect="cycle",
        why="a node reads its own output")
    m = model([node("Relu", ["c"], ["a"], name="r1"), node("Relu", ["a"], ["b"], name="r2"),
               node("Relu", ["b"], ["c"], name="r3"), node("Add", ["x", "c"], ["y"], name="o")],
              {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_cycle_three_nodes", m, cal=calib(shape=(4,)), expect="cycle",
        why="a -> b -> c -> a")
    m = model([node("Relu", ["x"], ["a"], name="r1"), node("Add", ["a", "ghost"], ["y"],
                                                           name="add")],
              {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_dangling_input", m, cal=calib(shape=(4,)), expect=["ghost", "add"],
        why="a node input that nothing defines")
    m = model([node("Relu", ["x"], ["a"], name="r1")], {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_dangling_output", m, cal=calib(shape=(4,)), expect="'y'",
        why="a graph output that nothing computes")
    m = model([node("Relu", ["x"], ["y"], name="r1"), node("Sigmoid", ["x"], ["y"], name="s1")],
              {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_two_producers", m, cal=calib(shape=(4,)), expect="'y'",
        why="two nodes write the same tensor")
    m = model([node("Sigmoid", ["a"], ["y"], name="s1"), node("Relu", ["x"], ["a"], name="r1")],
              {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_not_topologically_sorted", m, cal=calib(shape=(4,)), expect="order",
        why="nodes listed consumer first")
    m = model([node("", ["x"], ["y"], name="nameless")], {"x": [1, 4]}, {"y": [1, 4]})
    add("graph_empty_op_type", m, cal=calib(shape=(4,)), expect="nameless",
        why="a node with no op_type")
    m = model([node("Relu", ["x"], ["y"], name="r")], {"x": [1, 4]}, {"y": [1, 4]},
              [init("x", w(1, 1, 4))])
    add("graph_input_is_also_initializer", m, expect="input",
        why="the only input has a default initializer (so it is a constant)")
    m = model([node("Relu", ["x"], ["y"], name="r")], {"x": [1, 4]}, {"y": [1, 4]})
    m.graph.input.append(vi("x", [1, 4]))
    add("graph_duplicate_input", m, cal=calib(shape=(4,)), expect="'x'",
        why="the same input declared twice")
    add("graph_output_is_constant", model(
        [node("Relu", ["x"], ["y"], name="r")], {"x": [1, 4]}, {"y": [1, 4], "c": [2]},
        [init("c", w(1, 2))]), cal=calib(shape=(4,)), expect="constant",
        why="a graph output that is an initializer")
    m = tiny()
    m.graph.sparse_initializer.append(helper.make_sparse_tensor(
        init("sp_v", w(1, 2)), init("sp_i", np.array([0, 3], np.int64)), [4]))
    m.graph.node[0].input[2] = "sp_v"
    add("graph_sparse_initializer", m, cal=calib(), expect="sparse",
        why="a sparse initializer")
    deep = [node("Relu", ["x"], ["t0"], name="n0")]
    deep += [node("Relu", [f"t{i}"], [f"t{i + 1}"], name=f"n{i + 1}") for i in range(2999)]
    deep += [node("Tan", ["t2999"], ["y"], name="last")]
    add("graph_deep_chain_unsupported_tail", model(deep, {"x": [1, 4]}, {"y": [1, 4]}),
        cal=calib(shape=(4,)), expect="Tan", why="3000 nodes, then an unsupported op")


def cases_ops() -> None:
    c4 = calib(shape=(4,))
    # (Erf, Exp, Log, Sqrt, Neg, Abs on one activation are float islands now: one table)
    simple = {"Tan": {}, "Acos": {}, "Asin": {}, "Atan": {}, "Sinh": {}, "Cosh": {},
              "Softsign": {}, "Celu": {},
              "ArgMax": {"out": T(TP.INT64, [1, 4])}, "ReduceL2": {"axes": [1]}, "Hardmax": {},
              "ThresholdedRelu": {}}
    for op, attrs in simple.items():
        add(f"op_unsupported_{op.lower()}", unary(op, **attrs), cal=c4,
            expect=[f"op {op} is not supported", f"my_{op.lower()}"], why=f"{op} on an activation")
    add("op_unsupported_cast", unary("Cast", to=TP.INT32, out=T(TP.INT32, [1, 4])), cal=c4,
        expect=["Cast of the float activation", "INT32", "my_cast"],
        why="Cast of a float activation to an integer type (outside a float island)")
    where = [node("Less", ["x", "zero"], ["lt"], name="lt"),
             node("Where", ["lt", "x", "z"], ["y"], name="pick")]
    add("op_unsupported_where_two_activations", model(where, {"x": [1, 4], "z": [1, 4]},
                                                      {"y": None}, [
        init("zero", np.array(0, np.float32))]),
        cal={"x": rng(3).standard_normal((8, 1, 4)).astype(np.float32),
             "z": rng(4).standard_normal((8, 1, 4)).astype(np.float32)},
        expect=["Where", "ONE activation"],
        why="Where choosing between two inputs: not a function of one activation")
    ln = model([node("Relu", ["x"], ["s"], name="scale"),
                node("LayerNormalization", ["x", "s"], ["y"], name="ln")],
               {"x": [1, 4]}, {"y": None}, opset=17)
    add("op_unsupported_layernorm_scale_activation", ln, cal=c4,
        expect=["LayerNormalization", "constant"],
        why="LayerNormalization whose Scale is computed from the input")
    add("op_unsupported_einsum", model([node("Einsum", ["x", "x"], ["y"], name="e",
                                             equation="ij,ij->ij")], {"x": [1, 4]}, {"y": None}),
        cal=c4, expect="Einsum", why="Einsum")
    lstm = model([node("LSTM", ["x", "W", "R"], ["y"], name="rnn", hidden_size=2,
                       direction="bidirectional", clip=3.0)],
                 {"x": [1, 1, 3]}, {"y": None},
                 [init("W", w(1, 2, 8, 3)), init("R", w(2, 2, 8, 2))])
    add("op_unsupported_lstm", lstm, cal=calib(shape=(1, 3)), expect=["LSTM", "clip"],
        why="an LSTM with a cell clip (TFLite Micro's integer LSTM has none)")
    body = helper.make_graph([node("Identity", ["c_in"], ["c_out"])], "body",
                             [vi("i", [], TP.INT64), vi("c_in", [], TP.BOOL)],
                             [vi("c_out", [], TP.BOOL)])
    loop = model([node("Loop", ["", "cond"], [], name="loop", body=body),
                  node("Relu", ["x"], ["y"], name="r")], {"x": [1, 4]}, {"y": [1, 4]},
                 [init("cond", np.array(True))])
    add("op_unsupported_loop", loop, cal=c4, expect="Loop", why="a Loop with a subgraph")
    then = helper.make_graph([node("Relu", ["x"], ["t"])], "then", [], [vi("t", [1, 4])])
    iff = model([node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
                 node("Greater", ["s", "zero"], ["c"], name="gt"),
                 node("If", ["c"], ["y"], name="branch", then_branch=then, else_branch=then)],
                {"x": [1, 4]}, {"y": [1, 4]}, [init("zero", np.float32(0))])
    add("op_unsupported_if", iff, cal=c4, expect="not supported", why="an If on an activation")
    g = model([node("GatherND", ["x", "idx"], ["y"], name="gather")], {"x": [1, 4]},
              {"y": None}, [init("idx", np.array([[0]], np.int64))])
    add("op_unsupported_gathernd", g, cal=c4, expect="GatherND", why="GatherND on an activation")
    r = model([node("Resize", ["x", "", "sc"], ["y"], name="up", mode="cubic")],
              {"x": [1, 2, 4, 4]}, {"y": None}, [init("sc", np.array([1, 2, 2, 2], np.float32))])
    add("op_resize_channels", r, cal=calib(shape=(2, 4, 4)), expect="Resize",
        why="Resize of the channel axis")
    ct = model([node("ConvTranspose", ["x", "w"], ["y"], name="deconv", group=3)],
               {"x": [1, 2, 4, 4]}, {"y": None}, [init("w", w(1, 2, 1, 3, 3))])
    add("op_convtranspose_grouped", ct, cal=calib(shape=(2, 4, 4)), expect="group=3",
        why="ConvTranspose with group=3 on 2 input channels")
    sp = model([node("Tile", ["x", "reps"], ["y"], name="tile")], {"x": [1, 4]}, {"y": None},
               [init("reps", np.array([1, 2], np.int64))])
    add("op_unsupported_tile", sp, cal=c4, expect="Tile", why="Tile of an activation")
    mm = model([node("MatMul", ["x", "x2"], ["y"], name="mm")],
               {"x": [1, 1, 1, 1, 2, 4], "x2": [1, 1, 1, 1, 4, 3]}, {"y": None})
    add("op_matmul_rank6", mm, cal={"x": w(3, 4, 1, 1, 1, 1, 2, 4),
                                    "x2": w(4, 4, 1, 1, 1, 1, 4, 3)},
        expect="MatMul", why="MatMul of two rank-6 activations")
    div = model([node("Div", ["c", "x"], ["y"], name="div")], {"x": [1, 4]}, {"y": None},
                [init("c", w(1, 1, 4))])
    add("op_div_by_activation", div, cal=c4, expect="div", why="constant / activation")


def cases_attrs() -> None:
    c38 = calib()
    add("attr_grouped_conv", conv_model((1, 6, 8, 8), (4, 2, 3, 3), group=3),
        cal=calib(shape=(6, 8, 8)), expect="group=3", why="group=3 does not divide 4 outputs")
    add("attr_conv1d_pads_4", conv_model((1, 3, 8), (4, 3, 3), pads=[1, 1, 1, 1]),
        cal=calib(shape=(3, 8)), expect="pads", why="a 1-D convolution with 4 pads")
    add("attr_conv3d", conv_model((1, 3, 4, 4, 4), (4, 3, 3, 3, 3), pads=[1, 1, 1, 1]),
        cal=calib(shape=(3, 4, 4, 4)), expect="pads", why="a 3-D convolution with 4 pads")
    add("attr_conv_weight_is_input", model([node("Conv", ["x", "wx"], ["y"], name="conv")],
                                           {"x": [1, 3, 8, 8], "wx": [1, 3, 3, 3]}, {"y": None}),
        cal={**c38, "wx": w(2, 4, 3, 3, 3)}, expect=["conv", "constant"],
        why="Conv weights from a graph input")
    add("attr_conv_stride_0", conv_model((1, 3, 8, 8), (4, 3, 3, 3), strides=[0, 1]), cal=c38,
        expect="stride", why="strides=[0, 1]")
    add("attr_conv_dilation_0", conv_model((1, 3, 8, 8), (4, 3, 3, 3), dilations=[0, 1]),
        cal=c38, expect="dilation", why="dilations=[0, 1]")
    add("attr_conv_negative_pads", conv_model((1, 3, 8, 8), (4, 3, 3, 3), pads=[-1, 0, 0, 0]),
        cal=c38, expect="pads", why="pads=[-1, 0, 0, 0]")
    add("attr_conv_kernel_larger_than_input", conv_model((1, 3, 8, 8), (4, 3, 9, 9)), cal=c38,
        expect="conv", why="a 9x9 kernel on an 8x8 input without padding")
    add("attr_conv_kernel_shape_mismatch", conv_model((1, 3, 8, 8), (4, 3, 3, 3),
                                                      kernel_shape=[5, 5]),
        cal=c38, expect="kernel", why="kernel_shape=[5,5] with 3x3 weights")
    add("attr_conv_channel_mismatch", conv_model((1, 3, 8, 8), (4, 5, 3, 3)), cal=c38,
        expect="conv", why="weights for 5 input channels, input has 3")
    add("attr_conv_bias_wrong_size", model(
        [node("Conv", ["x", "w", "b"], ["y"], name="conv")], {"x": [1, 3, 8, 8]}, {"y": None},
        [init("w", w(1, 4, 3, 3, 3)), init("b", w(2, 3))]), cal=c38, expect="bias",
        why="bias of 3 for 4 output channels")
    add("attr_conv_auto_pad_bogus", conv_model((1, 3, 8, 8), (4, 3, 3, 3), auto_pad="BOGUS"),
        cal=c38, expect="auto_pad", why="auto_pad='BOGUS'")
    add("attr_conv_unknown_attribute", conv_model((1, 3, 8, 8), (4, 3, 3, 3), frobnicate=3),
        cal=c38, expect="frobnicate", why="an attribute Conv does not have")
    add("attr_conv_strides_floats", conv_model((1, 3, 8, 8), (4, 3, 3, 3), strides=[1.5, 1.5]),
        cal=c38, expect="strides", why="strides given as floats")
    add("attr_maxpool_dilation", unary("MaxPool", (1, 3, 8, 8), kernel_shape=[2, 2],
                                       dilations=[0, 2], opset=12), cal=c38,
        expect="dilation", why="MaxPool dilations [0, 2]")
    add("attr_maxpool_kernel_0", unary("MaxPool", (1, 3, 8, 8), kernel_shape=[0, 2]), cal=c38,
        expect="kernel", why="kernel_shape=[0, 2]")
    add("attr_maxpool_no_kernel", unary("MaxPool", (1, 3, 8, 8)), cal=c38, expect="kernel_shape",
        why="MaxPool without kernel_shape")
    add("attr_maxpool_3d", unary("MaxPool", (1, 3, 4, 4, 4), kernel_shape=[2, 2]),
        cal=calib(shape=(3, 4, 4, 4)), expect="kernel_shape", why="3-D pooling, 2 kernel dims")
    add("attr_avgpool_count_include_pad", unary("AveragePool", (1, 3, 8, 8), kernel_shape=[3, 3],
                                                pads=[1, -1, 1, 1], count_include_pad=1),
        cal=c38, expect="pads", why="count_include_pad=1 with a negative pad")
    add("attr_pad_reflect_long", model([node("Pad", ["x", "p"], ["y"], name="pad",
                                            mode="reflect")],
                                       {"x": [1, 3, 8, 8]}, {"y": None},
                                       [init("p", np.array([0, 0, 8, 1, 0, 0, 1, 1], np.int64))]),
        cal=c38, expect="reflect", why="Pad mode reflect by as much as the axis is long")
    add("attr_pad_negative", model([node("Pad", ["x", "p"], ["y"], name="pad")],
                                   {"x": [1, 3, 8, 8]}, {"y": None},
                                   [init("p", np.array([0, 0, -1, 0, 0, 0, 0, 0], np.int64))]),
        cal=c38, expect="negative pads", why="Pad with negative pads (a crop)")
    add("attr_pad_wrong_length", model([node("Pad", ["x", "p"], ["y"], name="pad")],
                                       {"x": [1, 3, 8, 8]}, {"y": None},
                                       [init("p", np.array([1, 1, 1], np.int64))]),
        cal=c38, expect="pad", why="pads of length 3 for a 4-D tensor")
    bn = model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn",
                     training_mode=1)], {"x": [1, 3, 8, 8]}, {"y": None},
               [init(n, np.ones(3, np.float32)) for n in "sbmv"], opset=15)
    add("attr_batchnorm_training", bn, cal=c38, expect="training mode", why="BN training mode")
    bn = model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")],
               {"x": [1, 3, 8, 8]}, {"y": None},
               [init(n, np.ones(k, np.float32)) for n, k in zip("sbmv", (3, 3, 5, 3))])
    add("attr_batchnorm_param_size", bn, cal=c38, expect="bn", why="BN mean of 5 for 3 channels")
    dr = model([node("Dropout", ["x", "r", "t"], ["y"], name="drop")], {"x": [1, 4]}, {"y": None},
               [init("r", np.float32(0.5)), init("t", np.array(True))])
    add("attr_dropout_training", dr, cal=calib(shape=(4,)), expect="training",
        why="Dropout in training mode")
    add("attr_relu_unknown_attribute", unary("Relu", alpha=0.5), cal=calib(shape=(4,)),
        expect="alpha", why="Relu with an attribute it does not have")
    add("attr_softmax_axis_out_of_range", unary("Softmax", axis=5), cal=calib(shape=(4,)),
        expect="axis", why="Softmax axis=5 of a 2-D tensor")
    add("attr_flatten_axis_out_of_range", unary("Flatten", (1, 3, 8, 8), axis=7), cal=c38,
        expect="axis", why="Flatten axis=7")
    add("attr_transpose_bad_perm", unary("Transpose", (1, 3, 8, 8), perm=[0, 1, 1, 2]), cal=c38,
        expect="perm", why="Transpose perm with a repeated axis")
    add("attr_concat_mismatch", model([node("Concat", ["x", "c"], ["y"], name="cat", axis=1)],
                                      {"x": [1, 3, 8, 8]}, {"y": None},
                                      [init("c", w(1, 1, 2, 4, 4))]),
        cal=c38, expect="cat", why="Concat of [1,3,8,8] and [1,2,4,4]")
    add("attr_reshape_incompatible", model([node("Reshape", ["x", "s"], ["y"], name="rs")],
                                           {"x": [1, 12]}, {"y": None},
                                           [init("s", np.array([5, 5], np.int64))]),
        cal=calib(shape=(12,)), expect="rs", why="Reshape 12 elements to [5, 5]")
    add("attr_reshape_two_minus_one", model([node("Reshape", ["x", "s"], ["y"], name="rs")],
                                            {"x": [1, 12]}, {"y": None},
                                            [init("s", np.array([-1, -1], np.int64))]),
        cal=calib(shape=(12,)), expect="rs", why="Reshape with two -1")
    add("attr_reshape_shape_is_input", model([node("Reshape", ["x", "s"], ["y"], name="rs")],
                                             {"x": [1, 12], "s": T(TP.INT64, [2])}, {"y": None}),
        cal=calib(shape=(12,)), expect="input", why="Reshape whose shape is a graph input")
    add("attr_add_not_broadcastable", model([node("Add", ["x", "c"], ["y"], name="add")],
                                            {"x": [1, 3, 8, 8]}, {"y": None}, [init("c", w(1, 5))]),
        cal=c38, expect="add", why="[1,3,8,8] + [5]")
    add("attr_matmul_inner_mismatch", model([node("MatMul", ["x", "m"], ["y"], name="mm")],
                                            {"x": [1, 4]}, {"y": None}, [init("m", w(1, 5, 2))]),
        cal=calib(shape=(4,)), expect="mm", why="[1,4] @ [5,2]")
    add("attr_gemm_c_mismatch", model([node("Gemm", ["x", "m", "c"], ["y"], name="fc")],
                                      {"x": [1, 4]}, {"y": None},
                                      [init("m", w(1, 4, 2)), init("c", w(2, 3))]),
        cal=calib(shape=(4,)), expect="fc", why="Gemm C of 3 for 2 outputs")
    add("attr_gemm_b_is_input", model([node("Gemm", ["x", "m"], ["y"], name="fc")],
                                      {"x": [1, 1], "m": [1, 2]}, {"y": None}),
        cal={"x": w(3, 4, 1), "m": w(4, 4, 2)}, expect="constant",
        why="Gemm weights from a graph input")
    add("attr_clip_min_is_activation", model([node("Clip", ["x", "x"], ["y"], name="clip")],
                                             {"x": [1, 4]}, {"y": None}, opset=13),
        cal=calib(shape=(4,)), expect="clip", why="Clip whose min is an activation")
    add("attr_squeeze_non_unit", model([node("Squeeze", ["x", "a"], ["y"], name="sq")],
                                       {"x": [1, 3, 8, 8]}, {"y": None},
                                       [init("a", np.array([1], np.int64))]),
        cal=c38, expect="sq", why="Squeeze of an axis of size 3")
    add("attr_unsqueeze_duplicate_axes", model([node("Unsqueeze", ["x", "a"], ["y"], name="us")],
                                               {"x": [1, 4]}, {"y": None},
                                               [init("a", np.array([1, 1], np.int64))]),
        cal=calib(shape=(4,)), expect="us", why="Unsqueeze with a repeated axis")


def _relu(shape, dtype=TP.FLOAT):
    return model([node("Relu", ["x"], ["y"], name="r")], {"x": T(dtype, shape)},
                 {"y": T(dtype, shape)})


def _dyn(dims):
    return model([node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])],
                 {"x": dims}, {"y": None}, [init("w", w(1, 4, 3, 3, 3))])


def cases_dims() -> None:
    mix = model([node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                 node("ReduceMean", ["c"], ["y"], name="batch_mean", axes=[0])],
                {"x": ["N", 3, 8, 8]}, {"y": None}, [init("w", w(1, 4, 3, 3, 3))])
    add("dim_dynamic_batch_mixed", mix, cal=calib(), expect=["--input-shape x=1,3,8,8",
                                                              "batch_mean"],
        why="a symbolic batch dim, not pinned by default: the graph mixes the samples")
    add("dim_dynamic_spatial", _dyn([1, 3, "H", "W"]), cal=calib(), expect="--input-shape",
        why="symbolic H and W")
    m = _dyn([1, 3, 8, 8])
    m.graph.input[0].type.tensor_type.shape.dim[2].Clear()
    add("dim_unknown_dim", m, cal=calib(), expect="dynamic",
        why="a dim with neither value nor name")
    m = _dyn([1, 3, 8, 8])
    m.graph.input[0].type.tensor_type.ClearField("shape")
    add("dim_no_shape", m, cal=calib(), expect="shape", why="an input without a shape")
    # a zero-sized input is a model (frontend/onnx_empty.py: a Conv with pads 1 gives an empty
    # output); an output with elements computed from it is not
    add("dim_zero", model([node("Conv", ["x", "w"], ["y"], name="conv", pads=[2, 2, 2, 2])],
                          {"x": [1, 3, 0, 8]}, {"y": None}, [init("w", w(1, 4, 3, 3, 3))]),
        cal=calib(shape=(3, 0, 8)), expect=["conv", "has none"],
        why="an input dim of size 0, a Conv whose padding gives an output with elements")
    add("dim_negative", _dyn([1, 3, -8, 8]), cal=calib(), expect="-8", why="an input dim of -8")
    add("dim_batch_4", _dyn([4, 3, 8, 8]), cal=calib(), expect="batch size 4", why="batch 4")
    for k, shape in {"1e10": [1, 1, 100000, 100000], "int64_overflow": [1, 2**31, 2**31, 4],
                     "2p62": [1, 1, 2**31, 2**31]}.items():
        add(f"dim_enormous_input_{k}", _relu(shape), cal=calib(shape=(1, 2, 2)),
            expect="x", why=f"an input of shape {shape}")
    add("dim_pin_zero", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=0,3,8,8"), expect="--input-shape",
        why="--input-shape with a 0")
    add("dim_pin_negative", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=-1,3,8,8"), expect="--input-shape",
        why="--input-shape with a -1")
    add("dim_pin_not_a_number", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=1,3,eight,8"), expect="--input-shape",
        why="--input-shape with a word")
    add("dim_pin_no_equals", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "1,3,8,8"), expect="--input-shape", why="no NAME=")
    add("dim_pin_empty_dims", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x="), expect="--input-shape", why="NAME= and nothing")
    add("dim_pin_unknown_input", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "image=1,3,8,8"), expect="'image', which is not an input",
        why="--input-shape names no input")
    add("dim_pin_wrong_rank", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=1,3,8"), expect="rank", why="rank 3 for a 4-D input")
    add("dim_pin_conflicts_static", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=1,5,8,8"), expect="static size 3",
        why="--input-shape contradicts a static dim")
    add("dim_pin_batch_4", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=4,3,8,8"), expect="batch size 4",
        why="--input-shape pins batch 4")
    add("dim_pin_enormous", _dyn(["N", 3, "H", "W"]), cal=calib(),
        args=ok_args("--input-shape", "x=1,3,100000,100000"), expect="x",
        why="--input-shape pins 3*10^10 elements")
    add("dim_pin_twice_conflicting", _dyn(["N", 3, 8, 8]), cal=calib(),
        args=ok_args("--input-shape", "x=1,3,8,8", "--input-shape", "x=2,3,8,8"),
        expect="twice", why="the same input pinned twice, differently")


def _big_const(tensor) -> onnx.ModelProto:
    return model([node("Constant", [], ["c"], name="big", value=tensor),
                  node("Add", ["x", "c"], ["y"], name="add")], {"x": [1, 4]}, {"y": None})


def _fold(nodes, inits, shape=(1, 4)):
    """x + sum(a constant subgraph's output c): the subgraph is folded at import."""
    tail = [node("ReduceSum", ["c"], ["cs"], name="sum", keepdims=0),
            node("Add", ["x", "cs"], ["y"], name="add")]
    return model(nodes + tail, {"x": list(shape)}, {"y": None}, inits)


def cases_huge() -> None:
    c4 = calib(shape=(4,))
    t = raw_tensor("w", [100000, 100000])
    add("huge_initializer_no_data", model([node("Add", ["x", "w"], ["y"], name="add")],
                                          {"x": [1, 4]}, {"y": None}, [t]), cal=c4,
        expect="10,000,000,000", why="an initializer declaring 10^10 floats with no data")
    t = raw_tensor("w", [100000, 100000], b"\0" * 64)
    add("huge_initializer_short_raw", model([node("Add", ["x", "w"], ["y"], name="add")],
                                            {"x": [1, 4]}, {"y": None}, [t]), cal=c4,
        expect="10,000,000,000", why="10^10 floats declared, 64 bytes of raw data")
    t = raw_tensor("w", [2**40, 2**40], b"\0" * 16)
    add("huge_initializer_int64_overflow", model([node("Add", ["x", "w"], ["y"], name="add")],
                                                 {"x": [1, 4]}, {"y": None}, [t]), cal=c4,
        expect="w", why="dims whose product overflows int64")
    t = raw_tensor("w", [-4, 4])
    add("huge_initializer_negative_dim", model([node("Add", ["x", "w"], ["y"], name="add")],
                                               {"x": [1, 4]}, {"y": None}, [t]), cal=c4,
        expect="w", why="an initializer with dim -4")
    t = raw_tensor("w", [3, 4], np.zeros(5, np.float32).tobytes())
    add("huge_initializer_raw_size_mismatch", model([node("Add", ["x", "w"], ["y"], name="add")],
                                                    {"x": [1, 4]}, {"y": None}, [t]), cal=c4,
        expect="w", why="12 floats declared, 5 stored")
    add("huge_constant_node_no_data", _big_const(raw_tensor("v", [100000, 100000])),
        cal=c4, expect="10,000,000,000", why="a Constant node declaring 10^10 floats")
    add("huge_constant_of_shape", _fold(
        [node("ConstantOfShape", ["s"], ["c"], name="fill",
              value=helper.make_tensor("v", TP.FLOAT, [1], [1.0]))],
        [init("s", np.array([100000, 100000], np.int64))]), cal=c4,
        expect=["fill", "10,000,000,000"], why="ConstantOfShape([10^5, 10^5])")
    add("huge_constant_of_shape_int64_max", _fold(
        [node("ConstantOfShape", ["s"], ["c"], name="fill")],
        [init("s", np.array([2**62, 4], np.int64))]), cal=c4, expect="fill",
        why="ConstantOfShape whose element count overflows int64")
    add("huge_constant_of_shape_negative", _fold(
        [node("ConstantOfShape", ["s"], ["c"], name="fill")],
        [init("s", np.array([-5, 4], np.int64))]), cal=c4, expect="fill",
        why="ConstantOfShape with a negative dim")
    add("huge_expand", _fold([node("Expand", ["one", "s"], ["c"], name="expand")],
                             [init("one", np.ones(1, np.float32)),
                              init("s", np.array([100000, 100000], np.int64))]), cal=c4,
        expect=["expand", "10,000,000,000"], why="Expand a scalar to [10^5, 10^5]")
    add("huge_tile", _fold([node("Tile", ["one", "r"], ["c"], name="tile")],
                           [init("one", np.ones((1, 1), np.float32)),
                            init("r", np.array([100000, 100000], np.int64))]), cal=c4,
        expect=["tile", "10,000,000,000"], why="Tile [1,1] by [10^5, 10^5]")
    add("huge_range", _fold([node("Range", ["a", "b", "d"], ["c"], name="range")],
                            [init("a", np.float32(0)), init("b", np.float32(1e10)),
                             init("d", np.float32(1))]), cal=c4,
        expect=["range", "10,000,000,000"], why="Range(0, 1e10, 1)")
    add("huge_pad_constant", _fold([node("Pad", ["one", "p"], ["c"], name="bigpad")],
                                   [init("one", np.ones((1, 1), np.float32)),
                                    init("p", np.array([0, 0, 100000, 100000], np.int64))]),
        cal=c4, expect=["bigpad", "10,000,"], why="Pad a constant by 10^5 x 10^5")
    add("huge_resize_constant", _fold(
        [node("Resize", ["one", "", "sc"], ["c"], name="grow", mode="nearest")],
        [init("one", np.ones((1, 1), np.float32)),
         init("sc", np.array([100000, 100000], np.float32))]),
        cal=c4, expect=["grow", "10,000,000,000"], why="Resize a constant by 10^5 x 10^5")
    shape_of = model([node("Shape", ["x"], ["s"], name="shape"),
                      node("ConstantOfShape", ["s"], ["c"], name="fill"),
                      node("Add", ["x", "c"], ["y"], name="add")],
                     {"x": ["N", 1, "H", "W"]}, {"y": None})
    add("huge_constant_of_input_shape", shape_of, cal=calib(shape=(1, 2, 2)),
        args=ok_args("--input-shape", "x=1,1,100000,100000"), expect="x",
        why="ConstantOfShape(Shape(x)) with x pinned to 10^10 elements")
    deep = [node("Concat", ["one", "one"], ["c0"], name="cat0", axis=0)]
    deep += [node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], name=f"cat{i + 1}", axis=0)
             for i in range(39)]
    deep += [node("Identity", ["c39"], ["c"], name="last")]
    add("huge_doubling_concat_chain", _fold(deep, [init("one", np.ones(1, np.float32))]),
        cal=c4, expect="cat", why="40 Concats each doubling a constant: 2^40 elements")
    conv = model([node("Conv", ["x", "w"], ["y"], name="wide")], {"x": [1, 1, 2000, 2000]},
                 {"y": None}, [init("w", w(1, 2000, 1, 1, 1))])
    conv48 = model([node("Conv", ["x", "w"], ["y"], name="wide", pads=[1, 1, 1, 1])],
                   {"x": [1, 1, 1000, 1000]}, {"y": None}, [init("w", w(1, 48, 1, 3, 3))])
    add("huge_activation_calibration", conv48, expect=["[1, 1000, 1000, 48]", "RAM"],
        cal=npz_bytes({"x": np.zeros((1, 1, 1000, 1000), np.float16)}, compress=True),
        why="a conv to 48 x 1000 x 1000: refused for the board before calibrating it")
    shape_chain = [node("Shape", ["x"], ["c0"], name="shape")]
    shape_chain += [node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], name=f"cat{i + 1}",
                         axis=0) for i in range(40)]
    shape_chain += [node("Cast", ["c40"], ["c"], name="tofloat", to=TP.FLOAT)]
    add("huge_shape_concat_chain", _fold(shape_chain, []), cal=c4, expect="cat",
        why="Shape(x) doubled 40 times (ONNX data propagation would take terabytes)")
    add("huge_activation_from_small_input", conv, expect="wide",
        cal=npz_bytes({"x": np.zeros((1, 1, 2000, 2000), np.float16)}, compress=True),
        why="a 1x1 conv to 2000 channels: an 8*10^9-byte float activation")


def _with_init(m, name, array):
    for i, t in enumerate(m.graph.initializer):
        if t.name == name:
            m.graph.initializer[i].CopyFrom(init(name, array))
    return m


def cases_nan() -> None:
    for k, v in {"nan": np.nan, "inf": np.inf, "neg_inf": -np.inf}.items():
        a = w(1, 4, 3, 3, 3)
        a[1, 2, 0, 0] = v
        add(f"nan_conv_weight_{k}", _with_init(tiny(), "conv.w", a), cal=calib(),
            expect=["conv.w", "finite"], why=f"a conv weight that is {v}")
        b = w(4, 2)
        b[0] = v
        add(f"nan_fc_bias_{k}", _with_init(tiny(), "fc.b", b), cal=calib(),
            expect=["fc.b", "finite"], why=f"a Gemm bias that is {v}")
    a = w(3, 2, 4)
    a[:] = np.nan
    add("nan_fc_weight_all", _with_init(tiny(), "fc.w", a), cal=calib(), expect="fc.w",
        why="a Gemm weight that is all NaN")
    a = np.full((4, 3, 3, 3), 3.4e38, np.float32)
    add("nan_conv_weight_huge", _with_init(tiny(), "conv.w", a), cal=calib(), expect="finite",
        why="conv weights of 3.4e38 (the float conv overflows to Inf)")
    bn = model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn",
                     epsilon=0.0)], {"x": [1, 3, 8, 8]}, {"y": None},
               [init("s", np.ones(3, np.float32)), init("b", np.zeros(3, np.float32)),
                init("m", np.zeros(3, np.float32)), init("v", np.array([1, -1, 1], np.float32))])
    add("nan_batchnorm_negative_variance", bn, cal=calib(), expect="bn",
        why="BN variance -1 (sqrt of a negative number)")
    bn = _with_init(bn, "v", np.array([1, 0, 1], np.float32))
    add("nan_batchnorm_zero_variance_zero_eps", bn, cal=calib(), expect="bn",
        why="BN variance 0 with epsilon 0 (division by zero)")
    div = model([node("Div", ["x", "z"], ["y"], name="div")], {"x": [1, 4]}, {"y": None},
                [init("z", np.array([1, 0, 1, 1], np.float32))])
    add("nan_div_by_zero_constant", div, cal=calib(shape=(4,)), expect=["div", "finite"],
        why="x / [1, 0, 1, 1]")
    sq = _fold([node("Sqrt", ["m"], ["c"], name="sqrt")], [init("m", -np.ones(4, np.float32))])
    add("nan_folded_sqrt_negative", sq, cal=calib(shape=(4,)), expect="finite",
        why="a folded constant subgraph that computes NaN")
    mul = model([node("Mul", ["x", "k"], ["y"], name="mul")], {"x": [1, 4]}, {"y": None},
                [init("k", np.array([1, np.nan, 1, 1], np.float32))])
    add("nan_mul_constant", mul, cal=calib(shape=(4,)), expect=["mul", "finite"], why="x * NaN")
    add("nan_clip_bounds", model([node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
                                 {"x": [1, 4]}, {"y": None},
                                 [init("lo", np.float32(np.nan)), init("hi", np.float32(6))]),
        cal=calib(shape=(4,)), expect="clip", why="Clip min NaN")
    add("nan_hardsigmoid_alpha", unary("HardSigmoid", alpha=float("nan")), cal=calib(shape=(4,)),
        expect="alpha", why="HardSigmoid alpha NaN")
    pad = model([node("Pad", ["x", "p", "v"], ["y"], name="pad")], {"x": [1, 3, 8, 8]},
                {"y": None}, [init("p", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
                              init("v", np.float32(np.inf))])
    add("nan_pad_value_inf", pad, cal=calib(), expect="pad", why="Pad with value Inf")
    g = model([node("Gemm", ["x", "m"], ["y"], name="fc", alpha=float("inf"))], {"x": [1, 4]},
              {"y": None}, [init("m", w(1, 4, 2))])
    add("nan_gemm_alpha_inf", g, cal=calib(shape=(4,)), expect="fc", why="Gemm alpha=Inf")


def cases_qdq() -> None:
    for k, s in {"zero": 0.0, "negative": -0.05, "nan": np.nan, "inf": np.inf}.items():
        add(f"qdq_act_scale_{k}", qdq_conv(act_scale=s, dq_scale=s), expect="scale",
            why=f"activation scale {s}")
    for k, s in {"zero": 0.0, "nan": np.nan, "negative": -0.01}.items():
        ws = np.full(4, 0.01, np.float32)
        ws[2] = s
        add(f"qdq_weight_scale_{k}", qdq_conv(w_scale=ws), expect="scale",
            why=f"one per-channel weight scale {s}")
    add("qdq_out_scale_zero", qdq_conv(out_scale=0.0), expect="scale", why="output scale 0")
    m = qdq_conv(out_scale=1e4)
    _with_init(m, "bq", np.array([2**31 - 1, 0, -(2**31), 5], np.int32))
    add("qdq_bias_overflows_accumulator", m, expect=["conv", "accumulator"],
        why="int32 biases at the int32 limits, on channels whose output still depends on the "
            "input (a 10^4 output scale): bias + products would overflow in C")
    add("qdq_q_dq_mismatch", qdq_conv(act_scale=0.05, dq_scale=0.07), expect="must match",
        why="Q with scale 0.05, DQ of the same tensor with 0.07")
    add("qdq_weight_scale_count", qdq_conv(w_scale=np.full(3, 0.01, np.float32)),
        expect="dq_w", why="3 weight scales for 4 output channels")
    m = qdq_conv(w_scale=np.full(4, 0.01, np.float32))
    m.graph.node[2].attribute[0].i = 5
    add("qdq_weight_axis_out_of_range", m, expect="dq_w", why="DequantizeLinear axis=5")
    m = qdq_conv()
    _with_init(m, "wz", np.zeros(3, np.int8))
    add("qdq_weight_zero_point_count", m, expect=["dq_w", "4 quantization scales and 3 zero "
        "points"], why="4 weight scales, 3 zero points")
    m = qdq_conv()
    _with_init(m, "ws", np.full((2, 2), 0.01, np.float32))
    add("qdq_weight_scale_2d", m, expect=["dq_w", "scale of shape [2, 2]"],
        why="a [2, 2] weight scale")
    m = qdq_conv()
    _with_init(m, "xs", np.full(4, 0.05, np.float32))
    _with_init(m, "xds", np.full(4, 0.05, np.float32))
    _with_init(m, "xz", np.zeros(4, np.int8))
    add("qdq_per_channel_activation", m, expect="per-channel", why="an activation per channel")
    add("qdq_int16", qdq_conv(zp_dtype=np.int16, opset=21), expect="int16",
        why="int16 activations (opset 21)")
    m = qdq_conv()
    m.graph.node[0].input[2] = ""
    m.graph.node[1].input[2] = "xz"
    add("qdq_zero_point_dtype_mismatch", m, expect="q_in",
        why="Q without zero point (uint8) and DQ with an int8 zero point")
    rs = [init("ys", np.float32(0.1)), init("yz", np.int8(0))]
    add("qdq_integer_input_no_scale", model([node("Relu", ["x"], ["y"], name="r")],
                                            {"x": T(TP.INT8, [1, 4])}, {"y": None}), expect="x",
        why="an int8 graph input that nothing dequantizes")
    add("qdq_dq_of_float", model([node("DequantizeLinear", ["x", "ys", "yz"], ["y"], name="dq")],
                                 {"x": [1, 4]}, {"y": None}, rs), expect="dq",
        why="DequantizeLinear of a float input")
    add("qdq_relu_on_int8", model([node("QuantizeLinear", ["x", "ys", "yz"], ["a"], name="q"),
                                   node("Relu", ["a"], ["y"], name="relu_int")],
                                  {"x": [1, 4]}, {"y": None}, rs),
        expect="relu_int", why="Relu on an int8 tensor")
    add("qdq_weight_uint16", model(
        [node("DequantizeLinear", ["wq", "ws"], ["wd"], name="dq_w"),
         node("MatMul", ["x", "wd"], ["y"], name="mm")], {"x": [1, 4]}, {"y": None},
        [init("wq", np.ones((4, 2), np.uint16)), init("ws", np.float32(0.1))], opset=21),
        cal=calib(shape=(4,)), expect="uint16", why="uint16 weights")
    big = qdq_conv(shape=(1, 8, 96, 96), cout=8)
    add("board_too_big_lm3s6965", big, args=["{case}/model.onnx", "--board", "lm3s6965",
                                             "-o", "{out}", "--no-measure"],
        expect=["lm3s6965", "RAM", "65,536"], why="a 147 KiB arena on a 64 KiB board")
    add("board_too_big_measured", big, args=["{case}/model.onnx", "--board", "lm3s6965",
                                             "-o", "{out}"],
        expect=["lm3s6965", "RAM"], why="the same, with measuring on (the estimate fails first)")
    add("board_unknown", tiny(), cal=calib(), args=ok_args("--board", "esp32"),
        expect=["esp32", "stm32"], why="a board tinyc does not know")
    add("board_path_traversal", tiny(), cal=calib(), args=ok_args("--board", "../../etc/passwd"),
        expect="board", why="a board name that is a path")


def two_inputs():
    return model([node("Add", ["a", "b"], ["y"], name="add")], {"a": [1, 4], "b": [1, 4]},
                 {"y": None})


def cases_calib() -> None:
    good = tiny()
    bad = {
        "garbage": (rng(5).integers(0, 256, 300, np.uint8).tobytes(), "calib.npz"),
        "empty_file": (b"", "calib.npz"),
        "truncated": (npz_bytes(calib())[:200], "calib.npz"),
        "npy_not_npz": (npy_bytes(calib()["x"]), "calib.npz"),
        "pickled_objects": (npz_bytes({"x": np.array([{"a": 1}, None], dtype=object)}), "pickle"),
        "no_arrays": (npz_bytes({}), "'x'"),
        "wrong_name_two_arrays": (npz_bytes({"a": calib()["x"], "b": calib()["x"]}), "'x'"),
        "wrong_shape": (npz_bytes(calib(shape=(3, 4, 4))), "shape"),
        "wrong_rank": (npz_bytes({"x": np.zeros((4, 3, 8), np.float32)}), "shape"),
        "one_sample_no_batch_axis": (npz_bytes({"x": np.zeros((3, 8, 8), np.float32)}), "shape"),
        "scalar": (npz_bytes({"x": np.float32(1)}), "shape"),
        "int32": (npz_bytes(calib(dtype=np.int32)), "int32"),
        "uint8_images": (npz_bytes(calib(dtype=np.uint8)), "uint8"),
        "bool": (npz_bytes(calib(dtype=np.bool_)), "bool"),
        "complex": (npz_bytes(calib(dtype=np.complex64)), "complex64"),
        "strings": (npz_bytes({"x": np.array(["a", "b"])}), "x"),
        "nan": (npz_bytes({"x": np.where(calib()["x"] > 0.9, np.nan, calib()["x"])}), "NaN"),
        "inf": (npz_bytes({"x": np.where(calib()["x"] > 0.9, np.inf, calib()["x"])}), "Inf"),
        "float32_max": (npz_bytes({"x": np.full((2, 3, 8, 8), 3e38, np.float32)}), "finite"),
        "zero_samples": (npz_bytes({"x": np.zeros((0, 3, 8, 8), np.float32)}), "zero"),
        "header_claims_1e10": (None, "x"),
        "zip_bomb_declared": (None, "x"),
    }
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, {"descr": "<f4", "fortran_order": False,
                                               "shape": (100000, 100000)})
    hostile = {"header_claims_1e10": hdr.getvalue() + bytes(64)}
    for k, (data, expect) in bad.items():
        if data is None and k == "header_claims_1e10":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr(zipfile.ZipInfo("x.npy", (1980, 1, 1, 0, 0, 0)), hostile[k])
            data = buf.getvalue()
        elif data is None:
            data = _zip_bomb()
        add(f"calib_{k}", good, cal=data, expect=expect, why=f"calibration file: {k}")
    add("calib_missing_file", good, args=ok_args()[:2] + ["{case}/absent.npz", "-o", "{out}"],
        expect="no such file", why="--calib names a missing file")
    add("calib_is_a_directory", good, args=["{case}/model.onnx", "--calib", "{sandbox}/cal.npz",
                                           "-o", "{out}", "--no-measure"],
        setup=[("mkdir", "cal.npz")], expect="folder", why="--calib names a folder")
    add("calib_not_given", good, args=["{case}/model.onnx", "-o", "{out}", "--no-measure"],
        expect="--calib", why="a float model without calibration data")
    add("calib_two_inputs_one_missing", two_inputs(), cal={"a": w(1, 4, 4)}, expect="'b'",
        why="calibration for input a only")
    add("calib_two_inputs_counts_differ", two_inputs(), cal={"a": w(1, 4, 4), "b": w(2, 3, 4)},
        expect="sample counts", why="4 samples for a, 3 for b")
    add("calib_wrong_name_for_two_inputs", two_inputs(), cal={"a": w(1, 4, 4), "c": w(2, 4, 4)},
        expect="'b'", why="arrays a and c for inputs a and b")


def _zip_bomb() -> bytes:
    """A zip whose central directory claims a 10^10-byte member (data is small)."""
    raw = npz_bytes({"x": np.zeros((2, 3, 8, 8), np.float32)})
    z = bytearray(raw)
    cd = z.rfind(b"PK\x01\x02")
    z[cd + 24:cd + 28] = (0xFFFFFFF0).to_bytes(4, "little")   # uncompressed size
    return bytes(z)


def _ext_model(location: str, length: int | None = None, offset: int | None = None,
               dims=(4, 3, 3, 3), const_node: bool = False) -> onnx.ModelProto:
    """tiny() whose conv weight is external data at `location` (relative to the model)."""
    m = tiny()
    t = next(t for t in m.graph.initializer if t.name == "conv.w")
    t.ClearField("raw_data")
    del t.dims[:]
    t.dims.extend(dims)
    t.data_location = TP.EXTERNAL
    kv = {"location": location, "length": length, "offset": offset}
    for k, v in kv.items():
        if v is not None:
            t.external_data.add(key=k, value=str(v))
    if const_node:
        m.graph.initializer.remove(t)
        m.graph.node.insert(0, node("Constant", [], ["conv.w"], name="wconst", value=t))
    return m


def cases_external() -> None:
    wbytes = w(1, 4, 3, 3, 3).tobytes()
    secret = ["write", "outside/secret.bin", "x" * 432]
    cases = {
        "dotdot_etc_passwd": ("../../etc/passwd", {}, "escapes"),
        "dotdot_sandbox": ("../outside/secret.bin", {}, "escapes"),
        "absolute_etc_passwd": ("/etc/passwd", {}, "escapes"),
        "normalising_escape": ("sub/../../outside/secret.bin", {}, "escapes"),
        "missing_file": ("weights.bin", {}, "weights.bin"),
        "is_directory": (".", {}, "."),
        "offset_past_end": ("w.bin", {"offset": 10**6}, "offset"),
        "length_past_end": ("w.bin", {"length": 10**6}, "length"),
        "size_mismatch": ("w.bin", {"dims": (40, 3, 3, 3)}, "conv.w"),
        "huge_declared": ("w.bin", {"dims": (100000, 100000)}, "10,000,000,000"),
        "nul_in_location": ("w.bin\0.txt", {}, "location"),
        "empty_location": ("", {}, "location"),
        "constant_node_escape": ("../outside/secret.bin", {"const_node": True}, "escapes"),
    }
    for k, (loc, kw, expect) in cases.items():
        files = {} if k == "missing_file" else {"w.bin": wbytes}
        add(f"ext_{k}", _ext_model(loc, **kw), cal=calib(), files=files, setup=[secret],
            expect=expect, why=f"external data location {loc!r} {kw or ''}".strip())
    add("ext_symlink_to_outside", _ext_model("w.bin"), cal=calib(),
        setup=[secret, ("symlink", "case/w.bin", "../outside/secret.bin")], expect="escapes",
        why="the weight file is a symlink to a file outside the model's folder")
    add("ext_symlink_dir_to_outside", _ext_model("sub/secret.bin"), cal=calib(),
        setup=[secret, ("symlink", "case/sub", "../outside")], expect="escapes",
        why="a folder in the model's folder is a symlink out of it")
    add("ext_symlink_absolute", _ext_model("w.bin"), cal=calib(),
        setup=[("symlink", "case/w.bin", "/etc/passwd")], expect="escapes",
        why="the weight file is a symlink to /etc/passwd")


def cases_output() -> None:
    good, c = tiny(), calib()
    add("out_is_a_file", good, cal=c, setup=[("write", "out", "not a folder")],
        expect="file", why="-o names an existing file")
    add("out_is_the_model", good, cal=c, args=ok_args()[:3] + ["-o", "{case}/model.onnx",
                                                               "--no-measure"],
        expect="file", why="-o names the model file itself")
    add("out_holds_unrelated_files", good, cal=c,
        setup=[("mkdir", "out"), ("write", "out/thesis.tex", "my thesis")],
        expect="--force", why="-o names a folder with files tinyc did not write")
    add("out_holds_unrelated_subfolder", good, cal=c,
        setup=[("mkdir", "out/.git"), ("write", "out/.git/HEAD", "ref: refs/heads/main\n")],
        expect="--force", why="-o names a git checkout")
    add("out_is_model_folder", good, cal=c, args=ok_args()[:3] + ["-o", "{case}", "--force",
                                                                  "--no-measure"],
        expect="holds the input file", why="-o names the folder that holds the model "
        "(refused even with --force)")
    add("out_is_cwd", good, cal=c, args=ok_args()[:3] + ["-o", ".", "--no-measure"],
        expect="holds the input file", why="-o . above the model's folder")
    add("out_is_filesystem_root", good, cal=c, args=ok_args()[:3] + ["-o", "/", "--force",
                                                                     "--no-measure"],
        expect="-o /", why="-o / --force")
    add("out_is_home_with_files", good, cal=c, setup=[("write", "home/.bashrc", "x")],
        args=ok_args()[:3] + ["-o", "{sandbox}/home", "--no-measure"], expect="--force",
        why="-o names a home folder")
    add("out_parent_is_a_file", good, cal=c, setup=[("write", "afile", "x")],
        args=ok_args()[:3] + ["-o", "{sandbox}/afile/out", "--no-measure"], expect="afile",
        why="-o below a path that is a file")
    add("out_dangling_symlink", good, cal=c, setup=[("symlink", "out", "nowhere/deeper")],
        expect="symlink", why="-o names a dangling symlink")
    add("out_holds_unrelated_and_bad_model", model([node("Erf", ["x"], ["y"], name="e")],
                                                   {"x": [1, 4]}, {"y": None}),
        cal=calib(shape=(4,)), setup=[("mkdir", "out"), ("write", "out/keep.txt", "keep")],
        expect="--force", why="both a bad output folder and a bad model: the folder first")


def cases_cli() -> None:
    good, c = tiny(), calib()
    add("cli_missing_output", good, cal=c, args=["{case}/model.onnx", "--calib",
                                                 "{case}/calib.npz"],
        expect="-o", why="build without -o")
    add("cli_unknown_flag", good, cal=c, args=ok_args("--turbo"), expect="--turbo",
        why="an unknown option")
    add("cli_no_model", args=["-o", "{out}"], expect="model", why="no model argument")
    add("cli_name_empty", good, cal=c, args=ok_args("--name", ""), expect="--name",
        why="--name ''")
    add("cli_name_reserved_identifier", good, cal=c, args=ok_args("--name", "__builtin_x"),
        expect="--name", why="--name starting with two underscores (reserved in C)")


def cases_types() -> None:
    for k, t in {"int32": TP.INT32, "int64": TP.INT64, "bool": TP.BOOL, "string": TP.STRING,
                 "float16": TP.FLOAT16, "double": TP.DOUBLE, "bfloat16": TP.BFLOAT16,
                 "complex64": TP.COMPLEX64}.items():
        add(f"type_input_{k}", _relu([1, 4], t), cal=calib(shape=(4,)),
            expect="input 'x' has type",
            why=f"a {k} graph input")
    m = _relu([1, 4])
    m.graph.input[0].type.CopyFrom(helper.make_sequence_type_proto(
        helper.make_tensor_type_proto(TP.FLOAT, [1, 4])))
    add("type_input_sequence", m, cal=calib(shape=(4,)), expect="x", why="a sequence input")
    m = _relu([1, 4])
    m.graph.input[0].type.ClearField("tensor_type")
    add("type_input_untyped", m, cal=calib(shape=(4,)), expect="x", why="an input without type")
    t = helper.make_tensor("c", TP.STRING, [1], [b"hello"])
    add("type_string_initializer", model([node("Add", ["x", "c"], ["y"], name="add")],
                                         {"x": [1, 4]}, {"y": None}, [t]),
        cal=calib(shape=(4,)), expect="'c' holds strings", why="x + a string constant")
    add("type_int64_weights", model([node("MatMul", ["x", "m"], ["y"], name="mm")],
                                    {"x": [1, 4]}, {"y": None},
                                    [init("m", np.ones((4, 2), np.int64))]),
        cal=calib(shape=(4,)), expect="mm", why="float x @ int64 weights")


def _tfl_conv(scale=0.05, zp=-3, w_scale=None, w_zp=None, w_data=None, stride=1, inputs=None,
              conv_inputs=None, opcode=None, x_shape=(1, 8, 8, 3)):
    """A valid int8 .tflite x[1,8,8,3] -> CONV_2D 3x3 SAME -> y[1,8,8,4], one part changed."""
    sys.path.insert(0, str(REPO / "tests" / "tflite"))
    from tflbuild import TflBuilder
    b = TflBuilder()
    x = b.tensor("x", x_shape, scale=scale, zp=zp)
    ws = np.full(4, 0.01, np.float32) if w_scale is None else w_scale
    w = b.tensor("w", (4, 3, 3, 3), scale=ws, zp=w_zp, qdim=0, data=rng(1).integers(
        -127, 128, (4, 3, 3, 3)).astype(np.int8) if w_data is None else w_data)
    bias = b.const("b", rng(2).integers(-100, 100, 4).astype(np.int32),
                   scale=0.05 * np.full(4, 0.01, np.float32), qdim=0)
    y = b.tensor("y", (1, 8, 8, 4), scale=0.1, zp=5)
    b.op("CONV_2D", conv_inputs or [x, w, bias], [y], "Conv2DOptions", Padding=0,
         StrideW=stride, StrideH=stride, DilationWFactor=1, DilationHFactor=1)
    if opcode is not None:
        b.ops[0]["code"] = opcode
    return b.build(inputs or [x], [y])


def _tfl_cycle() -> bytes:
    """x -> ADD(x, b) -> a; ADD(a, x) -> b: each reads the other's output."""
    from tflbuild import TflBuilder
    b = TflBuilder()
    x, a, t = (b.tensor(n, (1, 4), scale=0.05, zp=0) for n in ("x", "a", "b"))
    b.op("ADD", [x, t], [a], "AddOptions")
    b.op("ADD", [a, x], [t], "AddOptions")
    return b.build([x], [t])


def _tfl_keras_reshape(out_shape) -> bytes:
    """x[1,4,4,2] -> SHAPE -> STRIDED_SLICE -> PACK([batch, -1]) -> RESHAPE -> out_shape."""
    from tfl_cases import keras_flatten
    from tflbuild import TflBuilder
    b = TflBuilder()
    x, y = b.tensor("x", (1, 4, 4, 2), scale=0.05, zp=0), b.tensor("y", out_shape, scale=0.05)
    keras_flatten(b, x, y)
    return b.build([x], [y])


def cases_tflite() -> None:
    def tfl(name, data, expect, why):
        add(f"tflite_{name}", data, model_file="model.tflite", expect=expect, why=why)
    good = _tfl_conv()
    tfl("truncated", good[:len(good) * 6 // 10], "truncated", "the first 60% of a valid model")
    tfl("truncated_header", good[:6], "TFL3", "the first 6 bytes of a valid model")
    tfl("wrong_identifier", good[:4] + b"TFL2" + good[8:], "no 'TFL3' file identifier",
        "file identifier TFL2")
    tfl("buffer_too_small", _tfl_conv(w_data=np.zeros(40, np.int8)),
        ["tensor 1 'w'", "buffer 1 is 40 bytes", "needs 108"], "40 bytes of data for 4x3x3x3 int8")
    tfl("opcode_out_of_range", _tfl_conv(opcode=9), "operator #0: opcode index 9 out of range "
        "(1 opcodes)", "an operator naming opcode 9 of 1")
    for k, v in {"negative": -0.05, "zero": 0.0, "nan": np.nan, "inf": np.inf}.items():
        tfl(f"scale_{k}", _tfl_conv(scale=v), ["tensor 0 'x'", "quantization scale"],
            f"input scale {v}")
    tfl("weight_scale_nan", _tfl_conv(w_scale=np.array([0.01, np.nan, 0.01, 0.01],
                                                       np.float32)),
        ["tensor 1 'w'", "scale nan"], "one per-channel weight scale NaN")
    tfl("scale_zero_point_lengths", _tfl_conv(w_zp=np.zeros(3, np.int64)),
        "4 quantization scales and 3 zero points", "4 weight scales, 3 zero points")
    tfl("zero_point_out_of_range", _tfl_conv(zp=300), "zero point 300 out of the int8 range",
        "int8 input with zero point 300")
    tfl("per_channel_count", _tfl_conv(w_scale=np.full(3, 0.01, np.float32)),
        "3 per-channel scales on dimension 0", "3 weight scales for 4 output channels")
    tfl("subgraph_input_out_of_range", _tfl_conv(inputs=[99]),
        "subgraph input 0: tensor index 99 out of range (4 tensors)", "model input 99 of 4 tensors")
    tfl("operator_input_out_of_range", _tfl_conv(conv_inputs=[0, 17, 2]),
        "operator #0 input 1: tensor index 17 out of range", "CONV_2D reading tensor 17 of 4")
    tfl("cycle", _tfl_cycle(), ["operator #0 ADD", "cycle"], "two ADDs reading each other")
    tfl("huge_shape", _tfl_conv(x_shape=(1, 100000, 100000, 3)),
        ["tensor 0 'x'", "30,000,000,000 elements (30,000,000,000 bytes)"], "a 30-gigabyte input")
    tfl("stride_zero", _tfl_conv(stride=0), ["CONV_2D", "stride [0, 0]"], "stride 0")
    tfl("folded_reshape_mismatch", _tfl_keras_reshape((1, 16)),
        ["RESHAPE", "the file says output"], "SHAPE/STRIDED_SLICE/PACK make [1, 32], the "
        "file says [1, 16]")


CATEGORIES = [cases_files, cases_model, cases_graph, cases_ops, cases_attrs, cases_dims,
              cases_huge, cases_nan, cases_qdq, cases_calib, cases_external, cases_output,
              cases_cli, cases_types, cases_tflite]


def write(out: Path) -> int:
    if out.exists():
        shutil.rmtree(out)
    for name, c in sorted(CASES.items()):
        d = out / name
        d.mkdir(parents=True)
        for fname, data in sorted(c["files"].items()):
            p = d / fname
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data.encode() if isinstance(data, str) else data)
        (d / "case.json").write_text(json.dumps(c["spec"], indent=1, sort_keys=True) + "\n")
    return len(CASES)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    for fn in CATEGORIES:
        fn()
    n = write(args.out)
    print(f"wrote {n} cases to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
