"""Shared test set-up: the engine check, the image variables and the lab's labels.

Tests that need Docker fail loudly when no engine answers (never a silent skip): `tools/test.sh` checks
first and prints one clear message; this is the same check for a bare `pytest` run.
"""

from __future__ import annotations

import itertools
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


# The order the tests run in. pytest-randomly (requirements-dev.txt) shuffles every module and every test in
# it, so a unit or integration test that needs another one's leftovers fails. The e2e tests then go back to
# the order they are written in: a module's tests build on the layout its first test brings up, on purpose,
# and each module still starts and ends with no layout. The tiers run unit first, then integration and e2e in
# an order the seed decides (even: integration first, odd: e2e first), so over runs both orders are tried;
# to replay a run's order, pass the seed pytest printed: tools/test.sh --all --randomly-seed=N.
_COLLECTED = pytest.StashKey[int]()
_counter = itertools.count()


def pytest_itemcollected(item: pytest.Item) -> None:
    """Remember where each test was collected: the order its file defines."""
    item.stash[_COLLECTED] = next(_counter)


def _tier(item: pytest.Item) -> str:
    for tier in ("unit", "integration", "e2e"):
        if item.get_closest_marker(tier):
            return tier
    return "other"


def _seed(config: pytest.Config) -> int | None:
    if not config.pluginmanager.hasplugin("randomly"):
        return None
    seed = getattr(config.option, "randomly_seed", None)
    return seed if isinstance(seed, int) else None


def tier_order(seed: int | None) -> list[str]:
    """The tiers in the order they run: integration before e2e without a seed or with an even one."""
    later = ["integration", "e2e"] if seed is None or seed % 2 == 0 else ["e2e", "integration"]
    return ["unit", "other", *later]


# tryfirst: before pytest's own reordering, which groups the tests that share a parametrized module- or
# session-scoped fixture so it is set up once per parameter; that grouping must see the order made here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked integration or e2e need the engine: give them the check automatically. Then the order:
    tiers as tier_order() says, each tier as pytest-randomly left it, except e2e, back in file order."""
    for item in items:
        if item.get_closest_marker("integration") or item.get_closest_marker("e2e"):
            item.fixturenames.insert(0, "docker_engine")
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        groups.setdefault(_tier(item), []).append(item)
    groups["e2e"] = sorted(groups.get("e2e", []), key=lambda item: item.stash.get(_COLLECTED, 0))
    items[:] = [item for tier in tier_order(_seed(config)) for item in groups.get(tier, [])]


def pytest_report_header(config: pytest.Config) -> str:
    seed = _seed(config)
    shuffled = f"unit and integration shuffled (--randomly-seed={seed})" if seed is not None else "file order"
    return (
        f"test order: {', '.join(t for t in tier_order(seed) if t != 'other')}; {shuffled}; e2e in file order"
    )
