"""The op coverage audit of issue 16 (op_coverage.py): every op of the issue's list has int8
cases compared with TFLite Micro on the host and in QEMU, and 16x8 ones where TFLite Micro has
an int16 kernel; docs/tflite.md's table is the one the current cases give."""
from __future__ import annotations


def test_every_issue_op_has_host_and_qemu_cases(tfl):
    import op_coverage
    assert op_coverage.gaps() == []


def test_doc_table_is_current(tfl):
    import op_coverage
    assert op_coverage.doc_table() == op_coverage.table(), \
        "docs/tflite.md op coverage is stale: python tests/tflite/op_coverage.py --write"
