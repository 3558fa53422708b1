"""Helpers for the end-to-end tests: run the lab's scripts and docker, and look at what they left."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from labenv import LAB_LABEL, REPO
from toolimages import tool_run


def script(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a script of the lab: NAME under scripts/ ("run-3tier.sh"), or a path from the repo root
    ("extras/swarm/run-swarm.sh")."""
    path = REPO / name if "/" in name else REPO / "scripts" / name
    return subprocess.run([str(path), *args], capture_output=True, text=True, timeout=timeout, check=False)


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)


def labelled(kind: str) -> list[str]:
    cmd = [kind, "ls", "-q", "--filter", f"label={LAB_LABEL}"]
    if kind == "container":
        cmd = ["ps", "-aq", "--filter", f"label={LAB_LABEL}"]
    return docker(*cmd).stdout.split()


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def secret(name: str) -> str:
    return (REPO / "db" / "secrets" / name).read_text()


def check_line(output: str, claim: str) -> str:
    """The CHECK line of a script's output that contains `claim`; it must say PASS."""
    line = next((ln for ln in output.splitlines() if "CHECK" in ln and claim in ln), None)
    assert line is not None, f"no CHECK line about {claim!r}:\n{output}"
    assert "CHECK PASS" in line, f"{line}\n--- whole output\n{output}"
    return line


def inspect(name: str) -> dict[str, Any]:
    """`docker inspect NAME`, parsed."""
    result = docker("inspect", name)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]


def secrets_in_inspect(*names: str) -> list[str]:
    """Which containers show a password value (db/secrets/*) anywhere in `docker inspect`: environment,
    command, labels. The lab passes passwords as files, so the answer must be none."""
    passwords = [secret("root_password"), secret("app_password")]
    assert all(passwords), "an empty password file in db/secrets: nothing to look for"
    return [name for name in names if any(pw in json.dumps(inspect(name)) for pw in passwords)]


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    uids: tuple[int, ...]  # real, effective, saved, filesystem
    cmdline: str


# Every process's /proc/PID/status and command line, from inside the container (the images have no ps).
_PROCS_SH = """for p in /proc/[0-9]*; do
  [ -r "$p/status" ] || continue
  echo "@@pid ${p#/proc/}"; cat "$p/status" 2>/dev/null
  printf '@@cmd '; tr '\\0' ' ' <"$p/cmdline" 2>/dev/null; echo
done"""


def processes(container: str) -> list[Proc]:
    """The processes running in a container, as its own /proc sees them (PIDs are the container's)."""
    result = docker("exec", container, "sh", "-c", _PROCS_SH)
    assert result.returncode == 0, result.stderr
    found = []
    for block in result.stdout.split("@@pid ")[1:]:
        ppid = re.search(r"^PPid:\s*(\d+)", block, re.M)
        uids = re.search(r"^Uid:\s*([\d\s]+)$", block, re.M)
        cmd = re.search(r"^@@cmd (.*)$", block, re.M)
        if ppid and uids and cmd:  # a process that ended while it was read has no status
            pid = int(block.split("\n", 1)[0])
            found.append(
                Proc(pid, int(ppid.group(1)), tuple(map(int, uids.group(1).split())), cmd.group(1).strip())
            )
    return found


@dataclass(frozen=True)
class WrkResult:
    requests: int
    non2xx: int  # responses that were not 2xx or 3xx
    socket_errors: int  # connect, read, write and timeout errors together
    output: str


def wrk(url: str, connections: int, seconds: int, timeout: int) -> WrkResult:
    """Run wrk (WRK_IMAGE, in a container) against URL (127.0.0.1 only) and read what it counted.

    The container is on the host's network, so 127.0.0.1 is the host's loopback: wrk loads the published
    port, the path a learner's browser takes (docker-proxy included), whichever layout publishes it."""
    assert url.startswith("http://127.0.0.1:"), url
    threads = min(2, connections)
    result = tool_run(
        "WRK_IMAGE",
        ["--network", "host"],
        [f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", url],
        timeout=seconds + 60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    requests = re.search(r"^\s*(\d+) requests in", out, re.M)
    assert requests, out
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(requests.group(1)),
        non2xx=int(non2xx.group(1)) if non2xx else 0,  # wrk prints the line only when there were any
        socket_errors=sum(map(int, errors.groups())) if errors else 0,  # likewise
        output=out,
    )


def down_all_layouts() -> None:
    """Remove both layouts, by hand and through compose, with their volumes (scoped: not scripts/cleanup.sh,
    which removes everything labelled and has its own test)."""
    layouts = (["run-3tier.sh"], ["run-webapp.sh"], ["run-compose.sh", "3tier"], ["run-compose.sh", "webapp"])
    for args in layouts:
        assert_ok(script(args[0], *args[1:], "--down", "--volumes"))
