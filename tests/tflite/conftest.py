"""Fixtures of the TFLite frontend tests: the optional packages they need, under CI a failure
(never a skip) when missing, as for the models (tests/conftest.py)."""
from __future__ import annotations

import importlib
import zlib

import numpy as np
import pytest
from needs import missing


def need(module: str, pip: str, attr: str | None = None):
    """Import `module` (that has `attr`), or skip (fail when CI is set) naming the pip
    package. (tests/ is on sys.path, so `import tflite` alone could find this folder.)"""
    try:
        mod = importlib.import_module(module)
        if attr is not None:
            getattr(mod, attr)
        return mod
    except (ImportError, AttributeError):
        what = f"{module} is not installed (pip install {pip})"
        missing(what)


@pytest.fixture(scope="session")
def tfl():
    """The `tflite` package (flatbuffers accessors): tinyc's TFLite frontend needs it."""
    return need("tflite", "tflite==2.18.0", attr="Model")


@pytest.fixture(scope="session")
def builder(tfl):
    """tests/tflite/tflbuild.py, which builds .tflite files with the `tflite` package."""
    import tflbuild
    return tflbuild


@pytest.fixture(scope="session")
def tflm():
    """The TFLite Micro Python interpreter (PyPI tflite-micro), the oracle of the op tests."""
    return need("tflite_micro.python.tflite_micro.runtime", "tflite-micro")


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
