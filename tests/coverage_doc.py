"""docs/coverage.md, read: its rows, and the tutorial's docker/curl commands in the rows' form."""

from __future__ import annotations

import re
from pathlib import Path

from labenv import REPO

COVERAGE = REPO / "docs" / "coverage.md"
ROW = re.compile(r"^\| (\d+) \| `(.+?)` \| (.+?) \| (.+?) \| (.+?) \|$")


def normalise(command: str) -> str:
    return " ".join(command.replace(r"\|", "|").split())


def rows() -> list[tuple[int, str, str, str, str]]:
    """(number, command, runs in, fixed form / note, checked by) for each row of the table."""
    found = []
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            found.append((int(m[1]), normalise(m[2]), m[3], m[4], m[5]))
    return found


def tutorial_commands(text: str) -> list[str]:
    """Lines of ```bash blocks that start with docker or curl, backslash continuations joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            if line.strip().startswith(("docker ", "curl ")):
                commands.append(normalise(line))
    return commands


def tutorial_path(value: str) -> Path:
    """LAB_TUTORIAL's value as a path: absolute, or relative to the repo root."""
    path = Path(value)
    return path if path.is_absolute() else REPO / path
