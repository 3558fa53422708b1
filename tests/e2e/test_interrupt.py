"""Ctrl-C and a timeout midway: each script removes what it made, and puts back what it changed.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group (the script, its docker commands, its
load generator); a test's timeout sends SIGTERM to the group (scriptrun.script). Each case waits until the
script has made something (the positive precondition: there is something to clean up), then signals the
group as the terminal would, and checks what is left once the script has exited.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator

import pytest
from labenv import REPO, wait_until
from scriptrun import assert_ok, docker, labelled, script

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_layouts")]

EXIT_BOUND_S = 120  # the script's own cleanup (its EXIT trap) removes containers and networks


def interrupt_when(
    command: list[str], ready: Callable[[], object], sig: int, bound_s: float
) -> subprocess.CompletedProcess[str]:
    """command in a process group of its own; once ready() holds, sig to the group; then wait for its exit."""
    # errors="replace": a process killed midway may leave half a multibyte character (Korean step titles)
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        try:
            became = wait_until(lambda: proc.poll() is not None or ready(), bound_s)
            out.seek(0)
            assert became and proc.poll() is None, (
                f"{command[0]} ended (exit {proc.returncode}) or was not there in {bound_s} s:\n{out.read()}"
            )
            os.killpg(proc.pid, sig)
            rc = proc.wait(timeout=EXIT_BOUND_S)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out.seek(0)
        return subprocess.CompletedProcess(command, rc, out.read(), "")


def labelled_now() -> dict[str, list[str]]:
    found = {kind: labelled(kind) for kind in ("container", "network", "volume")}
    return {kind: ids for kind, ids in found.items() if ids}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "timeout"])
def test_lab_section_stopped_midway_removes_its_containers(sig: int) -> None:
    assert labelled_now() == {}, "the test needs an engine with nothing of the lab's on it"
    # the custom-network section: its first containers exist a few seconds in
    result = interrupt_when(
        [str(REPO / "scripts" / "lab.sh"), "custom"],
        lambda: labelled("container"),
        sig,
        120,
    )
    assert result.returncode != 0, result.stdout
    assert labelled_now() == {}, f"lab.sh left objects after {signal.Signals(sig).name}:\n{result.stdout}"


def test_compare_stopped_during_its_first_build_removes_it() -> None:
    result = interrupt_when(
        [str(REPO / "scripts" / "compare.sh"), "--layout", "webapp", "--db", "mysql"],
        lambda: docker("ps", "-q", "--filter", "label=io.docker-net-lab=webapp").stdout.strip(),
        signal.SIGINT,
        240,
    )
    assert result.returncode == 130, result.stdout
    assert "cleaning up: removing both builds" in result.stdout
    assert labelled_now() == {}, result.stdout


@pytest.fixture
def three_tier() -> Iterator[None]:
    assert_ok(script("run-3tier.sh", "--db", "mysql", "--port", "18280"))
    try:
        yield
    finally:
        assert_ok(script("run-3tier.sh", "--down", "--volumes"))


@pytest.mark.slow
def test_drill_stopped_while_the_database_is_frozen_unpauses_it(three_tier: None) -> None:
    def paused() -> bool:
        return docker("inspect", "-f", "{{.State.Paused}}", "database").stdout.strip() == "true"

    running_before = docker("ps", "-q", "--filter", "label=io.docker-net-lab").stdout.split()
    result = interrupt_when(
        [str(REPO / "extras" / "drills" / "drill.sh"), "db-freeze"], paused, signal.SIGINT, 180
    )
    assert result.returncode != 0, result.stdout
    state = docker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "database").stdout.strip()
    assert state == "running false", f"database after Ctrl-C in db-freeze: {state}\n{result.stdout}"
    # the drill's own helpers (its load, placeholders) are gone; the 3-tier it used is as it was
    assert sorted(docker("ps", "-q", "--filter", "label=io.docker-net-lab").stdout.split()) == sorted(
        running_before
    )
    load = subprocess.run(["pgrep", "-f", "extras/drills/steady_load.py"], capture_output=True, check=False)
    assert load.returncode == 1, f"the drill's load generator still runs: {load.stdout!r}"
