"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.integration.docker_env import local_runtime


@pytest.fixture(scope="session")
def docker_runtime():
    """A DockerRuntime on the locally built images; skips (fails in CI) without an engine."""
    return local_runtime()
