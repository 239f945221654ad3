import zlib

import numpy as np
import pytest


@pytest.fixture(scope="session")
def host_cache(request):
    """Content-addressed cffi builds, kept across runs in .pytest_cache."""
    return request.config.cache.mkdir("tinyc-host")


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
