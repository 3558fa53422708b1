"""`scripts/lab.sh all`: every section in one go, as a learner would run it, leaving nothing behind.

The per-section tests (test_labs_sections.py, test_labs_more.py) assert each claim; this one asserts the whole
run: every section passes, every lab-* resource is gone, and the swarm is as it was before.
"""

from __future__ import annotations

import pytest
from scriptrun import assert_ok, docker, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECTIONS = [
    "bridge",
    "custom",
    "host",
    "none",
    "ipv6",
    "overlay",
    "commands",
    "ports",
    "security",
    "troubleshoot",
]


def lab_resources() -> list[str]:
    found = []
    for kind, ls in (
        ("container", ["ps", "-a"]),
        ("network", ["network", "ls"]),
        ("volume", ["volume", "ls"]),
    ):
        out = docker(
            *ls,
            "--filter",
            "label=io.docker-net-lab",
            "--format",
            '{{.Label "io.docker-net-lab"}}',
        )
        found += [f"{kind}:{layout}" for layout in out.stdout.split() if layout.startswith("lab-")]
    return found


def test_lab_all_runs_every_section_and_leaves_nothing() -> None:
    swarm_before = docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout
    listed = script("lab.sh", "list")
    assert_ok(listed)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == SECTIONS
    result = script("lab.sh", "all", timeout=900)
    assert_ok(result)
    assert f"Every section passed: {' '.join(SECTIONS)}" in result.stdout
    assert "CHECK FAIL" not in result.stdout
    assert result.stdout.count("CHECK PASS") >= 90, "each section checks several claims"
    assert lab_resources() == []
    assert docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout == swarm_before


def test_lab_bad_usage() -> None:
    nothing = script("lab.sh")
    assert nothing.returncode == 2 and "name a section" in nothing.stderr
    unknown = script("lab.sh", "wormhole")
    assert unknown.returncode == 2 and "no such section: wormhole" in unknown.stderr
