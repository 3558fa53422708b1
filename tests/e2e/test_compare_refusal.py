"""scripts/compare.sh and a layout the learner has up: without --replace it stops before it builds or removes
anything (exit 1, the ways out named), and the running layout's containers and data volume stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from labenv import LAB_LABEL
from scriptrun import assert_ok, docker, script

# slow: a layout is built for each case (about 50 s in all)
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("no_layouts")]

# layout -> (its script, a port of the test's own, its data volume on the script's default engine)
LAYOUTS = {
    "3tier": ("run-3tier.sh", 18384, "3tier-postgres-data"),
    "webapp": ("run-webapp.sh", 18385, "webapp-mysql-data"),
}


def container_ids(layout: str) -> list[str]:
    return sorted(docker("ps", "-aq", "--no-trunc", "--filter", f"label={LAB_LABEL}={layout}").stdout.split())


@pytest.fixture(params=sorted(LAYOUTS))
def running(request: pytest.FixtureRequest) -> Iterator[str]:
    """The layout up by hand, as a learner leaves it; taken down with its volume afterwards."""
    layout = request.param
    name, port, _ = LAYOUTS[layout]
    try:
        assert_ok(script(name, "--port", str(port)))
        yield layout
    finally:
        assert_ok(script(name, "--down", "--volumes"))


def test_compare_refuses_a_running_layout_and_leaves_it_as_it_is(running: str) -> None:
    name, _, volume = LAYOUTS[running]
    before = container_ids(running)
    assert before, f"the {running} layout is not up"
    result = script("compare.sh", "--layout", running, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"the {running} layout is up" in result.stderr
    for way_out in (f"scripts/{name} --down", f"scripts/run-compose.sh {running} --down", "--replace"):
        assert way_out in result.stderr, way_out
    assert "by-hand:" not in result.stderr, "compare.sh started a build although it refused"
    assert container_ids(running) == before, "compare.sh changed the running layout's containers"
    assert docker("volume", "inspect", volume).returncode == 0, f"compare.sh removed {volume}"
