"""scripts/lib/checks.sh's `check`, `not` and `given`: a failing probe is a counted FAIL; every check runs.

Every layout and lab proves its claims through `check`; if it counted a failing probe as a PASS, every CHECK
line in the lab would be worthless. The library is sourced in bash as the scripts source it (no engine).
"""

from __future__ import annotations

import subprocess

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit


def run_checks(body: str) -> tuple[int, list[str]]:
    """bash sources checks.sh, runs body, then prints 'count=N failed=M'; its exit code and output lines."""
    script = f'. scripts/lib/checks.sh\n{body}\necho "count=$CHECK_COUNT failed=$CHECK_FAILED"\n'
    result = subprocess.run(
        ["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=30, check=False
    )
    return result.returncode, result.stdout.splitlines()


def test_a_failing_probe_is_a_counted_fail_with_its_probe_exit_code_and_hint() -> None:
    rc, lines = run_checks('check --hint "start it" "the thing is up" sh -c "echo down; exit 3"')
    assert rc == 0, lines  # a failure is counted, not fatal
    assert lines[0] == "  CHECK FAIL the thing is up"
    assert "(exit 3)" in lines[1] and "probe: sh -c" in lines[1], lines
    assert "      | down" in lines and "      hint: start it" in lines, lines
    assert lines[-1] == "count=1 failed=1"


def test_a_passing_probe_is_a_pass_and_every_check_runs_after_a_fail() -> None:
    rc, lines = run_checks('check "first" false\ncheck "second" true\ncheck "third" test 1 = 2')
    assert rc == 0
    verdicts = [ln for ln in lines if ln.startswith("  CHECK ")]
    assert verdicts == ["  CHECK FAIL first", "  CHECK PASS second", "  CHECK FAIL third"]
    assert lines[-1] == "count=3 failed=2"


def test_not_inverts_and_given_fails_on_an_empty_lookup() -> None:
    rc, lines = run_checks(
        'check "not false" not false\ncheck "not true" not true\n'
        'check "given an address" given 10.0.0.2 true\ncheck "given nothing" given "" not false'
    )
    assert rc == 0
    verdicts = [ln for ln in lines if ln.startswith("  CHECK ")]
    assert verdicts == [
        "  CHECK PASS not false",
        "  CHECK FAIL not true",
        "  CHECK PASS given an address",
        "  CHECK FAIL given nothing",  # a negative check about nothing found must not pass
    ]
    assert lines[-1] == "count=4 failed=2"
