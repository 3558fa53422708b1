"""extras/cluster/sim-cluster.sh: the Swarm stack across three Docker engines in containers, and its drills.

One cluster serves the whole module (it takes about a minute to come up); the drills put it back as they
found it, and the last test takes it down. This machine's own engine may be in a swarm of its own (the
single-node stack of run-swarm.sh): the cluster must never touch it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import pytest
from labenv import LAB_LABEL
from scriptrun import assert_ok, check_line, docker, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PORT = "8090"
NODES = 3
BOUND = 120  # seconds: the script's DRILL_BOUND


def outer_swarm() -> str:
    """This machine's own swarm state and node ID: what the cluster must leave alone."""
    return docker("info", "-f", "{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}").stdout.strip()


def ours(kind: str) -> list[str]:
    """Objects of KIND (container, volume, network) carrying the cluster layout's label."""
    filters = ["--filter", f"label={LAB_LABEL}=cluster"]
    cmd = ["ps", "-aq", *filters] if kind == "container" else [kind, "ls", "-q", *filters]
    return docker(*cmd).stdout.split()


def seconds_in(line: str, after: str) -> int:
    match = re.search(rf"{after} (\d+)s", line)
    assert match, line
    return int(match.group(1))


@pytest.fixture(scope="module")
def outer_before() -> str:
    return outer_swarm()


@pytest.fixture(scope="module")
def cluster(outer_before: str) -> Iterator[str]:
    up = script("extras/cluster/sim-cluster.sh", "--nodes", str(NODES), "--port", PORT)
    try:
        assert_ok(up)
        yield up.stdout + up.stderr
    finally:
        assert_ok(script("extras/cluster/sim-cluster.sh", "--down"))


def test_cluster_comes_up_with_n_ready_nodes(cluster: str) -> None:
    check_line(cluster, f"docker node ls on node1: {NODES} of {NODES} nodes Ready")
    nodes = docker("exec", "lab-node1", "docker", "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
    assert sorted(nodes.stdout.split("\n")[:-1]) == [f"node{k} Ready" for k in range(1, NODES + 1)]
    addresses = {
        docker(
            "inspect", "-f", '{{(index .NetworkSettings.Networks "lab-hosts").IPAddress}}', f"lab-node{k}"
        ).stdout.strip()
        for k in range(1, NODES + 1)
    }
    assert len(addresses) == NODES, f"each host has its own address on lab-hosts: {addresses}"


def test_stack_answers_through_nginx_on_node1(cluster: str) -> None:
    check_line(cluster, "answers through nginx on node1 ('Connected to PostgreSQL!')")
    body = subprocess.run(
        ["curl", "-fsS", "--max-time", "10", f"http://127.0.0.1:{PORT}/api/"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert body.returncode == 0, body.stderr
    assert json.loads(body.stdout)["message"] == "Connected to PostgreSQL!"
    assert docker("port", "lab-node1", "80/tcp").stdout.strip() == f"127.0.0.1:{PORT}"


def test_answers_come_from_app_tasks_on_several_hosts(cluster: str) -> None:
    line = check_line(cluster, "answers came from app tasks on at least 2 hosts")
    hosts = set(re.findall(r"(node\d+) x\d+", line))
    assert len(hosts) >= 2, line
    check_line(cluster, "nginx on node1 reached app tasks on other hosts")
    check_line(cluster, "every app task answers on its own address (tasks.app-server, over VXLAN)")
    check_line(cluster, "web-server cannot resolve 'database'")
    check_line(cluster, "web-server has no interface on backend-net")
    check_line(cluster, "resolves 'database' and opens its port 5432")


def test_node_loss_is_rescheduled_and_answered_again(cluster: str) -> None:
    drill = script("extras/cluster/sim-cluster.sh", "--drill", "node-loss")
    assert_ok(drill)
    out = drill.stdout + drill.stderr
    down = seconds_in(check_line(out, "the swarm marked node2 Down"), "after")
    moved = seconds_in(check_line(out, "rescheduled: 3 running on the surviving hosts"), "after")
    assert down <= moved <= BOUND
    check_line(out, f"nginx answers 200 again within {BOUND}s")
    check_line(out, "node2 rejoined the swarm and is Ready")
    placed = docker(
        "exec",
        "lab-node1",
        "docker",
        "service",
        "ps",
        "lab-cluster_app-server",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}}",
    ).stdout.split()
    assert len(placed) == 3 and len(set(placed)) == NODES, f"rebalanced over the hosts again: {placed}"


def test_three_managers_keep_a_quorum_through_a_partition(cluster: str) -> None:
    drill = script("extras/cluster/sim-cluster.sh", "--managers", "3", "--drill", "partition")
    assert_ok(drill)
    out = drill.stdout + drill.stderr
    check_line(out, "the managers on the majority side mark node2 Down")
    check_line(out, "2 of 3 managers keep the quorum")
    check_line(out, "the cut-off manager node2 has lost the quorum")
    check_line(out, "the service kept answering: 3 app tasks on the connected hosts")
    check_line(out, "nginx answers 200")
    check_line(out, "node2 is back and Ready")
    check_line(out, "node2 sees the leader again")
    managers = docker("exec", "lab-node1", "docker", "node", "ls", "--filter", "role=manager", "-q")
    assert len(managers.stdout.split()) == 3


def test_down_leaves_nothing_and_the_outer_swarm_as_it_was(cluster: str, outer_before: str) -> None:
    assert_ok(script("extras/cluster/sim-cluster.sh", "--down"))
    for kind in ("container", "volume", "network"):
        assert ours(kind) == [], f"{kind}s of the cluster left behind"
    assert docker("network", "inspect", "lab-hosts").returncode != 0
    assert outer_swarm() == outer_before
    again = script("extras/cluster/sim-cluster.sh", "--down")  # idempotent: nothing to remove is not an error
    assert_ok(again)


def test_bad_usage_exits_2() -> None:
    for args in (["--nodes", "1"], ["--drill", "meteor"], ["--managers", "4", "--nodes", "3"], ["--bogus"]):
        result = script("extras/cluster/sim-cluster.sh", *args)
        assert result.returncode == 2, (args, result.stderr)
