"""tools/sabotage.py's list follows the code: each anchor is in its file exactly once, each test exists.

The sabotage runs themselves (each breakage applied to a copy, its tests going red) need an engine and
minutes: tools/sabotage.py runs them, .ci/run its --quick selection. This checks in a second that the list
is not stale.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

spec = importlib.util.spec_from_file_location("sabotage", REPO / "tools" / "sabotage.py")
assert spec and spec.loader
sabotage = importlib.util.module_from_spec(spec)
sys.modules["sabotage"] = sabotage  # its dataclasses look their module up
spec.loader.exec_module(sabotage)


@pytest.mark.parametrize("entry", sabotage.SABOTAGES, ids=lambda s: s.name)
def test_each_sabotage_changes_its_file_and_names_tests_that_exist(entry) -> None:
    text = (REPO / entry.path).read_text()
    changed = sabotage.sabotaged_text(entry, text)  # raises StaleSabotage when an anchor is not there once
    assert changed != text
    assert entry.tests, f"{entry.name} names no test that must catch it"


def test_every_named_test_is_collected() -> None:
    """pytest finds each node ID, parameters included (collection needs no engine)."""
    nodes = sorted({t for s in sabotage.SABOTAGES for t in s.tests})
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly"]
    collected = subprocess.run(
        [*command, "-p", "no:cacheprovider", *nodes], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]


def test_a_stale_anchor_is_refused() -> None:
    entry = sabotage.SABOTAGES[0]
    with pytest.raises(sabotage.StaleSabotage, match="occurs 0 times"):
        sabotage.sabotaged_text(entry, "")


def test_quick_selection_is_caught_below_the_e2e_tier() -> None:
    quick = [s for s in sabotage.SABOTAGES if s.quick]
    assert quick, "--quick would run nothing"
    for entry in quick:
        assert not any(t.startswith("tests/e2e/") for t in entry.tests), entry.name
