"""Whether the package registry (PyPI) answers: tests that resolve or fetch packages skip without it."""

import functools
import urllib.request

import pytest


@functools.cache
def registry_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=5):
            return True
    except OSError:
        return False


@pytest.fixture
def package_registry() -> None:
    """Skip the test, saying why, when PyPI cannot be reached."""
    if not registry_reachable():
        pytest.skip("needs the package registry (PyPI), which is not reachable from here")
