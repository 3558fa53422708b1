"""Shared test set-up: the engine check, the image variables and the lab's labels.

Tests that need Docker fail loudly when no engine answers (never a silent skip): `tools/test.sh` checks
first and prints one clear message; this is the same check for a bare `pytest` run.
"""

from __future__ import annotations

import subprocess

import pytest


def _engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):  # no docker CLI, or a hung daemon socket
        return False


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Fail (not skip) every test that needs Docker when no engine answers."""
    if not _engine_answers():
        pytest.fail(
            "Docker is required for this test: no engine answered `docker info`. "
            "Start Docker (Docker Desktop, or 'sudo systemctl start docker') and run tools/test.sh again.",
            pytrace=False,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked integration or e2e need the engine: give them the check automatically."""
    for item in items:
        if item.get_closest_marker("integration") or item.get_closest_marker("e2e"):
            item.fixturenames.insert(0, "docker_engine")
