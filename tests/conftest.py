"""Shared pytest fixtures: where the real models and the bundled example live, and the built test models."""
from __future__ import annotations

import pathlib
import sys
from types import SimpleNamespace

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:          # so that tests can `import models`
    sys.path.insert(0, str(TESTS))

import models  # noqa: E402


from needs import missing as _missing  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return REPO


@pytest.fixture(scope="session")
def models_dir() -> pathlib.Path:
    """The real third-party models: $TINYC_MODELS, else <repo>/models (has mlperf-tiny/)."""
    from tinyc.bench import models_dir as folder
    path = folder()
    if not path.is_dir():
        _missing(f"models folder {path} not found (set TINYC_MODELS)")
    return path


@pytest.fixture(scope="session")
def example_dir() -> pathlib.Path:
    """examples/digits: digits.onnx, calib.npz (input [200,1,8,8]), test.npz (input, label)."""
    path = REPO / "examples" / "digits"
    absent = [f for f in ("digits.onnx", "calib.npz", "test.npz") if not (path / f).is_file()]
    if absent:
        pytest.fail(f"{path} lacks {absent}: run examples/digits/make_model.py")
    return path


@pytest.fixture(scope="session")
def test_models(tmp_path_factory) -> dict[str, SimpleNamespace]:
    """Every builder of tests/models.py, saved: name -> (proto, path, calib, test) where calib
    and test are .npz paths (32 and 16 samples) laid out as the CLI reads them."""
    root = tmp_path_factory.mktemp("test_models")
    out = {}
    for name in models.BUILDERS:
        proto = models.build(name)
        out[name] = SimpleNamespace(
            name=name, proto=proto,
            path=models.save(proto, root / f"{name}.onnx"),
            calib=models.save_npz(root / f"{name}_calib.npz", models.calib_data(proto, 32)),
            test=models.save_npz(root / f"{name}_test.npz", models.test_data(proto, 16)))
    return out
