"""Which TFLite ops of issue 16's list the per-op oracle tests cover, read from the test models
themselves: every case of tfl_cases.CASES (test_ops_tflm.py: golden + host C == the TFLite
Micro interpreter) and lstm_cases.CASES (test_lstm_tflm.py), and the QEMU lists
(test_ops_qemu.QEMU_CASES, test_ops_tflm.QEMU_CASES, test_lstm_tflm.QEMU_CASES). An op counts as 16x8 in a case when one
of its activation tensors is int16 (QUANTIZE / DEQUANTIZE: by their types).

`python tests/tflite/op_coverage.py` prints the table; `--write` puts it into docs/tflite.md
between the markers; test_op_coverage.py fails when the doc's table is not the current one or
when an op lacks int8 (or, where TFLite Micro has a 16x8 kernel, 16x8) cases on host or QEMU.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "tflite.md"
BEGIN, END = "<!-- op coverage: begin (tests/tflite/op_coverage.py) -->", \
    "<!-- op coverage: end -->"

# issue 16's op list; True: TFLite Micro has a 16x8 (int16 activation) kernel for it
ISSUE_OPS = {
    "TRANSPOSE": True, "MEAN": True, "SUM": True, "REDUCE_MAX": False, "LOG_SOFTMAX": False,
    "RESIZE_NEAREST_NEIGHBOR": True, "RESIZE_BILINEAR": False, "TRANSPOSE_CONV": True,
    "BATCH_MATMUL": True, "SPLIT": True, "SPLIT_V": True, "SLICE": True, "STRIDED_SLICE": True,
    "GATHER": False, "LEAKY_RELU": True, "PRELU": True, "ELU": False, "RELU": True,
    "RELU6": True, "RELU_N1_TO_1": False, "MINIMUM": True, "MAXIMUM": True, "SUB": True,
    "SQUARED_DIFFERENCE": True, "RSQRT": True, "L2_NORMALIZATION": False,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": True, "SVDF": False, "SOFTMAX": True, "LOGISTIC": True,
    "TANH": True, "QUANTIZE": True, "DEQUANTIZE": True,
}
NOTES = {
    "RELU_N1_TO_1": "no TFLM kernel: TFLite's formula, host C == golden",
    "SVDF": "int8 input; int16 or int8 state (no 16x8 form)",
    "REDUCE_MAX": "TFLM: float32, int8", "GATHER": "TFLM: float32, int8",
    "RESIZE_BILINEAR": "TFLM: float32, int8", "L2_NORMALIZATION": "TFLM: float32, int8",
    "LOG_SOFTMAX": "TFLM: int8 only", "ELU": "TFLM: int8 only",
    "SOFTMAX": "16x8 column: int16 -> int16 and int8 -> int16 (softmax_int8_int16*)",
}


def _names():
    import tflite

    def enum(cls):
        return {v: k for k, v in vars(cls).items() if not k.startswith("_")}
    return enum(tflite.BuiltinOperator), enum(tflite.TensorType)


def case_ops(data: bytes, names) -> set[tuple[str, str]]:
    """{(op, kind)} of one model; kind: "int8", "16x8" or, for QUANTIZE / DEQUANTIZE,
    "<from>-><to>" (lower-case types); float ops are left out."""
    from tinyc.frontend.tflite_reader import read_model
    op_names, type_names = names
    m = read_model(data, "case", type_names)
    out = set()
    for o in m.operators:
        name = op_names.get(o.opcode, str(o.opcode))
        ts = [m.tensors[i] for i in list(o.inputs) + list(o.outputs) if i >= 0]
        acts = [t for t in ts if not t.is_const and not t.is_variable]
        if name in ("QUANTIZE", "DEQUANTIZE"):
            kind = f"{m.tensors[o.inputs[0]].dtype.lower()}->{m.tensors[o.outputs[0]].dtype.lower()}"
        elif any(t.dtype == "INT16" for t in acts):
            kind = "16x8"
        elif any(t.dtype in ("INT8", "UINT8") for t in acts):
            kind = "int8"
        else:
            continue
        out.add((name, kind))
    return out


def coverage() -> dict[str, dict[str, list[str]]]:
    """{op: {"int8"|"16x8"|"int8 qemu"|"16x8 qemu"|"types": [case names]}}."""
    sys.path.insert(0, str(HERE))
    import lstm_cases
    import test_lstm_tflm
    import test_ops_qemu
    import test_ops_tflm
    import tfl_cases
    names = _names()
    qemu = (set(test_ops_qemu.QEMU_CASES) | set(test_ops_tflm.QEMU_CASES) |
            set(test_lstm_tflm.QEMU_CASES))
    cov: dict[str, dict[str, list[str]]] = {op: {} for op in ISSUE_OPS}
    for cases in (tfl_cases.CASES, lstm_cases.CASES):
        for case in sorted(cases):
            for op, kind in case_ops(cases[case](np.random.default_rng(0)), names):
                if op not in cov:
                    continue
                cols = [kind] if "->" not in kind else ["types", "int8" if "int16" not in kind
                                                        else "16x8"]
                if "->" in kind:
                    cov[op].setdefault("types", []).append(kind)
                    cols = ["int8" if "int16" not in kind else "16x8"]
                for col in cols:
                    cov[op].setdefault(col, []).append(case)
                    if case in qemu:
                        cov[op].setdefault(f"{col} qemu", []).append(case)
    return cov


def table(cov=None) -> str:
    cov = coverage() if cov is None else cov

    def n(op, col):
        return len(set(cov[op].get(col, [])))
    lines = ["| op | int8 cases (== TFLM) | 16x8 cases (== TFLM) | QEMU int8 / 16x8 | note |",
             "|---|---|---|---|---|"]
    for op, has16 in ISSUE_OPS.items():
        note = NOTES.get(op, "")
        if op in ("QUANTIZE", "DEQUANTIZE"):
            note = ", ".join(sorted(set(cov[op].get("types", []))))
        c16 = str(n(op, "16x8")) if has16 else "no TFLM kernel"
        q16 = str(n(op, "16x8 qemu")) if has16 else "-"
        lines.append(f"| {op} | {n(op, 'int8')} | {c16} | {n(op, 'int8 qemu')} / {q16} | "
                     f"{note} |")
    return "\n".join(lines)


def gaps(cov=None) -> list[str]:
    """Ops without int8 cases on host and QEMU, or without 16x8 ones where TFLM has them."""
    cov = coverage() if cov is None else cov
    out = []
    for op, has16 in ISSUE_OPS.items():
        for col in ("int8", "int8 qemu") + (("16x8", "16x8 qemu") if has16 else ()):
            if not cov[op].get(col):
                out.append(f"{op}: no {col} case")
    return out


def doc_table() -> str:
    text = DOC.read_text()
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()


def write() -> None:
    text = DOC.read_text()
    new = text[:text.index(BEGIN) + len(BEGIN)] + "\n" + table() + "\n" + text[text.index(END):]
    DOC.write_text(new)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    if "--write" in sys.argv:
        write()
    print(table())
    print("\n".join(gaps()) or "no gaps")
