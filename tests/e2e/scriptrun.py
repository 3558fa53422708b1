"""Helpers for the end-to-end tests: run the lab's scripts and docker, and look at what they left."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage_doc import unran
from labenv import IMAGE_DEFAULTS, LAB_LABEL, REPO, TEST_LABEL
from toolimages import tool_run

CLEANUP_S = 120  # a script's EXIT trap after SIGTERM: removing a lab section's containers, leaving a swarm


def script(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a script of the lab: NAME under scripts/ ("run-3tier.sh"), or a path from the repo root
    ("extras/swarm/run-swarm.sh")."""
    path = REPO / name if "/" in name else REPO / "scripts" / name
    return run_group([str(path), *args], timeout)


def stop_group(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM to proc's process group, SIGKILL CLEANUP_S later if it is still there: what it printed."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=CLEANUP_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()


def run_group(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """command in a process group of its own. At the timeout (or when the test is interrupted) the whole
    group gets SIGTERM, as a terminal's Ctrl-C reaches every process of a script: the script's EXIT trap
    removes what it made (a lab section its containers, overlay its swarm) instead of leaving it to the next
    test. SIGKILL only if it has not exited CLEANUP_S later."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            out, err = stop_group(proc)
            raise subprocess.TimeoutExpired(command, timeout, output=out, stderr=err) from None
        except BaseException:
            stop_group(proc)
            raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)


def engine_has_ipvs() -> bool:
    """Whether the engine's kernel has IPVS (Swarm's VIPs and mesh need it), read where the containers run,
    not on the pytest host: /proc/net/ip_vs in a fresh toolbox container (the overlay lab's own test)."""
    probe = docker(
        "run", "--rm", "--pull", "never", "--network", "none", "--label", f"{TEST_LABEL}=1",
        os.environ.get("TOOLBOX_IMAGE") or IMAGE_DEFAULTS["TOOLBOX_IMAGE"], "test", "-e", "/proc/net/ip_vs",
    )  # fmt: skip
    assert probe.returncode in (0, 1), f"the IPVS probe did not run: {probe.stderr}"
    return probe.returncode == 0


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


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NUMBERED = re.compile(r"^  \((\d+)\) \$ (.*)$")


def printed_commands(output: str, raw: bool = False) -> list[list[str]]:
    """The numbered commands a script printed (`  (N) $ docker run -d \\` and its continuation lines), each
    as its lines without the `  (N) $ ` prefix: exactly what a learner would type, in order. raw=True: the
    lines as printed, prefix and indentation included."""
    commands: list[list[str]] = []
    lines = _ANSI.sub("", output).splitlines()
    i = 0
    while i < len(lines):
        match = _NUMBERED.match(lines[i])
        i += 1
        if not match:
            continue
        cmd = [lines[i - 1] if raw else match.group(2)]
        while cmd[-1].endswith(" \\") and i < len(lines):
            cmd.append(lines[i] if raw else lines[i].strip())
            i += 1
        commands.append(cmd)
    return commands


def snapshot(layout: str) -> dict[str, Any]:
    """`scripts/topology.py snapshot LAYOUT`, parsed."""
    result = subprocess.run(
        ["python3", str(REPO / "scripts" / "topology.py"), "snapshot", layout],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_healthy(*names: str, timeout: float = 180) -> None:
    """Until every container's healthcheck says healthy (bounded; the last states in the failure)."""
    deadline = time.monotonic() + timeout
    while True:
        result = docker("inspect", "-f", "{{.Name}} {{.State.Health.Status}}", *names)
        states = result.stdout.split()
        if result.returncode == 0 and states.count("healthy") == len(names):
            return
        assert time.monotonic() < deadline, f"not healthy within {timeout} s: {states}"
        time.sleep(1)


def replay(commands: list[list[str]]) -> subprocess.CompletedProcess[str]:
    """Run the printed commands, lines as printed, with bash from the repo root (set -e: the first failure
    stops it)."""
    text = "set -euo pipefail\n" + "\n".join("\n".join(cmd) for cmd in commands) + "\n"
    return subprocess.run(
        ["bash", "-c", text], cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )


def assert_replays_to_the_same_layout(
    layout: str, first_run: subprocess.CompletedProcess[str], containers: list[str], down: list[str]
) -> None:
    """The heart of "printed = typed": snapshot the layout the script built, take it down with its data,
    run exactly the commands it printed, and snapshot again: the two must be identical
    (scripts/topology.py diff), and every printed line must fit in 120 characters."""
    commands = printed_commands(first_run.stderr)
    assert any(cmd[0].startswith("docker run") for cmd in commands), first_run.stderr
    too_long = [
        line for cmd in printed_commands(first_run.stderr, raw=True) for line in cmd if len(line) > 120
    ]
    assert too_long == [], too_long
    built = snapshot(layout)
    assert_ok(script(*down, "--down", "--volumes"))
    assert labelled("container") == []
    # The script runs its curl once the containers are healthy (it waits for them, and says so): the replay
    # does the same, so every printed command runs, in order, and must succeed.
    layout_cmds = [cmd for cmd in commands if not cmd[0].startswith("curl ")]
    probes = [cmd for cmd in commands if cmd[0].startswith("curl ")]
    assert probes, f"{layout}: no curl printed\n{first_run.stderr}"
    replayed = replay(layout_cmds)
    assert replayed.returncode == 0, f"{replayed.stdout}\n{replayed.stderr}"
    wait_healthy(*containers)
    probed = replay(probes)
    assert probed.returncode == 0, f"{probed.stdout}\n{probed.stderr}"
    again = snapshot(layout)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "script.json"), Path(tmp, "replay.json")
        a.write_text(json.dumps(built))
        b.write_text(json.dumps(again))
        diff = subprocess.run(
            ["python3", str(REPO / "scripts" / "topology.py"), "diff", str(a), str(b)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert diff.returncode == 0, diff.stdout + diff.stderr


def learner_view(commands: list[list[str]], port: int, default_port: int) -> str:
    """The printed commands as a learner with the official images sees them: the stand-in images named by
    the image variables become the official defaults (so no `--build-arg` is printed), and the test's host
    port is the layout's default."""
    stand_ins = {os.environ[var]: official for var, official in IMAGE_DEFAULTS.items() if os.environ.get(var)}
    lines = []
    for cmd in commands:
        kept = [line for line in cmd if not line.startswith("--build-arg ")]
        kept = [*kept[:-1], kept[-1].removesuffix(" \\")] if kept[-1].endswith(" \\") else kept
        for i, line in enumerate(kept):
            for stand_in, official in stand_ins.items():
                line = re.sub(rf"(?<![\w./:-]){re.escape(stand_in)}(?![\w./:-])", official, line)
            line = line.replace(f"-p 127.0.0.1:{port}:", f"-p 127.0.0.1:{default_port}:")
            kept[i] = line.replace(f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{default_port}/")
        # scripts/lib/run.sh prints a command on one line when it fits in 80 characters and 4 groups
        flat = one_line(kept)
        if len(kept) > 1 and len(flat) <= 80 and len(kept) <= 4:
            kept = [flat]
        lines += [("    " if i else "") + line for i, line in enumerate(kept)]
    return "\n".join(lines)


def readme_block(readme: Path, name: str) -> str:
    """The fenced block between `<!-- printed:NAME -->` and `<!-- /printed -->` in a README."""
    match = re.search(
        rf"<!-- printed:{name} -->\n```bash\n(.*?)\n```\n<!-- /printed -->", readme.read_text(), re.S
    )
    assert match, f"no printed:{name} block in {readme}"
    return match.group(1)


def assert_ran_as_mapped(script_path: str, run: subprocess.CompletedProcess[str]) -> None:
    """docs/coverage.md's rows that name SCRIPT_PATH ("scripts/labs/custom.sh"): each of their "runs as" forms
    must match a numbered command this RUN of the script printed (coverage_doc.RAN_CHECKS says which test
    makes this check for which script)."""
    printed = [one_line(cmd) for cmd in printed_commands(run.stderr)]
    assert printed, f"{script_path}: no numbered command printed\n{run.stderr}"
    missing = unran(script_path, printed)
    ran = "\n".join(printed)
    assert missing == [], (
        f"{script_path} did not run what docs/coverage.md maps to it: {missing}\nit ran:\n{ran}"
    )


def one_line(cmd: list[str]) -> str:
    """A printed command's lines joined back into one line, without the ` \\` continuations."""
    return " ".join(line.removesuffix(" \\") for line in cmd)


@contextmanager
def layout_up(name: str, port: int) -> Iterator[None]:
    """A layout up through its script (run-3tier.sh, run-webapp.sh) on PORT; removed with its data after."""
    try:
        assert_ok(script(name, "--port", str(port)))
        yield
    finally:
        assert_ok(script(name, "--down", "--volumes"))
