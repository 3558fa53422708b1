"""scripts/topology.py's drawings of a fixed picture (the 3-tier layout as the lab builds it), and its
container view of a hardened container: no engine."""

from __future__ import annotations

import copy
import importlib.util
import sys

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

_spec = importlib.util.spec_from_file_location("topology", REPO / "scripts" / "topology.py")
assert _spec and _spec.loader
topology = importlib.util.module_from_spec(_spec)
sys.modules["topology"] = topology
_spec.loader.exec_module(topology)

YES = "resolves=yes port=yes"
NO = "resolves=no port=no"

# What `docker inspect` gives for the 3-tier layout, as a snapshot: web-server and database share no network.
SNAPSHOT = {
    "networks": {"backend-net": {"driver": "bridge"}, "frontend-net": {"driver": "bridge"}},
    "containers": {
        "app-server": {"networks": ["backend-net", "frontend-net"], "published ports": []},
        "database": {"networks": ["backend-net"], "published ports": []},
        "web-server": {"networks": ["frontend-net"], "published ports": ["127.0.0.1:18080->80/tcp"]},
    },
    "reachability": {
        "app-server": {"database": YES, "web-server": YES},
        "database": {"app-server": YES, "web-server": NO},
        "web-server": {"app-server": YES, "database": NO},
    },
}
PORTS = {"app-server": 3000, "database": 5432, "web-server": 80}


def three_tier(states: dict[str, str] | None = None) -> dict:
    return topology.picture(SNAPSHOT, states or {}, PORTS)


def test_mermaid_has_a_subgraph_per_network_and_a_node_per_membership() -> None:
    out = topology.render_mermaid(three_tier())
    assert out.startswith("flowchart LR\n")
    assert 'subgraph net__frontend_net["frontend-net · bridge"]' in out
    assert 'subgraph net__backend_net["backend-net · bridge"]' in out
    assert out.count("\n  end\n") == 2
    assert 'app_server__frontend_net["app-server"]' in out and 'app_server__backend_net["app-server"]' in out
    assert "app_server__backend_net -.-|same container| app_server__frontend_net" in out


def test_mermaid_shows_published_ports_reach_and_the_blocked_pair() -> None:
    out = topology.render_mermaid(three_tier())
    assert '>"127.0.0.1:18080 → web-server:80"]' in out
    assert "web_server__frontend_net -->|:3000| app_server__frontend_net" in out
    assert "app_server__backend_net -->|:5432| database__backend_net" in out
    assert "web_server__frontend_net -. ✗ .-x database__backend_net" in out
    assert "database__backend_net -->" not in out.replace("-->|:3000| app_server__backend_net", "")


def test_a_pair_with_nothing_in_common_is_not_drawn_as_blocked() -> None:
    snap = {
        "networks": {"a-net": {"driver": "bridge"}, "b-net": {"driver": "bridge"}},
        "containers": {
            "a": {"networks": ["a-net"], "published ports": []},
            "b": {"networks": ["b-net"], "published ports": []},
        },
        "reachability": {"a": {"b": NO}, "b": {"a": NO}},
    }
    out = topology.render_mermaid(topology.picture(snap, {}, {}))
    assert "-x" not in out and "-->" not in out


def test_a_stopped_container_says_so() -> None:
    out = topology.render_mermaid(three_tier({"database": "exited"}))
    assert 'database__backend_net["database (exited)"]' in out


def test_dot_has_a_cluster_per_network_the_same_edges_and_quotes_names() -> None:
    out = topology.render_dot(three_tier())
    assert out.startswith("digraph topology {") and out.rstrip().endswith("}")
    assert 'subgraph "cluster_frontend-net"' in out and 'subgraph "cluster_backend-net"' in out
    assert '"app-server@backend-net" -> "app-server@frontend-net" [style=dotted' in out
    assert '"web-server@frontend-net" -> "app-server@frontend-net" [label=":3000"]' in out
    assert '"web-server@frontend-net" -> "database@backend-net" [style=dashed, color=red' in out
    assert 'label="127.0.0.1:18080 → web-server:80"' in out
    assert topology.dot_quote('say "hi"\\') == '"say \\"hi\\"\\\\"'


@pytest.mark.parametrize(
    ("published", "label"),
    [
        ("127.0.0.1:18080->80/tcp", "127.0.0.1:18080 → web:80"),
        ("0.0.0.0:80->80/tcp", "0.0.0.0:80 → web:80"),
        ("8080->80/tcp (ingress)", "*:8080 → web:80 (ingress)"),
    ],
)
def test_port_labels(published: str, label: str) -> None:
    assert topology.port_label("web", published) == label


def test_graphviz_base_follows_the_offline_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBIAN_IMAGE", raising=False)
    monkeypatch.setenv("TOOLBOX_IMAGE", "alpine:3.22")
    assert topology.graphviz_build_args() == []
    monkeypatch.setenv("TOOLBOX_IMAGE", "lab-offline/toolbox:trixie")
    assert topology.graphviz_build_args() == ["--build-arg", "DEBIAN_IMAGE=lab-offline/debian:trixie"]
    monkeypatch.setenv("DEBIAN_IMAGE", "debian:13-slim")
    assert topology.graphviz_build_args() == ["--build-arg", "DEBIAN_IMAGE=debian:13-slim"]


def test_probe_script_judges_by_exit_codes() -> None:
    script = topology.probe_script([("database", 5432)])
    assert "if getent hosts database >/dev/null; then r=yes" in script
    assert "if nc -z -w 3 database 5432 2>/dev/null; then o=yes" in script


# The container view: each least-privilege setting is in it, so scripts/compare.sh sees a layout that lacks
# one. The input is `docker inspect`'s shape for a hardened app-server.
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
