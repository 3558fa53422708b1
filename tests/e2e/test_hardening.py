"""Hardening checks on the 3-tier, built by hand and through compose, on MySQL.

One layout is up at a time (a module fixture per layout, removed with its data after its tests):
`scripts/run-3tier.sh --db mysql --port P`, then `scripts/run-compose.sh 3tier --db mysql --port P`.

What is checked elsewhere is not repeated here: the scripts' own CHECK lines (isolation, "publishes no
port") in test_run_3tier.py and test_compose.py, and no password in `docker inspect` on the by-hand layout
(test_run_3tier.py, both engines) and the PostgreSQL compose layout (test_compose.py); the MySQL compose
layout is checked here. The web tier's Server header is checked on nginx alone in
tests/integration/test_web_tier.py; here on the layouts, behind which the app really answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from scriptrun import assert_ok, docker, inspect, processes, script, secrets_in_inspect, wait_healthy, wrk

# slow: both 3-tier builds, by hand and through compose, come up first (about 100 s)
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WEB_PORT = 18290
LAYOUTS = {"by-hand": ["run-3tier.sh"], "compose": ["run-compose.sh", "3tier"]}
BASE = f"http://127.0.0.1:{WEB_PORT}"


def up(layout: str, *extra: str) -> None:
    command = LAYOUTS[layout]
    assert_ok(script(command[0], *command[1:], "--db", "mysql", "--port", str(WEB_PORT), *extra))


@pytest.fixture(scope="module", params=list(LAYOUTS))
def layout(request: pytest.FixtureRequest, no_layouts: None) -> Iterator[str]:
    """The 3-tier built one way; removed, volumes included, after the tests that use it."""
    command = LAYOUTS[request.param]
    try:
        up(request.param)
        yield request.param
    finally:
        assert_ok(script(command[0], *command[1:], "--down", "--volumes"))


def test_only_web_server_is_published_and_on_loopback(layout: str) -> None:
    for name in ("database", "app-server"):
        assert docker("port", name).stdout == "", f"{name} publishes a port"
        host_config = inspect(name)["HostConfig"]
        assert not host_config["PortBindings"], f"{name}: {host_config['PortBindings']}"
        assert host_config["PublishAllPorts"] is False, name
    web = inspect("web-server")
    assert web["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(WEB_PORT)}]
    }
    assert docker("port", "web-server").stdout.strip() == f"80/tcp -> 127.0.0.1:{WEB_PORT}"


def test_app_and_nginx_workers_run_as_non_root(layout: str) -> None:
    gunicorn = [p for p in processes("app-server") if "gunicorn" in p.cmdline]
    master = [p for p in gunicorn if p.pid == 1]
    workers = [p for p in gunicorn if p.ppid == 1]
    assert len(master) == 1 and len(workers) >= 1, gunicorn  # the master is PID 1 (exec-form CMD)
    for proc in gunicorn:
        assert 0 not in proc.uids, f"gunicorn runs with uid 0: {proc}"
    nginx = processes("web-server")
    nginx_workers = [p for p in nginx if p.cmdline.startswith("nginx: worker process")]
    assert nginx_workers, nginx
    for proc in nginx_workers:
        assert 0 not in proc.uids, f"an nginx worker runs with uid 0: {proc}"
    # the master binds port 80 as root (nginx/Dockerfile says why) and only the workers serve requests
    assert next(p.cmdline for p in nginx if p.pid == 1).startswith("nginx: master process")


# What the kernel applies to each tier's PID 1: (capability bounding set, memory bytes, pids), as
# scripts/lib/objects.sh sets it; 0xc1 = CHOWN | SETGID | SETUID.
CONFINEMENT = {
    "web-server": (0xC1, 128 << 20, 64),
    "app-server": (0, 256 << 20, 128),
    "database": (0, 1 << 30, 512),
}
CGROUP_LIMITS = (
    'echo "$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)'
    ' $(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)"'
)


def proc_status(name: str) -> dict[str, str]:
    result = docker("exec", name, "cat", "/proc/1/status")
    assert result.returncode == 0, result.stderr
    return dict(line.split(":\t", 1) for line in result.stdout.splitlines() if ":\t" in line)


@pytest.mark.parametrize("name", list(CONFINEMENT))
def test_each_tier_is_confined_as_the_kernel_sees_it(layout: str, name: str) -> None:
    caps, memory, pids = CONFINEMENT[name]
    status = proc_status(name)
    assert int(status["CapBnd"], 16) == caps, status["CapBnd"]
    assert int(status["CapEff"], 16) & ~caps == 0, status["CapEff"]
    assert status["NoNewPrivs"] == "1"
    mounts = docker("exec", name, "cat", "/proc/1/mounts")
    assert mounts.returncode == 0, mounts.stderr
    root = [line.split() for line in mounts.stdout.splitlines() if line.split()[1] == "/"]
    assert len(root) == 1 and root[0][3].split(",")[0] == "ro", root
    limits = docker("exec", name, "sh", "-c", CGROUP_LIMITS)
    assert limits.returncode == 0, limits.stderr
    assert limits.stdout.split() == [str(memory), str(pids)]
    assert inspect(name)["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    if name == "web-server":  # one connection to app-server per request: TIME_WAIT ports are reused
        reuse = docker("exec", name, "cat", "/proc/sys/net/ipv4/tcp_tw_reuse")
        assert (reuse.returncode, reuse.stdout.strip()) == (0, "1"), reuse


def test_the_database_runs_as_its_image_user_and_cannot_write_its_root(layout: str) -> None:
    assert proc_status("database")["Uid"].split() == ["999"] * 4
    # the read-only root refuses a write even where uid 999 owns the folder (/var/lib/mysql-files, MySQL's
    # secure_file_priv), and the tmpfs beside it takes one (the positive case first)
    assert docker("exec", "database", "sh", "-c", "echo x >/tmp/lab-probe").returncode == 0
    refused = docker("exec", "database", "sh", "-c", "echo x >/var/lib/mysql-files/lab-probe")
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr, refused


def default_route(name: str) -> bool:
    table = docker("exec", name, "cat", "/proc/net/route")
    assert table.returncode == 0 and table.stdout.startswith("Iface"), table
    return any(line.split()[1] == "00000000" for line in table.stdout.splitlines()[1:])


def test_backend_net_is_internal_and_app_server_reaches_both_sides(layout: str) -> None:
    assert docker("network", "inspect", "-f", "{{.Internal}}", "backend-net").stdout.strip() == "true"
    assert docker("network", "inspect", "-f", "{{.Internal}}", "frontend-net").stdout.strip() == "false"
    assert default_route("app-server"), "app-server has no default route (frontend-net's gateway)"
    assert not default_route("database"), "the database has a route out of backend-net"
    for host, port in (("web-server", 80), ("database", 3306)):
        probe = docker(
            "exec",
            "app-server",
            "python",
            "-c",
            f"import socket; socket.create_connection(({host!r}, {port}), timeout=3).close()",
        )
        assert probe.returncode == 0, (host, probe.stderr)


def test_a_tier_that_exits_on_its_own_is_restarted(layout: str) -> None:
    """restart unless-stopped: gunicorn stopped from inside (SIGTERM to PID 1) comes back by itself."""
    before = inspect("app-server")
    assert docker("exec", "app-server", "sh", "-c", "kill -TERM 1").returncode == 0
    deadline = time.monotonic() + 60
    while inspect("app-server")["State"]["StartedAt"] == before["State"]["StartedAt"]:
        assert time.monotonic() < deadline, "app-server was not restarted within 60 s"
        time.sleep(0.5)
    after = inspect("app-server")
    assert after["Id"] == before["Id"] and after["RestartCount"] == before["RestartCount"] + 1
    wait_healthy("app-server", timeout=60)
    assert requests.get(f"{BASE}/api/", timeout=10).status_code == 200


@pytest.mark.parametrize("layout", ["compose"], indirect=True)
def test_no_password_in_docker_inspect_on_compose_with_mysql(layout: str) -> None:
    assert secrets_in_inspect("database", "app-server", "web-server") == []


@pytest.mark.parametrize("path", ["/", "/api/", "/no-such-page", "/api/no-such-route"])
def test_server_header_names_no_version(layout: str, path: str) -> None:
    reply = requests.get(BASE + path, timeout=10)
    assert reply.status_code == (404 if "no-such" in path else 200), reply.text
    assert reply.headers["Server"] == "nginx"
    assert "nginx/" not in reply.text


@pytest.mark.slow
def test_sustained_load_through_nginx_has_no_error(layout: str) -> None:
    # --timeout 15s is longer than nginx's own proxy_read_timeout (10 s): a slow app shows up as nginx's 504
    # (a non-2xx counted below), never as wrk giving up first.
    result = wrk(f"{BASE}/api/", connections=64, seconds=30, timeout=15)
    assert result.requests > 0, result.output
    assert (result.non2xx, result.socket_errors) == (0, 0), result.output


@pytest.mark.parametrize("layout", ["by-hand"], indirect=True)
def test_public_publishes_on_every_interface_and_warns(layout: str) -> None:
    public = script("run-3tier.sh", "--db", "mysql", "--port", str(WEB_PORT), "--public")
    try:
        assert_ok(public)
        assert "--public: port" in public.stderr and "every interface" in public.stderr
        bindings = inspect("web-server")["HostConfig"]["PortBindings"]
        assert bindings == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(WEB_PORT)}]}
        # still answers on loopback (the lab sends traffic nowhere else)
        assert requests.get(f"{BASE}/api/", timeout=10).status_code == 200
    finally:
        up(layout)  # back on 127.0.0.1 for whatever runs next on this layout
    assert inspect("web-server")["HostConfig"]["PortBindings"]["80/tcp"][0]["HostIp"] == "127.0.0.1"


def test_running_the_layout_again_recreates_nothing(layout: str) -> None:
    """A second run finds everything as it should be: the same containers (IDs), not even restarted."""
    names = ("database", "app-server", "web-server")

    def state() -> list[str]:
        seen = docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}} {{.State.Running}}", *names)
        assert seen.returncode == 0, seen.stderr
        return seen.stdout.splitlines()

    before = state()
    assert len(before) == 3 and all(line.endswith(" true") for line in before), before
    up(layout)
    assert state() == before
