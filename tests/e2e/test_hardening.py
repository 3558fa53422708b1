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

from collections.abc import Iterator

import pytest
import requests
from scriptrun import assert_ok, docker, inspect, processes, script, secrets_in_inspect, wrk

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
