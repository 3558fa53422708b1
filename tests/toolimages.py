"""The tests' tools that run in containers, not on the host: a headless browser and a load generator.

BROWSER_IMAGE and WRK_IMAGE name their images. The offline kit (tools/offline-images.sh) sets them to its
lab-offline/* builds. Unset, each is our Dockerfile under offline/ built FROM debian:trixie-slim under a
name of our own (lab/browser:latest, lab/wrk:latest), built here the first time a test needs it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Sequence

from labenv import REPO, TEST_LABEL

# variable: (the image's name when the variable is unset, its folder under offline/)
TOOL_IMAGES = {
    "BROWSER_IMAGE": ("lab/browser:latest", "chromium"),
    "WRK_IMAGE": ("lab/wrk:latest", "wrk"),
}
BUILD_TIMEOUT_S = 900  # a cold chromium build downloads ~150 MB of Debian packages


def tool_image(variable: str) -> str:
    """The image VARIABLE names; unset, our own default image, built from offline/ when it is missing."""
    default, folder = TOOL_IMAGES[variable]
    name = os.environ.get(variable) or default
    present = subprocess.run(["docker", "image", "inspect", name], capture_output=True, check=False)
    if present.returncode == 0:
        return name
    assert name == default, (
        f"{variable}={name} is not on this engine: build it (tools/offline-images.sh) or unset {variable}"
    )
    dockerfile = REPO / "offline" / folder / "Dockerfile"
    build = subprocess.run(
        ["docker", "build", "-t", name, "-f", str(dockerfile), str(REPO / "offline")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert build.returncode == 0, f"docker build -t {name} -f {dockerfile} failed:\n{build.stderr[-3000:]}"
    return name


def tool_run(
    variable: str, docker_args: Sequence[str], tool_args: Sequence[str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`docker run DOCKER_ARGS IMAGE TOOL_ARGS` of the image VARIABLE names, labelled as the tests', never
    pulled (the image is ours or the kit's), and removed even when it outlives `timeout`."""
    name = f"lab-test-{TOOL_IMAGES[variable][1]}-{uuid.uuid4().hex[:8]}"
    command = ["docker", "run", "--rm", "--pull", "never", "--name", name, "--label", f"{TEST_LABEL}=1"]
    try:
        return subprocess.run(
            [*command, *docker_args, tool_image(variable), *tool_args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:  # after a timeout the container still runs; otherwise --rm has removed it already
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
