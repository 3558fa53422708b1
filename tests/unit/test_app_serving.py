"""How app_server is served: gunicorn's start-up check, and the settings that must agree across files."""

from __future__ import annotations

import importlib.util
import os
import re
import runpy
import subprocess
import sys

import pytest
from labenv import REPO

from app_server.db import POOL_MAX_SIZE

pytestmark = pytest.mark.unit

APP = REPO / "app_server"
GUNICORN_CONF = runpy.run_path(str(APP / "gunicorn.conf.py"))


def run_gunicorn(**env: str) -> subprocess.CompletedProcess[str]:
    """gunicorn as the image runs it, with the DB_* variables replaced by `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "app_server/gunicorn.conf.py",
            "app_server:create_app()",
        ],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"DB_ENGINE": "oracle", "DB_PASSWORD": "x"}, "DB_ENGINE"), ({}, "DB_PASSWORD")],
    ids=["bad engine", "no password"],
)
def test_a_bad_setting_stops_gunicorn_with_one_line_and_exit_1(env, variable) -> None:
    result = run_gunicorn(**env)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1, result.stderr
    assert variable in errors[0]
    assert "e.g. -e " in errors[0]
    assert "Traceback" not in result.stderr


def test_gunicorn_binds_the_port_the_dockerfile_exposes() -> None:
    exposed = re.findall(r"^EXPOSE\s+(\d+)\s*$", (APP / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert exposed == ["3000"]  # app.js's port
    assert GUNICORN_CONF["bind"] == "0.0.0.0:3000"


def test_the_postgres_pool_has_one_connection_per_gunicorn_thread() -> None:
    assert GUNICORN_CONF["threads"] == POOL_MAX_SIZE


class Server:
    """What on_starting uses of gunicorn's arbiter: its logger."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.log = self

    def error(self, message: str, *args: object) -> None:
        self.errors.append(message % args)


def conf_module():
    """gunicorn.conf.py, loaded in-process under its package's name."""
    spec = importlib.util.spec_from_file_location("app_server.gunicorn.conf", APP / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_starting():
    """gunicorn.conf.py's hook, loaded in-process under its package's name (so that mutation testing, which
    cannot follow the gunicorn subprocess above, judges it too)."""
    return conf_module().on_starting


def test_on_starting_reports_a_bad_setting_in_one_line_and_exits_1(monkeypatch) -> None:
    for name in [k for k in os.environ if k.startswith(("DB_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DB_ENGINE", "oracle")
    monkeypatch.setenv("DB_PASSWORD", "x")
    server = Server()
    with pytest.raises(SystemExit) as stopped:
        on_starting()(server)
    assert stopped.value.code == 1
    assert stopped.value.__cause__ is None and stopped.value.__suppress_context__  # `from None`: no traceback
    assert server.errors == [
        'DB_ENGINE must be "mysql" or "postgres", not "oracle": e.g. -e DB_ENGINE=postgres'
    ]


def test_on_starting_lets_good_settings_through(monkeypatch) -> None:
    for name in [k for k in os.environ if k.startswith(("DB_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DB_PASSWORD", "x")
    server = Server()
    assert on_starting()(server) is None
    assert server.errors == []


def test_gunicorn_keeps_idle_connections_longer_than_nginx() -> None:
    """nginx closes an idle kept connection first (its upstream keepalive_timeout), never gunicorn."""
    template = (REPO / "nginx" / "templates" / "default.conf.template").read_text()
    upstream = template[template.index("upstream app_server {") :]
    upstream = upstream[: upstream.index("\n}")]
    nginx_idle = int(re.search(r"^\s*keepalive_timeout (\d+)s;", upstream, re.M).group(1))
    assert re.search(r"^\s*server \$\{BACKEND_HOST\}:\$\{BACKEND_PORT\} resolve;", upstream, re.M)
    assert re.search(r"^\s*keepalive \d+;", upstream, re.M)
    assert GUNICORN_CONF["keepalive"] > nginx_idle


@pytest.mark.parametrize("raw", ["x", "-1", "61", "nan"])
def test_a_bad_drain_stops_start_up_in_one_line(monkeypatch, raw: str) -> None:
    for name in [k for k in os.environ if k.startswith(("DB_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DB_PASSWORD", "x")
    monkeypatch.setenv("DRAIN_SECONDS", raw)
    server = Server()
    with pytest.raises(SystemExit) as stopped:
        on_starting()(server)
    assert stopped.value.code == 1
    assert server.errors == [
        f'DRAIN_SECONDS must be seconds from 0 to 60, e.g. -e DRAIN_SECONDS=5 (got "{raw}")'
    ]


@pytest.mark.parametrize(("raw", "seconds"), [(None, 0.0), ("", 0.0), ("0", 0.0), ("5", 5.0), ("60", 60.0)])
def test_drain_seconds_reads_the_variable(raw: str | None, seconds: float) -> None:
    environ = {} if raw is None else {"DRAIN_SECONDS": raw}
    assert conf_module().drain_seconds(environ) == seconds


class Arbiter(Server):
    def info(self, message: str, *args: object) -> None:
        self.errors.append("info: " + message % args)


def test_without_a_drain_sigterm_is_gunicorns_own(monkeypatch) -> None:
    monkeypatch.delenv("DRAIN_SECONDS", raising=False)
    server = Arbiter()
    conf_module().when_ready(server)
    assert "handle_term" not in vars(server)


def test_a_drain_serves_on_then_stops_gracefully(monkeypatch) -> None:
    """SIGTERM with DRAIN_SECONDS=5: the master waits 5 s (its workers go on serving), then raises
    StopIteration, which is how gunicorn's own SIGTERM handler starts the graceful stop."""
    module = conf_module()
    slept: list[float] = []
    monkeypatch.setattr(module.time, "sleep", slept.append)
    monkeypatch.setenv("DRAIN_SECONDS", "5")
    server = Arbiter()
    module.when_ready(server)
    assert slept == []
    with pytest.raises(StopIteration):
        server.handle_term()
    assert slept == [5.0]
    assert server.errors == ["info: SIGTERM: serving on for 5.0 s (DRAIN_SECONDS) before the graceful stop"]
