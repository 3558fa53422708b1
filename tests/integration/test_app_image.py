"""The app image (app_server/Dockerfile) on a real engine: built as the tutorial builds it, run beside the
database under the tutorial's DNS name, reached through a port published on loopback."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
import requests
from labenv import REPO, TEST_LABELS, image, serving_on_3000
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # the app image is built first (about 1-3 minutes)

TAG = "lab-test/app:latest"  # a test name, never the tutorial's `webapp`
GET_ROOT = re.compile(
    rb'\{"message": "Connected to (MySQL|PostgreSQL)!", "time": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}'
)


@pytest.fixture(scope="session")
def app_image() -> str:
    """`docker build -t ... .` in app_server/, the folder the tutorial's command runs in."""
    result = subprocess.run(
        ["docker", "build", "--build-arg", f"PYTHON_IMAGE={image('PYTHON_IMAGE')}", "-t", TAG, "."],
        cwd=REPO / "app_server",
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        pytest.fail(f"docker build failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return TAG


@pytest.fixture
def network() -> Iterator[Network]:
    """A network of the test's own, for an app that needs no database."""
    with Network(docker_network_kw={"labels": TEST_LABELS}) as net:
        yield net


def app_container(app_image: str, network: Network, **env: str) -> AbstractContextManager[DockerContainer]:
    """The app container on `network`, port 3000 published on 127.0.0.1; removed on exit, even on failure."""
    return serving_on_3000(app_image, network, "lab-test-app", **env)


def url(container: DockerContainer, path: str) -> str:
    return f"http://127.0.0.1:{container.get_exposed_port(3000)}{path}"


def get(container: DockerContainer, path: str) -> requests.Response | None:
    """GET through the published port; None while gunicorn is not listening yet."""
    try:
        return requests.get(url(container, path), timeout=5)
    # Not listening yet (refused or reset while gunicorn binds): the caller polls.
    except requests.ConnectionError:
        return None


def answered(container: DockerContainer, path: str) -> requests.Response | None:
    """The response if GET `path` answered 200, else None (for polling)."""
    response = get(container, path)
    return response if response is not None and response.status_code == 200 else None


def test_the_image_answers_get_root_from_the_database_under_its_tutorial_name(
    app_image, database, wait_until
) -> None:
    # No DB_HOST: the default must be the tutorial's name, which the database has on this network.
    env = {"DB_ENGINE": database.engine, "DB_PASSWORD": "apppass"}
    with app_container(app_image, database.network, **env) as app:
        response = wait_until(lambda: answered(app, "/"), 30)
        logs = app.get_wrapped_container().logs(tail=20).decode(errors="replace")
        assert response, f"GET / never answered 200; app log:\n{logs}"
        assert response.headers["Content-Type"] == "application/json"
        assert GET_ROOT.fullmatch(response.content), response.content
        bindings = app.get_wrapped_container().ports["3000/tcp"]
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}


def test_the_image_runs_non_root_healthy_without_a_database_and_stops_cleanly(
    app_image, network, wait_until
) -> None:
    with app_container(app_image, network, DB_PASSWORD="apppass") as app:
        container = app.get_wrapped_container()
        assert wait_until(lambda: answered(app, "/healthz"), 30), container.logs(tail=20).decode()
        # No database on this network: the app is up, but not ready.
        readiness = get(app, "/readyz")
        assert readiness.status_code == 503
        assert readiness.json()["status"] == "not ready"

        status = app.exec(["cat", "/proc/1/status"]).output.decode()
        uid = re.search(r"^Uid:\s+(\d+)", status, flags=re.MULTILINE).group(1)
        assert uid != "0", "gunicorn (PID 1) runs as root"

        def docker_health() -> str | None:
            container.reload()
            state = container.attrs["State"]["Health"]["Status"]
            return state if state == "healthy" else None

        # Docker's own verdict: the HEALTHCHECK probes /healthz with Python (no curl in the image).
        assert wait_until(docker_health, 40, interval=1), container.attrs["State"]["Health"]

        container.stop(timeout=10)  # SIGTERM: gunicorn finishes and exits by itself, before any SIGKILL
        container.reload()
        assert container.attrs["State"]["ExitCode"] == 0, container.logs(tail=20).decode()


def test_a_bad_setting_exits_non_zero_with_one_line_in_the_log(app_image, network) -> None:
    with app_container(app_image, network, DB_PASSWORD="apppass", DB_PORT="three-thousand-306") as app:
        exit_code = app.get_wrapped_container().wait(timeout=30)["StatusCode"]
        log = app.get_wrapped_container().logs().decode(errors="replace")
        assert exit_code != 0, log
        errors = [line for line in log.splitlines() if "[ERROR]" in line]
        assert len(errors) == 1, log
        assert 'DB_PORT must be a port number from 1 to 65535, not "three-thousand-306"' in errors[0]
        assert "e.g. -e DB_PORT=3306" in errors[0]
        assert "Traceback" not in log
