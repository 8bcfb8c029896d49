"""Shared pytest configuration for btb's tests.

`need(ok, reason)`: a test that needs something missing (an engine binary, a package, docker)
skips with the reason on a developer machine, and FAILS in CI (CI=true): CI installs everything
the suite needs, so a skip there would hide a missing install step.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(ok: bool, reason: str) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this (it is installed by .ci/run): {reason}")
    pytest.skip(reason)


def _generate(root: Path, profile: str, seed: int = 42) -> Path:
    from btb.workflows.datasets import generate

    return generate(profile, seed, root, workers=1, progress=False).path


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """tiny-1d, seed 42, generated once per session (read-only for tests)."""
    return _generate(tmp_path_factory.mktemp("tiny-root"), "tiny-1d")


@pytest.fixture(scope="session")
def tiny2_dataset(tmp_path_factory) -> Path:
    """tiny-2d, seed 42: two days, for windows that cross midnight."""
    return _generate(tmp_path_factory.mktemp("tiny2-root"), "tiny-2d")
