"""The bad input every script that takes options must refuse (exit 2, its usage on stderr, nothing touched):
an unknown flag, a flag without its value, ports 0, 70000 and 8a, engine oracle, a name with a space.
tests/unit/test_bad_input.py runs each case against a tripwire `docker`, tests/e2e/test_bad_input_engine.py
against the real engine."""

from __future__ import annotations

import re
import sys

import pytest
from labenv import REPO

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
    "scripts/run-webapp.sh": [
        ["--bogus"],
        ["--port"],
        *[["--port", p] for p in PORTS],
        ["--db", "oracle"],
        ["--db"],
        ["--volumes"],
    ],
    "scripts/run-compose.sh": [
        [],
        ["my layout"],
        ["3tier", "--bogus"],
        *[["3tier", "--port", p] for p in PORTS],
        ["webapp", "--db", "oracle"],
        ["3tier", "--db"],
        ["3tier", "--port"],
        ["3tier", "--file"],
    ],
    "scripts/compare.sh": [
        ["--bogus"],
        ["--layout"],
        ["--layout", "oracle"],
        ["--db", "oracle"],
        ["--db"],
        ["--compose-file"],
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
        ["--rounds", "0"],
        ["--rounds", "10"],
        ["--db"],
        ["--port"],
        ["--duration"],
        ["--connections"],
        ["--rounds"],
        ["--out"],
    ],
    "extras/cluster/sim-cluster.sh": [
        ["--bogus"],
        ["--nodes", "9"],
        *[["--port", p] for p in PORTS],
        ["--db", "oracle"],
        ["--nodes"],
        ["--managers"],
        ["--port"],
        ["--db"],
        ["--drill"],
    ],
    "extras/drills/drill.sh": [
        [],
        ["db restart"],
        ["db-restart", "--db", "oracle"],
        *[["db-restart", "--port", p] for p in PORTS],
        ["db-restart", "--bogus"],
        ["db-restart", "--db"],
        ["db-restart", "--port"],
    ],
    "extras/swarm/run-swarm.sh": [
        ["--bogus"],
        *[["--port", p] for p in PORTS],
        ["--mode", "x"],
        ["--db", "oracle"],
        ["--port"],
        ["--mode"],
        ["--db"],
    ],
    "tools/offline-images.sh": [["--bogus"]],
    "tools/screenshot.sh": [["--bogus"], ["--size", "10"], ["--port", "8a"], ["--size"], ["--out"]],
}

PARAMS = [
    pytest.param(s, a, id=f"{s.split('/')[-1]}:{' '.join(a) or '(none)'}")
    for s, cases in CASES.items()
    for a in cases
]


def command(script: str) -> list[str]:
    """How a learner runs SCRIPT (python3 for the .py, bash for the rest)."""
    return [sys.executable, str(REPO / script)] if script.endswith(".py") else ["bash", str(REPO / script)]


def usage_line(script: str) -> str:
    """The start of SCRIPT's usage as it prints it: `Usage: PATH` from its header (the shell scripts), or the
    first command of its docstring (topology.py)."""
    text = (REPO / script).read_text(encoding="utf-8")
    if script.endswith(".py"):
        return f"python3 {script} "
    found = re.search(r"^# (Usage: \S+)", text, re.M)
    assert found, f"{script} has no '# Usage:' line in its header"
    return found.group(1)
