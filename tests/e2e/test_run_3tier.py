"""scripts/run-3tier.sh end to end on a real engine, once per database engine.

The layout is brought up once per engine (the first run is itself under test) and each test asserts what a
learner would see: exit codes, CHECK lines, JSON through nginx, isolation, and what a rerun does.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
import requests
from labenv import REPO, TEST_LABEL, image
from scriptrun import (
    assert_ok,
    assert_ran_as_mapped,
    assert_replays_to_the_same_layout,
    docker,
    learner_view,
    one_line,
    printed_commands,
    readme_block,
    script,
    secret,
    secrets_in_inspect,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("no_layouts")]

WEB_PORT = 18080  # not 80: a learner's own web server may hold it; the default port has its own test
ENGINES = ["postgres", "mysql"]


@pytest.fixture(scope="module", params=ENGINES)
def three_tier(request: pytest.FixtureRequest) -> Iterator[tuple[str, subprocess.CompletedProcess[str]]]:
    engine = request.param
    first = script("run-3tier.sh", "--db", engine, "--port", str(WEB_PORT))
    try:
        yield engine, first
    finally:
        assert_ok(script("run-3tier.sh", "--down", "--volumes"))


def test_3tier_comes_up_and_every_check_passes(three_tier) -> None:
    engine, first = three_tier
    assert_ok(first)
    assert "All checks passed." in first.stdout
    assert "CHECK FAIL" not in first.stdout
    # the tutorial's commands, numbered, in the tutorial's order
    cmds = [one_line(cmd) for cmd in printed_commands(first.stderr)]
    order = [
        "docker network create",
        "--name database",
        "docker build",
        "--name app-server",
        "docker network connect frontend-net app-server",
        "--name web-server",
    ]
    positions = [next(i for i, c in enumerate(cmds) if key in c) for key in order]
    assert positions == sorted(positions), cmds
    if engine == "postgres":  # docs/coverage.md maps the tutorial's PostgreSQL 3-tier
        assert_ran_as_mapped("scripts/run-3tier.sh", first)


def test_3tier_commands_in_the_docs_are_the_ones_a_run_prints(three_tier) -> None:
    """docs/commands.md and its Korean twin show run-3tier.sh's commands as a learner with the official images
    sees them, on port 80: exactly what this real run printed."""
    engine, first = three_tier
    printed = learner_view(printed_commands(first.stderr), WEB_PORT, 80)
    places = [
        (REPO / "docs" / "commands.md", f"3tier-{engine}"),
        (REPO / "docs" / "commands.ko.md", f"3tier-{engine}"),
    ]
    for path, name in places:
        assert readme_block(path, name) == printed, f"{path.name} {name}: the run printed\n{printed}"


def test_3tier_api_answers_json_through_nginx(three_tier) -> None:
    engine, _ = three_tier
    reply = requests.get(f"http://127.0.0.1:{WEB_PORT}/api/", timeout=10)
    assert reply.status_code == 200
    body = reply.json()
    assert list(body) == ["message", "time"]
    assert body["message"] == {"postgres": "Connected to PostgreSQL!", "mysql": "Connected to MySQL!"}[engine]
    assert body["time"].endswith("Z")


def test_3tier_isolation_as_the_tutorial_says(three_tier) -> None:
    _, first = three_tier
    for claim in [
        "web-server cannot resolve 'database'",
        "app-server resolves 'database'",
        "database publishes no port",
        "app-server publishes no port",
    ]:
        line = next(ln for ln in first.stdout.splitlines() if claim in ln)
        assert "CHECK PASS" in line, line
    # Independently of the script's own checks, what is published (docker port, HostConfig.PortBindings) is
    # checked on this layout and the compose one in test_hardening.py.


def networks_of(name: str) -> list[str]:
    got = docker("inspect", "-f", "{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}", name)
    assert got.returncode == 0, got.stderr
    return sorted(got.stdout.split())


def test_3tier_connect_puts_app_server_on_both_networks(three_tier) -> None:
    """The tutorial's `docker network connect frontend-net app-server`: it ran, after app-server was created
    on backend-net; app-server is then on both networks (web-server and database on one each), and from
    web-server's own network namespace the name app-server answers with its frontend-net address, on which
    the app serves."""
    _, first = three_tier
    cmds = [one_line(cmd) for cmd in printed_commands(first.stderr)]
    created = next(i for i, c in enumerate(cmds) if "--name app-server" in c)
    assert "--network backend-net" in cmds[created], cmds[created]
    assert "docker network connect frontend-net app-server" in cmds[created + 1 :], cmds
    assert networks_of("app-server") == ["backend-net", "frontend-net"]
    assert networks_of("web-server") == ["frontend-net"]
    assert networks_of("database") == ["backend-net"]
    front = docker(
        "inspect", "-f", '{{(index .NetworkSettings.Networks "frontend-net").IPAddress}}', "app-server"
    )
    assert front.returncode == 0 and front.stdout.strip(), front.stderr
    probe = [
        "run",
        "--rm",
        "--label",
        f"{TEST_LABEL}=1",
        "--network",
        "container:web-server",
        image("TOOLBOX_IMAGE"),
    ]
    resolved = docker(*probe, "getent", "hosts", "app-server")
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.split()[0] == front.stdout.strip(), resolved.stdout
    served = docker(*probe, "wget", "-q", "-O", "-", "-T", "10", f"http://{front.stdout.strip()}:3000/")
    assert served.returncode == 0, served.stderr
    assert '"message"' in served.stdout, served.stdout


def test_3tier_second_run_reuses_everything_and_still_verifies(three_tier) -> None:
    before = docker("inspect", "-f", "{{.Id}}", "database", "app-server", "web-server").stdout
    again = script("run-3tier.sh", "--db", three_tier[0], "--port", str(WEB_PORT))
    assert_ok(again)
    assert "All checks passed." in again.stdout
    assert " $ docker run " not in again.stderr and " $ docker network create" not in again.stderr
    assert "reusing" in again.stderr
    assert docker("inspect", "-f", "{{.Id}}", "database", "app-server", "web-server").stdout == before


def nginx_state() -> tuple[str, list[str]]:
    """web-server's StartedAt and the host PIDs of its processes (a reload replaces the workers)."""
    started = docker("inspect", "-f", "{{.State.StartedAt}}", "web-server")
    top = docker("top", "web-server", "-o", "pid")
    assert started.returncode == 0 and top.returncode == 0, started.stderr + top.stderr
    pids = sorted(top.stdout.split()[1:])
    assert started.stdout.strip() and pids, "web-server has no start time or no processes"
    return started.stdout.strip(), pids


def test_3tier_recreated_app_server_is_reached_again_without_reloading_nginx(three_tier) -> None:
    before = nginx_state()
    assert docker("rm", "-f", "app-server").returncode == 0
    assert_ok(script("run-3tier.sh", "--db", three_tier[0], "--port", str(WEB_PORT)))
    # Each nginx worker re-resolves app-server once its own answer is older than valid=10s.
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{WEB_PORT}/api/", timeout=3).status_code == 200:
                break
        except requests.ConnectionError:  # nginx itself is not expected to drop, but a failure says so below
            pass
        assert time.monotonic() < deadline, "no 200 through nginx within 20 s of recreating app-server"
        time.sleep(0.5)
    assert nginx_state() == before, "web-server was restarted or reloaded"


def test_3tier_app_account_is_least_privilege(three_tier) -> None:
    engine, _ = three_tier
    pw = secret("app_password")
    if engine == "mysql":
        base = [
            "exec",
            "-e",
            f"MYSQL_PWD={pw}",
            "database",
            "mysql",
            "-h127.0.0.1",
            "-uappuser",
            "myapp",
            "-e",
        ]
        create = docker(*base, "CREATE TABLE t (i INT)")
        other = docker(*base, "SELECT user FROM mysql.user")
        works = docker(*base, "SELECT NOW()")
    else:
        base = [
            "exec",
            "-e",
            f"PGPASSWORD={pw}",
            "database",
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "appuser",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        create = docker(*base, "-d", "myapp", "-c", "CREATE TABLE t (i int)")
        other = docker(*base, "-d", "postgres", "-c", "SELECT 1")
        works = docker(*base, "-d", "myapp", "-c", "SELECT now()")
    assert works.returncode == 0, works.stderr
    assert create.returncode != 0 and ("denied" in create.stderr.lower()), create.stderr
    assert other.returncode != 0 and ("denied" in other.stderr.lower()), other.stderr


def test_3tier_passwords_are_files_not_environment(three_tier) -> None:
    assert secrets_in_inspect("database", "app-server", "web-server") == []


def test_3tier_printed_commands_replay_to_the_same_layout(three_tier) -> None:
    """Printed = typed: the commands the first run printed, run by bash from the repo root after the layout
    is removed with its data, build a layout identical to the script's (topology.py diff). Last in this
    module: it leaves the replayed layout for the fixture to remove."""
    _, first = three_tier
    assert_replays_to_the_same_layout(
        "3tier", first, ["database", "app-server", "web-server"], ["run-3tier.sh"]
    )
