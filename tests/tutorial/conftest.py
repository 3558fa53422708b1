"""The checks against the tutorial's own text, which is not part of this repo.

They run only when asked: with `-m tutorial`, or when LAB_TUTORIAL is set. Asked without the text, they fail
and say how to give it; a plain clone's `tools/test.sh` does not ask, and shows them as deselected.
"""

from __future__ import annotations

import os

import pytest
from coverage_doc import tutorial_path

HOW = (
    "set LAB_TUTORIAL to the tutorial's text file (absolute, or relative to the repo root), e.g. "
    "LAB_TUTORIAL=path/to/tutorial.txt .venv/bin/python -m pytest -m tutorial"
)


def asked(config: pytest.Config) -> bool:
    return bool(os.environ.get("LAB_TUTORIAL")) or "tutorial" in (config.option.markexpr or "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if asked(config):
        return
    deselected = [item for item in items if item.get_closest_marker("tutorial")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("tutorial")]


@pytest.fixture(scope="session")
def tutorial_text() -> str:
    """The tutorial's text, from the file LAB_TUTORIAL names; a failure (never a skip) without it."""
    value = os.environ.get("LAB_TUTORIAL", "")
    if not value:
        pytest.fail(f"LAB_TUTORIAL is not set: {HOW}", pytrace=False)
    path = tutorial_path(value)
    if not path.is_file():
        pytest.fail(f"LAB_TUTORIAL names {path}, which is not a file: {HOW}", pytrace=False)
    return path.read_text(encoding="utf-8")
