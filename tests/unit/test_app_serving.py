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


def on_starting():
    """gunicorn.conf.py's hook, loaded in-process under its package's name (so that mutation testing, which
    cannot follow the gunicorn subprocess above, judges it too)."""
    spec = importlib.util.spec_from_file_location("app_server.gunicorn.conf", APP / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.on_starting


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
