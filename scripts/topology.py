#!/usr/bin/env python3
"""Snapshot a running layout's topology, compare two snapshots, draw a layout, check one typed by hand.

    python3 scripts/topology.py snapshot LAYOUT > hand.json     # LAYOUT: 3tier | webapp | swarm
    python3 scripts/topology.py diff hand.json compose.json     # exit 0 same, 1 different
    python3 scripts/topology.py draw [LAYOUT] [--svg FILE]      # mermaid on stdout; no LAYOUT: every network
    python3 scripts/topology.py check 3tier|webapp [--db mysql|postgres]   # exit 0 all PASS, 1 a FAIL

snapshot and diff are what scripts/compare.sh runs. draw prints a mermaid flowchart (paste it into GitHub
in a ```mermaid block) of a layout of the lab's (its objects carry io.docker-net-lab=LAYOUT) or, with no
LAYOUT, of every user-defined network and its containers, labelled or not; --svg FILE also writes the same
picture as SVG, drawn by Graphviz in a container (offline/graphviz/Dockerfile). check grades the tutorial's
layout a learner typed by hand, with the tutorial's names, read-only (scripts/check-mine.sh runs it).

A snapshot holds what a learner can see with `docker network inspect` / `docker inspect`, and what the
layout does: networks (driver, internal, IPv6, members and their aliases), containers (image role,
networks, published ports with host IP, healthcheck, user, env keys without values, restart policy,
capabilities, no-new-privileges, read-only root, tmpfs, memory and pids limits, sysctls, mounts, labels) and a
reachability matrix (does each container resolve each other one by name, and open its service port), probed
from inside each container's network namespace with the toolbox image.

Normalised, because they legitimately differ between `docker run` and compose: IDs and addresses (never
recorded), compose's project prefix on names, compose's own com.docker.compose.* labels and its
service-name aliases (service = container name here).
Nothing else. Standard library only: the scripts need python3, docker and bash, not the test venv.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

LAB_LABEL = "io.docker-net-lab"
# bookkeeping, not topology: compose's and the stack's own labels
OWN_LABELS = ("com.docker.compose.", "com.docker.stack.")
PROJECT_PREFIXES = ("lab-3tier_", "lab-webapp_", "lab-swarm_")  # compose projects, the swarm stack
SERVICE_PORTS = {"mysql": 3306, "postgres": 5432, "app": 3000, "nginx": 80}


def docker_json(*args: str) -> list[dict]:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def ids(kind: str, layout: str) -> list[str]:
    ls = ["ps", "-aq"] if kind == "container" else [kind, "ls", "-q"]
    out = subprocess.run(
        ["docker", *ls, "--filter", f"label={LAB_LABEL}={layout}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def bare(name: str) -> str:
    """A name without compose's project prefix."""
    for prefix in PROJECT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def image_role(image: str) -> str:
    image = image.split("@", 1)[0]
    if image.startswith("my-app:"):  # includes the rolling update's my-app:update-N tags
        return "app"
    roles = {
        os.environ.get("MYSQL_IMAGE", "mysql:8.4"): "mysql",
        os.environ.get("POSTGRES_IMAGE", "postgres:17"): "postgres",
        "my-app:latest": "app",
        "webapp": "app",
        "webapp:latest": "app",
        "lab/web-server:latest": "nginx",
    }
    return roles.get(image, f"other ({image})")


def labels(raw: dict | None) -> dict:
    return {
        k: v
        for k, v in sorted((raw or {}).items())
        if k.startswith(LAB_LABEL) and not k.startswith(OWN_LABELS)
    }


NO_NEW_PRIVS = {"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"}


def container_view(c: dict) -> dict:
    name = c["Name"].lstrip("/")
    cfg, host = c["Config"], c["HostConfig"]
    ports = sorted(
        f"{b['HostIp']}:{b['HostPort']}->{port}"
        for port, binds in (c["NetworkSettings"]["Ports"] or {}).items()
        for b in binds or []
    )
    health = cfg.get("Healthcheck") or {}
    return {
        "image role": image_role(cfg["Image"]),
        "networks": sorted(bare(n) for n in c["NetworkSettings"]["Networks"]),
        "published ports": ports,
        # what was asked for, published or not: a port asked of a container on internal networks only is not
        # published, but the layout still differs from one that does not ask
        "port bindings asked": sorted(
            f"{b.get('HostIp') or '*'}:{b.get('HostPort') or '*'}->{port}"
            for port, binds in (host.get("PortBindings") or {}).items()
            for b in binds or []
        ),
        "healthcheck": " ".join(health.get("Test") or ["(none)"]),
        "user": cfg.get("User") or "(image default)",
        "env keys": sorted({e.split("=", 1)[0] for e in cfg.get("Env") or []}),
        "restart policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
        "capabilities": f"drop {sorted(host.get('CapDrop') or [])} add {sorted(host.get('CapAdd') or [])}",
        "no-new-privileges": bool(NO_NEW_PRIVS & set(host.get("SecurityOpt") or [])),
        "read-only root": bool(host.get("ReadonlyRootfs")),
        "tmpfs": sorted(
            f"{path}:{opts}" if opts else path for path, opts in (host.get("Tmpfs") or {}).items()
        ),
        "memory limit": host.get("Memory") or 0,
        "pids limit": host.get("PidsLimit") or 0,
        "sysctls": dict(sorted((host.get("Sysctls") or {}).items())),
        "mounts": sorted(f"{m['Type']}:{m['Destination']}:{'rw' if m['RW'] else 'ro'}" for m in c["Mounts"]),
        "labels": labels(cfg.get("Labels")),
        "_name": name,
    }


def network_view(n: dict, containers: list[dict]) -> dict:
    members = {}
    for c in containers:
        endpoint = c["NetworkSettings"]["Networks"].get(n["Name"])
        if endpoint is None:
            continue
        name = c["Name"].lstrip("/")
        names = set(endpoint.get("Aliases") or []) | set(endpoint.get("DNSNames") or [])
        # the container's own name (= compose's service name here) and its ID prefixes are not aliases
        members[name] = sorted(a for a in names if a != name and not c["Id"].startswith(a))
    return {
        "driver": n["Driver"],
        "internal": n["Internal"],
        "ipv6": n["EnableIPv6"],
        "members (aliases)": {k: members[k] for k in sorted(members)},
        "labels": labels(n.get("Labels")),
    }


def exposed_port(c: dict) -> int:
    """The lowest TCP port the container's image exposes (mysql:8.4: 3306), or 0."""
    ports = [int(p.split("/")[0]) for p in (c["Config"].get("ExposedPorts") or {}) if p.endswith("/tcp")]
    return min(ports, default=0)


def probe_script(targets: list[tuple[str, int]]) -> str:
    """A busybox sh script that prints `NAME resolves open` (yes|no each) for every (NAME, PORT) target,
    judged by getent's and nc's exit codes only."""
    return "; ".join(
        f"if getent hosts {d} >/dev/null; then r=yes; else r=no; fi; "
        f"if nc -z -w 3 {d} {p} 2>/dev/null; then o=yes; else o=no; fi; echo {d} $r $o"
        for d, p in targets
    )


def probe(namespace: str, targets: list[tuple[str, int]]) -> dict[str, tuple[bool, bool]]:
    """From inside container NAMESPACE's network namespace, with a throwaway toolbox container: for each
    (NAME, PORT) target, does NAME resolve, and does PORT open. A target the probe could not answer
    (NAMESPACE stopped or missing) is absent from the answer."""
    toolbox = os.environ.get("TOOLBOX_IMAGE", "alpine:3.22")
    out = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            f"container:{namespace}",
            "--label",
            f"{LAB_LABEL}=probe",
            toolbox,
            "sh",
            "-c",
            probe_script(targets),
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    answers = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 3:
            answers[words[0]] = (words[1] == "yes", words[2] == "yes")
    return answers


def reachability(
    ports: dict[str, int], probe_from: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """For each ordered pair of the containers in PORTS (name -> service port): 'resolves/port' as yes|no,
    probed from the source's own namespace (the container named like the source, or probe_from[source]: a
    Swarm service's task container)."""
    matrix: dict[str, dict[str, str]] = {}
    for src in sorted(ports):
        targets = [(dst, ports[dst]) for dst in sorted(ports) if dst != src]
        row = probe((probe_from or {}).get(src, src), targets)
        matrix[src] = {
            dst: (
                f"resolves={'yes' if row[dst][0] else 'no'} port={'yes' if row[dst][1] else 'no'}"
                if dst in row
                else "probe failed"
            )
            for dst, _ in targets
        }
    return matrix


def reaches(cell: str) -> bool:
    """A reachability cell says: the name resolves and the service port opens."""
    return cell == "resolves=yes port=yes"


def service_ports(containers: list[dict]) -> dict[str, int]:
    """Each inspected container's service port: its image role's, else the lowest TCP port it exposes."""
    return {
        c["Name"].lstrip("/"): SERVICE_PORTS.get(image_role(c["Config"]["Image"])) or exposed_port(c)
        for c in containers
    }


def collect(containers: list[dict], networks: list[dict]) -> dict:
    """The snapshot of these inspected containers and networks (see the module's docstring)."""
    views = {v.pop("_name"): v for v in map(container_view, containers)}
    return {
        "networks": {
            bare(n["Name"]): network_view(n, containers) for n in sorted(networks, key=lambda n: n["Name"])
        },
        "containers": {k: views[k] for k in sorted(views)},
        "reachability": reachability(service_ports(containers)),
    }


def snapshot(layout: str) -> dict:
    container_ids = ids("container", layout)
    containers = docker_json("inspect", *container_ids) if container_ids else []
    network_ids = ids("network", layout)
    networks = docker_json("network", "inspect", *network_ids) if network_ids else []
    return collect(containers, networks)


def service_view(svc: dict, network_names: dict[str, str]) -> dict:
    spec = svc["Spec"]
    task = spec["TaskTemplate"]
    cs = task["ContainerSpec"]
    endpoint = spec.get("EndpointSpec") or {}
    limits = (task.get("Resources") or {}).get("Limits") or {}
    return {
        "image role": image_role(cs["Image"]),
        "replicas": (spec["Mode"].get("Replicated") or {}).get("Replicas", "global"),
        "endpoint mode": endpoint.get("Mode", "vip"),
        "networks": sorted(
            bare(network_names.get(n["Target"], n["Target"])) for n in task.get("Networks") or []
        ),
        "published ports": sorted(
            f"{p['PublishedPort']}->{p['TargetPort']}/{p['Protocol']} ({p.get('PublishMode', 'ingress')})"
            for p in endpoint.get("Ports") or []
        ),
        "healthcheck": " ".join((cs.get("Healthcheck") or {}).get("Test") or ["(the image's)"]),
        "env keys": sorted({e.split("=", 1)[0] for e in cs.get("Env") or []}),
        "secrets": sorted(x["File"]["Name"] for x in cs.get("Secrets") or []),
        "mounts": sorted(
            f"{m['Type']}:{m['Target']}:{'ro' if m.get('ReadOnly') else 'rw'}" for m in cs.get("Mounts") or []
        ),
        "update order": (spec.get("UpdateConfig") or {}).get("Order", "stop-first"),
        "restart condition": (task.get("RestartPolicy") or {}).get("Condition", "any"),
        "limits": f"cpus={limits.get('NanoCPUs', 0) / 1e9:g} memory={limits.get('MemoryBytes', 0) // 2**20}M",
        "labels": labels(spec.get("Labels")),
        "container labels": labels(cs.get("Labels")),
    }


def snapshot_swarm() -> dict:
    service_ids = subprocess.run(
        ["docker", "service", "ls", "-q", "--filter", f"label={LAB_LABEL}=swarm"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    services = docker_json("service", "inspect", *service_ids) if service_ids else []
    network_ids = ids("network", "swarm")
    networks = docker_json("network", "inspect", *network_ids) if network_ids else []
    names = {n["Id"]: n["Name"] for n in networks}
    views = {bare(s["Spec"]["Name"]): service_view(s, names) for s in services}
    probe_from = {}
    for svc in services:
        task = subprocess.run(
            ["docker", "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={svc['Spec']['Name']}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        probe_from[bare(svc["Spec"]["Name"])] = task[0] if task else "missing"
    net_views = {}
    for n in sorted(networks, key=lambda n: n["Name"]):
        net_views[bare(n["Name"])] = {
            "driver": n["Driver"],
            "attachable": n["Attachable"],
            "internal": n["Internal"],
            "ipv6": n["EnableIPv6"],
            "services": sorted(k for k, v in views.items() if bare(n["Name"]) in v["networks"]),
            "labels": labels(n.get("Labels")),
        }
    return {
        "networks": net_views,
        "containers": {k: views[k] for k in sorted(views)},
        "reachability": reachability(
            {k: SERVICE_PORTS.get(v["image role"], 0) for k, v in views.items()}, probe_from
        ),
    }


# --- the picture: mermaid for GitHub, DOT for Graphviz ---------------------------------------------------

GRAPHVIZ_IMAGE = "lab/graphviz:latest"
GRAPHVIZ_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "offline", "graphviz")


def user_defined() -> tuple[list[dict], list[dict]]:
    """Every user-defined network, and every container (probes excepted) on one of them, inspected."""
    network_ids = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", "type=custom"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    networks = docker_json("network", "inspect", *network_ids) if network_ids else []
    names = {n["Name"] for n in networks}
    container_ids = subprocess.run(["docker", "ps", "-aq"], capture_output=True, text=True, check=True).stdout
    containers = [
        c
        for c in (docker_json("inspect", *container_ids.split()) if container_ids.strip() else [])
        if names & set(c["NetworkSettings"]["Networks"])
        and (c["Config"].get("Labels") or {}).get(LAB_LABEL) != "probe"
    ]
    return containers, networks


def picture(snap: dict, states: dict[str, str], ports: dict[str, int]) -> dict:
    """What a drawing shows of a snapshot: networks and their members, each container's networks, published
    ports, state (running, exited ...) and service port (0: none known), and the reachability matrix."""
    containers = {
        name: {
            "networks": view["networks"],
            "published ports": view["published ports"],
            "state": states.get(name, "running"),
            "service port": ports.get(name, 0),
        }
        for name, view in snap["containers"].items()
    }
    networks = {}
    for name in sorted(set(snap["networks"]) | {n for c in containers.values() for n in c["networks"]}):
        net = snap["networks"].get(name, {})
        networks[name] = {
            "driver": net.get("driver", "bridge" if name == "bridge" else "?"),
            "members": sorted(c for c, view in containers.items() if name in view["networks"]),
        }
    return {"networks": networks, "containers": containers, "reachability": snap["reachability"]}


def live_picture(layout: str | None) -> dict:
    """The picture of a layout of the lab's (by its label), or of every user-defined network."""
    if layout == "swarm":
        snap = snapshot_swarm()
        return picture(
            snap, {}, {k: SERVICE_PORTS.get(v["image role"], 0) for k, v in snap["containers"].items()}
        )
    if layout:
        container_ids = ids("container", layout)
        containers = docker_json("inspect", *container_ids) if container_ids else []
        network_ids = ids("network", layout)
        networks = docker_json("network", "inspect", *network_ids) if network_ids else []
    else:
        containers, networks = user_defined()
    states = {c["Name"].lstrip("/"): c["State"]["Status"] for c in containers}
    return picture(collect(containers, networks), states, service_ports(containers))


def node_order(pic: dict) -> list[str]:
    """Containers with published ports first (the way in from the host), then by name."""
    return sorted(pic["containers"], key=lambda c: (not pic["containers"][c]["published ports"], c))


def port_label(name: str, published: str) -> str:
    """'127.0.0.1:18080->80/tcp' -> '127.0.0.1:18080 → web-server:80'; a Swarm service's
    '8080->80/tcp (ingress)' -> '*:8080 → web:80 (ingress)'."""
    host, _, rest = published.partition("->")
    target, _, mode = rest.partition(" ")
    host = host if ":" in host else f"*:{host}"
    return f"{host} → {name}:{target.split('/')[0]}" + (f" {mode}" if mode else "")


def edges(pic: dict) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Who reaches whom: (source, destination, network they share or "") for every ordered pair where the
    name resolves and the service port opens; and the blocked pairs: neither reaches the other although they
    share a network or a neighbour that reaches both (the isolation a layout is built for, as web-server
    and database in the 3-tier layout). Pairs with nothing in common are left out, not drawn as blocked."""
    order = node_order(pic)
    matrix = pic["reachability"]

    def ok(a: str, b: str) -> bool:
        return reaches(matrix.get(a, {}).get(b, ""))

    def linked(a: str, b: str) -> bool:
        return ok(a, b) or ok(b, a)

    reach, blocked = [], []
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            shared = sorted(set(pic["containers"][a]["networks"]) & set(pic["containers"][b]["networks"]))
            for src, dst in ((a, b), (b, a)):
                if ok(src, dst):
                    reach.append((src, dst, shared[0] if shared else ""))
            neighbour = any(linked(a, c) and linked(b, c) for c in order if c not in (a, b))
            if not linked(a, b) and (shared or neighbour):
                blocked.append((a, b))
    return reach, blocked


def reach_label(pic: dict, name: str) -> str:
    port = pic["containers"][name]["service port"]
    return f":{port}" if port else "reaches"


def mermaid_id(*parts: str) -> str:
    return "__".join("".join(ch if ch.isalnum() else "_" for ch in p) for p in parts)


def node_text(pic: dict, name: str) -> str:
    state = pic["containers"][name]["state"]
    return name if state == "running" else f"{name} ({state})"


def instance(pic: dict, name: str, network: str) -> str:
    """The drawn node of container NAME: the one on NETWORK, else its first network's."""
    nets = pic["containers"][name]["networks"]
    return network if network in nets else (nets[0] if nets else "")


def render_mermaid(pic: dict) -> str:
    """A mermaid flowchart: a subgraph per network, a node per container and network it joins (the nodes of
    one container joined by a dotted 'same container' link), the host's published ports, solid arrows for
    who reaches whom, and crossed dotted links for the blocked pairs."""
    lines = ["flowchart LR"]
    for net, view in pic["networks"].items():
        lines.append(f'  subgraph {mermaid_id("net", net)}["{net} · {view["driver"]}"]')
        for name in view["members"]:
            lines.append(f'    {mermaid_id(name, net)}["{node_text(pic, name)}"]')
        lines.append("  end")
    for name in node_order(pic):
        nets = pic["containers"][name]["networks"]
        for a, b in itertools.pairwise(nets):
            lines.append(f"  {mermaid_id(name, a)} -.-|same container| {mermaid_id(name, b)}")
    for name in node_order(pic):
        first = instance(pic, name, "")
        for i, published in enumerate(pic["containers"][name]["published ports"]):
            lines.append(f'  {mermaid_id("host", name, str(i))}>"{port_label(name, published)}"]')
            lines.append(f"  {mermaid_id('host', name, str(i))} --> {mermaid_id(name, first)}")
    reach, blocked = edges(pic)
    for src, dst, net in reach:
        label = reach_label(pic, dst)
        a, b = mermaid_id(src, instance(pic, src, net)), mermaid_id(dst, instance(pic, dst, net))
        lines.append(f"  {a} -->|{label}| {b}")
    for a, b in blocked:
        lines.append(
            f"  {mermaid_id(a, instance(pic, a, ''))} -. ✗ .-x {mermaid_id(b, instance(pic, b, ''))}"
        )
    return "\n".join(lines) + "\n"


def dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(pic: dict) -> str:
    """The same picture as render_mermaid, in Graphviz's DOT language: a cluster per network."""
    q = dot_quote
    lines = [
        "digraph topology {",
        '  rankdir=LR; fontname="Helvetica";',
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for net, view in pic["networks"].items():
        lines.append(f"  subgraph {q('cluster_' + net)} {{")
        lines.append(f"    label={q(net + ' · ' + view['driver'])}; style=rounded; color=gray40;")
        for name in view["members"]:
            lines.append(f"    {q(name + '@' + net)} [label={q(node_text(pic, name))}];")
        lines.append("  }")
    for name in node_order(pic):
        nets = pic["containers"][name]["networks"]
        for a, b in itertools.pairwise(nets):
            lines.append(
                f"  {q(name + '@' + a)} -> {q(name + '@' + b)}"
                ' [style=dotted, dir=none, label="same container"];'
            )
        for i, published in enumerate(pic["containers"][name]["published ports"]):
            host = f"host:{name}:{i}"
            lines.append(f"  {q(host)} [shape=cds, label={q(port_label(name, published))}];")
            lines.append(f"  {q(host)} -> {q(name + '@' + instance(pic, name, ''))};")
    reach, blocked = edges(pic)
    for src, dst, net in reach:
        label = reach_label(pic, dst)
        a, b = src + "@" + instance(pic, src, net), dst + "@" + instance(pic, dst, net)
        lines.append(f"  {q(a)} -> {q(b)} [label={q(label)}];")
    for a, b in blocked:
        a, b = a + "@" + instance(pic, a, ""), b + "@" + instance(pic, b, "")
        lines.append(
            f'  {q(a)} -> {q(b)} [style=dashed, color=red, fontcolor=red, arrowhead=tee, label="✗ blocked"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_build_args() -> list[str]:
    """--build-arg DEBIAN_IMAGE=... when the base is not the Dockerfile's default (debian:trixie-slim):
    DEBIAN_IMAGE if set, else the offline kit's lab-offline/debian:trixie when the toolbox is a stand-in."""
    base = os.environ.get("DEBIAN_IMAGE") or (
        "lab-offline/debian:trixie"
        if os.environ.get("TOOLBOX_IMAGE", "").startswith("lab-offline/")
        else "debian:trixie-slim"
    )
    return [] if base == "debian:trixie-slim" else ["--build-arg", f"DEBIAN_IMAGE={base}"]


def render_svg(dot: str) -> str:
    """DOT -> SVG by Graphviz's dot, run in a throwaway container (no network) of the lab's graphviz image,
    built from offline/graphviz/Dockerfile the first time (the learner's host needs no Graphviz)."""
    image = os.environ.get("GRAPHVIZ_IMAGE", GRAPHVIZ_IMAGE)
    have = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    if have.returncode != 0:
        print(f"building {image} (Graphviz) from offline/graphviz/Dockerfile ...", file=sys.stderr)
        subprocess.run(
            ["docker", "build", "-q", "-t", image, *graphviz_build_args(), GRAPHVIZ_DIR],
            stdout=subprocess.DEVNULL,
            check=True,
        )
    return subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", "none", image, "dot", "-Tsvg"],
        input=dot,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


# --- check: grade a layout the learner typed by hand ---------------------------------------------------

DB_PORTS = {"mysql": 3306, "postgres": 5432}
DB_TITLES = {"mysql": "MySQL", "postgres": "PostgreSQL"}
DOCS = "docs/see-and-check.md"


class Grade:
    """PASS/FAIL lines, one per expectation, on stdout; a FAIL line ends with the fix."""

    def __init__(self) -> None:
        self.failed = 0
        self.total = 0

    def __call__(self, ok: bool, claim: str, hint: str) -> bool:
        self.total += 1
        if ok:
            print(f"PASS {claim}")
        else:
            self.failed += 1
            print(f"FAIL {claim} — hint: {hint}")
        sys.stdout.flush()
        return ok

    def summary(self) -> int:
        if self.failed:
            print(f"\n{self.failed} of {self.total} checks FAIL: fix the first one first, then run again.")
            return 1
        print(f"\nAll {self.total} checks pass.")
        return 0


def inspect_or_none(kind: str, name: str) -> dict | None:
    args = ["inspect", "--type", "container", name] if kind == "container" else ["network", "inspect", name]
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    return json.loads(result.stdout)[0] if result.returncode == 0 else None


def env_of(c: dict) -> dict[str, str]:
    return dict(e.split("=", 1) for e in c["Config"].get("Env") or [] if "=" in e)


def published(c: dict) -> list[str]:
    """The container's host port bindings ('127.0.0.1:15432->5432/tcp'), running or not."""
    binds = (c["HostConfig"].get("PortBindings") or {}) | (c["NetworkSettings"].get("Ports") or {})
    return sorted(
        {
            f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}->{port}"
            for port, bs in binds.items()
            for b in bs or []
        }
    )


def host_address(name: str, port: int) -> tuple[str, int] | None:
    """Where the host reaches NAME's PORT, from `docker port NAME PORT` (0.0.0.0 and :: mean this host)."""
    result = subprocess.run(["docker", "port", name, str(port)], capture_output=True, text=True, check=False)
    for line in result.stdout.split():
        host, _, hport = line.rpartition(":")
        host = host.strip("[]")
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return host, int(hport)
    return None


def http_get(url: str) -> tuple[int, str]:
    """Status and body of GET URL (0 and the reason when nothing answers)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:  # an answer, with an error status
        return err.code, err.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as err:  # refused, reset, timed out
        return 0, str(getattr(err, "reason", err))


def json_message(body: str) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):  # not JSON, or not an object
        return ""


class Layout:
    """The learner's containers and networks, inspected once, read-only."""

    def __init__(self, containers: list[str], networks: list[str]) -> None:
        self.c = {n: inspect_or_none("container", n) for n in containers}
        self.n = {n: inspect_or_none("network", n) for n in networks}

    def running(self, name: str) -> bool:
        c = self.c.get(name)
        return bool(c and c["State"]["Running"])

    def nets(self, name: str) -> list[str]:
        c = self.c.get(name)
        return sorted(c["NetworkSettings"]["Networks"]) if c else []

    def ip_on(self, name: str, network: str) -> str:
        c = self.c.get(name)
        endpoint = (c["NetworkSettings"]["Networks"].get(network) or {}) if c else {}
        return endpoint.get("IPAddress") or ""


def grade_present(g: Grade, lay: Layout, run_hints: dict[str, str]) -> list[str]:
    """Networks exist, containers exist and run; returns the running containers."""
    for net, view in lay.n.items():
        g(view is not None, f"network {net} exists", f"run: docker network create {net}")
    up = []
    for name, c in lay.c.items():
        if c is None:
            g(False, f"container {name} exists and runs", f"run it: {run_hints[name]} (see {DOCS})")
        elif g(
            c["State"]["Running"],
            f"container {name} exists and runs",
            f"it is {c['State']['Status']}: see why with: docker logs {name}; then: docker start {name}",
        ):
            up.append(name)
    return up


def grade_networks(
    g: Grade, lay: Layout, wanted: dict[str, list[str]], unwanted: dict[str, list[str]]
) -> None:
    """Each container on the networks it needs, on none it must not join, and off the default bridge."""
    for name in lay.c:
        if lay.c[name] is None:
            continue
        nets = lay.nets(name)
        for net in wanted.get(name, []):
            g(net in nets, f"{name} is on {net}", f"run: docker network connect {net} {name}")
        for net in unwanted.get(name, []):
            g(net not in nets, f"{name} is not on {net}", f"run: docker network disconnect {net} {name}")
        g(
            "bridge" not in nets,
            f"{name} is not on the default bridge (containers there find no one by name)",
            f"run it with --network {wanted[name][0]}, or: docker network disconnect bridge {name}"
            f" && docker network connect {wanted[name][0]} {name}",
        )


def grade_unpublished(g: Grade, lay: Layout, names: list[str]) -> None:
    for name in names:
        c = lay.c.get(name)
        if c is None:
            continue
        ports = published(c)
        g(
            not ports,
            f"{name} publishes no port on the host",
            f"it publishes {', '.join(ports)}: recreate it without -p (docker rm -f {name}, then its"
            f" docker run from {DOCS} without -p); only the front door is published",
        )


def grade_reach(g: Grade, src: str, host: str, port: int, why: str, what: str, closed: str = "") -> bool:
    """SRC resolves HOST and opens HOST:PORT (two lines), probed from SRC's namespace; WHAT is the fix when
    HOST does not resolve, CLOSED when the port does not open."""
    answers = probe(src, [(host, port)])
    if host not in answers:
        return g(
            False, f"{src} can be probed", f"no probe could join {src}'s network namespace: docker ps -a"
        )
    resolves, opens = answers[host]
    g(resolves, f"{src} resolves '{host}' ({why})", what)
    if not resolves:
        return False
    return g(
        opens, f"{src} opens {host}:{port}", closed or f"nothing answers on {host}:{port}: docker logs {host}"
    )


def grade_isolated(g: Grade, lay: Layout, src: str, dst: str, dst_net: str, port: int) -> None:
    """SRC neither resolves DST nor opens DST's address on DST_NET (no route between the networks)."""
    ip = lay.ip_on(dst, dst_net)
    targets = [(dst, port)] + ([(ip, port)] if ip else [])
    answers = probe(src, targets)
    fix = f"{src} must not join {dst_net}: run: docker network disconnect {dst_net} {src}"
    g(not answers.get(dst, (True, True))[0], f"{src} cannot resolve '{dst}' (isolated from {dst_net})", fix)
    if ip:
        g(not answers.get(ip, (True, True))[1], f"{src} cannot open {dst}'s address {ip}:{port}", fix)


def grade_http(g: Grade, base: str, path: str, engine: str, via: str, hint: str, app: str) -> None:
    """GET BASE+PATH from the host answers the app's JSON for ENGINE; HINT when nothing or a proxy answers."""
    status, body = http_get(base + path)
    want = f"Connected to {DB_TITLES[engine]}!"
    got = f"HTTP {status}" if status else f"no answer ({body})"
    other = {f"Connected to {title}!": e for e, title in DB_TITLES.items() if e != engine}
    if status == 500 and "error" in body:
        hint = f"the app answered {body.strip()[:160]}: see docker logs {app}"
    elif status == 200 and json_message(body) in other:
        hint = f"your layout runs {other[json_message(body)]}: check it with --db {other[json_message(body)]}"
    g(
        status == 200 and json_message(body) == want,
        f"GET {base}{path} answers '{want}' ({via})",
        f"{got}; {hint}",
    )


def check_3tier(engine: str) -> int:
    g = Grade()
    lay = Layout(["database", "app-server", "web-server"], ["frontend-net", "backend-net"])
    run_hints = {
        "database": "docker run -d --name database --network backend-net ... " + DB_TITLES[engine],
        "app-server": "docker run -d --name app-server --network backend-net ... my-app:latest,"
        " then docker network connect frontend-net app-server",
        "web-server": "docker run -d --name web-server --network frontend-net -p 80:80 ..."
        " lab/web-server:latest",
    }
    up = grade_present(g, lay, run_hints)
    grade_networks(
        g,
        lay,
        {
            "database": ["backend-net"],
            "app-server": ["backend-net", "frontend-net"],
            "web-server": ["frontend-net"],
        },
        {"database": ["frontend-net"], "web-server": ["backend-net"]},
    )
    # the front door's published port first: the same reading of the port bindings then finds none elsewhere
    web = host_address("web-server", 80) if "web-server" in up else None
    if lay.c["web-server"] is not None:
        g(
            web is not None,
            "web-server publishes its port 80 on the host",
            "recreate it with -p 80:80 (or -p 127.0.0.1:8080:80)",
        )
    grade_unpublished(g, lay, ["database", "app-server"])
    dbp = DB_PORTS[engine]
    if "app-server" in up:
        env = env_of(lay.c["app-server"])
        host = env.get("DB_HOST") or env.get("DATABASE_HOST") or "(unset)"
        grade_reach(
            g,
            "app-server",
            host,
            int(env.get("DB_PORT") or dbp),
            "its DATABASE_HOST",
            f"no container answers to '{host}' on app-server's networks: recreate app-server with"
            " -e DATABASE_HOST=database, on backend-net",
        )
    if "web-server" in up:
        env = env_of(lay.c["web-server"])
        backend, bport = env.get("BACKEND_HOST", "app-server"), int(env.get("BACKEND_PORT") or 3000)
        grade_reach(
            g,
            "web-server",
            backend,
            bport,
            "its BACKEND_HOST",
            f"both must be on frontend-net: docker network connect frontend-net {backend}",
            "app-server listens on 3000: recreate web-server with -e BACKEND_PORT=3000"
            if bport != 3000
            else "",
        )
        if lay.c["database"] is not None:
            grade_isolated(g, lay, "web-server", "database", "backend-net", dbp)
    if web:
        base = f"http://{web[0]}:{web[1]}"
        status, body = http_get(base + "/")
        g(
            status == 200 and 'id="db-time"' in body,
            f"GET {base}/ serves the page (web-server)",
            f"HTTP {status or 'no answer'}: see docker logs web-server",
        )
        grade_http(
            g,
            base,
            "/api/",
            engine,
            "web-server → app-server → database",
            "web-server passes /api/ to BACKEND_HOST:BACKEND_PORT (app-server:3000): see docker logs"
            " web-server and docker logs app-server",
            "app-server",
        )
    return g.summary()


def check_webapp(engine: str) -> int:
    g = Grade()
    db = f"{engine}-db"
    lay = Layout([db, "webapp"], ["webapp-network"])
    run_hints = {
        db: f"docker run -d --name {db} --network webapp-network ... " + DB_TITLES[engine],
        "webapp": "docker run -d --name webapp --network webapp-network -p 3000:3000 ... webapp",
    }
    up = grade_present(g, lay, run_hints)
    grade_networks(g, lay, {db: ["webapp-network"], "webapp": ["webapp-network"]}, {})
    app = host_address("webapp", 3000) if "webapp" in up else None
    if lay.c["webapp"] is not None:
        g(
            app is not None,
            "webapp publishes its port 3000 on the host",
            "recreate it with -p 3000:3000 (or -p 127.0.0.1:3000:3000)",
        )
    grade_unpublished(g, lay, [db])
    if "webapp" in up:
        env = env_of(lay.c["webapp"])
        host = env.get("DB_HOST") or env.get("DATABASE_HOST") or "(unset)"
        grade_reach(
            g,
            "webapp",
            host,
            int(env.get("DB_PORT") or DB_PORTS[engine]),
            "its DB_HOST",
            f"no container answers to '{host}' on webapp's networks: recreate webapp with -e DB_HOST={db},"
            " on webapp-network",
        )
    if app:
        grade_http(
            g, f"http://{app[0]}:{app[1]}", "/", engine, f"webapp → {db}", "see docker logs webapp", "webapp"
        )
    return g.summary()


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    rows: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix} / {key}" if prefix else key
        if isinstance(value, dict) and value and key not in ("labels",):
            rows.update(flatten(value, path))
        else:
            rows[path] = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return rows


def show_matrix(title: str, matrix: dict[str, dict[str, str]]) -> None:
    print(f"\n{title} (from -> to: name resolves, service port open)")
    for src, row in matrix.items():
        for dst, cell in row.items():
            print(f"  {src:>11} -> {dst:<11} {cell}")


def diff(hand_file: str, compose_file: str) -> int:
    with open(hand_file) as f:
        hand = json.load(f)
    with open(compose_file) as f:
        comp = json.load(f)
    a, b = (
        flatten({k: hand[k] for k in ("networks", "containers")}),
        flatten({k: comp[k] for k in ("networks", "containers")}),
    )
    a.update({f"reachability / {s} -> {d}": v for s, r in hand["reachability"].items() for d, v in r.items()})
    b.update({f"reachability / {s} -> {d}": v for s, r in comp["reachability"].items() for d, v in r.items()})
    width = max(len(k) for k in a.keys() | b.keys())
    print(f"{'what':<{width}} | {'by hand':<30} | {'compose':<30} | same?")
    print("-" * (width + 75))
    differing = []
    for key in sorted(a.keys() | b.keys()):
        left, right = a.get(key, "(absent)"), b.get(key, "(absent)")
        same = left == right
        if not same:
            differing.append(key)
        print(f"{key:<{width}} | {left:<30.30} | {right:<30.30} | {'yes' if same else 'NO'}")
    show_matrix("Reachability by hand", hand["reachability"])
    show_matrix("Reachability through compose", comp["reachability"])
    if differing:
        print(f"\nDIFFERENT: {len(differing)} row(s) differ:")
        for key in differing:
            print(f"  {key}\n    by hand: {a.get(key, '(absent)')}\n    compose: {b.get(key, '(absent)')}")
        return 1
    print("\nIDENTICAL: by hand and through compose build the same layout.")
    return 0


def usage() -> int:
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


def draw(argv: list[str]) -> int:
    svg = None
    if "--svg" in argv:
        at = argv.index("--svg")
        if at + 1 >= len(argv):
            return usage()
        svg = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    if len(argv) > 1 or (argv and argv[0] not in ("3tier", "webapp", "swarm")):
        return usage()
    pic = live_picture(argv[0] if argv else None)
    print(render_mermaid(pic), end="")
    if svg:
        with open(svg, "w", encoding="utf-8") as f:
            f.write(render_svg(render_dot(pic)))
        print(f"wrote {svg}", file=sys.stderr)
    return 0


def check(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--db" and argv[2] in DB_PORTS:
        engine = argv[2]
    elif len(argv) == 1:
        engine = {"3tier": "postgres", "webapp": "mysql"}.get(argv[0], "")
    else:
        return usage()
    if argv[0] == "3tier":
        return check_3tier(engine)
    if argv[0] == "webapp":
        return check_webapp(engine)
    return usage()


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "snapshot" and argv[1] in ("3tier", "webapp", "swarm"):
        taken = snapshot_swarm() if argv[1] == "swarm" else snapshot(argv[1])
        json.dump(taken, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        return diff(argv[1], argv[2])
    if argv and argv[0] == "draw":
        return draw(argv[1:])
    if argv and argv[0] == "check":
        return check(argv[1:])
    return usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
