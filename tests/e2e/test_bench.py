"""extras/bench/bench.sh --quick end to end: it runs, and its Markdown report holds a number for every path.

Performance is measured by the script, never asserted here: the engine is shared and the numbers are noisy.
The tests check that each measurement happened (a numeric req/s per path, the ratio lines), what the script
leaves behind (no bench-only container, 3-tier still unpublished apart from nginx) and its usage errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from scriptrun import assert_ok, docker, down_all_layouts, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WEB_PORT = 18181  # not 80, and not the bench's own default (18180), which a learner may have up
Run = subprocess.CompletedProcess[str]
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, str]]:
    """One --quick run on MySQL (the tutorial app's engine), from no layout; everything removed after."""
    down_all_layouts()
    out = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    try:
        result = script(
            "extras/bench/bench.sh",
            "--quick",
            "--db",
            "mysql",
            "--port",
            str(WEB_PORT),
            "--out",
            str(out),
            timeout=240,
        )
        yield result, out.read_text() if out.exists() else ""
    finally:
        down_all_layouts()


def table_row(report: str, path_starts: str) -> list[str]:
    line = next((ln for ln in report.splitlines() if ln.startswith(f"| {path_starts}")), None)
    assert line is not None, f"no row for {path_starts!r} in:\n{report}"
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_quick_run_exits_0_and_prints_the_table(quick_run) -> None:
    result, report = quick_run
    assert_ok(result)
    assert "| path | req/s | p50 ms | p99 ms |" in result.stdout
    assert result.stdout.strip() == report.strip(), "the printed table and the Markdown file differ"


@pytest.mark.parametrize("path", ["nginx →", "direct →", "ceiling:"])
def test_report_has_a_numeric_rate_for_each_path(quick_run, path: str) -> None:
    _, report = quick_run
    cells = table_row(report, path)
    assert re.fullmatch(NUMBER, cells[1]), cells  # req/s (queries/s for the ceiling)
    assert re.fullmatch(NUMBER, cells[-1]), cells  # the load average beside it


@pytest.mark.parametrize("path", ["nginx →", "direct →"])
def test_http_paths_have_latency_and_no_errors(quick_run, path: str) -> None:
    _, report = quick_run
    _, _, p50, p99, requests, non2xx, socket_errors, _ = table_row(report, path)
    assert re.fullmatch(NUMBER, p50) and re.fullmatch(NUMBER, p99), (p50, p99)
    assert int(requests) > 0
    # a correct run answers 200 to every request; a failing tier would show here
    assert (non2xx, socket_errors) == ("0", "0")


def test_report_has_the_ratio_lines(quick_run) -> None:
    _, report = quick_run
    for name in ["nginx/direct", "app/DB-ceiling (direct)", "app/DB-ceiling (through nginx)"]:
        assert re.search(rf"^- ratio {re.escape(name)}: {NUMBER} \({NUMBER} %\)$", report, re.M), name


def test_report_names_machine_and_versions(quick_run) -> None:
    _, report = quick_run
    assert re.search(r"machine: \d+ cores, load average \(1 min\) at the start " + NUMBER, report)
    assert "MySQL" in report and "gunicorn" in report and "nginx/" in report


def test_tutorial_baseline_measured_or_skipped_with_a_reason(quick_run) -> None:
    result, report = quick_run
    cells = table_row(report, "tutorial app.js")
    if shutil.which("node") and shutil.which("npm") and "skipped:" not in result.stderr:
        assert re.fullmatch(NUMBER, cells[1]), cells
    else:
        assert cells[1] == "—" and "skipped:" in result.stderr


def test_bench_only_container_is_gone_and_app_server_stays_unpublished(quick_run) -> None:
    assert docker("ps", "-aq", "--filter", "label=io.docker-net-lab=bench").stdout.strip() == ""
    assert docker("port", "app-server").stdout.strip() == ""


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
