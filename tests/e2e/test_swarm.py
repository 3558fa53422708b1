"""extras/swarm/run-swarm.sh: the 3-tier as a Swarm stack, on both engines, with a rolling update under load.

This machine's kernel has no IPVS, so the script picks dnsrr mode here; on a kernel with IPVS it runs the mesh
mode, and the same checks hold. The tests read the engine's kernel from a container (engine_has_ipvs) and
expect the mode that goes with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from scriptrun import assert_ok, docker, engine_has_ipvs, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STACK = "lab-swarm"


def swarm_state() -> str:
    return docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout.strip()


@pytest.fixture(scope="module")
def state_before() -> str:
    return swarm_state()


@pytest.fixture(scope="module", params=["postgres", "mysql"])
def stack(request: pytest.FixtureRequest, state_before: str) -> Iterator[tuple[str, str]]:
    first = script("extras/swarm/run-swarm.sh", "--db", request.param)
    try:
        assert_ok(first)
        yield request.param, first.stdout + first.stderr
    finally:
        assert_ok(script("extras/swarm/run-swarm.sh", "--down", "--volumes"))


def check_line(output: str, claim: str) -> str:
    line = next((ln for ln in output.splitlines() if "CHECK" in ln and claim in ln), None)
    assert line is not None, f"no CHECK line about {claim!r}:\n{output}"
    assert "CHECK PASS" in line, line
    return line


def test_stack_answers_through_nginx_from_three_replicas(stack: tuple[str, str]) -> None:
    engine, out = stack
    check_line(out, f"'Connected to {'PostgreSQL' if engine == 'postgres' else 'MySQL'}!'")
    served = check_line(out, "distinct X-Served-By")
    assert re.search(r"\(3 distinct X-Served-By\)", served), served
    check_line(out, "tasks.app-server resolves to 3 task addresses (3)")
    check_line(out, "each app-server task answers on its own address")
    check_line(out, "web-server cannot resolve 'database'")
    check_line(out, "app-server resolves 'database' and opens its port")
    if engine_has_ipvs():
        assert "mode: mesh" in out and "no IPVS in this kernel" not in out, out
    else:
        assert "no IPVS in this kernel" in out and "mode: dnsrr" in out, out


def test_running_again_keeps_every_service_and_task(stack: tuple[str, str]) -> None:
    """A second run with the same engine changes nothing: the same services, the same task containers."""
    engine, _ = stack

    def state() -> tuple[list[str], list[str]]:
        services = docker("service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}")
        tasks = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.stack.namespace={STACK}")
        assert services.returncode == 0 and tasks.returncode == 0, services.stderr + tasks.stderr
        return sorted(services.stdout.split()), sorted(tasks.stdout.split())

    before = state()
    assert len(before[0]) == 3 and len(before[1]) >= 5, before  # database, app-server x3, web-server
    assert_ok(script("extras/swarm/run-swarm.sh", "--db", engine))
    assert state() == before


def test_rolling_update_drops_no_request(stack: tuple[str, str]) -> None:
    """Under wrk's load through nginx's kept upstream connections, with the tasks draining on SIGTERM: every
    request answered 200, at 200 req/s or more, and every task replaced (new task containers)."""
    tasks_before = set(
        docker(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={STACK}_app-server"
        ).stdout.split()
    )
    assert len(tasks_before) == 3, tasks_before
    update = script("extras/swarm/run-swarm.sh", "--update")
    assert_ok(update)
    check_line(update.stdout, "the rolling update finished with every task on my-app:update-")
    rate = check_line(update.stdout, "the load averaged 200 req/s or more during the update")
    rps, requests = (int(n) for n in re.search(r"\((\d+) req/s, (\d+) requests\)", rate).groups())
    assert rps >= 200 and requests > 0, rate
    line = check_line(update.stdout, "no request failed during the update")
    assert f"(0 answers other than 2xx/3xx, 0 socket errors or timeouts, of {requests})" in line, line
    tasks_after = set(
        docker(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={STACK}_app-server"
        ).stdout.split()
    )
    assert len(tasks_after) == 3 and not tasks_after & tasks_before, (tasks_before, tasks_after)
    assert docker("ps", "-aq", "--filter", "name=lab-swarm-load").stdout.strip() == "", "the load was left"
    config = docker("exec", next(iter(web_tasks())), "cat", "/etc/nginx/conf.d/default.conf").stdout
    assert "server app-server:3000 resolve;" in config and re.search(r"^\s*keepalive \d+;", config, re.M), (
        config
    )


def web_tasks() -> list[str]:
    return docker(
        "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={STACK}_web-server"
    ).stdout.split()


def test_down_restores_the_swarm_state_and_leaves_nothing(state_before: str) -> None:
    assert_ok(
        script("extras/swarm/run-swarm.sh", "--down", "--volumes")
    )  # the last engine's stack fixture may still be up
    assert swarm_state() == state_before
    assert_ok(script("extras/swarm/run-swarm.sh"))
    assert_ok(script("extras/swarm/run-swarm.sh", "--down", "--volumes"))
    assert swarm_state() == state_before
    update_tags = docker("image", "ls", "-q", "--filter", "reference=my-app:update-*").stdout
    assert update_tags == "", "--down must remove the tags --update made"
    for kind in ("network", "volume"):
        left = docker(kind, "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}").stdout
        assert left == "", f"{kind}s of the stack left behind"
    if swarm_state() == "active":  # the swarm was there before: the stack's secrets must be gone anyway
        secrets = docker("secret", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}")
        assert secrets.stdout == ""


def test_by_hand_services_and_the_stack_compare_identical(state_before: str) -> None:
    assert_ok(
        script("extras/swarm/run-swarm.sh", "--down", "--volumes")
    )  # the last engine's stack fixture may still be up
    result = script("compare.sh", "--layout", "swarm")
    assert_ok(result)
    assert "IDENTICAL" in result.stdout and " | NO" not in result.stdout
    for row in (
        "containers / app-server / replicas",
        "containers / app-server / endpoint mode",
        "containers / web-server / published ports",
        "reachability / web-server -> database",
    ):
        assert row in result.stdout, f"the comparison must cover {row!r}"
    assert swarm_state() == state_before
