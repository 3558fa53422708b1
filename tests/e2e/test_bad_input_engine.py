"""Bad input on the real engine: every case of tests/badinput.py exits 2 with the script's usage, and the
engine holds exactly the lab's labelled containers, networks and volumes it held before (none made, none
removed). The unit tier proves the same cases never call docker at all; this, where a docker answers."""

from __future__ import annotations

import os
import subprocess

import pytest
from badinput import PARAMS, command, usage_line
from labenv import LAB_LABEL
from scriptrun import docker

pytestmark = pytest.mark.e2e


def labelled_objects() -> dict[str, list[str]]:
    found = {}
    for kind in ("container", "network", "volume"):
        listed = docker(
            kind, "ls", *(["-a"] if kind == "container" else []), "-q", "--filter", f"label={LAB_LABEL}"
        )
        assert listed.returncode == 0, listed.stderr
        found[kind] = sorted(listed.stdout.split())
    return found


@pytest.mark.parametrize(("script", "args"), PARAMS)
def test_bad_input_on_the_engine_exits_2_and_changes_nothing(script: str, args: list[str]) -> None:
    before = labelled_objects()
    result = subprocess.run(
        [*command(script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert usage_line(script) in result.stderr, f"no usage on stderr:\n{result.stderr}"
    assert labelled_objects() == before, "the lab's objects changed although the input was refused"
