#!/usr/bin/env python3
"""Snapshot a running layout's topology, and compare two snapshots (scripts/compare.sh uses both).

    python3 scripts/topology.py snapshot LAYOUT > hand.json     # LAYOUT: 3tier | webapp | swarm
    python3 scripts/topology.py diff hand.json compose.json     # exit 0 same, 1 different

A snapshot holds what a learner can see with `docker network inspect` / `docker inspect`, and what the
layout does: networks (driver, internal, IPv6, members and their aliases), containers (image role,
networks, published ports with host IP, healthcheck, user, env keys without values, restart policy,
mounts, labels) and a reachability matrix (does each container resolve each other one by name, and open
its service port), probed from inside each container's network namespace with the toolbox image.

Normalised, because they legitimately differ between `docker run` and compose: IDs and addresses (never
recorded), compose's project prefix on names, compose's own com.docker.compose.* labels and its
service-name aliases (service = container name here).
Nothing else. Standard library only: the scripts need python3, docker and bash, not the test venv.
"""

from __future__ import annotations

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
        "healthcheck": " ".join(health.get("Test") or ["(none)"]),
        "user": cfg.get("User") or "(image default)",
        "env keys": sorted({e.split("=", 1)[0] for e in cfg.get("Env") or []}),
        "restart policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
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


def reachability(
    views: dict[str, dict], probe_from: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """For each ordered pair: 'resolves/port' as yes|no, probed from the source's own namespace (the container
    named like the source, or probe_from[source]: a Swarm service's task container)."""
    toolbox = os.environ.get("TOOLBOX_IMAGE", "alpine:3.22")
    matrix: dict[str, dict[str, str]] = {}
    for src in sorted(views):
        targets = [
            (dst, SERVICE_PORTS.get(views[dst]["image role"], 0)) for dst in sorted(views) if dst != src
        ]
        probe = "; ".join(
            f"if getent hosts {d} >/dev/null; then r=yes; else r=no; fi; "
            f"if nc -z -w 2 {d} {p} 2>/dev/null; then o=yes; else o=no; fi; echo {d} $r $o"
            for d, p in targets
        )
        out = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "--network",
                f"container:{(probe_from or {}).get(src, src)}",
                "--label",
                f"{LAB_LABEL}=probe",
                toolbox,
                "sh",
                "-c",
                probe,
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        row = {}
        for line in out.splitlines():
            dst, resolves, port_open = line.split()
            row[dst] = f"resolves={resolves} port={port_open}"
        matrix[src] = {dst: row.get(dst, "probe failed") for dst, _ in targets}
    return matrix


def snapshot(layout: str) -> dict:
    container_ids = ids("container", layout)
    containers = docker_json("inspect", *container_ids) if container_ids else []
    network_ids = ids("network", layout)
    networks = docker_json("network", "inspect", *network_ids) if network_ids else []
    views = {v.pop("_name"): v for v in map(container_view, containers)}
    return {
        "networks": {
            bare(n["Name"]): network_view(n, containers) for n in sorted(networks, key=lambda n: n["Name"])
        },
        "containers": {k: views[k] for k in sorted(views)},
        "reachability": reachability(views),
    }


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
        "reachability": reachability(views, probe_from),
    }


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


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "snapshot" and argv[1] in ("3tier", "webapp", "swarm"):
        taken = snapshot_swarm() if argv[1] == "swarm" else snapshot(argv[1])
        json.dump(taken, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        return diff(argv[1], argv[2])
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
