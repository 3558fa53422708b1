"""The web-server tier (nginx/ + web/) on a real engine: the page, its own health, JSON errors, the proxy.

The image is built from the repo as the scripts build it, then run on a labelled user-defined network of its
own. The upstream in the proxy tests is a tiny stdlib echo server (UPSTREAM below), not a stand-in for our
app: it answers with the path and headers nginx sent, which is what these tests are about. The app's own
behaviour behind nginx is the e2e tests' job.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import docker
import docker.errors
import pytest
import requests
from docker.models.containers import Container
from docker.models.networks import Network
from labenv import REPO, TEST_LABELS, image, wait_until

pytestmark = pytest.mark.integration

WEB_IMAGE = "lab-test/web-server:latest"
APP_ALIAS, APP_PORT = "app-server", 3000  # what the scripts pass as BACKEND_HOST / BACKEND_PORT
SECOND = 1_000_000_000  # the engine's healthcheck durations are nanoseconds

# Answers every GET with {"generation", "path", "headers", "peer"} as JSON (peer: the client's address and
# port, that is nginx's end of the connection); `?status=N` answers with status N and `?sleep=S` waits first.
# GENERATION tells one upstream container from the next. HTTP/1.1: a connection stays open for the next
# request, as gunicorn keeps it.
UPSTREAM = """
import json, os, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)
        time.sleep(float(query.get("sleep", ["0"])[0]))
        body = json.dumps({"generation": os.environ["GENERATION"], "path": self.path,
                           "headers": dict(self.headers), "peer": "%s:%d" % self.client_address}).encode()
        self.send_response(int(query.get("status", ["200"])[0]))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("", 3000), Echo).serve_forever()
"""


@dataclass
class Web:
    """The web-server container and its address on the host."""

    container: Container
    network: Network
    url: str  # http://127.0.0.1:<published port>

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, timeout=15, allow_redirects=False, **kwargs)


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    engine = docker.from_env()
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="module")
def web_image() -> str:
    """The tier's image, built from the repo root as scripts/run-3tier.sh builds it."""
    command = [
        "docker",
        "build",
        "-q",
        "-f",
        "nginx/Dockerfile",
        "-t",
        WEB_IMAGE,
    ]
    command += ["--build-arg", f"NGINX_IMAGE={image('NGINX_IMAGE')}", "."]
    build = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, f"docker build -f nginx/Dockerfile failed:\n{build.stderr}"
    return WEB_IMAGE


@pytest.fixture(scope="module")
def network(client: docker.DockerClient) -> Iterator[Network]:
    """A user-defined network of our own (Docker's embedded DNS only answers on those)."""
    net = client.networks.create(f"lab-test-web-{uuid.uuid4().hex[:8]}", driver="bridge", labels=TEST_LABELS)
    try:
        yield net
    finally:
        net.reload()
        for member in net.containers:  # whatever a failed test left on it
            member.remove(force=True)
        net.remove()


def start_web(client: docker.DockerClient, web_image: str, network: Network, **env: str) -> Web:
    """Run the image as the scripts do (published on 127.0.0.1 only) and wait until nginx answers."""
    container = client.containers.run(
        web_image,
        name=f"{network.name}-nginx-{uuid.uuid4().hex[:4]}",
        detach=True,
        labels=TEST_LABELS,
        network=network.name,
        environment={"BACKEND_HOST": APP_ALIAS, "BACKEND_PORT": str(APP_PORT), **env},
        ports={"80/tcp": ("127.0.0.1", None)},
        # Only the interval is ours: the engine keeps the image's HEALTHCHECK command, which is under test.
        healthcheck={"interval": SECOND},
    )
    container.reload()
    web = Web(container, network, f"http://127.0.0.1:{container.ports['80/tcp'][0]['HostPort']}")

    def answers() -> bool:
        try:
            return web.get("/healthz").status_code == 200
        except requests.ConnectionError:
            return False

    if not wait_until(answers, 20):
        logs = container.logs(tail=30).decode(errors="replace")
        container.remove(force=True)
        pytest.fail(f"nginx did not answer /healthz within 20 s; its last log lines:\n{logs}")
    return web


@pytest.fixture(scope="module")
def web(client: docker.DockerClient, web_image: str, network: Network) -> Iterator[Web]:
    server = start_web(client, web_image, network)
    try:
        yield server
    finally:
        server.container.remove(force=True)


@pytest.fixture
def upstream(client: docker.DockerClient, network: Network) -> Iterator[Callable[[str], Container]]:
    """start(generation): an echo server reachable as app-server on the network (an alias, not a name, so
    parallel runs never collide); start(generation, alias=False): one that is not app-server. Every one
    started is removed at the end."""
    started: list[Container] = []

    def start(generation: str, alias: bool = True) -> Container:
        container = client.containers.run(
            image("PYTHON_IMAGE"),
            ["python", "-c", UPSTREAM],
            name=f"{network.name}-upstream-{generation}-{uuid.uuid4().hex[:4]}",
            detach=True,
            labels=TEST_LABELS,
            environment={"GENERATION": generation},
            network=network.name,
            networking_config={
                network.name: client.api.create_endpoint_config(aliases=[APP_ALIAS] if alias else None)
            },
        )
        started.append(container)
        return container

    try:
        yield start
    finally:
        for container in started:
            with contextlib.suppress(docker.errors.NotFound):  # a test may have removed it already
                container.remove(force=True)


def ip_on(container: Container, network: Network) -> str:
    container.reload()
    return container.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]


def echo_from(web: Web, path: str = "/api/") -> dict | None:
    """The echo server's answer through nginx, or None while nginx cannot reach it."""
    response = web.get(path)
    return response.json() if response.status_code == 200 and "generation" in response.text else None


def test_page_is_served_with_the_elements_the_script_fills(web: Web) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    for element in ("db-time", "db-engine", "status", "error", "retry"):
        assert f'id="{element}"' in page, f"the page lacks #{element}"
    assert re.search(r'<div id="error"[^>]*\bhidden\b', page), "#error must be hidden until the API fails"
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must load nothing from another origin"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for asset, kind in (("/app.js", "javascript"), ("/style.css", "text/css")):
        got = web.get(asset)
        assert got.status_code == 200 and kind in got.headers["Content-Type"], asset


def test_healthz_is_answered_by_nginx_itself(web: Web) -> None:
    response = web.get("/healthz")
    assert (response.status_code, response.text.strip()) == (200, "ok")


def test_container_becomes_healthy(web: Web) -> None:
    def health() -> str | None:
        web.container.reload()
        status = web.container.attrs["State"]["Health"]["Status"]
        return status if status == "healthy" else None

    assert wait_until(health, 40), f"not healthy after 40 s: {web.container.attrs['State']['Health']}"
    assert "/healthz" in " ".join(web.container.attrs["Config"]["Healthcheck"]["Test"])


def test_server_header_has_no_version(web: Web) -> None:
    for path in ("/", "/api/", "/missing"):
        assert web.get(path).headers["Server"] == "nginx", path


def test_api_without_app_server_is_json_502(
    client: docker.DockerClient, web_image: str, network: Network
) -> None:
    """A web-server of its own: the module's nginx may still hold an earlier test's app-server address
    (resolver valid=10s), which no longer answers at all (a timeout, 504), not "no such name" (502)."""
    network.reload()
    aliases = [
        a
        for c in network.containers
        for a in c.attrs["NetworkSettings"]["Networks"][network.name]["Aliases"] or []
    ]
    assert APP_ALIAS not in aliases, "an app-server is on the network: the test's precondition does not hold"
    fresh = start_web(client, web_image, network)
    try:
        response = fresh.get("/api/")
        assert response.status_code == 502
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {"error": f"{APP_ALIAS} unreachable", "status": 502}
        assert response.headers["X-Served-By-Web"] == fresh.container.id[:12]
    finally:
        fresh.container.remove(force=True)


def test_template_is_rendered_with_backend_and_keeps_nginx_variables(web: Web) -> None:
    code, output = web.container.exec_run(["cat", "/etc/nginx/conf.d/default.conf"])
    config = output.decode()
    assert code == 0, config
    assert f"server {APP_ALIAS}:{APP_PORT} resolve;" in config
    assert "proxy_pass http://app_server/;" in config
    assert "valid=10s" in config
    assert "${" not in config, "a template variable was left unrendered"
    for nginx_variable in ("$host", "$remote_addr", "$status", "$upstream_addr"):
        assert nginx_variable in config, f"envsubst ate nginx's {nginx_variable}"


def test_backend_host_comes_from_the_environment(
    client: docker.DockerClient, web_image: str, network: Network
) -> None:
    other = start_web(client, web_image, network, BACKEND_HOST="lab-test-nowhere", BACKEND_PORT="8080")
    try:
        response = other.get("/api/")
        assert (response.status_code, response.json()["error"]) == (502, "lab-test-nowhere unreachable")
    finally:
        other.container.remove(force=True)


def test_api_prefix_is_stripped_and_forwarded_headers_are_set(
    web: Web, upstream: Callable[[str], Container]
) -> None:
    upstream("one")
    # nginx may still hold the "no such name" answer of an earlier test for up to valid=10s.
    assert wait_until(lambda: echo_from(web), 20), "nginx never reached app-server"
    seen = web.get("/api/healthz?probe=1%202", headers={"X-Forwarded-For": "6.6.6.6"}).json()
    assert seen["path"] == "/healthz?probe=1%202"
    assert web.get("/api/").json()["path"] == "/"
    headers = seen["headers"]
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Host"] == web.url.removeprefix("http://")
    # Set from the connection, never appended to what the client claimed.
    assert headers["X-Forwarded-For"] == headers["X-Real-IP"] != "6.6.6.6"


def test_nginx_keeps_its_connections_to_the_app(web: Web, upstream: Callable[[str], Container]) -> None:
    """upstream keepalive: 20 requests in a row reach the app over a few kept connections (one per nginx
    worker at most), not 20 new ones, and nginx never asks the app to close them."""
    upstream("one")
    assert wait_until(lambda: echo_from(web), 20), "nginx never reached app-server"
    seen = [echo_from(web) for _ in range(20)]
    assert all(seen), "an answer through nginx was not the echo server's"
    peers = [answer["peer"] for answer in seen]
    assert len(set(peers)) <= 4, f"nginx opened {len(set(peers))} connections for 20 requests: {peers}"
    assert all(answer["headers"].get("Connection", "") != "close" for answer in seen)


def test_app_errors_pass_through_unchanged(web: Web, upstream: Callable[[str], Container]) -> None:
    upstream("one")
    assert wait_until(lambda: echo_from(web), 20), "nginx never reached app-server"
    # The app's own 503 (as /readyz answers) must reach the page as the app wrote it, not as "unreachable".
    response = web.get("/api/readyz?status=503")
    assert response.status_code == 503
    assert response.json()["generation"] == "one"


def test_recreated_app_server_is_reached_again_without_reloading_nginx(
    web: Web, upstream: Callable[..., Container]
) -> None:
    started_at = web.container.attrs["State"]["StartedAt"]
    first = upstream("one")
    assert wait_until(lambda: echo_from(web), 20), "nginx never reached the first app-server"
    old_ip = ip_on(first, web.network)

    first.remove(force=True)  # docker rm -f app-server
    # The engine hands out the lowest free address, so the new app-server would get the old IP back and
    # even a stale nginx would find it. Another container takes the old IP first, as happens on a busy host:
    # a stale nginx now talks to the wrong server (it answers as "squatter").
    upstream("squatter", alias=False)
    second = upstream("two")
    new_ip = ip_on(second, web.network)
    assert new_ip != old_ip

    # Each nginx worker process keeps its own resolver cache (worker_processes auto: one per core), so one
    # worker can answer from the new app-server while another still holds the old address for the rest of
    # its valid=10s. The claim is that every worker gets there without a reload: ask until a whole run of
    # requests, enough to reach every worker, is answered by "two" at the new address.
    def all_workers_moved() -> bool:
        for _ in range(12):
            response = web.get("/api/")
            if response.status_code != 200 or response.json().get("generation") != "two":
                return False
            if response.headers["X-Upstream-Addr"] != f"{new_ip}:{APP_PORT}":
                return False
        return True

    # valid=10s per worker from its last lookup, plus the poll's step and slack on a busy machine.
    assert wait_until(all_workers_moved, 30), (
        f"nginx still cannot reach app-server at {new_ip} after 30 s: a worker kept the old IP {old_ip}"
    )
    web.container.reload()
    assert web.container.attrs["State"]["StartedAt"] == started_at, "nginx was restarted"


def test_slow_app_is_json_504(web: Web, upstream: Callable[[str], Container]) -> None:
    upstream("one")
    assert wait_until(lambda: echo_from(web), 20), "nginx never reached app-server"
    response = web.get("/api/?sleep=12")  # proxy_read_timeout is 10 s
    assert response.status_code == 504
    assert response.json() == {"error": f"{APP_ALIAS} timed out", "status": 504}
