"""extras/drills/drill.sh end to end: the fault drills on the 3-tier, and what they report.

One `drill.sh all` on MySQL (every drill in sequence on a 3-tier the script brings up itself); then, on
that running MySQL layout, a --db or --port that differs from it is refused with nothing touched; then
db-restart alone on PostgreSQL from no layout (its connection pool waits for the database instead of
failing at once). Each
test asserts the exit status, that the drill's CHECK lines are there and passed, and that the numbers behind
them were really measured (a "0 failed" over zero requests would prove nothing). How fast anything healed is
never asserted here (the engine is shared): the drills check their own bounds (nginx: valid=10s + 2 s).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
import requests
from scriptrun import assert_ok, check_line, docker, down_all_layouts, printed_commands, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WEB_PORT = 18281  # not the drills' default (18280), which a learner may have up
Run = subprocess.CompletedProcess[str]
IP = r"\d+\.\d+\.\d+\.\d+"
DRILLS = ["db-restart", "db-freeze", "app-recreate", "db-late", "worker-kill", "slow-clients"]
QUERY_TIMEOUT = 5  # app_server/db.py's deadline


@pytest.fixture(scope="module")
def mysql_all(no_layouts: None) -> Run:
    """`drill.sh all` from no layout at all; the module's no_layouts fixture removes it at the end."""
    return script("extras/drills/drill.sh", "all", "--db", "mysql", "--port", str(WEB_PORT), timeout=900)


@pytest.fixture(scope="module")
def postgres_drills(mysql_all: Run) -> Iterator[dict[str, Run]]:
    """db-restart, then db-freeze, on PostgreSQL, after the MySQL run and from no layout: drill.sh never
    switches a running 3-tier's database itself (db-freeze uses the 3-tier db-restart left up)."""
    down_all_layouts()
    runs = {}
    for drill in ("db-restart", "db-freeze"):
        runs[drill] = script(
            "extras/drills/drill.sh", drill, "--db", "postgres", "--port", str(WEB_PORT), timeout=600
        )
    yield runs


@pytest.fixture(scope="module")
def postgres_db_restart(postgres_drills: dict[str, Run]) -> Run:
    return postgres_drills["db-restart"]


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return float(match.group(1))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name a drill"),
        (["db-crash"], "unknown drill: db-crash"),
        (["db-restart", "--db", "oracle"], "--db takes mysql or postgres"),
        (["worker-kill", "--port", "99999"], "--port takes a port number"),
        (["all", "--public"], "unknown option: --public"),
    ],
)
def test_bad_usage_exits_2_before_touching_anything(args: list[str], message: str) -> None:
    result = script("extras/drills/drill.sh", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Usage: extras/drills/drill.sh" in result.stderr
    assert " $ " not in result.stderr, "a command ran despite the bad usage"


def test_help_exits_0() -> None:
    result = script("extras/drills/drill.sh", "--help")
    assert result.returncode == 0
    for drill in [*DRILLS, "all"]:
        assert drill in result.stdout


def test_all_exits_0_and_every_check_passes(mysql_all: Run) -> None:
    assert_ok(mysql_all)
    assert "All checks passed." in mysql_all.stdout
    assert "CHECK FAIL" not in mysql_all.stdout
    # every drill ran, in order, and ended with the layout healthy again
    heads = [ln for ln in mysql_all.stderr.splitlines() if re.match(r"== (db-|app-|worker-|slow-)", ln)]
    assert [h.split(":")[0].strip("= ") for h in heads] == DRILLS
    for drill in DRILLS:
        check_line(mysql_all.stdout, f"{drill}: the 3-tier is healthy again")


def test_db_restart_has_no_error_once_the_database_is_back(mysql_all: Run) -> None:
    line = check_line(
        mysql_all.stdout, "db-restart: no request failed from 2 s after the database was healthy"
    )
    assert number(r"\(0 failed of (\d+)\)", line) > 0, "no request was sent after the database was back"
    check_line(mysql_all.stdout, "db-restart: app-server was not restarted")
    result = next(ln for ln in mysql_all.stdout.splitlines() if ln.strip().startswith("db-restart:"))
    assert number(r"(\d+) requests", result) > 0
    assert re.search(r"database healthy \d+\.\d s after the restart", result), result
    # the load really went through the restart: the drill waited for the database's healthcheck
    assert " $ docker restart database" in mysql_all.stderr


def test_app_recreate_gets_a_new_ip_and_nginx_finds_it_unreloaded(mysql_all: Run) -> None:
    line = check_line(mysql_all.stdout, "app-recreate: app-server has a new IP address on frontend-net")
    old, new = re.search(rf"\(({IP}) -> ({IP})\)", line).groups()
    assert old != new
    line = check_line(mysql_all.stdout, "app-recreate: nginx answered 200 again (12 in a row from")
    assert f"from {new}:3000" in line
    check_line(mysql_all.stdout, "app-recreate: web-server was neither restarted nor reloaded")
    # the new app-server was made with run-3tier.sh's own command, and the old address was taken first
    assert re.search(rf"drill-placeholder-\d took {old}", mysql_all.stderr)
    assert any(
        cmd[0] == "docker run -d \\" and cmd[1] == "--name app-server \\"
        for cmd in printed_commands(mysql_all.stderr)
    ), mysql_all.stderr


def test_db_late_app_waits_without_crashing_and_turns_ready(mysql_all: Run) -> None:
    line = check_line(mysql_all.stdout, "db-late: with no database, /readyz answers 503 with the reason")
    assert "database" in line.split("the reason", 1)[1], line  # the driver names the host it cannot reach
    check_line(mysql_all.stdout, "db-late: after 30 s without a database app-server still runs")
    check_line(mysql_all.stdout, "db-late: and Docker calls it healthy")
    check_line(mysql_all.stdout, "db-late: /readyz turned 200 by itself")
    check_line(mysql_all.stdout, "db-late: GET http://127.0.0.1:18281/api/ answers 200 through nginx")
    check_line(mysql_all.stdout, "db-late: app-server was the same process throughout")


def test_worker_kill_is_survived(mysql_all: Run) -> None:
    line = check_line(mysql_all.stdout, "worker-kill: the master started a replacement")
    victim = number(r"kill -9 (\d+)", mysql_all.stderr)
    assert number(r"new PID (\d+)", line) != victim
    check_line(mysql_all.stdout, f"worker-kill: gunicorn's log says it: worker {victim:.0f} was sent SIGKILL")
    check_line(mysql_all.stdout, "worker-kill: failed requests")
    line = check_line(mysql_all.stdout, "worker-kill: no request failed once the replacement was there")
    assert number(r"\(0 failed of (\d+)\)", line) > 0
    check_line(mysql_all.stdout, "worker-kill: app-server itself was not restarted")


def test_slow_clients_hold_gunicorn_alone_but_not_nginx(mysql_all: Run) -> None:
    check_line(mysql_all.stdout, "slow-clients: with no slow client, every probe answers")
    line = check_line(
        mysql_all.stdout, "slow-clients: straight to gunicorn, the slow clients hold its threads"
    )
    assert number(r": (\d+) of 15 probes got no answer", line) > 0
    line = check_line(mysql_all.stdout, "slow-clients: once the slow clients are gone, gunicorn answers")
    assert "(0 of 15 failed)" in line
    line = check_line(mysql_all.stdout, "slow-clients: through nginx, with the 32 slow clients connected")
    assert "(0 of 15 failed)" in line
    line = check_line(mysql_all.stdout, "slow-clients: nginx closed all 32 slow connections")
    assert 0 < number(r"connections (\d+\.\d) s after", line) <= 10 + 3
    # the slow clients really ran, against each server in turn
    printed = [" ".join(cmd) for cmd in printed_commands(mysql_all.stderr)]
    for target in ("app-server 3000", "web-server 80"):
        assert any(
            cmd.startswith("docker exec -d")
            and "drill-slow-clients sh -c 'for i in $(seq 32)" in cmd
            and f"| nc {target} &" in cmd
            for cmd in printed
        ), f"no slow clients to {target} were started"


def test_nginx_bounds_its_clients(mysql_all: Run) -> None:
    """The rendered config of the web-server the drills left up: a GET-only API's client limits."""
    conf = docker("exec", "web-server", "cat", "/etc/nginx/conf.d/default.conf")
    assert conf.returncode == 0, conf.stderr
    for directive in (
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "send_timeout 10s;",
        "keepalive_timeout 15s;",
        "client_max_body_size 1k;",
    ):
        assert re.search(rf"^\s*{re.escape(directive)}", conf.stdout, re.M), directive
    big = requests.get(f"http://127.0.0.1:{WEB_PORT}/api/", data=b"x" * 2048, timeout=10)
    assert big.status_code == 413, big.text


def test_layout_is_left_up_healthy_and_without_placeholders(mysql_all: Run) -> None:
    assert_ok(mysql_all)
    for name in ("database", "app-server", "web-server"):
        health = docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()
        assert health == "healthy", f"{name} is {health}"
    reply = requests.get(f"http://127.0.0.1:{WEB_PORT}/api/", timeout=10)
    assert (reply.status_code, reply.json()["message"]) == (200, "Connected to MySQL!")
    left = docker("ps", "-aq", "--filter", "label=io.docker-net-lab=drill").stdout.split()
    assert left == [], "drill.sh left its placeholder containers behind"


def layout_ids() -> list[str]:
    return [
        docker("inspect", "-f", "{{.Id}}", c).stdout.strip() for c in ("database", "app-server", "web-server")
    ]


@pytest.mark.parametrize(
    ("args", "asked"),
    [(["--db", "postgres"], "--db postgres --port 18281"), (["--port", "18282"], "--db mysql --port 18282")],
)
def test_a_running_3tier_is_used_as_it_is_never_rebuilt(mysql_all: Run, args: list[str], asked: str) -> None:
    before = layout_ids()
    assert all(before), "the MySQL run left no 3-tier up"
    result = script("extras/drills/drill.sh", "db-restart", *args, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"the 3-tier is up with MySQL on port {WEB_PORT}" in result.stderr
    assert f"it does not rebuild it with {asked}" in result.stderr
    assert f"--db mysql --port {WEB_PORT}" in result.stderr and "scripts/run-3tier.sh --down" in result.stderr
    assert " $ " not in result.stderr, "a command ran although the drill refused"
    assert layout_ids() == before, "the running 3-tier was changed"


def test_db_restart_on_postgres(postgres_db_restart: Run) -> None:
    assert_ok(postgres_db_restart)
    line = check_line(postgres_db_restart.stdout, "db-restart: no request failed from 2 s after the database")
    assert number(r"\(0 failed of (\d+)\)", line) > 0
    check_line(postgres_db_restart.stdout, "db-restart: app-server was not restarted")
    reply = requests.get(f"http://127.0.0.1:{WEB_PORT}/api/", timeout=10)
    assert reply.json()["message"] == "Connected to PostgreSQL!"


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_db_freeze_answers_every_request_within_the_deadline(
    engine: str, request: pytest.FixtureRequest
) -> None:
    run = (
        request.getfixturevalue("mysql_all")
        if engine == "mysql"
        else request.getfixturevalue("postgres_drills")["db-freeze"]
    )
    assert_ok(run)
    assert " $ docker pause database" in run.stderr and " $ docker unpause database" in run.stderr
    check_line(run.stdout, "db-freeze: a request while frozen answers HTTP 500 with the app's reason")
    # The sample request's answer is the app's own 500 JSON, {"error": ...} with no "status" (nginx's has
    # one). Its reason depends on the thread that serves it: the deadline's "no answer from the database
    # within 5 s", or, for a thread that must connect first, the driver's own timeout while reading the
    # frozen server's greeting (CONNECT_TIMEOUT, 3 s).
    frozen = run.stderr.split(" $ docker pause database", 1)[1].split(" $ docker unpause database", 1)[0]
    assert re.search(r'^\s*\{"error": "[^"]+"\}$', frozen, re.M), frozen
    line = check_line(run.stdout, "requests made while frozen failed, each with the app's HTTP 500")
    assert number(r"\((\d+) got no answer or another status\)", line) == 0
    assert number(r"db-freeze: (\d+) of the", line) > 0
    line = check_line(run.stdout, "db-freeze: every request made while frozen was answered within")
    assert 0 < number(r"slowest (\d+\.\d+) s", line) <= QUERY_TIMEOUT + 1
    line = check_line(run.stdout, "db-freeze: no request failed from 2 s after the unpause")
    assert number(r"\(0 failed of (\d+)\)", line) > 0
    paused = docker("inspect", "-f", "{{.State.Paused}}", "database").stdout.strip()
    assert paused == "false", "the drill left the database paused"
