"""The tutorial's two layouts typed by hand, as a learner does: the commands of docs/see-and-check.md
("The 3-tier layout, to type", "The web-app layout, to type"), replayed word for word from the repo root with
two substitutions: the image variables (the stand-ins, when set) and the host port. No lab label.

Every container and network made here is tracked by name, so a fixture removes exactly those, even when a
test fails. A sabotage is one of the doc's `docker run` commands with a change (run_argv + the edits below).
"""

from __future__ import annotations

import re
import shlex
import subprocess

import requests
from labenv import IMAGE_DEFAULTS, REPO, image, wait_until

DOC = REPO / "docs" / "see-and-check.md"
HEADINGS = {"3tier": "### The 3-tier layout, to type", "webapp": "### The web-app layout, to type"}
DOC_PORTS = {"3tier": "127.0.0.1:18080:80", "webapp": "127.0.0.1:13000:3000"}
# the Dockerfiles' image arguments, and the official images the doc's commands name
BUILD_ARGS = {"app_server": "PYTHON_IMAGE", "nginx/Dockerfile": "NGINX_IMAGE"}
RUN_IMAGES = {
    IMAGE_DEFAULTS["POSTGRES_IMAGE"]: "POSTGRES_IMAGE",
    IMAGE_DEFAULTS["MYSQL_IMAGE"]: "MYSQL_IMAGE",
}


def doc_commands(layout: str) -> list[list[str]]:
    """The commands of the layout's bash block in docs/see-and-check.md, as argv lists."""
    text = DOC.read_text(encoding="utf-8").split(HEADINGS[layout], 1)[1]
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, f"{DOC}: no bash block under {HEADINGS[layout]!r}"
    joined = block.group(1).replace("\\\n", " ")
    return [
        shlex.split(line, comments=True) for line in joined.splitlines() if shlex.split(line, comments=True)
    ]


def localised(argv: list[str], layout: str, port: int) -> list[str]:
    """ARGV with this machine's images (the image variables) and host PORT instead of the doc's."""
    argv = [image(RUN_IMAGES[a]) if a in RUN_IMAGES else a for a in argv]
    argv = [
        f"127.0.0.1:{port}:{DOC_PORTS[layout].rsplit(':', 1)[1]}" if a == DOC_PORTS[layout] else a
        for a in argv
    ]
    if argv[:2] == ["docker", "build"]:
        var = next(BUILD_ARGS[a] for a in argv if a in BUILD_ARGS)
        if image(var) != IMAGE_DEFAULTS[var]:
            argv = [*argv[:2], "--build-arg", f"{var}={image(var)}", *argv[2:]]
    return argv


def sh(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


def name_of(argv: list[str]) -> str:
    return argv[argv.index("--name") + 1]


class HandTyped:
    """A layout typed from the doc: networks and containers created by name, removed by name."""

    def __init__(self, layout: str, port: int) -> None:
        self.layout, self.port = layout, port
        self.commands = [localised(a, layout, port) for a in doc_commands(layout)]
        self.containers: list[str] = []
        self.networks: list[str] = []

    def replay(self, until_healthy: dict[str, float]) -> None:
        """Every command of the doc in order; after a `docker run` of a container in UNTIL_HEALTHY, wait
        (at most that many seconds) until it is healthy, as the doc tells the learner to."""
        for argv in self.commands:
            if argv[:3] == ["docker", "network", "create"]:
                self.networks.append(argv[-1])
            if argv[:2] == ["docker", "run"]:
                self.containers.append(name_of(argv))
            sh(*argv)
            if argv[:2] == ["docker", "run"] and name_of(argv) in until_healthy:
                wait_healthy(name_of(argv), until_healthy[name_of(argv)])

    def run_argv(self, name: str) -> list[str]:
        """The doc's `docker run` of container NAME (localised)."""
        return next(a for a in self.commands if a[:2] == ["docker", "run"] and name_of(a) == name)

    def recreate(self, argv: list[str]) -> None:
        sh("docker", "rm", "-f", "-v", name_of(argv))
        sh(*argv)

    def remove_all(self) -> None:
        for name in self.containers:
            subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)
        for name in self.networks:
            subprocess.run(["docker", "network", "rm", name], capture_output=True, check=False)


# --- edits of a `docker run` argv, for the sabotages ------------------------------------------------------


def with_env(argv: list[str], key: str, value: str) -> list[str]:
    return [f"{key}={value}" if a.startswith(f"{key}=") else a for a in argv]


def without_network(argv: list[str]) -> list[str]:
    """The command without --network NAME: the container lands on the default bridge."""
    at = argv.index("--network")
    return argv[:at] + argv[at + 2 :]


def with_options(argv: list[str], *options: str) -> list[str]:
    """OPTIONS added after `docker run -d`."""
    return [*argv[:3], *options, *argv[3:]]


def wait_healthy(name: str, timeout: float) -> None:
    def healthy() -> bool:
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Health.Status}}", name],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return state == "healthy"

    if not wait_until(healthy, timeout, 1):
        logs = subprocess.run(
            ["docker", "logs", "--tail", "30", name], capture_output=True, text=True, check=False
        )
        raise AssertionError(f"{name} is not healthy after {timeout}s:\n{logs.stdout}{logs.stderr}")


def wait_answers(url: str, message: str, timeout: float = 60) -> None:
    def answers() -> bool:
        try:
            return requests.get(url, timeout=5).json().get("message") == message
        except (requests.RequestException, ValueError):  # not up yet, or nginx's HTML error page
            return False

    assert wait_until(answers, timeout, 1), f"{url} never answered {message!r}"
