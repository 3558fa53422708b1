"""The benchmark's peers (extras/bench/): the tutorial's Express app, and the lab's app served by Granian
instead of gunicorn. Each is built from its Dockerfile, run beside a real MySQL on a network of the test's
own, and must answer GET / as app.js does.

The database answers under a name and account that are not app.js's defaults, so a peer that ignored
DB_HOST, DB_USER or DB_PASSWORD could not connect. Offline (an image variable names a lab-offline/ stand-in)
each build installs from what tools/offline-images.sh downloaded on the host; a missing piece fails the test
with the command that fixes it, and nothing is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from labenv import REPO, TEST_LABEL, TEST_LABELS, image, serving_on_3000, wait_until
from testcontainers.community.mysql import MySqlContainer
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # the images are built first

BENCH = REPO / "extras" / "bench"
KIT = 'eval "$(tools/offline-images.sh)"'
BUILD_TIMEOUT_S = 900  # a cold app image build: pip installs a dozen wheels
# Test names, never the names the Dockerfiles' comments suggest (webapp-express, my-app, my-app-granian).
EXPRESS_TAG = "lab-test/bench-express:latest"
APP_TAG = "lab-test/bench-app:latest"  # not test_app_image.py's tag: this build is labelled, that one is not
GRANIAN_TAG = "lab-test/bench-granian:latest"
# Not app.js's defaults (mysql-db, appuser, apppass): only the environment can lead a peer here.
DB_ALIAS, DB_USER, DB_PASSWORD, DB_NAME = "bench-db", "benchuser", "benchpass", "myapp"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def on_engine(name: str) -> bool:
    inspect = subprocess.run(["docker", "image", "inspect", name], capture_output=True, check=False)
    return inspect.returncode == 0


def offline(variable: str) -> bool:
    """True when VARIABLE names one of the offline kit's stand-ins, or is unset while others do (an
    environment from an older kit): the build then has no registry and must find its downloads."""
    kit_in_use = any(image(v).startswith("lab-offline/") for v in ("PYTHON_IMAGE", "MYSQL_IMAGE"))
    return image(variable).startswith("lab-offline/") or kit_in_use


def require_base(variable: str) -> str:
    """The base image VARIABLE names, present on the engine when offline (online, docker build pulls it)."""
    name = image(variable)
    if offline(variable) and not os.environ.get(variable):
        pytest.fail(f"{variable} is unset, but the other image variables name the offline stand-ins: {KIT}")
    if offline(variable) and not on_engine(name):
        pytest.fail(f"{variable}={name} is not on this engine: build it with {KIT}")
    return name


def require_downloads(variable: str, folder: Path, pattern: str, what: str) -> None:
    """Offline, FOLDER must hold what the host downloaded (the build installs from it, with no registry)."""
    if offline(variable) and not any(folder.glob(pattern)):
        pytest.fail(
            f"{folder.relative_to(REPO)}/ holds no {what}, and offline the image installs only from there: "
            f"fill it on the host with {KIT}"
        )


def docker_build(tag: str, folder: Path, **build_args: str) -> str:
    """`docker build --build-arg ... -t TAG FOLDER`; unchanged sources reuse every cached layer (seconds)."""
    command = ["docker", "build", "--label", f"{TEST_LABEL}=1", "-t", tag]
    for name, value in build_args.items():
        command += ["--build-arg", f"{name}={value}"]
    command.append(str(folder.relative_to(REPO)))
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}); with no registry, run {KIT} first:\n"
            f"{result.stderr[-3000:]}"
        )
    return tag


@pytest.fixture(scope="module")
def express_image() -> str:
    base = require_base("NODEJS_IMAGE")
    require_downloads("NODEJS_IMAGE", BENCH / "express" / "npm-cache", "_cacache", "npm cache")
    return docker_build(EXPRESS_TAG, BENCH / "express", NODEJS_IMAGE=base)


@pytest.fixture(scope="module")
def granian_image() -> str:
    python = require_base("PYTHON_IMAGE")
    require_downloads("PYTHON_IMAGE", REPO / "app_server" / "wheels", "*.whl", "wheels")
    require_downloads("PYTHON_IMAGE", BENCH / "granian" / "wheels", "*.whl", "wheels")
    app = docker_build(APP_TAG, REPO / "app_server", PYTHON_IMAGE=python)
    return docker_build(GRANIAN_TAG, BENCH / "granian", APP_IMAGE=app)


@pytest.fixture(scope="module")
def mysql_network() -> Iterator[Network]:
    """A labelled network holding a MySQL (MYSQL_IMAGE) under DB_ALIAS that accepts DB_USER in DB_NAME."""
    with Network(docker_network_kw={"labels": TEST_LABELS}) as network:
        db = (
            MySqlContainer(
                image("MYSQL_IMAGE"),
                username=DB_USER,
                password=DB_PASSWORD,
                dbname=DB_NAME,
                root_password="rootpass",
            )
            .with_name(f"lab-test-mysql-{uuid.uuid4().hex[:8]}")
            .with_network(network)
            .with_network_aliases(DB_ALIAS)
            .with_kwargs(labels=TEST_LABELS)
        )
        with db:
            # The app's account, over TCP, from inside the container: the way a peer will log in.
            login = ["mysql", "-h127.0.0.1", f"-u{DB_USER}", f"-p{DB_PASSWORD}", DB_NAME, "-e", "SELECT 1"]
            if not wait_until(lambda: db.exec(login).exit_code == 0, 90):
                logs = db.get_wrapped_container().logs(tail=30).decode(errors="replace")
                pytest.fail(f"MySQL did not accept {DB_USER} within 90 s; last log lines:\n{logs}")
            yield network


def peer(tag: str, network: Network, **env: str) -> AbstractContextManager[DockerContainer]:
    """The peer on NETWORK, port 3000 published on 127.0.0.1; removed on exit, even when the test fails."""
    return serving_on_3000(tag, network, "lab-test-peer", **env)


def get_root(container: DockerContainer) -> requests.Response | None:
    """GET / through the published port; None while nothing listens yet."""
    try:
        return requests.get(f"http://127.0.0.1:{container.get_exposed_port(3000)}/", timeout=5)
    # Not listening yet (refused, or reset while the server binds): the caller polls.
    except requests.ConnectionError:
        return None


def assert_answers_from_mysql(container: DockerContainer) -> None:
    """GET / answers 200 with app.js's body: the message and the database's NOW(), close to our clock."""
    last: list[requests.Response | None] = [None]

    def ok() -> bool:
        last[0] = get_root(container)
        return last[0] is not None and last[0].status_code == 200

    answered = wait_until(ok, 30)
    logs = container.get_wrapped_container().logs(tail=20).decode(errors="replace")
    seen = "nothing" if last[0] is None else f"{last[0].status_code} {last[0].text!r}"
    assert answered, f"GET / never answered 200 (last: {seen}); log:\n{logs}"
    response = last[0]
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert body.keys() == {"message", "time"}, body
    assert body["message"] == "Connected to MySQL!", body
    assert ISO_UTC.fullmatch(body["time"]), body
    skew = abs((datetime.fromisoformat(body["time"]) - datetime.now(UTC)).total_seconds())
    assert skew < 300, f"the time {body['time']} is {skew:.0f} s from this host's clock"


def pid1(container: DockerContainer) -> tuple[str, list[str]]:
    """PID 1's real uid and its command line."""
    status = container.exec(["cat", "/proc/1/status"]).output.decode()
    cmdline = container.exec(["cat", "/proc/1/cmdline"]).output.decode()
    return re.search(r"^Uid:\s+(\d+)", status, re.M).group(1), cmdline.rstrip("\0").split("\0")


def test_express_peer_answers_get_root_from_mysql_as_the_node_user(express_image, mysql_network) -> None:
    env = {"DB_HOST": DB_ALIAS, "DB_USER": DB_USER, "DB_PASSWORD": DB_PASSWORD}
    with peer(express_image, mysql_network, **env) as app:
        assert_answers_from_mysql(app)
        # The official node image's non-root user, uid 1000 (the stand-in creates the same one).
        assert pid1(app) == ("1000", ["node", "app.js"])


def test_granian_peer_answers_get_root_from_mysql_as_the_app_user(granian_image, mysql_network) -> None:
    env = {
        "DB_ENGINE": "mysql",
        "DB_HOST": DB_ALIAS,
        "DB_USER": DB_USER,
        "DB_PASSWORD": DB_PASSWORD,
        "DB_NAME": DB_NAME,
    }
    with peer(granian_image, mysql_network, **env) as app:
        assert_answers_from_mysql(app)
        uid, cmdline = pid1(app)
        assert uid != "0", "granian (PID 1) runs as root"
        # Granian, not the app image's gunicorn, serves it (PID 1 is python running the granian script),
        # with the factory and gunicorn's worker sizing.
        assert any(Path(part).name == "granian" for part in cmdline[:2]), cmdline
        for option in (["--interface", "wsgi"], ["--workers", "2"], ["--blocking-threads", "4"]):
            assert " ".join(option) in " ".join(cmdline), cmdline
        assert cmdline[-2:] == ["--factory", "app_server:create_app"], cmdline
