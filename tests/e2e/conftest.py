"""Fixtures shared by the end-to-end modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scriptrun import down_all_layouts


@pytest.fixture(scope="module")
def no_layouts() -> Iterator[None]:
    """The module starts and ends with neither layout up (by hand or compose), volumes included.
    Modules that build the 3-tier or web-app layout use it: `pytest.mark.usefixtures("no_layouts")`."""
    down_all_layouts()
    yield
    down_all_layouts()
