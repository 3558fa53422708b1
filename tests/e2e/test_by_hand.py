"""The by-hand scripts' other promises: web-app layout, --offline, --down/cleanup, refusals, the page in a
browser (headless Chromium in a container of its own).

Each test brings up and removes what it needs, and asserts what a learner would see.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from labenv import LAB_LABEL, REPO, wait_until
from scriptrun import (
    assert_ok,
    assert_ran_as_mapped,
    assert_replays_to_the_same_layout,
    docker,
    labelled,
    layout_up,
    learner_view,
    printed_commands,
    readme_block,
    script,
    wait_healthy,
)
from toolimages import tool_run

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_layouts")]

WEB_PORT = 18080  # not 80: a learner's own web server may hold it; the default port has its own test
BASE = f"http://127.0.0.1:{WEB_PORT}"
ENGINES = ["postgres", "mysql"]


@pytest.mark.slow  # each engine: the layout, a rerun, its replay (30-40 s)
@pytest.mark.parametrize("engine", ENGINES)
def test_webapp_layout_on_each_engine(engine: str) -> None:
    try:
        first = script("run-webapp.sh", "--db", engine, "--port", "13000")
        assert_ok(first)
        assert "All checks passed." in first.stdout
        if engine == "mysql":  # docs/coverage.md maps the tutorial's web app, on MySQL
            assert_ran_as_mapped("scripts/run-webapp.sh", first)
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


@pytest.mark.slow  # the offline kit's checks, then a whole 3-tier on port 80
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


def root_sql(statement: str) -> subprocess.CompletedProcess[str]:
    """statement run in the 3-tier's MySQL database `myapp` as root (the app's own account may only read)."""
    return docker(
        "exec", "database", "sh", "-c",
        'MYSQL_PWD=$(cat /run/secrets/db_root_password) mysql -h 127.0.0.1 -u root myapp -N -e "$0"',
        statement,
    )  # fmt: skip


@pytest.mark.slow  # a whole 3-tier twice, down and cleanup
def test_down_keeps_the_data_and_cleanup_leaves_nothing_labelled() -> None:
    assert_ok(script("run-3tier.sh", "--port", str(WEB_PORT), "--db", "mysql"))
    assert_ok(root_sql("CREATE TABLE kept (note VARCHAR(40))"))
    assert_ok(root_sql("INSERT INTO kept VALUES ('written before --down')"))
    assert_ok(script("run-3tier.sh", "--down"))
    assert labelled("container") == [] and labelled("network") == []
    kept = docker("volume", "inspect", "-f", f'{{{{ index .Labels "{LAB_LABEL}" }}}}', "3tier-mysql-data")
    assert (kept.returncode, kept.stdout.strip()) == (0, "3tier"), "--down without --volumes keeps the data"
    # up again on the kept volume: the row written before --down is still there
    assert_ok(script("run-3tier.sh", "--port", str(WEB_PORT), "--db", "mysql"))
    row = root_sql("SELECT note FROM kept")
    assert (row.returncode, row.stdout.strip()) == (0, "written before --down"), row.stderr
    assert_ok(script("run-3tier.sh", "--down"))
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


# --- the page, in a browser ------------------------------------------------------------------------------

HOPS = ["hop-browser", "hop-web", "hop-app", "hop-db"]
ISO_UTC = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# elements with no end tag (the page's meta and link among them)
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"})


@dataclass
class Element:
    attrs: dict[str, str | None]
    text: str = ""

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class _ById(HTMLParser):
    """Every element of a page that has an id: its attributes and its text, nested elements' included."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, Element] = {}
        self._open: list[tuple[str, Element | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(dict(attrs)) if dict(attrs).get("id") else None
        if element:
            self.found[str(element.attrs["id"])] = element
        if tag not in VOID_TAGS:
            self._open.append((tag, element))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for _, element in self._open:
            if element:
                element.text += data


def by_id(dom: str) -> dict[str, Element]:
    parser = _ById()
    parser.feed(dom)
    return parser.found


def browse(out: Path, url: str = "http://web-server/") -> tuple[dict[str, Element], bytes]:
    """The page as headless Chromium (BROWSER_IMAGE) shows it from a container on frontend-net, where
    web-server is a name: its DOM once the page's fetch of /api/ has answered, and a screenshot of it.
    The virtual time budget lets the page's JavaScript run until it is idle (its fetch included);
    --timeout bounds a page that never finishes loading."""
    out.chmod(0o777)  # the browser runs as its own non-root user
    result = tool_run(
        "BROWSER_IMAGE",
        ["--network", "frontend-net", "-v", f"{out}:/out"],
        [
            "--timeout=30000",
            "--virtual-time-budget=10000",
            "--window-size=1100,1000",
            "--screenshot=/out/page.png",
            "--dump-dom",
            url,
        ],
        timeout=120,
    )
    assert result.returncode == 0 and "</html>" in result.stdout, result.stderr[-3000:]
    return by_id(result.stdout), (out / "page.png").read_bytes()


def api_answer() -> requests.Response:
    return requests.get(f"{BASE}/api/", timeout=20)


def with_stopped(
    name: str, out: Path, back_within: int, status: int
) -> tuple[dict[str, Element], requests.Response]:
    """The page and GET /api/ once GET /api/ answers STATUS with container NAME stopped; NAME is started
    again after, healthy and answering 200 through nginx.

    The path answers 200 first (a previous test's stop may still be in nginx's view). After `docker stop
    app-server`, nginx tries the old address until it re-resolves the name (valid=10s): meanwhile a request
    waits for proxy_connect_timeout (3 s) and gets 504; from then on, 502 at once. Hence the wait for STATUS,
    bounded by valid + 2 s + one connect timeout."""
    assert wait_until(lambda: api_answer().status_code == 200, 30), "the path does not answer 200 first"
    assert_ok(docker("stop", name))
    try:
        seen: list[requests.Response] = []
        if not wait_until(lambda: seen.append(api_answer()) or seen[-1].status_code == status, 20):
            pytest.fail(f"GET /api/ never answered {status} with {name} stopped: last {seen[-1].text!r}")
        page, _ = browse(out)
    finally:
        assert_ok(docker("start", name))
        wait_healthy(name, timeout=back_within)
        assert wait_until(lambda: api_answer().status_code == 200, 30), f"no 200 through nginx after {name}"
    return page, seen[-1]


@pytest.fixture(scope="class")
def three_tier() -> Iterator[None]:
    """The 3-tier on PostgreSQL (the script's default) for the page tests; removed with its data after."""
    with layout_up("run-3tier.sh", WEB_PORT):
        yield


@pytest.mark.slow  # a whole 3-tier and a browser
@pytest.mark.usefixtures("three_tier")
class TestThePageInHeadlessChromium:
    def test_the_page_renders_the_database_time_in_headless_chromium(self, tmp_path: Path) -> None:
        page, png = browse(tmp_path)
        assert page["status"].text == "ok", page["error-body"].text
        assert ISO_UTC.fullmatch(page["db-time"].text.strip()), page["db-time"].text
        assert page["db-engine"].text == "PostgreSQL"
        assert page["hop-db-engine"].text == "PostgreSQL"
        for hop in HOPS:
            assert "ok" in page[hop].classes and "answered" in page[hop].text, (hop, page[hop])
        assert "hidden" in page["error"].attrs, "no error box on a working path"
        assert page["app-served-by"].text.strip() not in ("", "—"), "the app names its container"
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000, "the screenshot is a PNG of the page"

    def test_the_page_names_app_server_as_the_failed_hop_when_it_is_stopped(self, tmp_path: Path) -> None:
        page, api = with_stopped("app-server", tmp_path, back_within=90, status=502)
        # nginx's own JSON (it names the status); the page reads the status from it
        assert (api.status_code, api.json()) == (502, {"error": "app-server unreachable", "status": 502})
        assert page["status"].text == "error"
        assert "hidden" not in page["error"].attrs, "the error box shows"
        assert page["error-status"].text == "502"
        assert page["failed-hop"].text == "app-server"
        assert [page[hop].classes[-1] for hop in HOPS] == ["ok", "ok", "fail", "idle"]
        assert "stopped here" in page["hop-app"].text and "not reached" in page["hop-db"].text
        assert page["db-time"].text == "—"

    def test_the_page_names_the_database_as_the_failed_hop_when_it_is_stopped(self, tmp_path: Path) -> None:
        page, api = with_stopped("database", tmp_path, back_within=150, status=500)
        # the app's own 500 JSON (the driver's reason, no "status"), passed through nginx untouched
        assert api.status_code == 500 and list(api.json()) == ["error"], api.text
        assert page["status"].text == "error"
        assert page["error-status"].text == "500"
        assert page["failed-hop"].text == "database"
        assert [page[hop].classes[-1] for hop in HOPS] == ["ok", "ok", "ok", "fail"]
        assert "stopped here" in page["hop-db"].text and "answered" in page["hop-app"].text
        assert page["db-time"].text == "—"

    def test_a_frozen_app_server_is_nginx_504_json_after_its_read_timeout(self) -> None:
        assert requests.get(f"{BASE}/api/", timeout=20).status_code == 200  # the path answers first
        assert_ok(docker("pause", "app-server"))
        try:
            started = time.monotonic()
            api = requests.get(f"{BASE}/api/", timeout=30)
            took = time.monotonic() - started
        finally:
            assert_ok(docker("unpause", "app-server"))
        assert (api.status_code, api.json()) == (504, {"error": "app-server timed out", "status": 504})
        assert took >= 9.5, f"answered after {took:.1f} s: nginx's proxy_read_timeout is 10 s"
        wait_healthy("app-server", timeout=90)
