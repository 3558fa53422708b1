"""scripts/check-mine.sh grades a layout typed by hand, with the tutorial's names and no lab label.

Each layout is built once per module by replaying the commands docs/see-and-check.md tells a learner to
type (tests/e2e/handtyped.py); each
sabotage is a small delta on it (a network connected or disconnected, one container recreated or stopped),
checked for its FAIL line and hint, then undone, and the layout checked whole again.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from handtyped import HandTyped, sh, wait_answers, wait_healthy, with_env, with_options, without_network
from labenv import REPO
from scriptrun import docker, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("no_layouts")]

WEB_PORT = 18091
APP_PORT = 13091


def refuse_taken(containers: tuple[str, ...], networks: tuple[str, ...]) -> None:
    """The tutorial's names are engine-wide: a learner's (or another test's) object is never removed here."""
    taken = [n for n in containers if docker("inspect", "--type", "container", n).returncode == 0]
    taken += [n for n in networks if docker("network", "inspect", n).returncode == 0]
    assert not taken, f"these names are taken, and not by this test: {taken}"


def check(*args: str) -> tuple[int, list[str]]:
    """check-mine.sh's exit code and its lines: one PASS or FAIL line per expectation, then the summary."""
    result = script("check-mine.sh", *args, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln]
    assert lines and all(ln.startswith(("PASS ", "FAIL ")) for ln in lines[:-1]), result.stdout
    assert lines[-1].endswith(("checks pass.", "then run again.")), result.stdout
    return result.returncode, lines


def fail_line(lines: list[str], claim: str, hint: str) -> str:
    line = next((ln for ln in lines if ln.startswith("FAIL ") and claim in ln), None)
    assert line is not None, f"no FAIL line about {claim!r}:\n" + "\n".join(lines)
    assert "— hint: " in line and hint in line.split("— hint: ", 1)[1], line
    return line


def all_pass(*args: str) -> list[str]:
    rc, lines = check(*args)
    assert rc == 0 and not [ln for ln in lines if ln.startswith("FAIL ")], "\n".join(lines)
    return lines


def app_server(hand: HandTyped, argv: list[str] | None = None) -> None:
    """app-server recreated as ARGV (default: the doc's command), then connected to frontend-net."""
    hand.recreate(argv or hand.run_argv("app-server"))
    sh("docker", "network", "connect", "frontend-net", "app-server")
    wait_healthy("app-server", 60)


@pytest.fixture(scope="module")
def three_tier() -> Iterator[HandTyped]:
    """The 3-tier layout on PostgreSQL, typed by hand in the tutorial's order."""
    refuse_taken(("database", "app-server", "web-server"), ("frontend-net", "backend-net"))
    hand = HandTyped("3tier", WEB_PORT)
    try:
        hand.replay({"database": 150})
        wait_healthy("app-server", 60)
        wait_healthy("web-server", 60)
        yield hand
    finally:
        hand.remove_all()


@pytest.fixture
def restored(three_tier: HandTyped) -> Iterator[HandTyped]:
    """The 3-tier layout, whole again after the test's sabotage is undone by the test."""
    yield three_tier
    wait_answers(f"http://127.0.0.1:{WEB_PORT}/api/", "Connected to PostgreSQL!")


def test_the_3tier_layout_typed_by_hand_passes(three_tier: HandTyped) -> None:
    lines = all_pass("3tier")
    for claim in (
        "app-server is on frontend-net",
        "web-server is not on backend-net",
        "database publishes no port on the host",
        "app-server resolves 'database'",
        "web-server cannot resolve 'database'",
        f"GET http://127.0.0.1:{WEB_PORT}/api/ answers 'Connected to PostgreSQL!'",
        f"GET http://127.0.0.1:{WEB_PORT}/ serves the page",
    ):
        assert any(ln.startswith("PASS ") and claim in ln for ln in lines), (claim, lines)


def test_check_changes_nothing_and_leaves_no_probe(three_tier: HandTyped) -> None:
    fmt = "{{.Id}} {{.State.StartedAt}} {{json .NetworkSettings.Networks}}"
    before = [docker("inspect", "-f", fmt, n).stdout for n in ("database", "app-server", "web-server")]
    check("3tier")
    after = [docker("inspect", "-f", fmt, n).stdout for n in ("database", "app-server", "web-server")]
    assert [b.split(" ", 2)[:2] for b in before] == [a.split(" ", 2)[:2] for a in after]
    assert [sorted(json.loads(b.split(" ", 2)[2])) for b in before] == [
        sorted(json.loads(a.split(" ", 2)[2])) for a in after
    ]
    assert docker("ps", "-aq", "--filter", "label=io.docker-net-lab=probe").stdout.split() == []


def test_draw_without_a_layout_pictures_the_unlabelled_layout(three_tier: HandTyped) -> None:
    result = subprocess.run(
        ["python3", str(REPO / "scripts" / "topology.py"), "draw"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "app_server__backend_net -.-|same container| app_server__frontend_net" in result.stdout
    assert f'"127.0.0.1:{WEB_PORT} → web-server:80"' in result.stdout
    assert "web_server__frontend_net -. ✗ .-x database__backend_net" in result.stdout


def test_app_server_not_on_frontend_net(restored: HandTyped) -> None:
    sh("docker", "network", "disconnect", "frontend-net", "app-server")
    try:
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(
            lines, "app-server is on frontend-net", "run: docker network connect frontend-net app-server"
        )
        fail_line(lines, "web-server resolves 'app-server'", "docker network connect frontend-net app-server")
    finally:
        sh("docker", "network", "connect", "frontend-net", "app-server")


def test_web_server_also_on_backend_net_reaches_the_database(restored: HandTyped) -> None:
    sh("docker", "network", "connect", "backend-net", "web-server")
    try:
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(
            lines, "web-server is not on backend-net", "run: docker network disconnect backend-net web-server"
        )
        fail_line(
            lines, "web-server cannot resolve 'database'", "docker network disconnect backend-net web-server"
        )
    finally:
        sh("docker", "network", "disconnect", "backend-net", "web-server")


def test_app_published_on_the_host(restored: HandTyped) -> None:
    try:
        app_server(restored, with_options(restored.run_argv("app-server"), "-p", "127.0.0.1:13093:3000"))
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(lines, "app-server publishes no port on the host", "127.0.0.1:13093->3000/tcp")
        fail_line(lines, "app-server publishes no port on the host", "recreate it without -p")
    finally:
        app_server(restored)


def test_a_database_name_the_app_cannot_resolve(restored: HandTyped) -> None:
    try:
        app_server(restored, with_env(restored.run_argv("app-server"), "DATABASE_HOST", "db"))
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(lines, "app-server resolves 'db'", "-e DATABASE_HOST=database")
        fail_line(lines, "/api/ answers 'Connected to PostgreSQL!'", "the app answered")
    finally:
        app_server(restored)


def test_api_not_answering_through_web_server(restored: HandTyped) -> None:
    try:
        restored.recreate(with_env(restored.run_argv("web-server"), "BACKEND_PORT", "3001"))
        wait_healthy("web-server", 60)
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(lines, "web-server opens app-server:3001", "recreate web-server with -e BACKEND_PORT=3000")
        fail_line(
            lines, "/api/ answers 'Connected to PostgreSQL!'", "web-server passes /api/ to BACKEND_HOST"
        )
        assert any(ln.startswith("PASS ") and "serves the page" in ln for ln in lines), lines
    finally:
        restored.recreate(restored.run_argv("web-server"))
        wait_healthy("web-server", 60)


def test_web_server_on_the_default_bridge(restored: HandTyped) -> None:
    try:
        restored.recreate(without_network(restored.run_argv("web-server")))
        wait_healthy("web-server", 60)
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(lines, "web-server is not on the default bridge", "--network frontend-net")
        fail_line(
            lines, "web-server is on frontend-net", "run: docker network connect frontend-net web-server"
        )
    finally:
        restored.recreate(restored.run_argv("web-server"))
        wait_healthy("web-server", 60)


def test_a_container_not_running(restored: HandTyped) -> None:
    sh("docker", "stop", "web-server")
    try:
        rc, lines = check("3tier")
        assert rc == 1
        fail_line(lines, "container web-server exists and runs", "docker start web-server")
    finally:
        sh("docker", "start", "web-server")
        wait_healthy("web-server", 60)


def test_the_wrong_engine_is_named(three_tier: HandTyped) -> None:
    rc, lines = check("3tier", "--db", "mysql")
    assert rc == 1
    fail_line(lines, "answers 'Connected to MySQL!'", "check it with --db postgres")


@pytest.fixture(scope="module")
def webapp() -> Iterator[HandTyped]:
    """The web-app layout on MySQL (the tutorial's), typed by hand."""
    refuse_taken(("mysql-db", "webapp"), ("webapp-network",))
    hand = HandTyped("webapp", APP_PORT)
    try:
        hand.replay({"mysql-db": 150})
        wait_healthy("webapp", 60)
        yield hand
    finally:
        hand.remove_all()


def test_the_webapp_layout_typed_by_hand_passes(webapp: HandTyped) -> None:
    lines = all_pass("webapp")
    assert any(ln.startswith("PASS ") and "webapp resolves 'mysql-db'" in ln for ln in lines), lines
    assert any(ln.startswith("PASS ") and "answers 'Connected to MySQL!'" in ln for ln in lines), lines


def test_webapp_on_the_default_bridge_finds_no_database(webapp: HandTyped) -> None:
    try:
        webapp.recreate(without_network(webapp.run_argv("webapp")))
        rc, lines = check("webapp")
        assert rc == 1
        fail_line(lines, "webapp is not on the default bridge", "--network webapp-network")
        fail_line(lines, "webapp resolves 'mysql-db'", "-e DB_HOST=mysql-db")
    finally:
        webapp.recreate(webapp.run_argv("webapp"))
        wait_healthy("webapp", 60)


def test_webapp_database_missing(webapp: HandTyped) -> None:
    rc, lines = check("webapp", "--db", "postgres")
    assert rc == 1
    fail_line(lines, "container postgres-db exists and runs", "docker run -d --name postgres-db")


@pytest.mark.parametrize("args", [[], ["swarm"], ["3tier", "--db", "oracle"], ["3tier", "--port", "80"]])
def test_bad_usage_exits_2_with_the_usage(args: list[str]) -> None:
    result = script("check-mine.sh", *args)
    assert result.returncode == 2
    assert "Usage: scripts/check-mine.sh webapp|3tier" in result.stderr
