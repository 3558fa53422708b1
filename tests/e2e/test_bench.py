"""extras/bench/bench.sh --quick end to end: it runs, and its Markdown report holds a number for every path.

Performance is measured by the script, never asserted here: the engine is shared and the numbers are noisy.
The tests check that each measurement happened (a numeric req/s per path, the ratio lines), what the script
leaves behind (no bench-only container, 3-tier still unpublished apart from nginx, no change git sees),
that it never rebuilds or removes a running 3-tier on its own, and its usage errors.
"""

from __future__ import annotations

import re
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


# The medians table's rows: (the row's start, the key in "Every run", whether nginx is on the path).
PATHS = [
    ("the tutorial's app.js", "express", False),
    ("our app alone", "app", False),
    ("our app through nginx", "nginx", True),
    ("our app under Granian", "granian", False),
    ("through nginx from the host", "published", True),
]


def test_quick_run_exits_0_and_prints_the_table(quick_run) -> None:
    result, report, _ = quick_run
    assert_ok(result)
    assert (
        "| path | req/s | req/s range | p50 ms | p99 ms | CPU µs/req web | app | db | sum | failed |"
        in result.stdout
    )
    assert result.stdout.strip() == report.strip(), "the printed table and the Markdown file differ"


@pytest.mark.parametrize(("row", "key", "through_nginx"), PATHS, ids=[key for _, key, _ in PATHS])
def test_each_path_has_medians_cpu_per_tier_and_no_failure(
    quick_run, row: str, key: str, through_nginx: bool
) -> None:
    _, report, _ = quick_run
    _, rps, spread, p50, p99, web, app, db, total, failed = table_row(report, row)
    for value in (rps, p50, p99, app, db, total):
        assert re.fullmatch(NUMBER, value), (row, value)
    low, high = (float(v) for v in spread.split(" – "))
    assert low <= float(rps) <= high and low > 0, (rps, spread)
    assert float(app) > 0 and float(db) > 0, "a tier that served requests spent no CPU: the reading is wrong"
    if through_nginx:
        assert re.fullmatch(NUMBER, web) and float(web) > 0, web
        assert float(total) == pytest.approx(float(web) + float(app) + float(db), abs=2)
    else:
        assert web == "—", web
    # a correct run answers 200 to every request: a failing tier would show here
    assert failed == "0", failed


@pytest.mark.parametrize(("key", "uses_the_proxy"), [(key, key == "published") for _, key, _ in PATHS])
def test_every_round_of_every_path_is_recorded(quick_run, key: str, uses_the_proxy: bool) -> None:
    """--quick runs 3 rounds: three rows per path, in the "Every run" table, numbered 1 to 3; docker-proxy's
    CPU is read for the published path only (a local Linux engine runs it as a process this host sees)."""
    _, report, _ = quick_run
    rows = [
        [cell.strip() for cell in ln.strip("|").split("|")]
        for ln in report.split("## Every run", 1)[1].splitlines()
        if ln.startswith(f"| {key} |")
    ]
    assert [row[1] for row in rows] == ["1", "2", "3"], rows
    for row in rows:
        assert re.fullmatch(NUMBER, row[2]) and int(row[5]) > 0, row  # req/s, requests
        assert (row[6], row[7]) == ("0", "0"), row  # non-2xx, socket errors
        proxy = row[12]
        if uses_the_proxy:
            assert re.fullmatch(NUMBER, proxy) and float(proxy) > 0, row
        else:
            assert proxy == "", row


def test_report_has_the_ratio_and_goal_lines(quick_run) -> None:
    _, report, _ = quick_run
    for line in [
        r"- our app through nginx / the peer direct: \*\*{n}×\*\* \(goal ≥ 0\.6×\); "
        r"p99 {n} ms against the peer's {n} ms: {n}× \(goal ≤ 2×\)",
        r"- our app alone / the peer: \*\*{n}×\*\* \(goal ≥ 0\.85×\)",
        r"- Granian / the peer: {n}×; Granian / gunicorn, the same app: {n}×",
        r"- through nginx / our app alone: {n}×",
        r"- CPU per request, nginx \+ app \(the nginx path's web \+ app\): {n} µs \(goal ≤ 600 µs\)",
    ]:
        assert re.search("^" + line.format(n=NUMBER) + "$", report, re.M), line
    assert re.search(
        rf"^- the database's own `SELECT NOW\(\)`: {NUMBER} queries/s \(mysqlslap ", report, re.M
    )


def test_report_names_machine_method_and_versions(quick_run) -> None:
    _, report, _ = quick_run
    assert re.search(r"machine: \d+ cores, load average \(1 min\) at the start " + NUMBER, report)
    assert "- method: 3 rounds over the paths in a rotated order, 2 s a run" in report
    assert "MySQL" in report and "gunicorn" in report and "nginx/" in report
    assert re.search(r"^- the peer: node v\d+\.\d+\.\d+, express \d+\.\d+\.\d+, mysql2 \d+", report, re.M)
    assert re.search(r"Granian \d+\.\d+\.\d+", report)


def test_bench_only_container_is_gone_and_app_server_stays_unpublished(quick_run) -> None:
    """The peers and wrk (label io.docker-net-lab=bench) are removed; the 3-tier is left as it was."""
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
