import pytest


@pytest.fixture(scope="session")
def host_cache(request):
    """Content-addressed cffi builds, kept across runs in .pytest_cache."""
    return request.config.cache.mkdir("tinyc-host")
