"""Nothing that is not the lab's is touched: a learner's own container (or network, or volume) with a name the
lab uses, but without the lab's label, makes the lab's tools stop with the way out (or, for cleanup.sh, be
left alone), and is still there afterwards with the same ID.

The learner's objects are played by objects carrying only the tests' own label (io.docker-net-lab-test): to
the scripts they are not the lab's, and the test removes them by ID at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from labenv import TEST_LABEL, image
from scriptrun import assert_ok, docker, script

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_layouts")]


class Foreign:
    """Objects made as a learner would make them (no lab label), removed by ID at the end."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []

    def container(self, name: str) -> str:
        made = docker(
            "run", "-d", "--name", name, "--label", f"{TEST_LABEL}=1", image("TOOLBOX_IMAGE"), "sleep", "600"
        )
        assert made.returncode == 0, made.stderr
        return self._keep("container", made.stdout.strip())

    def network(self, name: str) -> str:
        made = docker("network", "create", "--label", f"{TEST_LABEL}=1", name)
        assert made.returncode == 0, made.stderr
        return self._keep("network", made.stdout.strip())

    def volume(self, name: str) -> str:
        made = docker("volume", "create", "--label", f"{TEST_LABEL}=1", name)
        assert made.returncode == 0, made.stderr
        return self._keep("volume", made.stdout.strip())

    def _keep(self, kind: str, ident: str) -> str:
        self.made.append((kind, ident))
        return ident

    def still_there(self) -> bool:
        """Every object made is there, with the same ID (a volume's is its name); containers still run."""
        for kind, ident in self.made:
            fmt = {"container": "{{.Id}} {{.State.Running}}", "network": "{{.Id}}", "volume": "{{.Name}}"}[
                kind
            ]
            seen = docker(kind, "inspect", "-f", fmt, ident)
            if seen.returncode != 0 or not seen.stdout.startswith(ident):
                return False
            if kind == "container" and not seen.stdout.strip().endswith("true"):
                return False
        return True

    def remove(self) -> None:
        for kind, ident in reversed(self.made):
            docker(kind, "rm", *(["-f"] if kind != "network" else []), ident)


@pytest.fixture
def foreign() -> Iterator[Foreign]:
    made = Foreign()
    try:
        yield made
    finally:
        made.remove()


def test_a_drill_refuses_a_3tier_name_that_is_not_the_labs(foreign: Foreign) -> None:
    foreign.container("database")
    result = script("extras/drills/drill.sh", "db-restart", timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "a container named 'database' exists and is not the lab's" in result.stderr
    assert "docker rm -f database" in result.stderr  # the way out, named
    assert " $ docker " not in result.stderr, "the drill ran a docker command although it refused"
    assert foreign.still_there()


def test_the_overlay_lab_refuses_a_client_name_that_is_not_the_labs(foreign: Foreign) -> None:
    swarm = docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout.strip()
    foreign.container("overlay-client")
    result = script("lab.sh", "overlay", timeout=300)
    assert result.returncode != 0, result.stdout
    assert "a container named 'overlay-client' already exists (it is not the lab's)" in result.stderr
    assert foreign.still_there()
    assert docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout.strip() == swarm


def test_cleanup_leaves_same_named_objects_without_the_label_alone(foreign: Foreign) -> None:
    """The lab's names, taken by a learner's own objects: cleanup.sh --volumes removes by label only."""
    foreign.container("web-server")
    foreign.network("frontend-net")
    foreign.volume("3tier-postgres-data")
    assert_ok(script("cleanup.sh", "--volumes"))
    assert foreign.still_there()
