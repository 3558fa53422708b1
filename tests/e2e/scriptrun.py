"""Helpers for the end-to-end tests: run the lab's scripts and docker, and look at what they left."""

from __future__ import annotations

import subprocess

from labenv import LAB_LABEL, REPO


def script(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / name), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)


def labelled(kind: str) -> list[str]:
    cmd = [kind, "ls", "-q", "--filter", f"label={LAB_LABEL}=1"]
    if kind == "container":
        cmd = ["ps", "-aq", "--filter", f"label={LAB_LABEL}=1"]
    return docker(*cmd).stdout.split()


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def secret(name: str) -> str:
    return (REPO / "db" / "secrets" / name).read_text()


def down_all_layouts() -> None:
    """Remove both layouts, by hand and through compose, with their volumes (scoped: not scripts/cleanup.sh,
    which removes everything labelled and has its own test)."""
    layouts = (["run-3tier.sh"], ["run-webapp.sh"], ["run-compose.sh", "3tier"], ["run-compose.sh", "webapp"])
    for args in layouts:
        assert_ok(script(args[0], *args[1:], "--down", "--volumes"))
