"""scripts/lab.sh SECTION end to end on a real engine, for the sections bridge, host, none, custom, ipv6,
commands, ports and security; and the skip of a section the engine cannot show (Docker Desktop, an old
engine).

Each test runs one section and asserts what a learner would see: exit 0, every claim of the section as a
`CHECK PASS` line (matched on a distinctive part of its text, so a renamed or dropped claim fails too), the
tutorial's commands printed as they run, and nothing labelled for the section left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from labenv import LAB_LABEL, REPO
from scriptrun import assert_ok, assert_ran_as_mapped, docker, one_line, printed_commands, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # every lab section, each a few containers

SKIPPED_RC = 77  # lab.sh's exit status when every section it was given was skipped


@dataclass(frozen=True)
class Section:
    claims: list[str]  # a distinctive substring of each CHECK line that must PASS
    commands: list[str] = field(default_factory=list)  # substrings of the numbered `$ docker ...` lines
    patterns: list[str] = field(default_factory=list)  # regexes the PASS lines must also match (observations)


SECTIONS = {
    "bridge": Section(
        claims=[
            "docker network ls shows the built-in networks bridge",
            "run without --network, are on the default bridge",
            "web reaches db by IP on the default bridge",
            "as written, grep IPAddress shows container1's address",
            "as written, grep IPAddress shows container2's address",
            "container1 and container2 have addresses on the default bridge",
            "db has an address on the default bridge",
            "container1 pings container2 by IP",
            "container1 cannot ping container2 by name",
            "because the name does not resolve: getent hosts container2 in container1 says not found",
            "container1's /etc/resolv.conf names a resolver",
            "container1 has no embedded DNS",
            "as written, db exits with a failure",
        ],
        commands=["docker network ls", "docker run -d --name container1", "docker exec container1 ping -c 3"],
        # by IP: ping's exit 0 (replies came back); by name: ping fails and getent says "not found" (2)
        patterns=[
            r"pings container2 by IP \d+\.\d+\.\d+\.\d+ \(ping exits 0",
            r"cannot ping container2 by name \(ping exits [1-9]",
        ],
    ),
    "none": Section(
        claims=[
            "none-target (default bridge) has lo and eth0",
            "none-target has a default route",
            "isolated has only the loopback interface",
            "isolated has no default route",
            "none-target has an address on the default bridge",
            "from the default bridge, none-peer pings none-target",
            "isolated cannot ping that same address",
        ],
        commands=["docker run -d --network none --name isolated"],
        patterns=[
            r"isolated has only the loopback interface \(saw: lo\)",
            r"pings none-target \(\d+\.\d+\.\d+\.\d+\)",
        ],
    ),
    "custom": Section(
        claims=[
            "as written, db exits with a failure",
            "-e after the image, as written: db exits with a failure",
            "-e after the image, as written: db's arguments hold -e",
            "fixed, db runs MySQL: root logs in with the password 'secret' over TCP",
            "web pings db by name on my-network",
            "db pings web by name on my-network",
            "web opens db:3306 by name",
            "the name 'web' resolves from db to web's address on my-network",
            "db asks Docker's embedded DNS: /etc/resolv.conf says nameserver 127.0.0.11",
            "before connect: my-container (default bridge) cannot resolve 'db'",
            "after connect: my-container pings db by name, without a restart",
            "after connect: my-container has an address on my-network",
            "after connect: my-container opens db's address",
            "after connect: my-container's resolver is the embedded DNS",
            "after disconnect: 'db' no longer resolves for my-container",
            "after disconnect: my-container cannot open db's address",
            "after disconnect: my-container is still on the default bridge",
        ],
        commands=[
            "docker network create",
            "docker network connect my-network my-container",
            "docker network disconnect my-network my-container",
        ],
        patterns=[
            r"resolves from db to web's address on my-network \(\d+\.\d+\.\d+\.\d+\)",
            r"after connect: my-container has an address on my-network \(\d+\.\d+\.\d+\.\d+\)",
        ],
    ),
    "host": Section(
        claims=[
            "from the host reaches nginx in the container",
            "web's network mode is host",
            "web's interfaces are the host's",
            "a container on the default bridge sees only lo and eth0",
            "docker run warns: 'Published ports are discarded when using host network mode'",
            "host-with-p still runs",
            "host-with-p has no port mapping",
            "the listener probe sees web's own socket",
            "the -p mapping was never made",
            "after docker stop web, http://127.0.0.1:",
        ],
        commands=["docker run -d --network host --name web", "docker stop web"],
        patterns=[r"reaches nginx in the container \(HTTP/1\.1 200"],
    ),
    "ipv6": Section(
        claims=[
            "my-ipv6-net has IPv6 on and the subnet 2001:db8:1234::/64",
            "both containers got IPv6 addresses in 2001:db8:1234::/64",
            "dual stack: --ipv6 adds IPv6, IPv4 stays",
            "ipv6-b's own interfaces show it: ip -4 addr lists",
            "ipv6-a pings ipv6-b by name over IPv6",
            "ipv6-b opens a TCP connection back to ipv6-a's IPv6 address",
            "v6net has IPv4 off and IPv6 on",
            "v6only-b has no IPv4 address at all",
            "v6only-b has an IPv6 address",
            "v6only-b has no IPv4 route",
            "name resolution still works: getent hosts v6only-b answers its IPv6 address",
            "v6only-a pings v6only-b by name, over IPv6",
        ],
        commands=["network create --ipv6 --subnet 2001:db8:1234::/64", "network create --ipv6 --ipv4=false"],
        patterns=[
            r"ipv6-b: 2001:db8:1234:[0-9a-f:]+\)",
            r"getent hosts v6only-b answers its IPv6 address \([0-9a-f:]+ ",
        ],
    ),
    "commands": Section(
        claims=[
            "docker network ls lists the default networks bridge, host and none",
            "inspect bridge: driver bridge, with a subnet and a gateway",
            "my-app-network now appears in docker network ls",
            "after connect, my-app-container is on bridge and my-app-network",
            "docker network inspect my-app-network lists my-app-container",
            "after disconnect, my-app-container is on bridge only",
            "my-app-network is gone from docker network ls",
            "before the prune: prune-me, prune-keep and prune-in-use are all listed",
            "prune removed prune-me",
            "prune kept prune-keep",
            "prune kept prune-in-use",
            "prune-keep removed by name afterwards",
        ],
        commands=[
            "docker network inspect bridge",
            "docker network connect my-app-network my-app-container",
            "docker network rm my-app-network",
            f"docker network prune -f --filter label={LAB_LABEL}=lab-commands",
        ],
        # the networks the lab read back from docker inspect, not the ones it meant to make
        patterns=[r"on bridge and my-app-network \(bridge my-app-network\)", r"on bridge only \(bridge\)$"],
    ),
    "ports": Section(
        claims=[
            "web-single: 80/tcp is mapped to 127.0.0.1:",
            "reaches nginx in web-single",
            "web-two: 80/tcp is mapped to 127.0.0.1:",
            "web-two: 443/tcp is mapped to 127.0.0.1:",
            "reaches nginx through the first mapping",
            "nginx does not listen on 443 without a TLS config",
            "web-all: 80/tcp is mapped to 0.0.0.0:",
            "reaches web-all (loopback is one of every interface)",
            "the default bridge has a gateway address",
            "reaches web-all: 0.0.0.0 is every interface, not only loopback",
            "gets no answer: web-single's 127.0.0.1 binding is loopback only",
            "web-default (-p",
            "docker port web-random lists exactly the bindings docker inspect holds",
            "docker port web-random 80 shows the host port Docker picked",
            "reaches web-random on that port",
            "syslog: 514/udp is mapped to 127.0.0.1:",
            "a datagram sent from the host to 127.0.0.1:",
        ],
        commands=["-p 0.0.0.0:", "-p 127.0.0.1::80", "docker port web-random 80", ":514/udp"],
        patterns=[
            r"web-default \(-p \d+:80, no address\) is on 0\.0\.0\.0 too",
            r"from ports-peer, http://\d+\.\d+\.\d+\.\d+:\d+/ reaches web-all",
            r"Docker picked \(\d+, as inspect records\)",
        ],
    ),
    "security": Section(
        claims=[
            "as written, db exits with a failure",
            "web is on both networks (backend frontend)",
            "db is on backend only (backend)",
            "web resolves 'db' and opens db:3306",
            "visitor resolves 'web' and opens web:80",
            "visitor cannot resolve 'db'",
            "visitor cannot open db's address",
            "secure-network exists with subnet",
            "containers get addresses inside the ip-range",
            "internal-1 pings internal-2 by name",
            "internal-1 has no default route",
            "secure-1 (an ordinary bridge) has a default route",
            "internal-1 cannot open web's address",
        ],
        commands=["docker network connect backend web", "--ip-range", "network create --internal"],
        # whichever /16 was free: the tutorial's shape, a /20 range at .240.0 of it
        patterns=[r"with subnet (\d+\.\d+)\.0\.0/16 and ip-range \1\.240\.0/20"],
    ),
}


def check_lines(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if line.strip().startswith("CHECK ")]


def leftovers(section: str) -> dict[str, list[str]]:
    flt = f"label={LAB_LABEL}=lab-{section}"
    found = {
        "containers": docker("ps", "-aq", "--filter", flt).stdout.split(),
        "networks": docker("network", "ls", "-q", "--filter", flt).stdout.split(),
        "volumes": docker("volume", "ls", "-q", "--filter", flt).stdout.split(),
    }
    return {kind: ids for kind, ids in found.items() if ids}


@pytest.fixture(scope="module", params=list(SECTIONS))
def section_run(request: pytest.FixtureRequest) -> tuple[str, subprocess.CompletedProcess[str]]:
    name = request.param
    result = script("lab.sh", name, timeout=300)
    if result.returncode == SKIPPED_RC:  # Docker Desktop (host, ipv6) or an engine too old (ipv6)
        desktop = "Docker Desktop" in docker("info", "-f", "{{.OperatingSystem}}").stdout
        major = docker("version", "-f", "{{.Server.Version}}").stdout.strip().split(".")[0]
        assert desktop or (major.isdigit() and int(major) < 28), (
            f"lab.sh skipped {name} on an engine that can run it (engine {major}):\n{result.stdout}"
        )
        pytest.skip(f"lab.sh skipped {name} on this engine: {result.stdout.strip()}")
    return name, result


def test_section_exits_0_and_every_check_passes(section_run) -> None:
    _, result = section_run
    assert_ok(result)
    assert "All checks passed." in result.stdout
    assert not [line for line in check_lines(result.stdout) if line.startswith("CHECK FAIL")], result.stdout


def test_section_checks_each_claim_it_owns(section_run) -> None:
    name, result = section_run
    lines = check_lines(result.stdout)
    missing, failed = [], []
    for claim in SECTIONS[name].claims:
        matching = [line for line in lines if claim in line]
        if not matching:
            missing.append(claim)
        elif not all(line.startswith("CHECK PASS") for line in matching):
            failed.extend(matching)
    assert not missing, f"claims not checked at all: {missing}\n{result.stdout}"
    assert not failed, "\n".join(failed)
    assert len(lines) == len(SECTIONS[name].claims), "a CHECK line this test does not know: list it above"


def test_section_reports_what_it_observed(section_run) -> None:
    name, result = section_run
    passed = "\n".join(line for line in check_lines(result.stdout) if line.startswith("CHECK PASS"))
    assert SECTIONS[name].patterns, f"section {name} lists no observation to match: add its patterns above"
    for pattern in SECTIONS[name].patterns:
        assert re.search(pattern, passed, re.M), f"no PASS line matches {pattern!r}\n{passed}"


def test_section_prints_the_commands_it_runs(section_run) -> None:
    name, result = section_run
    numbered = [m for line in result.stderr.splitlines() if (m := re.match(r"\s+\((\d+)\) \$ (.*)", line))]
    shown = [one_line(cmd) for cmd in printed_commands(result.stderr) if cmd[0].startswith("docker ")]
    assert shown, result.stderr
    numbers = [int(m.group(1)) for m in numbered]
    assert numbers == list(range(1, len(numbers) + 1)), "commands are numbered 1, 2, 3 ... in order"
    too_long = [ln for cmd in printed_commands(result.stderr, raw=True) for ln in cmd if len(ln) > 120]
    assert too_long == [], f"printed lines over 120 characters: {too_long}"
    for fragment in SECTIONS[name].commands:
        assert any(fragment in line for line in shown), f"no command shown with {fragment!r}"


def test_section_runs_what_the_map_names(section_run) -> None:
    """Every command docs/coverage.md maps to this section's script ran, in the form its "runs as" cell
    gives: matched against the numbered commands this run printed."""
    name, result = section_run
    assert_ran_as_mapped(f"scripts/labs/{name}.sh", result)


def test_section_leaves_nothing_labelled(section_run) -> None:
    name, _ = section_run
    assert leftovers(name) == {}


# --- sections this engine cannot show are skipped with a reason, not failed --------------------------------


@pytest.fixture
def fake_engine(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run lab.sh with a `docker` first on PATH that answers the two questions lab.sh asks about the engine
    (its OperatingSystem and its version) as FAKE_OS / FAKE_VERSION say, and passes everything else on."""
    real = shutil.which("docker")
    assert real, "docker is not on PATH"
    shim = tmp_path / "docker"
    shim.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        '  "info -f {{.OperatingSystem}}") [ -n "$FAKE_OS" ] && { echo "$FAKE_OS"; exit 0; } ;;\n'
        '  "version -f {{.Server.Version}}") [ -n "$FAKE_VERSION" ] && { echo "$FAKE_VERSION"; exit 0; } ;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n'
    )
    shim.chmod(0o755)

    def run(*args: str, **fake: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", **fake}
        return subprocess.run(
            [str(REPO / "scripts" / "lab.sh"), *args], capture_output=True, text=True, env=env, timeout=120
        )

    return run


def test_docker_desktop_skips_host_and_ipv6_with_a_reason(fake_engine) -> None:
    result = fake_engine("host", "ipv6", FAKE_OS="Docker Desktop")
    assert result.returncode == SKIPPED_RC, result
    out = result.stdout
    assert re.search(r"SKIP Docker Desktop: --network host means the Desktop VM's network", out), out
    assert re.search(r"SKIP Docker Desktop runs containers in a VM whose IPv6 setup differs", out), out
    assert "Skipped on this engine (see each SKIP line): host ipv6" in out
    assert "CHECK" not in out and leftovers("host") == {} and leftovers("ipv6") == {}


def test_an_engine_older_than_28_skips_ipv6_and_names_the_version(fake_engine) -> None:
    result = fake_engine("ipv6", FAKE_VERSION="27.5.1")
    assert result.returncode == SKIPPED_RC, result
    assert "this engine is Docker 27.5.1; 'docker network create --ipv4=false'" in result.stdout
    assert "needs Docker Engine 28 or later" in result.stdout
