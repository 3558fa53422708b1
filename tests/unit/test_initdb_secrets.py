"""db/*/initdb/10-app-account.sh never put a password on a command line (`ps` shows every process's
arguments to every user of the container): each runs here with a recording `psql` / `mysql` first on PATH,
which writes down its arguments and its standard input. The SQL must still carry the password to the server:
PostgreSQL's through psql reading the file itself, MySQL's in the SQL on standard input.
The real servers run these scripts in the integration and end-to-end tests (the app logs in with the role).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

PASSWORD = "s3cret-Not-On-Argv"
ROOT_PASSWORD = "r00t-Not-On-Argv"


def run_with_recorder(tmp_path: Path, engine: str, tool: str) -> tuple[list[str], str]:
    """Run ENGINE's 10-app-account.sh with a TOOL on PATH that records its argv and stdin; return both."""
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / tool).write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/argv"\ncat > "{tmp_path}/stdin"\n'
    )
    (shims / tool).chmod(0o755)
    secret = tmp_path / "app_password"
    secret.write_text(PASSWORD)
    env = {
        **os.environ,
        "PATH": f"{shims}:{os.environ['PATH']}",
        "APP_DB_PASSWORD_FILE": str(secret),
        "MYSQL_ROOT_PASSWORD": ROOT_PASSWORD,
    }
    script = REPO / "db" / engine / "initdb" / "10-app-account.sh"
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return (tmp_path / "argv").read_text().splitlines(), (tmp_path / "stdin").read_text()


def test_postgres_app_password_is_read_by_psql_not_passed_to_it(tmp_path: Path) -> None:
    argv, stdin = run_with_recorder(tmp_path, "postgres", "psql")
    assert "--no-password" in argv, argv  # the recorder saw the real call
    assert [a for a in argv if PASSWORD in a] == []
    # psql runs `cat "$APP_DB_PASSWORD_FILE"` itself (a backquoted \set): the file's path, not its content
    assert '\\set password `cat "$APP_DB_PASSWORD_FILE"`' in stdin
    assert "PASSWORD :'password'" in stdin
    assert PASSWORD not in stdin


def test_mysql_passwords_go_through_the_environment_and_stdin_only(tmp_path: Path) -> None:
    argv, stdin = run_with_recorder(tmp_path, "mysql", "mysql")
    assert "-uroot" in argv, argv
    assert [a for a in argv if PASSWORD in a or ROOT_PASSWORD in a] == []
    assert f"IDENTIFIED BY '{PASSWORD}'" in stdin
