"""scripts/topology.py's container view: each least-privilege setting is in it, so scripts/compare.sh sees a
layout that lacks one. No engine: the input is `docker inspect`'s shape for a hardened app-server."""

from __future__ import annotations

import copy
import importlib.util
import sys

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

_spec = importlib.util.spec_from_file_location("topology_view", REPO / "scripts" / "topology.py")
assert _spec and _spec.loader
topology = importlib.util.module_from_spec(_spec)
sys.modules["topology_view"] = topology
_spec.loader.exec_module(topology)

HARDENED = {
    "Name": "/app-server",
    "Id": "0123456789ab",
    "Config": {"Image": "my-app:latest", "User": "", "Env": ["DB_ENGINE=mysql"], "Labels": {}},
    "HostConfig": {
        "CapDrop": ["ALL"],
        "CapAdd": None,
        "SecurityOpt": ["no-new-privileges"],
        "ReadonlyRootfs": True,
        "Tmpfs": {"/tmp": ""},
        "Memory": 268435456,
        "PidsLimit": 128,
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
    },
    "NetworkSettings": {"Ports": {}, "Networks": {"backend-net": {}, "frontend-net": {}}},
    "Mounts": [],
}


def test_the_view_holds_each_setting() -> None:
    view = topology.container_view(copy.deepcopy(HARDENED))
    assert view["capabilities"] == "drop ['ALL'] add []"
    assert view["no-new-privileges"] is True
    assert view["read-only root"] is True
    assert view["tmpfs"] == ["/tmp"]
    assert (view["memory limit"], view["pids limit"], view["restart policy"]) == (
        268435456,
        128,
        "unless-stopped",
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CapDrop", None),
        ("CapAdd", ["NET_RAW"]),
        ("SecurityOpt", None),
        ("SecurityOpt", ["no-new-privileges=false"]),
        ("ReadonlyRootfs", False),
        ("Tmpfs", None),
        ("Tmpfs", {"/tmp": "uid=999"}),
        ("Memory", 0),
        ("PidsLimit", None),
        ("RestartPolicy", {"Name": "no"}),
        ("Sysctls", {"net.ipv4.tcp_tw_reuse": "1"}),
    ],
)
def test_a_layout_lacking_one_setting_differs(key: str, value: object) -> None:
    lacking = copy.deepcopy(HARDENED)
    lacking["HostConfig"][key] = value
    assert topology.container_view(lacking) != topology.container_view(copy.deepcopy(HARDENED))
