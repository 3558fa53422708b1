"""The by-hand scripts' other promises: web-app layout, --offline, --down/cleanup, refusals, the page.

Each test brings up and removes what it needs, and asserts what a learner would see.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest
import requests
from labenv import REPO
from scriptrun import (
    assert_ok,
    assert_replays_to_the_same_layout,
    docker,
    labelled,
    learner_view,
    printed_commands,
    readme_block,
    script,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_layouts")]

WEB_PORT = 18080  # not 80: a learner's own web server may hold it; the default port has its own test
ENGINES = ["postgres", "mysql"]


@pytest.mark.parametrize("engine", ENGINES)
def test_webapp_layout_on_each_engine(engine: str) -> None:
    try:
        first = script("run-webapp.sh", "--db", engine, "--port", "13000")
        assert_ok(first)
        assert "All checks passed." in first.stdout
        body = requests.get("http://127.0.0.1:13000/", timeout=10).json()
        assert (
            body["message"]
            == {"postgres": "Connected to PostgreSQL!", "mysql": "Connected to MySQL!"}[engine]
        )
        before = docker("inspect", "-f", "{{.Id}}", "webapp", f"{engine}-db").stdout
        again = script("run-webapp.sh", "--db", engine, "--port", "13000")
        assert_ok(again)
        assert " $ docker run " not in again.stderr
        assert docker("inspect", "-f", "{{.Id}}", "webapp", f"{engine}-db").stdout == before
        printed = learner_view(printed_commands(first.stderr), 13000, 3000)
        for doc in ("commands.md", "commands.ko.md"):
            assert readme_block(REPO / "docs" / doc, f"webapp-{engine}") == printed, (
                f"{doc}: the run printed\n{printed}"
            )
        assert_replays_to_the_same_layout("webapp", first, ["webapp", f"{engine}-db"], ["run-webapp.sh"])
    finally:
        assert_ok(script("run-webapp.sh", "--down", "--volumes"))
    assert labelled("container") == []
    assert labelled("network") == []


def test_default_port_80_and_the_offline_flag() -> None:
    """The README's first command as written (port 80), with --offline building/reusing the stand-ins."""
    env_without_images = {k: v for k, v in os.environ.items() if not k.endswith("_IMAGE")}
    try:
        result = subprocess.run(
            [str(REPO / "scripts/run-3tier.sh"), "--offline"],
            capture_output=True,
            text=True,
            timeout=900,
            env=env_without_images,
            check=False,
        )
        assert_ok(result)
        assert (
            requests.get("http://127.0.0.1/api/", timeout=10).json()["message"] == "Connected to PostgreSQL!"
        )
    finally:
        assert_ok(script("run-3tier.sh", "--down", "--volumes"))


def test_down_and_cleanup_leave_nothing_labelled() -> None:
    assert_ok(script("run-3tier.sh", "--port", str(WEB_PORT), "--db", "mysql"))
    assert_ok(script("run-3tier.sh", "--down"))
    assert labelled("container") == [] and labelled("network") == []
    assert labelled("volume"), "--down without --volumes keeps the data volume"
    cleaned = script("cleanup.sh", "--volumes")
    assert_ok(cleaned)
    assert labelled("volume") == []
    nothing = script("cleanup.sh")
    assert_ok(nothing)
    assert "no container of the lab's" in nothing.stderr


def test_foreign_container_named_database_stops_the_script_and_nothing_is_touched() -> None:
    foreign = docker(
        "run", "-d", "--name", "database", os.environ.get("TOOLBOX_IMAGE", "alpine:3.22"), "sleep", "300"
    )
    assert foreign.returncode == 0, foreign.stderr
    try:
        result = script("run-3tier.sh", "--port", str(WEB_PORT))
        assert result.returncode == 1
        assert "named 'database' already exists and is not the lab's" in result.stderr
        assert docker("inspect", "-f", "{{.State.Running}}", "database").stdout.strip() == "true"
        assert labelled("network") == [] and labelled("container") == []
    finally:
        docker("rm", "-f", "database")


def test_busy_port_is_refused_before_anything_is_built() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = script("run-3tier.sh", "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} is busy" in result.stderr and "--port" in result.stderr
    assert labelled("network") == [] and labelled("container") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "oracle"], "--db takes mysql or postgres"),
        (["--port", "http"], "--port takes a port number"),
        (["--frobnicate"], "unknown option: --frobnicate"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_message(args: list[str], message: str) -> None:
    result = script("run-3tier.sh", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Usage:" in result.stderr


def test_the_page_renders_the_database_time_in_headless_chromium() -> None:
    chromium = shutil.which("chromium")
    assert chromium, "this test needs Debian's chromium (.ci/run installs it: apt-get install chromium)"
    try:
        assert_ok(script("run-3tier.sh", "--port", str(WEB_PORT)))
        dom = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--virtual-time-budget=8000",
                "--dump-dom",
                f"http://127.0.0.1:{WEB_PORT}/",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        ).stdout
        assert 'id="status"' in dom
        time_text = dom.split('id="db-time"', 1)[1].split(">", 1)[1].split("<", 1)[0]
        assert time_text.endswith("Z") and time_text.startswith("20"), dom
    finally:
        assert_ok(script("run-3tier.sh", "--down", "--volumes"))
