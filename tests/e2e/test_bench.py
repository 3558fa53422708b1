"""extras/bench/bench.sh --quick end to end: it runs, and its Markdown report holds a number for every path.

Performance is measured by the script, never asserted here: the engine is shared and the numbers are noisy.
The tests check that each measurement happened (a numeric req/s per path, the ratio lines), what the script
leaves behind (no bench-only container, 3-tier still unpublished apart from nginx, no change git sees),
that it never rebuilds or removes a running 3-tier on its own, and its usage errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from labenv import REPO
from scriptrun import assert_ok, docker, down_all_layouts, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WEB_PORT = 18181  # not 80, and not the bench's own default (18180), which a learner may have up
Run = subprocess.CompletedProcess[str]
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def quick_run() -> Iterator[tuple[Run, str, str]]:
    """One --quick run on MySQL (the tutorial app's engine), from no layout, writing its default report
    (extras/bench/last-run.md); git's view of the checkout before it. Everything removed after."""
    down_all_layouts()
    before = git_status()
    out = REPO / "extras" / "bench" / "last-run.md"
    try:
        result = script(
            "extras/bench/bench.sh", "--quick", "--db", "mysql", "--port", str(WEB_PORT), timeout=240
        )
        yield result, out.read_text() if out.exists() else "", before
    finally:
        down_all_layouts()


def table_row(report: str, path_starts: str) -> list[str]:
    line = next((ln for ln in report.splitlines() if ln.startswith(f"| {path_starts}")), None)
    assert line is not None, f"no row for {path_starts!r} in:\n{report}"
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_quick_run_exits_0_and_prints_the_table(quick_run) -> None:
    result, report, _ = quick_run
    assert_ok(result)
    assert "| path | req/s | p50 ms | p99 ms |" in result.stdout
    assert result.stdout.strip() == report.strip(), "the printed table and the Markdown file differ"


@pytest.mark.parametrize("path", ["nginx →", "direct →", "ceiling:"])
def test_report_has_a_numeric_rate_for_each_path(quick_run, path: str) -> None:
    _, report, _ = quick_run
    cells = table_row(report, path)
    assert re.fullmatch(NUMBER, cells[1]), cells  # req/s (queries/s for the ceiling)
    assert re.fullmatch(NUMBER, cells[-1]), cells  # the load average beside it


@pytest.mark.parametrize("path", ["nginx →", "direct →"])
def test_http_paths_have_latency_and_no_errors(quick_run, path: str) -> None:
    _, report, _ = quick_run
    _, _, p50, p99, requests, non2xx, socket_errors, _ = table_row(report, path)
    assert re.fullmatch(NUMBER, p50) and re.fullmatch(NUMBER, p99), (p50, p99)
    assert int(requests) > 0
    # a correct run answers 200 to every request; a failing tier would show here
    assert (non2xx, socket_errors) == ("0", "0")


def test_report_has_the_ratio_lines(quick_run) -> None:
    _, report, _ = quick_run
    for name in ["nginx/direct", "app/DB-ceiling (direct)", "app/DB-ceiling (through nginx)"]:
        assert re.search(rf"^- ratio {re.escape(name)}: {NUMBER} \({NUMBER} %\)$", report, re.M), name


def test_report_names_machine_and_versions(quick_run) -> None:
    _, report, _ = quick_run
    assert re.search(r"machine: \d+ cores, load average \(1 min\) at the start " + NUMBER, report)
    assert "MySQL" in report and "gunicorn" in report and "nginx/" in report


def test_tutorial_baseline_is_measured_where_node_and_npm_are(quick_run) -> None:
    """Decided by this machine, never "either": with node and npm on the host (and the npm registry, which
    the host reaches) the baseline must be measured; a failed npm install is a failure, not a skip."""
    result, report, _ = quick_run
    cells = table_row(report, "tutorial app.js")
    if shutil.which("node") and shutil.which("npm"):
        assert "skipped:" not in result.stderr, result.stderr
        assert re.fullmatch(NUMBER, cells[1]), cells
    else:
        assert cells[1] == "—", cells
        assert "skipped: node and npm are not installed on this host" in result.stderr


def test_bench_only_container_is_gone_and_app_server_stays_unpublished(quick_run) -> None:
    assert docker("ps", "-aq", "--filter", "label=io.docker-net-lab=bench").stdout.strip() == ""
    ports = docker("inspect", "-f", "{{json .HostConfig.PortBindings}}", "app-server")
    assert ports.returncode == 0, f"app-server is not there: {ports.stderr}"
    assert ports.stdout.strip() in ("{}", "null"), f"app-server publishes {ports.stdout.strip()}"


def test_quick_run_changes_nothing_git_sees(quick_run) -> None:
    result, _, before = quick_run
    assert_ok(result)
    assert git_status() == before, "bench.sh --quick changed the checkout (its default report is untracked)"


def layout_ids() -> list[str]:
    return [
        docker("inspect", "-f", "{{.Id}}", c).stdout.strip() for c in ("database", "app-server", "web-server")
    ]


def test_quick_run_refuses_other_settings_than_the_running_3tiers(quick_run) -> None:
    before = layout_ids()
    assert all(before), "the quick run left no 3-tier up"
    result = script("extras/bench/bench.sh", "--quick", "--db", "postgres", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"the 3-tier is up with MySQL on port {WEB_PORT}" in result.stderr
    assert f"--db mysql --port {WEB_PORT}" in result.stderr and "scripts/run-3tier.sh --down" in result.stderr
    assert " $ " not in result.stderr, "a command ran although the bench refused"
    assert layout_ids() == before


def test_full_run_refuses_to_remove_a_running_3tier(quick_run) -> None:
    before = layout_ids()
    assert all(before), "the quick run left no 3-tier up"
    result = script("extras/bench/bench.sh", "--db", "mysql", "--port", str(WEB_PORT), timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    for way_out in ("--quick", "scripts/run-3tier.sh --down --volumes", "--replace-layout"):
        assert way_out in result.stderr, way_out
    assert " $ " not in result.stderr, "a command ran although the bench refused"
    assert layout_ids() == before
    assert docker("volume", "inspect", "3tier-mysql-data").returncode == 0, "the data volume is gone"


@pytest.mark.parametrize(
    "args",
    [
        ["--duration", "0"],
        ["--connections", "x"],
        ["--db", "oracle"],
        ["--nope"],
        ["--out", "/no/such/dir/x.md"],
    ],
)
def test_bad_usage_exits_2_with_usage(args: list[str]) -> None:
    result = script("extras/bench/bench.sh", *args, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "Usage: extras/bench/bench.sh" in result.stderr


def test_help_exits_0() -> None:
    result = script("extras/bench/bench.sh", "--help", timeout=30)
    assert_ok(result)
    assert "--quick" in result.stdout and "Usage: extras/bench/bench.sh" in result.stdout
