"""The tutorial's two layouts typed by hand, as a learner does (docs/see-and-check.md's commands, no lab
label), for the tests of scripts/check-mine.sh. Every container and network made here is tracked by name,
so a fixture removes exactly those, even when a test fails."""

from __future__ import annotations

import subprocess

import requests
from labenv import REPO, image, wait_until

SECRETS = REPO / "db" / "secrets"
DB_IMAGES = {"mysql": "MYSQL_IMAGE", "postgres": "POSTGRES_IMAGE"}


def sh(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


class HandTyped:
    """Networks and containers created by name, removed by name."""

    def __init__(self) -> None:
        self.containers: list[str] = []
        self.networks: list[str] = []

    def network(self, name: str) -> None:
        self.networks.append(name)
        sh("docker", "network", "create", name)

    def run(self, name: str, *opts: str) -> None:
        """docker run -d --name NAME OPTS... (OPTS end with the image)."""
        if name not in self.containers:
            self.containers.append(name)
        sh("docker", "run", "-d", "--name", name, *opts)

    def recreate(self, name: str, *opts: str) -> None:
        sh("docker", "rm", "-f", "-v", name)
        self.run(name, *opts)

    def remove_all(self) -> None:
        for name in self.containers:
            subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)
        for name in self.networks:
            subprocess.run(["docker", "network", "rm", name], capture_output=True, check=False)


def wait_healthy(name: str, timeout: float) -> None:
    def healthy() -> bool:
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Health.Status}}", name],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return state == "healthy"

    assert wait_until(healthy, timeout, 1), (
        name
        + " is not healthy:\n"
        + subprocess.run(
            ["docker", "logs", "--tail", "30", name], capture_output=True, text=True, check=False
        ).stderr
    )


def wait_answers(url: str, message: str, timeout: float = 60) -> None:
    def answers() -> bool:
        try:
            return requests.get(url, timeout=5).json().get("message") == message
        except (requests.RequestException, ValueError):  # not up yet, or nginx's HTML error page
            return False

    assert wait_until(answers, timeout, 1), f"{url} never answered {message!r}"


def build_images() -> None:
    sh(
        "docker",
        "build",
        "-q",
        "-t",
        "my-app:latest",
        "--build-arg",
        f"PYTHON_IMAGE={image('PYTHON_IMAGE')}",
        "app_server",
    )
    sh(
        "docker",
        "build",
        "-q",
        "-t",
        "webapp",
        "--build-arg",
        f"PYTHON_IMAGE={image('PYTHON_IMAGE')}",
        "app_server",
    )
    sh(
        "docker",
        "build",
        "-q",
        "-t",
        "lab/web-server:latest",
        "--file",
        "nginx/Dockerfile",
        "--build-arg",
        f"NGINX_IMAGE={image('NGINX_IMAGE')}",
        ".",
    )
    sh("bash", "-c", ". scripts/lib/objects.sh; ensure_secrets")


def database_opts(engine: str, network: str) -> list[str]:
    """`docker run` options and image of the database, as scripts/run-3tier.sh prints them (no volume of its
    own: the image's anonymous one, removed with the container)."""
    secrets = [
        "-v",
        f"{SECRETS}/root_password:/run/secrets/db_root_password:ro",
        "-v",
        f"{SECRETS}/app_password:/run/secrets/db_app_password:ro",
        "-v",
        f"{REPO}/db/{engine}/initdb:/docker-entrypoint-initdb.d:ro",
    ]
    if engine == "postgres":
        env = ["-e", "POSTGRES_PASSWORD_FILE=/run/secrets/db_root_password", "-e", "POSTGRES_DB=myapp"]
        health = ["--health-cmd", "pg_isready -h 127.0.0.1 -U postgres -d myapp"]
    else:
        env = ["-e", "MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password", "-e", "MYSQL_DATABASE=myapp"]
        health = ["--health-cmd", "mysqladmin ping -h 127.0.0.1 --silent"]
    return [
        "--network",
        network,
        *env,
        "-e",
        "APP_DB_PASSWORD_FILE=/run/secrets/db_app_password",
        *secrets,
        *health,
        "--health-interval",
        "5s",
        "--health-timeout",
        "3s",
        "--health-retries",
        "5",
        "--health-start-period",
        "120s",
        "--health-start-interval",
        "1s",
        image(DB_IMAGES[engine]),
    ]


def app_opts(engine: str, network: str, host_var: str, host: str, *extra: str, app_image: str) -> list[str]:
    opts = ["--network", network] if network else []
    return [
        *opts,
        *extra,
        "-e",
        f"DB_ENGINE={engine}",
        "-e",
        f"{host_var}={host}",
        "-e",
        "DB_USER=appuser",
        "-e",
        "DB_NAME=myapp",
        "-e",
        "DB_PASSWORD_FILE=/run/secrets/db_app_password",
        "-v",
        f"{SECRETS}/app_password:/run/secrets/db_app_password:ro",
        app_image,
    ]


def web_opts(port: int, *extra: str, network: str = "frontend-net", backend_port: int = 3000) -> list[str]:
    opts = ["--network", network] if network else []
    return [
        *opts,
        "-p",
        f"127.0.0.1:{port}:80",
        *extra,
        "-e",
        "BACKEND_HOST=app-server",
        "-e",
        f"BACKEND_PORT={backend_port}",
        "lab/web-server:latest",
    ]
