"""Nothing that is not the lab's is touched: a learner's own container (or network, or volume) with a name the
lab uses, but without the lab's label, makes the lab's tools stop with the way out (or, for cleanup.sh, be
left alone), and is still there afterwards with the same ID.

The learner's objects are played by objects carrying only the tests' own label (io.docker-net-lab-test): to
the scripts they are not the lab's, and the test removes them by ID at the end.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from labenv import LAB_LABEL, REPO, TEST_LABEL, image
from scriptrun import assert_ok, docker, labelled, script

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_layouts")]


class Foreign:
    """Objects made as a learner would make them (no lab label), removed by ID at the end."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []

    def container(self, name: str, *labels: str) -> str:
        """A running container NAME; LABELS (KEY=VALUE) are added to the tests' own."""
        extra = [arg for label in labels for arg in ("--label", label)]
        made = docker(
            "run", "-d", "--name", name, "--label", f"{TEST_LABEL}=1", *extra,
            image("TOOLBOX_IMAGE"), "sleep", "600",
        )  # fmt: skip
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

    def service(self, name: str, *labels: str) -> str:
        """A swarm service NAME with no replicas (so no task container), LABELS added to the tests' own."""
        extra = [arg for label in labels for arg in ("--label", label)]
        made = docker(
            "service", "create", "--detach", "--no-resolve-image", "--replicas", "0", "--name", name,
            "--label", f"{TEST_LABEL}=1", *extra, image("TOOLBOX_IMAGE"), "sleep", "600",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        return self._keep("service", made.stdout.strip())

    def secret(self, name: str) -> str:
        made = subprocess.run(
            ["docker", "secret", "create", "--label", f"{TEST_LABEL}=1", name, "-"],
            input="a learner's own password\n", capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        return self._keep("secret", made.stdout.strip())

    def _keep(self, kind: str, ident: str) -> str:
        self.made.append((kind, ident))
        return ident

    def still_there(self) -> bool:
        """Every object made is there, with the same ID (a volume's is its name); containers still run."""
        for kind, ident in self.made:
            fmt = {
                "container": "{{.Id}} {{.State.Running}}",
                "network": "{{.Id}}",
                "volume": "{{.Name}}",
                "service": "{{.ID}}",
                "secret": "{{.ID}}",
            }[kind]
            seen = docker(kind, "inspect", "-f", fmt, ident)
            if seen.returncode != 0 or not seen.stdout.startswith(ident):
                return False
            if kind == "container" and not seen.stdout.strip().endswith("true"):
                return False
        return True

    def remove(self) -> None:
        for kind, ident in reversed(self.made):
            docker(kind, "rm", *(["-f"] if kind in ("container", "volume") else []), ident)


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


@pytest.mark.parametrize("name", ["web", "db"])
def test_the_bridge_lab_refuses_a_learners_own_web_or_db(foreign: Foreign, name: str) -> None:
    """The tutorial's names `web` and `db` are the ones a learner most likely has already."""
    foreign.container(name)
    result = script("lab.sh", "bridge", timeout=300)
    assert result.returncode != 0, result.stdout
    assert f"a container named '{name}' already exists" in result.stderr, result.stderr
    assert "not the lab's" in result.stderr
    assert foreign.still_there()
    assert labs_objects() == {}, "the section removed what it made before it stopped"


def test_cleanup_leaves_same_named_objects_without_the_label_alone(foreign: Foreign) -> None:
    """The lab's names, taken by a learner's own objects: cleanup.sh --volumes removes by label only."""
    foreign.container("web-server")
    foreign.network("frontend-net")
    foreign.volume("3tier-postgres-data")
    assert_ok(script("cleanup.sh", "--volumes"))
    assert foreign.still_there()


def labs_objects() -> dict[str, list[str]]:
    """The lab's labelled objects that exist now, by kind (the tests' own objects carry another label)."""
    return {kind: ids for kind in ("container", "network", "volume") if (ids := labelled(kind))}


@pytest.mark.parametrize(
    "args", [["3tier", "--offline"], ["3tier", "--down", "--volumes"]], ids=["up", "down"]
)
def test_compose_refuses_a_project_member_that_is_not_the_labs(foreign: Foreign, args: list[str]) -> None:
    """`docker compose up` and `down` act on every container labelled with the project's name: a learner's
    container in a project called lab-3tier stops run-compose.sh before compose runs."""
    foreign.container("learner-app", "com.docker.compose.project=lab-3tier")
    result = script("run-compose.sh", *args, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the compose project lab-3tier holds objects that are not the lab's" in result.stderr
    assert "container learner-app" in result.stderr
    assert "docker compose" not in result.stderr.split("not the lab's")[0], "compose ran although refused"
    assert foreign.still_there()
    assert not labs_objects()


def test_compare_stops_on_a_name_that_is_not_the_labs_and_leaves_it(foreign: Foreign) -> None:
    """compare.sh builds and tears down the layout twice: a learner's `database` stops the first build, and
    neither that build nor compare.sh's teardown removes it."""
    foreign.container("database")
    result = script("compare.sh", "--offline", timeout=600)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "a container named 'database' already exists and is not the lab's" in result.stdout + result.stderr
    assert foreign.still_there()
    assert not labs_objects()


@pytest.fixture
def swarm() -> Iterator[None]:
    """A swarm the tests made (not the lab: the node carries no lab mark), left again at the end."""
    if docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout.strip() == "active":
        pytest.fail("this engine is in a swarm already; the ownership tests start from none")
    addr = subprocess.run(
        ["bash", "-c", f". {REPO}/scripts/lib/swarm.sh && advertise_addr"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.strip()  # fmt: skip
    made = docker("swarm", "init", "--advertise-addr", addr, "--listen-addr", "127.0.0.1:2377")
    assert made.returncode == 0, made.stderr
    try:
        yield
    finally:
        docker("swarm", "leave", "--force")
        docker("network", "rm", "docker_gwbridge")


@pytest.mark.usefixtures("swarm")
def test_swarm_refuses_a_secret_or_stack_member_that_is_not_the_labs(foreign: Foreign) -> None:
    """The by-hand twin reuses secrets and services by name, and `docker stack rm` removes every service of
    the namespace: a learner's secret under the stack's name stops the build, a learner's service labelled
    with the stack's namespace stops --down; both are still there, and the swarm is still up."""
    foreign.secret("lab-swarm_db_app_password")
    built = script("extras/swarm/run-swarm.sh", "--offline", "--by-hand", timeout=300)
    assert built.returncode == 1, built.stdout + built.stderr
    assert "a secret named 'lab-swarm_db_app_password' already exists and is not the lab's" in built.stderr
    assert "2. images" not in built.stdout + built.stderr, "run-swarm.sh went on to build although it refused"
    for kind in ("service", "secret"):
        assert not docker(kind, "ls", "-q", "--filter", f"label={LAB_LABEL}").stdout.strip(), kind
    foreign.service("learner-svc", "com.docker.stack.namespace=lab-swarm")
    down = script("extras/swarm/run-swarm.sh", "--down", timeout=300)
    assert down.returncode == 1, down.stdout + down.stderr
    assert "the stack lab-swarm holds objects that are not the lab's" in down.stderr
    assert "service learner-svc" in down.stderr
    assert foreign.still_there()
    assert docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout.strip() == "active"
    assert not docker("service", "ls", "-q", "--filter", f"label={LAB_LABEL}").stdout.strip()
