"""The offline kit: each stand-in honours the part of the official image's contract that the lab relies on,
and the tool images (browser, load generator) do their job inside containers.

Run against whatever the image variables name: the stand-ins in CI (`eval "$(tools/offline-images.sh)"`),
the official images on a learner's online machine — the contract is the same, so the tests are too.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import psycopg
import pymysql
import pytest
import requests
from docker.models.containers import Container
from labenv import REPO, TEST_LABELS, image, wait_until
from testcontainers.community.mysql import MySqlContainer
from testcontainers.community.postgres import PostgresContainer
from toolimages import tool_image, tool_run

pytestmark = pytest.mark.integration

WAIT_S = 90  # a cold MySQL init takes ~8 s here; the bound only stops a broken image from hanging the suite


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return docker.from_env()


class Runner:
    """Starts labelled containers and volumes, and removes every one of them at the end of a test."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.containers: list[Container] = []
        self.volumes: list[str] = []

    def volume(self) -> str:
        name = f"lab-test-{uuid.uuid4().hex[:8]}"
        self.client.volumes.create(name, labels=TEST_LABELS)
        self.volumes.append(name)
        return name

    def run(self, image_name: str, port: int | None = None, **kwargs) -> Container:
        ports = {f"{port}/tcp": ("127.0.0.1", None)} if port else None
        container = self.client.containers.run(
            image_name, detach=True, labels=TEST_LABELS, ports=ports, **kwargs
        )
        self.containers.append(container)
        return container

    def close(self) -> None:
        for container in self.containers:
            container.remove(force=True, v=True)
        for name in self.volumes:
            self.client.volumes.get(name).remove(force=True)


@pytest.fixture
def runner(client: docker.DockerClient) -> Iterator[Runner]:
    r = Runner(client)
    try:
        yield r
    finally:
        r.close()


def readable_by_all(folder: Path) -> str:
    """The servers run as uid 999 (as in the official images): let them read a bind-mounted test folder."""
    folder.chmod(0o755)
    for f in folder.iterdir():
        f.chmod(0o644)
    return str(folder)


def host_port(container: Container, port: int) -> int:
    container.reload()
    return int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])


def wait_for(what: str, attempt: Callable[[], object], container: Container) -> object:
    """Call attempt() until it stops raising connection errors; fail with the log if it never does."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            return attempt()
        # the server is still initialising (refused, reset, or its temporary socket-only server is up)
        except (pymysql.err.OperationalError, psycopg.OperationalError, requests.ConnectionError):
            container.reload()
            if container.status == "exited" or time.monotonic() > deadline:
                log = container.logs(tail=30).decode(errors="replace")
                pytest.fail(f"{what} never answered ({container.status}); last log lines:\n{log}")
            time.sleep(1)


def wait_exit(container: Container) -> tuple[int, str]:
    result = container.wait(timeout=WAIT_S)
    return result["StatusCode"], container.logs().decode(errors="replace")


# --- MySQL -----------------------------------------------------------------------------------------------


def mysql_query(port: int, user: str, password: str, sql: str, database: str = "myapp") -> tuple:
    conn = pymysql.connect(
        host="127.0.0.1", port=port, user=user, password=password, database=database, connect_timeout=3
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


MYSQL_ENV = {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_DATABASE": "myapp", "MYSQL_USER": "appuser"}


def test_mysql_creates_database_and_user_from_password_file(runner: Runner, tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("from-a-file\n")
    readable_by_all(tmp_path)
    db = runner.run(
        image("MYSQL_IMAGE"),
        3306,
        environment={**MYSQL_ENV, "MYSQL_PASSWORD_FILE": "/run/secrets/db_password"},
        volumes={str(secret): {"bind": "/run/secrets/db_password", "mode": "ro"}},
    )
    port = host_port(db, 3306)
    rows = wait_for(
        "mysql", lambda: mysql_query(port, "appuser", "from-a-file", "SELECT DATABASE(), CURRENT_USER()"), db
    )
    assert rows == (("myapp", "appuser@%"),)
    # root works from other hosts too (MYSQL_ROOT_HOST defaults to '%'), with the password given
    assert mysql_query(port, "root", "rootpw", "SELECT 1") == ((1,),)


def test_mysql_runs_initdb_scripts_once_per_volume(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "01-runs.sql").write_text(
        "CREATE TABLE runs (at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);\nINSERT INTO runs VALUES ();\n"
    )
    (tmp_path / "02-note.sh").write_text('echo "initdb shell script ran"\n')
    data = runner.volume()
    mounts = {
        data: {"bind": "/var/lib/mysql"},
        readable_by_all(tmp_path): {"bind": "/docker-entrypoint-initdb.d"},
    }
    for start in (1, 2):
        db = runner.run(
            image("MYSQL_IMAGE"), 3306, environment={**MYSQL_ENV, "MYSQL_PASSWORD": "pw"}, volumes=mounts
        )
        port = host_port(db, 3306)
        rows = wait_for(
            "mysql", lambda port=port: mysql_query(port, "appuser", "pw", "SELECT COUNT(*) FROM runs"), db
        )
        assert rows == ((1,),), f"start {start}: the initdb script must have run exactly once"
        log = db.logs().decode(errors="replace")
        assert ("initdb shell script ran" in log) == (start == 1)
        db.stop(timeout=20)


def test_mysql_refuses_to_start_without_a_password_option(runner: Runner) -> None:
    db = runner.run(image("MYSQL_IMAGE"), environment={"MYSQL_DATABASE": "myapp"})
    code, log = wait_exit(db)
    assert code != 0
    assert "password option is not specified" in log
    assert "MYSQL_ROOT_PASSWORD" in log


def test_testcontainers_mysql_starts_from_the_image_and_answers() -> None:
    with MySqlContainer(image("MYSQL_IMAGE")).with_kwargs(labels=TEST_LABELS) as db:
        rows = mysql_query(
            int(db.get_exposed_port(3306)), db.username, db.password, "SELECT 6 * 7", db.dbname
        )
        assert rows == ((42,),)


# --- PostgreSQL ------------------------------------------------------------------------------------------


def pg_query(port: int, user: str, password: str, sql: str, dbname: str = "myapp") -> list:
    with psycopg.connect(
        host="127.0.0.1", port=port, user=user, password=password, dbname=dbname, connect_timeout=3
    ) as conn:
        return conn.execute(sql).fetchall()


def test_postgres_creates_user_and_database_from_password_file(runner: Runner, tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("from-a-file")
    readable_by_all(tmp_path)
    db = runner.run(
        image("POSTGRES_IMAGE"),
        5432,
        environment={
            "POSTGRES_USER": "labadmin",
            "POSTGRES_DB": "myapp",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/db_password",
        },
        volumes={str(secret): {"bind": "/run/secrets/db_password", "mode": "ro"}},
    )
    port = host_port(db, 5432)
    rows = wait_for(
        "postgres",
        lambda: pg_query(port, "labadmin", "from-a-file", "SELECT current_database(), current_user"),
        db,
    )
    assert rows == [("myapp", "labadmin")]
    # remote hosts must use the password: a wrong one is refused (scram-sha-256, not trust)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        pg_query(port, "labadmin", "wrong", "SELECT 1")


def test_postgres_runs_initdb_scripts_once_per_volume(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "01-runs.sql").write_text(
        "CREATE TABLE runs (at timestamptz DEFAULT now());\nINSERT INTO runs DEFAULT VALUES;\n"
    )
    (tmp_path / "02-note.sh").write_text('echo "initdb shell script ran"\n')
    data = runner.volume()
    mounts = {
        data: {"bind": "/var/lib/postgresql/data"},
        readable_by_all(tmp_path): {"bind": "/docker-entrypoint-initdb.d"},
    }
    env = {"POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "myapp"}
    for start in (1, 2):
        db = runner.run(image("POSTGRES_IMAGE"), 5432, environment=env, volumes=mounts)
        port = host_port(db, 5432)
        rows = wait_for(
            "postgres", lambda port=port: pg_query(port, "postgres", "pw", "SELECT count(*) FROM runs"), db
        )
        assert rows == [(1,)], f"start {start}: the initdb script must have run exactly once"
        assert ("initdb shell script ran" in db.logs().decode(errors="replace")) == (start == 1)
        db.stop(timeout=20)


def test_postgres_refuses_to_start_without_a_password(runner: Runner) -> None:
    db = runner.run(image("POSTGRES_IMAGE"))
    code, log = wait_exit(db)
    assert code != 0
    assert "You must specify POSTGRES_PASSWORD" in log


def test_testcontainers_postgres_starts_from_the_image_and_answers() -> None:
    with PostgresContainer(image("POSTGRES_IMAGE"), driver=None).with_kwargs(labels=TEST_LABELS) as db:
        rows = pg_query(int(db.get_exposed_port(5432)), db.username, db.password, "SELECT 6 * 7", db.dbname)
        assert rows == [(42,)]


# --- the stand-ins' own care (the official images behave otherwise here: these run on the stand-ins) -------

STAND_INS = pytest.mark.skipif(
    not (
        image("MYSQL_IMAGE").startswith("lab-offline/") and image("POSTGRES_IMAGE").startswith("lab-offline/")
    ),
    reason="the stand-ins' init marker and signal handling; the official images have their own entrypoints",
)
DATABASES = {
    # engine: (image variable, data folder, environment with a password file, the port, the init's middle)
    "mysql": (
        "MYSQL_IMAGE",
        "/var/lib/mysql",
        "MYSQL_ROOT_PASSWORD_FILE",
        3306,
        "starting a temporary server",
    ),
    "postgres": ("POSTGRES_IMAGE", "/var/lib/postgresql/data", "POSTGRES_PASSWORD_FILE", 5432, "initdb in"),
}


def wait_log(container: Container, text: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while text not in container.logs().decode(errors="replace"):
        container.reload()
        assert container.status == "running" and time.monotonic() < deadline, container.logs().decode()
        time.sleep(0.2)


@STAND_INS
@pytest.mark.parametrize("engine", sorted(DATABASES))
def test_stopped_init_exits_at_once_and_its_volume_is_refused_with_the_fix(
    runner: Runner, tmp_path: Path, engine: str
) -> None:
    """`docker stop` during the first initialisation: the entrypoint (PID 1, bash) handles the signal and
    exits with 128+signal, well inside docker's 10 s grace (not killed: 137); the half-made data volume is
    then refused with a message naming the fix, instead of serving a database without its accounts."""
    var, datadir, pw_var, _, middle = DATABASES[engine]
    (tmp_path / "pw").write_text("pw")
    readable_by_all(tmp_path)
    data = runner.volume()
    mounts = {data: {"bind": datadir}, str(tmp_path): {"bind": "/run/secrets", "mode": "ro"}}
    env = {pw_var: "/run/secrets/pw", "MYSQL_DATABASE": "myapp", "POSTGRES_DB": "myapp"}
    first = runner.run(image(var), environment=env, volumes=mounts)
    wait_log(first, middle)
    started = time.monotonic()
    first.stop(timeout=10)
    took = time.monotonic() - started
    code, log = wait_exit(first)
    assert code in (130, 143), f"exit {code} after {took:.1f} s (137: SIGKILL, the signal was ignored)\n{log}"
    assert "stopped during initialisation" in log
    again = runner.run(image(var), environment=env, volumes=mounts)
    code, log = wait_exit(again)
    assert code == 1, log
    assert "initialisation never finished" in log and "Remove this data volume" in log


@STAND_INS
@pytest.mark.parametrize("engine", sorted(DATABASES))
def test_no_password_is_left_in_the_servers_environment(runner: Runner, tmp_path: Path, engine: str) -> None:
    """The passwords read from *_FILE are the entrypoint's: the server it execs (PID 1) carries none."""
    var, _, pw_var, port, _ = DATABASES[engine]
    (tmp_path / "pw").write_text("env-check-password")
    readable_by_all(tmp_path)
    db = runner.run(
        image(var),
        port,
        environment={pw_var: "/run/secrets/pw", "MYSQL_DATABASE": "myapp", "POSTGRES_DB": "myapp"},
        volumes={str(tmp_path): {"bind": "/run/secrets", "mode": "ro"}},
    )
    login = {
        "mysql": lambda: mysql_query(host_port(db, port), "root", "env-check-password", "SELECT 1"),
        "postgres": lambda: pg_query(host_port(db, port), "postgres", "env-check-password", "SELECT 1"),
    }[engine]
    assert wait_for(engine, login, db) in (((1,),), [(1,)])  # the password was set from the file
    # as the server's own user (999): root in a container without CAP_SYS_PTRACE may not read it
    code, out = db.exec_run(["cat", "/proc/1/environ"], user="999")
    assert code == 0 and b"PATH=" in out, out  # PID 1's environment, read
    assert b"env-check-password" not in out
    assert pw_var.encode() not in out


# --- nginx, python, toolbox ------------------------------------------------------------------------------


def test_nginx_renders_templates_from_the_environment(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "default.conf.template").write_text(
        "server {\n  listen 80;\n"
        "  location / {\n    default_type text/plain;\n"
        "    return 200 'greeting=${LAB_GREETING} uri=$request_uri';\n  }\n}\n"
    )
    web = runner.run(
        image("NGINX_IMAGE"),
        80,
        environment={"LAB_GREETING": "annyeong"},
        volumes={str(tmp_path): {"bind": "/etc/nginx/templates", "mode": "ro"}},
    )
    port = host_port(web, 80)
    body = wait_for("nginx", lambda: requests.get(f"http://127.0.0.1:{port}/hello", timeout=3).text, web)
    # our variable was substituted; nginx's own $request_uri survived (only defined variables are replaced)
    assert body == "greeting=annyeong uri=/hello"
    # nginx writes the access log line after it has sent the answer: wait for it (a few seconds at most)
    logged = wait_until(lambda: "GET /hello" in web.logs().decode(errors="replace"), timeout=10)
    assert logged, "the access log goes to stdout"


def test_python_image_has_python_and_a_system_wide_pip(client: docker.DockerClient) -> None:
    out = client.containers.run(
        image("PYTHON_IMAGE"),
        [
            "python",
            "-c",
            "import sys, sysconfig; print(sys.version_info[:2], sysconfig.get_paths()['purelib'])",
        ],
        remove=True,
        labels=TEST_LABELS,
    ).decode()
    assert out.strip() == "(3, 13) /usr/local/lib/python3.13/site-packages"
    # pip runs, as the official image's does, and installs into that same system-wide site-packages
    pip = client.containers.run(
        image("PYTHON_IMAGE"), ["python", "-m", "pip", "--version"], remove=True, labels=TEST_LABELS
    ).decode()
    assert re.match(
        r"pip \d+(\.\d+)* from /usr/local/lib/python3\.13/site-packages/pip \(python 3\.13\)", pip
    ), pip


def test_nodejs_image_has_node_24_npm_and_the_node_user(client: docker.DockerClient) -> None:
    """node:24-alpine's contract where extras/bench/express/ relies on it: node 24 and npm on PATH, and the
    non-root user `USER node` names (uid and gid 1000, home /home/node)."""
    script = "node --version; npm --version; id -u node; id -g node; "
    script += "awk -F: '$1 == \"node\" {print $6}' /etc/passwd"
    out = client.containers.run(image("NODEJS_IMAGE"), ["sh", "-c", script], remove=True, labels=TEST_LABELS)
    node, npm, uid, gid, home = out.decode().split()
    assert node.startswith("v24."), out
    assert re.fullmatch(r"\d+\.\d+\.\d+", npm), out
    assert (uid, gid, home) == ("1000", "1000", "/home/node"), out


# --- the toolbox behaves like alpine:3.22 (busybox + musl-utils' getent) -----------------------------------

# What the labs and a learner run in alpine: busybox applets, and musl-utils' getent.
TOOLBOX_TOOLS = ["sh", "ping", "ping6", "nslookup", "nc", "ip", "netstat", "route", "ifconfig", "traceroute"]
TOOLBOX_TOOLS += ["wget", "sleep", "cat", "grep", "awk", "sed", "timeout"]
# What alpine does not have, though the tutorial's commands use some of them: the labs must not rely on them.
TOOLBOX_ABSENT = ["ss", "curl", "dig", "bash"]


def toolbox(client: docker.DockerClient, script: str, **kwargs) -> tuple[int, str]:
    """Run `sh -c SCRIPT` in the toolbox; its exit status and output (stdout and stderr)."""
    container = client.containers.run(
        image("TOOLBOX_IMAGE"), ["sh", "-c", script], detach=True, labels=TEST_LABELS, **kwargs
    )
    try:
        status = container.wait(timeout=60)["StatusCode"]
        return status, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@pytest.mark.parametrize("tool", TOOLBOX_TOOLS)
def test_toolbox_has_each_alpine_tool_and_it_runs(client: docker.DockerClient, tool: str) -> None:
    status, out = toolbox(client, f"command -v {tool} && {tool} --help")
    assert status == 0, out
    assert f"Usage: {tool}" in out or tool == "sh", out  # busybox prints its applet's usage


@pytest.mark.parametrize("tool", TOOLBOX_ABSENT)
def test_toolbox_lacks_what_alpine_lacks(client: docker.DockerClient, tool: str) -> None:
    status, out = toolbox(client, f"command -v {tool}")
    assert status != 0, f"{tool} is in the toolbox, but not in alpine:3.22: {out}"


def test_toolbox_nc_z_judges_open_and_closed_ports(client: docker.DockerClient) -> None:
    """nc -z exits 0 on a listener of ours and non-zero on a closed port. (busybox nc keeps listening
    after a connection, -lk, only when it runs a program per connection, -e.)"""
    script = (
        "nc -lk -p 3306 -e /bin/cat & "
        "for i in 1 2 3 4 5 6 7 8 9 10; do nc -z -w 1 127.0.0.1 3306 && break; sleep 0.3; done; "
        "nc -z -w 2 127.0.0.1 3306; open=$?; "
        "nc -z -w 2 127.0.0.1 3306; again=$?; "
        "nc -z -w 2 127.0.0.1 3307; closed=$?; "
        'echo "open=$open again=$again closed=$closed"'
    )
    status, out = toolbox(client, script)
    assert status == 0, out
    result = dict(word.split("=") for word in out.split() if "=" in word)
    assert result["open"] == "0" and result["again"] == "0", out  # the listener outlives a connection
    assert result["closed"] != "0", out


def test_toolbox_getent_answers_like_musl_utils(client: docker.DockerClient) -> None:
    status, out = toolbox(client, "getent hosts localhost")
    assert status == 0, out
    address, name = out.split()[:2]
    assert address in ("127.0.0.1", "::1") and name == "localhost", out
    status, out = toolbox(client, "getent ahostsv4 localhost")
    assert status == 0 and out.split()[0] == "127.0.0.1", out
    status, out = toolbox(client, "getent hosts no-such-name.invalid")
    assert status == 2, f"musl-utils' getent exits 2 when a name is not found: {status} {out}"


def test_toolbox_pings_loopback(client: docker.DockerClient) -> None:
    status, out = toolbox(client, "ping -c 1 -W 2 127.0.0.1")
    assert status == 0, out


def test_toolbox_runs_as_root_like_alpine(client: docker.DockerClient) -> None:
    status, out = toolbox(client, "id -u")
    assert (status, out.strip()) == (0, "0"), out


# --- the server images carry no network tools (as the official ones), so the labs probe from the toolbox ----

SERVER_TOOLS = {  # what the official image has that a script or learner may `docker exec`
    "NGINX_IMAGE": ["sh", "bash", "curl", "envsubst"],
    "MYSQL_IMAGE": ["sh", "bash", "mysql", "mysqladmin", "curl"],
    "POSTGRES_IMAGE": ["sh", "bash", "psql", "pg_isready", "less"],
}
NETWORK_TOOLS = ["ip", "ping", "ss", "netstat", "nc", "nslookup", "dig", "route", "ifconfig"]


@pytest.mark.parametrize("variable", sorted(SERVER_TOOLS))
def test_server_image_has_the_official_tools_and_no_network_tools(
    client: docker.DockerClient, variable: str
) -> None:
    wanted, unwanted = SERVER_TOOLS[variable], list(NETWORK_TOOLS)
    if variable == "POSTGRES_IMAGE":
        unwanted.append("ps")  # the official image (bookworm-slim) has no procps
    names = " ".join(wanted + unwanted)
    script = f'for t in {names}; do command -v "$t" >/dev/null && echo "$t"; done; true'
    out = client.containers.run(
        image(variable), [script], entrypoint=["sh", "-c"], remove=True, labels=TEST_LABELS
    ).decode()
    present = set(out.split())
    assert set(wanted) <= present, f"missing: {sorted(set(wanted) - present)}"
    assert not present & set(unwanted), f"not in the official image: {sorted(present & set(unwanted))}"


# --- the tool images: the browser and the load generator ------------------------------------------------

SITE_PAGE = (
    '<!doctype html><html><body><p id="answer">loading</p><script>fetch("/answer.json")'
    '.then((r) => r.json()).then((b) => { document.getElementById("answer").textContent = b.said; })'
    "</script></body></html>"
)


@dataclass(frozen=True)
class Site:
    network: str
    name: str  # the server container's name: its DNS name on the network
    address: str

    @property
    def url(self) -> str:
        return f"http://{self.name}:8000/"


SERVES = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=2)"


@pytest.fixture
def site(client: docker.DockerClient, runner: Runner, tmp_path: Path) -> Iterator[Site]:
    """A two-file web site (a page whose script fetches answer.json), served by the python image on a
    network of the test's own."""
    (tmp_path / "index.html").write_text(SITE_PAGE)
    (tmp_path / "answer.json").write_text('{"said": "안녕 / hello"}')
    network = client.networks.create(f"lab-test-{uuid.uuid4().hex[:8]}", labels=TEST_LABELS)
    try:
        server = runner.run(
            image("PYTHON_IMAGE"),
            name=f"lab-test-site-{uuid.uuid4().hex[:8]}",
            command=["python", "-m", "http.server", "8000"],
            working_dir="/site",
            volumes={readable_by_all(tmp_path): {"bind": "/site", "mode": "ro"}},
            network=network.name,
        )
        assert wait_until(lambda: server.exec_run(["python", "-c", SERVES]).exit_code == 0, WAIT_S)
        server.reload()
        address = server.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        yield Site(network.name, server.name, address)
    finally:
        runner.close()  # the server leaves the network before the network goes
        runner.containers.clear()
        network.remove()


def looked_up(netlog: dict) -> set[str]:
    """The host names Chromium's net log shows a resolver job for ("http://host:port" -> "host")."""
    kinds = {number: name for name, number in netlog["constants"]["logEventTypes"].items()}
    jobs = (
        e.get("params", {}).get("host")
        for e in netlog["events"]
        if kinds[e["type"]] == "HOST_RESOLVER_MANAGER_JOB"
    )
    return {re.sub(r"^\w+://|:\d+$", "", host) for host in jobs if host}


def connected_to(netlog: dict) -> set[str]:
    """The addresses (no ports) Chromium's net log shows a TCP or UDP socket connected to."""
    kinds = {number: name for name, number in netlog["constants"]["logEventTypes"].items()}
    udp_target: dict[int, str] = {}
    found = set()
    for event in netlog["events"]:
        kind, params, source = kinds[event["type"]], event.get("params", {}), event["source"]["id"]
        if kind == "TCP_CONNECT" and "remote_address" in params:
            found.add(params["remote_address"])
        elif kind == "UDP_CONNECT" and "address" in params:
            udp_target[source] = params["address"]
        elif kind == "UDP_CONNECT" and "net_error" not in params and source in udp_target:
            found.add(udp_target[source])
    return {address.rsplit(":", 1)[0] for address in found}


def test_browser_image_is_chromium_as_a_non_root_user(client: docker.DockerClient) -> None:
    result = tool_run("BROWSER_IMAGE", ["--network", "none"], ["--version"], timeout=60)
    assert result.returncode == 0 and re.match(r"Chromium \d+\.", result.stdout), result.stderr
    assert client.images.get(tool_image("BROWSER_IMAGE")).attrs["Config"]["User"] not in ("", "root", "0")


def test_browser_runs_the_pages_script_and_connects_only_to_the_page(site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)  # the browser's own user writes its net log here
    result = tool_run(
        "BROWSER_IMAGE",
        ["--network", site.network, "-v", f"{out}:/out"],
        [
            "--timeout=20000",
            "--virtual-time-budget=5000",
            "--log-net-log=/out/net.json",
            "--dump-dom",
            site.url,
        ],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '<p id="answer">안녕 / hello</p>' in result.stdout, "the page's fetch ran and filled the page"
    # Chromium asks for Google's names at start: none may be looked up, and only the page's server and
    # Docker's DNS reached.
    netlog = json.loads((out / "net.json").read_text())
    assert looked_up(netlog) == {site.name}
    assert connected_to(netlog) <= {site.address, "127.0.0.11"}


def test_wrk_image_loads_a_server_and_counts_its_answers(client: docker.DockerClient, site: Site) -> None:
    result = tool_run(
        "WRK_IMAGE", ["--network", site.network], ["-t1", "-c4", "-d2s", site.url + "answer.json"], timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(re.search(r"^\s*(\d+) requests in", result.stdout, re.M).group(1)) > 0, result.stdout
    assert "Socket errors" not in result.stdout and "Non-2xx" not in result.stdout, result.stdout
    assert client.images.get(tool_image("WRK_IMAGE")).attrs["Config"]["User"] not in ("", "root", "0")


def test_a_second_run_of_the_kit_rebuilds_nothing_and_exports_the_same() -> None:
    """tools/offline-images.sh run again (CI has just run it): every image it names keeps its ID, and it
    exports the names this run already uses. Online, with the official images, the kit is not in use."""
    variables = ["PYTHON_IMAGE", "MYSQL_IMAGE", "POSTGRES_IMAGE", "NGINX_IMAGE", "TOOLBOX_IMAGE"]
    variables += ["NODE_IMAGE", "NODEJS_IMAGE", "BROWSER_IMAGE", "WRK_IMAGE"]
    if not all(image(v).startswith("lab-offline/") for v in variables):
        pytest.skip("the image variables name the official images here: the offline kit is not in use")

    def ids() -> list[str]:
        seen = subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Id}}", *(image(v) for v in variables)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert seen.returncode == 0, seen.stderr
        return seen.stdout.split()

    before = ids()
    again = subprocess.run(
        [str(REPO / "tools" / "offline-images.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    assert again.returncode == 0, again.stderr[-3000:]
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in again.stdout.splitlines() if line.strip()
    )
    assert {v: exported.get(v) for v in variables} == {v: image(v) for v in variables}
    assert ids() == before, "a second run rebuilt an image"
