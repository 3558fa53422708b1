"""A plain clone is whole: `git clone` of this checkout's committed HEAD into an empty folder, with nothing
beside it (no tutorial text, no .venv, no generated secrets or wheels), passes `tools/test.sh -m unit`.

It needs git and the test venv, not a Docker engine; it is marked e2e (not unit) because it runs the unit
suite itself, so a unit run never starts it again inside its own clone. The clone shares this run's
virtualenv through LAB_VENV instead of installing one (tools/test.sh reinstalls nothing while the pinned
requirements are the same).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from labenv import REPO

# slow: a clone with a venv of its own (about 50 s)
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def test_a_plain_clone_passes_its_unit_tests(tmp_path: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=REPO)
    alone = tmp_path / "alone"  # the clone's folder, and nothing else beside it
    alone.mkdir()
    git("clone", "--quiet", "--no-checkout", str(REPO), "lab", cwd=alone)
    clone = alone / "lab"
    git("checkout", "--quiet", "--detach", head, cwd=clone)
    assert sorted(p.name for p in alone.iterdir()) == ["lab"]
    assert git("status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAB_")}
    env["LAB_VENV"] = sys.prefix
    result = subprocess.run(
        [str(clone / "tools" / "test.sh"), "-m", "unit"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout[-2000:]
    # the run wrote nothing git sees into the clone (its caches are ignored)
    assert git("status", "--porcelain", cwd=clone) == ""
