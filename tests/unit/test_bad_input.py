"""Bad input, tried on every script that takes options: each case exits 2 with the script's usage on stderr,
and calls no docker command at all (a `docker` on PATH that records each call and fails stands in for the
engine: nothing can be created, looked up or removed before the input is judged)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

PORTS = ["0", "70000", "8a"]

# script -> the argument lists that must be refused
CASES: dict[str, list[list[str]]] = {
    "scripts/run-3tier.sh": [
        ["--bogus"],
        ["--port"],
        *[["--port", p] for p in PORTS],
        ["--db", "oracle"],
        ["--db"],
        ["--volumes"],
    ],
    "scripts/run-webapp.sh": [["--bogus"], ["--port"], *[["--port", p] for p in PORTS], ["--db", "oracle"]],
    "scripts/run-compose.sh": [
        [],
        ["my layout"],
        ["3tier", "--bogus"],
        *[["3tier", "--port", p] for p in PORTS],
        ["webapp", "--db", "oracle"],
        ["3tier", "--file"],
    ],
    "scripts/compare.sh": [
        ["--bogus"],
        ["--layout"],
        ["--layout", "oracle"],
        ["--db", "oracle"],
        ["--port", "80"],
    ],
    "scripts/check-mine.sh": [[], ["my layout"], ["webapp", "--db", "oracle"], ["3tier", "--bogus"]],
    "scripts/cleanup.sh": [["--bogus"]],
    "scripts/lab.sh": [["--bogus"], ["no such"]],
    "scripts/troubleshoot.sh": [["--bogus"], [], ["my container"]],
    "scripts/topology.py": [["--bogus"], ["draw", "oracle"]],
    "extras/bench/bench.sh": [
        ["--bogus"],
        *[["--port", p] for p in PORTS],
        ["--db", "oracle"],
        ["--duration", "0"],
        ["--connections", "8a"],
    ],
    "extras/cluster/sim-cluster.sh": [
        ["--bogus"],
        ["--nodes", "9"],
        *[["--port", p] for p in PORTS],
        ["--db", "oracle"],
    ],
    "extras/drills/drill.sh": [
        [],
        ["db restart"],
        ["db-restart", "--db", "oracle"],
        *[["db-restart", "--port", p] for p in PORTS],
        ["db-restart", "--bogus"],
    ],
    "extras/swarm/run-swarm.sh": [
        ["--bogus"],
        *[["--port", p] for p in PORTS],
        ["--mode", "x"],
        ["--db", "oracle"],
    ],
    "tools/offline-images.sh": [["--bogus"]],
    "tools/screenshot.sh": [["--bogus"], ["--size", "10"], ["--port", "8a"]],
}

PARAMS = [
    pytest.param(s, a, id=f"{s.split('/')[-1]}:{' '.join(a) or '(none)'}")
    for s, cases in CASES.items()
    for a in cases
]


def usage_line(script: str) -> str:
    """The start of SCRIPT's usage as it prints it: `Usage: PATH` from its header (the shell scripts), or the
    first command of its docstring (topology.py)."""
    text = (REPO / script).read_text(encoding="utf-8")
    if script.endswith(".py"):
        return f"python3 {script} "
    found = re.search(r"^# (Usage: \S+)", text, re.M)
    assert found, f"{script} has no '# Usage:' line in its header"
    return found.group(1)


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
    command = [sys.executable, str(REPO / script)] if script.endswith(".py") else ["bash", str(REPO / script)]
    result = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 2, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert usage_line(script) in result.stderr, f"no usage on stderr:\n{result.stderr}"
    assert not log.exists(), f"docker was called before the input was judged:\n{log.read_text()}"
