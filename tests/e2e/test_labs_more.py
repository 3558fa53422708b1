"""scripts/lab.sh overlay and troubleshoot, and scripts/troubleshoot.sh, end to end on a real engine.

Each lab runs once per module; the tests assert its CHECK lines (what a learner sees), not just the exit code,
and that it leaves nothing labelled behind and the swarm as it found it.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from labenv import LAB_LABEL, TEST_LABELS, image
from scriptrun import (
    assert_ok,
    assert_ran_as_mapped,
    check_line,
    docker,
    engine_has_ipvs,
    one_line,
    printed_commands,
    script,
)

pytestmark = pytest.mark.e2e

IP = r"\d+\.\d+\.\d+\.\d+"


def swarm_state() -> str:
    return docker("info", "-f", "{{.Swarm.LocalNodeState}}").stdout.strip()


def left_behind(layout: str) -> list[str]:
    """Containers, networks (and, in a swarm, services) still carrying the layout's label."""
    flt = ["--filter", f"label={LAB_LABEL}={layout}"]
    found = docker("ps", "-aq", *flt).stdout.split() + docker("network", "ls", "-q", *flt).stdout.split()
    if swarm_state() == "active":
        found += docker("service", "ls", "-q", *flt).stdout.split()
    return found


@pytest.fixture(scope="module")
def overlay_run() -> tuple[str, subprocess.CompletedProcess[str], str]:
    before = swarm_state()
    result = script("lab.sh", "overlay", timeout=600)
    return before, result, swarm_state()


@pytest.fixture(scope="module")
def troubleshoot_run() -> subprocess.CompletedProcess[str]:
    return script("lab.sh", "troubleshoot", timeout=300)


# --- overlay ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_overlay_passes_and_checks_vip_tasks_and_attachable(overlay_run) -> None:
    _, result, _ = overlay_run
    assert_ok(result)
    out = result.stdout
    assert "CHECK FAIL" not in out and "All checks passed." in out
    check_line(out, "docker run --network my-overlay is refused: 'not manually attachable'")
    check_line(out, "my-nginx runs 3/3 replicas")
    vip = check_line(out, "my-nginx resolves to one address, the service's VIP")
    assert re.search(rf"VIP \({IP}\)", vip), vip
    tasks = check_line(out, "tasks.my-nginx resolves to 3 addresses")
    assert len(re.findall(IP, tasks)) == 3, tasks
    check_line(out, "overlay-client (standalone) gets HTTP 2xx from every task by address on port 80")


@pytest.mark.slow
def test_overlay_shows_opt_encrypted_and_its_contrast(overlay_run) -> None:
    """The tutorial's "안전한 통신" needs `--opt encrypted`: the lab creates such an overlay, reads the option
    back from `docker network inspect` (and its absence on a plain one), and uses the network."""
    _, result, _ = overlay_run
    commands = [one_line(cmd) for cmd in printed_commands(result.stderr)]
    assert any(
        c.startswith("docker network create -d overlay --attachable --opt encrypted")
        and c.endswith(" my-encrypted-overlay")
        for c in commands
    ), commands
    assert '"encrypted":""' in check_line(result.stdout, "my-encrypted-overlay holds the option encrypted")
    assert "encrypted" not in check_line(
        result.stdout, "for contrast, my-attachable-overlay (no --opt) does not"
    )
    check_line(result.stdout, "overlay-secure-1 pings overlay-secure-2 by name on the encrypted overlay")


@pytest.mark.slow
def test_overlay_vip_or_dnsrr_depending_on_ipvs(overlay_run) -> None:
    _, result, _ = overlay_run
    out = result.stdout
    if engine_has_ipvs():
        check_line(out, "wget http://my-nginx/ through the VIP answers HTTP 2xx")
        return
    assert "no IPVS in this kernel: the VIP resolves but cannot carry connections" in result.stderr
    check_line(out, "without IPVS, wget http://my-nginx/ through the VIP gets no answer")
    check_line(out, "my-nginx-dnsrr has no VIP")
    direct = check_line(out, "my-nginx-dnsrr resolves straight to its 3 task addresses")
    assert len(re.findall(IP, direct)) == 3, direct
    check_line(out, "every my-nginx-dnsrr task answers HTTP 2xx on port 80")
    check_line(out, "wget http://my-nginx-dnsrr/ (by service name) answers HTTP 2xx")


@pytest.mark.slow
def test_overlay_runs_what_the_map_names(overlay_run) -> None:
    _, result, _ = overlay_run
    assert_ran_as_mapped("scripts/labs/overlay.sh", result)


@pytest.mark.slow
def test_overlay_restores_swarm_state_and_leaves_nothing(overlay_run) -> None:
    before, result, after = overlay_run
    assert after == before, f"swarm was {before!r} before the lab and is {after!r} after\n{result.stderr}"
    assert left_behind("lab-overlay") == []


# --- troubleshoot lab ---------------------------------------------------------------------------------------


def test_troubleshoot_lab_checks_every_debugging_command(troubleshoot_run) -> None:
    assert_ok(troubleshoot_run)
    out = troubleshoot_run.stdout
    assert "CHECK FAIL" not in out and "All checks passed." in out
    check_line(out, "ping my-container gets its replies (ping exits 0")
    pinged = check_line(out, "ping resolved my-container to its address")
    assert re.search(rf"address \({IP}\)", pinged), pinged
    answer = check_line(out, "nslookup my-container exits 0 and answers")
    assert re.search(IP, answer), answer
    check_line(out, "nslookup asked Docker's embedded DNS, 127.0.0.11")
    check_line(out, "nslookup no-such-container fails (exit")
    check_line(out, "nc -zv my-container 80 exits 0: the port is open")
    check_line(out, "nc -zv my-container 81 exits non-zero")
    for tool in ("ip addr", "netstat -tulpn", "ss -tulpn", "route -n"):  # as written: not in nginx's image
        check_line(
            out, f"docker exec my-container {tool} exits 127: the nginx image has no {tool.split()[0]}"
        )
    check_line(out, "ip addr (in my-container's namespace) shows lo and eth0")
    check_line(out, "netstat -tulpn shows nginx listening on TCP port 80")
    check_line(out, "and nothing listening on port 81")
    check_line(out, "ss -tulpn exits 127 in the toolbox: alpine has no ss")
    route = check_line(out, "route -n has the default route via app-network's gateway")
    assert re.search(rf"gateway {IP}$", route), route


def test_troubleshoot_runs_what_the_map_names(troubleshoot_run) -> None:
    assert_ran_as_mapped("scripts/labs/troubleshoot.sh", troubleshoot_run)


def test_troubleshoot_lab_leaves_nothing(troubleshoot_run) -> None:
    assert_ok(troubleshoot_run)
    assert left_behind("lab-troubleshoot") == []


# --- scripts/troubleshoot.sh --------------------------------------------------------------------------------


def labels() -> list[str]:
    return [arg for key, value in TEST_LABELS.items() for arg in ("--label", f"{key}={value}")]


@pytest.fixture(scope="module")
def little_layout() -> Iterator[dict[str, str]]:
    """A network with a target, a web peer (nginx: EXPOSE 80, listening) and a peer that EXPOSEs 5432 but
    listens on nothing; all labelled as the test's."""
    tag = uuid.uuid4().hex[:8]
    names = {k: f"lab-test-ts-{tag}-{k}" for k in ("net", "target", "web", "idle")}
    try:
        assert_ok(docker("network", "create", *labels(), names["net"]))
        run = ["run", "-d", "--network", names["net"], *labels()]
        assert_ok(docker(*run, "--name", names["target"], image("TOOLBOX_IMAGE"), "sleep", "600"))
        assert_ok(docker(*run, "--name", names["web"], image("NGINX_IMAGE")))
        assert_ok(
            docker(*run, "--name", names["idle"], "--expose", "5432", image("TOOLBOX_IMAGE"), "sleep", "600")
        )
        ip_on = f'{{{{(index .NetworkSettings.Networks "{names["net"]}").IPAddress}}}}'
        for key in ("target", "web", "idle"):
            names[f"{key}_ip"] = docker("inspect", "-f", ip_on, names[key]).stdout.strip()
            # an empty address would make "resolves to " below match any line
            assert re.fullmatch(IP, names[f"{key}_ip"]), (key, names[f"{key}_ip"])
        yield names
    finally:
        docker("rm", "-f", "-v", names["target"], names["web"], names["idle"])
        docker("network", "rm", names["net"])


def report_line(report: str, name: str) -> str:
    line = next((ln for ln in report.splitlines() if ln.strip().startswith(name)), None)
    assert line is not None, f"no line for {name}:\n{report}"
    return line


def test_report_shows_network_address_peers_and_ports(little_layout) -> None:
    n = little_layout
    result = script("troubleshoot.sh", n["target"], timeout=180)
    assert_ok(result)
    report = result.stdout
    net_line = report_line(report, n["net"])
    assert n["target_ip"] in net_line and "/" in net_line, net_line  # its network, with its IP/prefix
    assert f"inet {n['target_ip']}" in report or f"{n['target_ip']}/" in report
    assert "default via" in report  # routes
    assert "nameserver 127.0.0.11" in report  # resolv.conf of a user-defined network
    lines = report.splitlines()
    web = lines.index(report_line(report, n["web"]))
    assert f"resolves to {n['web_ip']}" in lines[web], lines[web]
    assert "80/tcp open" in lines[web + 1], lines[web + 1]
    idle = lines.index(report_line(report, n["idle"]))
    assert f"resolves to {n['idle_ip']}" in lines[idle], lines[idle]
    assert "5432/tcp closed" in lines[idle + 1], lines[idle + 1]


def test_report_leaves_no_probe_container(little_layout) -> None:
    """It only reads: its probes join the target's namespace with --rm, so none outlives the report."""
    target = little_layout["web"]
    target_id = docker("inspect", "-f", "{{.Id}}", target).stdout.strip()
    assert_ok(script("troubleshoot.sh", target, timeout=180))
    ids = docker("ps", "-aq", "--filter", f"label={LAB_LABEL}").stdout.split()
    modes = docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", *ids).stdout.split() if ids else []
    assert f"container:{target_id}" not in modes


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "name the container"), (["a", "b"], "name one container"), (["--bogus", "x"], "unknown option")],
)
def test_troubleshoot_bad_usage_exits_2(args: list[str], message: str) -> None:
    result = script("troubleshoot.sh", *args, timeout=60)
    assert result.returncode == 2, result
    assert message in result.stderr and "Usage:" in result.stderr


def test_troubleshoot_missing_container_exits_1_with_message() -> None:
    name = f"lab-test-no-such-{uuid.uuid4().hex[:8]}"
    result = script("troubleshoot.sh", name, timeout=60)
    assert result.returncode == 1, result
    assert f"no container named '{name}'" in result.stderr
