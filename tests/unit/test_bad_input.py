"""Bad input, tried on every script that takes options: each case exits 2 with the script's usage on stderr,
and calls no docker command at all (a `docker` on PATH that records each call and fails stands in for the
engine: nothing can be created, looked up or removed before the input is judged)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from badinput import PARAMS, command, usage_line
from labenv import REPO

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def tripwire(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a `docker` that appends its arguments to calls.log and fails."""
    folder = tmp_path_factory.mktemp("tripwire")
    docker = folder / "docker"
    docker.write_text(f'#!/bin/sh\necho "docker $*" >> "{folder}/calls.log"\nexit 1\n', encoding="utf-8")
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    return folder


def test_the_tripwire_sees_a_script_that_calls_docker(tripwire: Path) -> None:
    """The precondition of the test below: a script run that way with good input reaches the tripwire."""
    env = {**os.environ, "PATH": f"{tripwire}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(REPO / "scripts/cleanup.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    assert (tripwire / "calls.log").read_text().startswith("docker "), result.stderr
    (tripwire / "calls.log").unlink()


@pytest.mark.parametrize(("script", "args"), PARAMS)
def test_bad_input_exits_2_with_usage_and_touches_nothing(
    tripwire: Path, script: str, args: list[str]
) -> None:
    log = tripwire / "calls.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{tripwire}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    result = subprocess.run(
        [*command(script), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 2, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert usage_line(script) in result.stderr, f"no usage on stderr:\n{result.stderr}"
    assert not log.exists(), f"docker was called before the input was judged:\n{log.read_text()}"
