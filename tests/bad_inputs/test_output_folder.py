"""`tinyc build -o DIR`: the output folder is replaced atomically, never merged into; a previous
build is replaced silently, anything else only with --force; a failed build leaves the old
folder as it was and no temporary folder behind. Also --input-shape on dynamic dims, end to end.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tinyc import commands
from tinyc.cli import main
from tinyc.errors import TinycError

from .test_bad_inputs import snapshot


def _model(path, dims=(1, 3, 8, 8)):
    rng = np.random.default_rng(0)
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3],
                           rng.normal(0, 0.3, 108).astype(np.float32))
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [dims[0], 4, *dims[2:]])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(m, path)
    return path


@pytest.fixture
def inputs(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    model = _model(src / "m.onnx")
    calib = src / "calib.npz"
    np.savez(calib, x=np.random.default_rng(1).uniform(-1, 1, (4, 3, 8, 8)).astype(np.float32))
    return model, calib


def build(model, calib, out, *extra):
    return main(["build", str(model), "--calib", str(calib), "-o", str(out), "--no-measure",
                 *map(str, extra)])


def test_rebuild_replaces_a_previous_build(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert build(*inputs, out) == 0
    first = snapshot(out)
    assert "model.h" in first and "kernels" in first
    assert build(*inputs, out) == 0
    assert snapshot(out) == first                                  # deterministic, replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]   # no temp left


def test_unrelated_files_need_force_and_force_replaces_them(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert build(*inputs, out) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    assert build(*inputs, out, "--force") == 0
    assert not (out / "notes.txt").exists() and (out / "model.h").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]


def test_new_parent_folders_are_made(inputs, tmp_path):
    out = tmp_path / "a" / "b" / "out"
    assert build(*inputs, out) == 0
    assert (out / "model.c").is_file()


def test_a_failed_write_leaves_the_old_folder_and_nothing_else(tmp_path):
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    (out / "model.h").write_text("old")

    def fail(tmp):
        (tmp / "model.h").write_text("half")
        raise TinycError("boom")
    with pytest.raises(TinycError, match="boom"):
        commands.write_atomic(out, fail)
    assert (out / "model.h").read_text() == "old"
    assert [p.name for p in out.parent.iterdir()] == ["out"]
    fresh = tmp_path / "new" / "deeper" / "out"
    with pytest.raises(TinycError):
        commands.write_atomic(fresh, fail)
    assert not (tmp_path / "new").exists()                       # made folders removed too


def test_input_shape_pins_dynamic_batch_and_spatial_dims(tmp_path, capsys):
    import tinyc
    model = _model(tmp_path / "dyn.onnx", dims=("N", 3, "H", "W"))
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=np.random.default_rng(2).uniform(-1, 1, (4, 3, 6, 10)).astype(np.float32))
    out = tmp_path / "out"
    assert build(model, calib, out) == 2
    assert "--input-shape x=1,3,N,N" in capsys.readouterr().err
    assert build(model, calib, out, "--input-shape", "x=1,3,6,10") == 0
    assert "1, 3, 6, 10" in (out / "model.h").read_text() or \
        "6, 10" in (out / "model.h").read_text()
    m = tinyc.compile(model, calib=str(calib), input_shapes={"x": (1, 3, 6, 10)},
                      progress=None)
    x = np.random.default_rng(3).integers(-128, 128, (5, 1, 3, 6, 10)).astype(np.int8)
    assert np.array_equal(m.run_host(x, batch=True), m.interpret(x, batch=True))


def test_a_user_file_added_to_a_previous_build_is_kept(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert build(*inputs, out) == 0
    (out / "main.c").write_text("int main(void) { return 0; }\n")
    before = snapshot(tmp_path)
    assert build(*inputs, out) == 2
    assert "main.c" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
