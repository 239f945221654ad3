"""The generated C of every test model (tests/models.py, the digits example, a few random
graphs) runs once under -fsanitize=address,undefined on the host with no report, and gives the
same bits as interpret(). First: the harness itself catches an out-of-bounds write and a signed
overflow (a sanitizer run that cannot fail proves nothing).
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import models
import tinyc

from .graphs import graphs
from .sanitize import SanitizerReport, run_sanitized

BAD_C = {   # deliberately broken C: the harness must catch both
    "oob": "for (int i = 0; i <= 4; ++i) { tmp[i] = in0[i % 4]; } out0[0] = tmp[4];",
    "overflow": "int v = 2147483600 + (int)in0[0]; v += 1000; out0[0] = (int8_t)(v & 0x7f);",
}


def _fake_model(path, body: str):
    path.mkdir(parents=True)
    (path / "model.h").write_text(
        "#include <stdint.h>\n"
        "#define BAD_NUM_INPUTS 1\n#define BAD_NUM_OUTPUTS 1\n"
        '#define BAD_IN0_NAME "x"\n#define BAD_IN0_SIZE 4\n#define BAD_IN0_SHAPE {1, 4}\n'
        "#define BAD_IN0_SCALE 1.0f\n#define BAD_IN0_ZERO_POINT 0\n"
        '#define BAD_OUT0_NAME "y"\n#define BAD_OUT0_SIZE 4\n#define BAD_OUT0_SHAPE {1, 4}\n'
        "#define BAD_OUT0_SCALE 1.0f\n#define BAD_OUT0_ZERO_POINT 0\n"
        "void bad_invoke(const int8_t *in0, int8_t *out0);\n")
    (path / "model.c").write_text(
        '#include <stdlib.h>\n#include "model.h"\n'
        "void bad_invoke(const int8_t *in0, int8_t *out0)\n{\n"
        "    int8_t *tmp = malloc(4);\n"
        f"    {body}\n"
        "    free(tmp);\n}\n")
    return path


@pytest.mark.parametrize("kind", sorted(BAD_C))
def test_the_harness_reports_undefined_behaviour(kind, tmp_path):
    c_dir = _fake_model(tmp_path / "c", BAD_C[kind])
    with pytest.raises(SanitizerReport, match="AddressSanitizer|runtime error"):
        run_sanitized(c_dir, [[np.full(4, 100, np.int8)]], tmp_path / "run")


def _check(m, x, work):
    samples, _ = m._samples(x, True)
    got = run_sanitized(m.c_dir(), samples, work)
    want = [[np.asarray(a) for a in (lambda r: r if isinstance(r, list) else [r])(
        m.interpret(s if len(s) > 1 else s[0]))] for s in samples]
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            assert np.array_equal(a.reshape(-1), np.asarray(b).reshape(-1).astype(np.int8))


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_test_models_under_sanitizers(name, test_models, tmp_path):
    t = test_models[name]
    m = tinyc.compile(t.path, calib=t.calib, progress=None)
    x = np.random.default_rng(0).integers(-128, 128, (2, *m.inputs[0].shape)).astype(np.int8)
    _check(m, x, tmp_path)


def test_digits_example_under_sanitizers(example_dir, tmp_path):
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                      progress=None)
    x = np.random.default_rng(1).integers(-128, 128, (2, *m.inputs[0].shape)).astype(np.int8)
    _check(m, x, tmp_path)


@pytest.mark.parametrize("index", range(3))
def test_random_graphs_under_sanitizers(index, tmp_path):
    data = _examples(graphs(), 6)[2 * index + 1]
    path = tmp_path / "g.onnx"
    onnx.save(data.model, path)
    m = tinyc.compile(path, board="mps2-an386", calib={"x": data.calib}, progress=None)
    _check(m, data.x[:2], tmp_path / "run")


_CACHE: dict = {}


def _examples(strategy, n: int) -> list:
    """The first n examples of a strategy, deterministic (derandomized), drawn once."""
    from hypothesis import HealthCheck, given, settings
    if n not in _CACHE:
        found = []

        @settings(max_examples=n, database=None, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=["generate"])
        @given(strategy)
        def pick(value):
            found.append(value)
        pick()
        _CACHE[n] = found
    return _CACHE[n]
