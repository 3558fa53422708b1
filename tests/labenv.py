"""The lab's constants and small helpers for tests: labels, image variables, bounded polling."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# testcontainers' Ryuk reaper is an image from a registry we cannot reach; we clean up by label instead.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
# /.dockerenv exists on our machines, which makes testcontainers talk to the gateway IP; published
# ports are on the host's loopback, so ask for ordinary docker-host mode.
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

# The lab's label: every container, network and volume we create carries it (scripts/cleanup.sh).
LAB_LABEL = "io.docker-net-lab"
# The tests' own objects carry a label of their own, so scripts/cleanup.sh and the "nothing of the lab's is
# left" checks never see or touch them; .ci/run and the fixtures remove them by this label.
TEST_LABEL = "io.docker-net-lab-test"
TEST_LABELS = {TEST_LABEL: "1"}

# Image variables, defaulting to the official images (tools/offline-images.sh prints the stand-ins' values).
IMAGE_DEFAULTS = {
    "PYTHON_IMAGE": "python:3.13-slim",
    "MYSQL_IMAGE": "mysql:8.4",
    "POSTGRES_IMAGE": "postgres:17",
    "NGINX_IMAGE": "nginx:1.27",
    "TOOLBOX_IMAGE": "alpine:3.22",
    "NODE_IMAGE": "docker:28-dind",  # a simulated host of extras/cluster/sim-cluster.sh
    "NODEJS_IMAGE": "node:24-alpine",  # the tutorial's Express app, extras/bench/express/
}


def image(name: str) -> str:
    """The image an image variable names (e.g. image("MYSQL_IMAGE")), or the official default."""
    return os.environ.get(name) or IMAGE_DEFAULTS[name]


def wait_until(check: Callable[[], object], timeout: float, interval: float = 0.5) -> object:
    """Call check() until it returns something truthy; return that, or the last falsy answer at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


@contextmanager
def serving_on_3000(image_name: str, network: Any, prefix: str, **env: str) -> Iterator[Any]:
    """IMAGE_NAME on NETWORK (a testcontainers Network) as PREFIX-<random>, with ENV, labelled, its port 3000
    published on 127.0.0.1 (any free port); removed on exit, even when the test fails."""
    from testcontainers.core.container import DockerContainer  # imported here: the unit tier needs no engine

    container = (
        DockerContainer(image_name)
        .with_name(f"{prefix}-{uuid.uuid4().hex[:8]}")
        .with_network(network)
        .with_envs(**env)
        .with_kwargs(labels=TEST_LABELS)
    )
    container.ports["3000"] = ("127.0.0.1", None)  # loopback only, any free port
    with container:
        yield container
