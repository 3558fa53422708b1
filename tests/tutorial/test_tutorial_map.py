"""docs/coverage.md against the tutorial's text: every docker/curl command of its bash blocks is mapped
exactly once, in order. Run with the text: LAB_TUTORIAL=FILE .venv/bin/python -m pytest -m tutorial."""

from __future__ import annotations

import pytest
from coverage_doc import rows, tutorial_commands

pytestmark = pytest.mark.tutorial


def test_the_tutorial_has_61_commands(tutorial_text: str) -> None:
    assert len(tutorial_commands(tutorial_text)) == 61


def test_every_command_is_mapped_exactly_once_in_order(tutorial_text: str) -> None:
    assert [cmd for _, cmd, *_ in rows()] == tutorial_commands(tutorial_text)
