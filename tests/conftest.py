"""Shared fixtures for every test tier: each real service has one fixture module."""

pytest_plugins = [
    "tests.fixtures.spark",
    "tests.fixtures.postgres",
    "tests.fixtures.emulator",
    "tests.fixtures.warehouse",
    "tests.fixtures.stack",
    "tests.fixtures.registry",
]
