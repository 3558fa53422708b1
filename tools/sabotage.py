#!/usr/bin/env python3
"""Sabotage runs: break the lab on purpose, one named way at a time, and prove the tests that name that
behaviour go red.

    tools/sabotage.py            # every sabotage (about 12 minutes on 2 cores): "N of N sabotages caught"
    tools/sabotage.py --quick    # the ones the unit and integration tiers catch (about 2 minutes; .ci/run)
    tools/sabotage.py NAME...    # those sabotages only
    tools/sabotage.py --list     # the list: name, file, the tests that must catch it

Each sabotage is an exact text edit of one tracked file, applied to a fresh copy of the working tree in a
temporary folder (the checkout itself is never changed). Its tests then run in that copy with pytest and
must fail (pytest's exit 1). First the same tests run in an unchanged copy and must pass: a test that fails
anyway proves nothing about a sabotage. A sabotage whose anchor text is no longer in its file stops the run
(exit 2): the list must follow the code (tests/unit/test_sabotage_list.py checks it, and that pytest
collects every named test).

Needs what the tests need: a Docker engine and the image variables (offline:
eval "$(tools/offline-images.sh)"). Refuses to start while a layout of the lab is up (the e2e tests build and
remove the lab's own names). After each run, the labelled objects (the lab's or the tests' label) it left are
removed; those there before stay. Images built from a sabotaged copy (my-app, lab/web-server) are rebuilt from
the real files by the next script or test that uses them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAB_LABEL = "io.docker-net-lab"
TEST_LABEL = "io.docker-net-lab-test"
# Filled on the host by tools/offline-images.sh and ignored by git, but the image builds need them.
UNTRACKED_NEEDED = ["app_server/wheels"]


@dataclass(frozen=True)
class Sabotage:
    name: str
    what: str  # the behaviour it breaks, as a sentence
    path: str  # the file, relative to the repo
    edits: tuple[tuple[str, str], ...]  # (old, new): old must occur exactly once
    tests: tuple[str, ...]  # pytest node IDs that name the behaviour; at least one must fail
    quick: bool = False  # caught by the unit or integration tier: part of --quick


SABOTAGES = [
    Sabotage(
        "app-answers-msg",
        "the app answers {'msg': …} instead of the tutorial's {'message': …, 'time': …}",
        "app_server/views.py",
        (('reply({"message": f"Connected to', 'reply({"msg": f"Connected to'),),
        (
            "tests/unit/test_app_http.py",
            "tests/integration/test_app_db.py::test_get_root_answers_the_databases_time_in_utc",
        ),
        quick=True,
    ),
    Sabotage(
        "check-always-passes",
        "check() counts a failing probe as a PASS",
        "scripts/lib/checks.sh",
        (('  "$@" >"$f" 2>&1 || rc=$?\n', '  "$@" >"$f" 2>&1 || true\n'),),
        ("tests/unit/test_checks_lib.py",),
        quick=True,
    ),
    Sabotage(
        "nginx-without-resolver",
        "nginx resolves app-server once at start (no resolver): a recreated app-server's new address is never"
        " found, and nginx cannot start before app-server exists",
        "nginx/templates/default.conf.template",
        (
            ("resolver 127.0.0.11 valid=${RESOLVER_VALID} ipv6=off;\n", ""),
            (
                "    server ${BACKEND_HOST}:${BACKEND_PORT} resolve;\n",
                "    server ${BACKEND_HOST}:${BACKEND_PORT};\n",
            ),
        ),
        ("tests/integration/test_web_tier.py",),
        quick=True,
    ),
    Sabotage(
        "compose-web-server-on-backend-net",
        "compose puts web-server on backend-net too, so it can reach the database",
        "compose/3tier.yaml",
        (
            (
                "    networks: [frontend-net]                # not on backend-net",
                "    networks: [frontend-net, backend-net]   # not on backend-net",
            ),
        ),
        ("tests/e2e/test_compose.py::test_compare_says_identical[mysql-3tier]",),
    ),
    Sabotage(
        "database-published",
        "run-3tier.sh publishes the MySQL database on the host",
        "scripts/run-3tier.sh",
        (
            (
                "    ensure_container --name database \\\n      --network backend-net \\\n"
                "      -e MYSQL_ROOT_PASSWORD_FILE",
                "    ensure_container --name database \\\n      --network backend-net \\\n"
                "      -p 127.0.0.1:13306:3306 \\\n      -e MYSQL_ROOT_PASSWORD_FILE",
            ),
        ),
        ("tests/e2e/test_hardening.py::test_only_web_server_is_published_and_on_loopback[by-hand]",),
    ),
    Sabotage(
        "isolation-probe-wrong-name",
        "the isolation check asks web-server for a name nobody has, so it passes even when web-server is on"
        " backend-net",
        "scripts/lib/checks.sh",
        (("not resolves web-server database\n", "not resolves web-server databse\n"),),
        ("tests/e2e/test_compose.py::test_compare_catches_web_server_on_backend_net",),
    ),
    Sabotage(
        "lab-check-wrong-address",
        "the bridge lab opens web's own address instead of db's, and reports it as db's",
        "scripts/labs/bridge.sh",
        (("  db_ip=$(ip_on db bridge) || db_ip=''\n", "  db_ip=$(ip_on web bridge) || db_ip=''\n"),),
        ("tests/e2e/test_labs_sections.py::test_section_exits_0_and_every_check_passes[bridge]",),
    ),
    Sabotage(
        "leftover-volume-not-detected",
        "a kept data volume initialised with other passwords is not detected (the app fails to log in later)",
        "scripts/lib/engines.sh",
        (('  app_login_works "$1" "$2" && return 0\n', "  return 0\n"),),
        (
            "tests/e2e/test_leftover_volume.py::"
            "test_other_passwords_on_a_kept_volume_stop_before_the_app[run-3tier.sh-postgres]",
        ),
    ),
]


class StaleSabotage(Exception):
    """A sabotage's anchor text is not in its file exactly once."""


def sabotaged_text(sabotage: Sabotage, text: str) -> str:
    """The file's text with the sabotage's edits applied; StaleSabotage when an anchor is not there once."""
    for old, new in sabotage.edits:
        count = text.count(old)
        if count != 1:
            raise StaleSabotage(
                f"sabotage {sabotage.name}: {old!r} occurs {count} times in {sabotage.path}"
                " (needs exactly 1): update the list in tools/sabotage.py"
            )
        text = text.replace(old, new)
    return text


def copy_tree(dest: Path) -> None:
    """The working tree's files (tracked and untracked, not ignored) plus UNTRACKED_NEEDED, into dest."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = REPO / rel
        if not src.is_file():  # deleted in the working tree but still in the index
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    for rel in UNTRACKED_NEEDED:
        if (REPO / rel).is_dir():
            shutil.copytree(REPO / rel, dest / rel, dirs_exist_ok=True)


def docker_ids(*args: str) -> list[str]:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    return out.stdout.split() if out.returncode == 0 else []


LISTINGS = (
    ("container", ["ps", "-aq"]),
    ("network", ["network", "ls", "-q"]),
    ("volume", ["volume", "ls", "-q"]),
)


def labelled() -> set[tuple[str, str]]:
    """(kind, ID) of every container, network and volume carrying the lab's label or the tests' own
    (io.docker-net-lab-test=1; tools/mutation.sh's databases carry =mutmut and are left alone)."""
    return {
        (kind, ident)
        for label in (LAB_LABEL, f"{TEST_LABEL}=1")
        for kind, listing in LISTINGS
        for ident in docker_ids(*listing, "--filter", f"label={label}")
    }


def remove_new_labelled(before: set[tuple[str, str]]) -> None:
    """Remove the labelled objects a test run left that were not there before it (containers first)."""
    left = labelled() - before
    for kind, _ in LISTINGS:
        ids = sorted(ident for k, ident in left if k == kind)
        if ids:
            subprocess.run(["docker", kind, "rm", "-f", *ids], capture_output=True, check=False)


def run_tests(tree: Path, tests: list[str], log: Path) -> tuple[int, float]:
    """pytest over tests in tree (file order, stopping at a first failure): its exit code and seconds."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider"]
    before = labelled()
    started = time.monotonic()
    with log.open("w") as out:
        rc = subprocess.run(
            [*command, *tests], cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode
    remove_new_labelled(before)
    return rc, time.monotonic() - started


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join("      | " + ln for ln in path.read_text(errors="replace").splitlines()[-lines:])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/sabotage.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="only the sabotages the unit/integration tiers catch"
    )
    parser.add_argument("--list", action="store_true", help="print the list and exit")
    parser.add_argument("names", nargs="*", metavar="NAME", help="run these sabotages only")
    args = parser.parse_args(argv)
    # SIGTERM as Ctrl-C: the temporary copies are removed on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    by_name = {s.name: s for s in SABOTAGES}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"no sabotage named {', '.join(unknown)}: tools/sabotage.py --list names them")
    chosen = [by_name[n] for n in args.names] if args.names else SABOTAGES
    if args.quick:
        chosen = [s for s in chosen if s.quick]
    if args.list:
        for s in chosen:
            print(f"{s.name}{'  (quick)' if s.quick else ''}\n  breaks: {s.what}\n  in: {s.path}")
            print("".join(f"  caught by: {t}\n" for t in s.tests), end="")
        return 0
    try:
        texts = {s.name: sabotaged_text(s, (REPO / s.path).read_text()) for s in chosen}
    except StaleSabotage as exc:
        print(f"sabotage.py: error: {exc}", file=sys.stderr)
        return 2
    if docker_ids("ps", "-aq", "--filter", f"label={LAB_LABEL}"):
        print(
            "sabotage.py: error: containers of the lab exist (docker ps -a --filter label=io.docker-net-lab):"
            " take them down first (scripts/cleanup.sh)",
            file=sys.stderr,
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="lab-sabotage-") as tmp:
        work = Path(tmp)
        all_tests = list(dict.fromkeys(t for s in chosen for t in s.tests))
        print(f"sabotage.py: without any sabotage, the {len(all_tests)} selections must pass", flush=True)
        clean = work / "clean"
        copy_tree(clean)
        rc, took = run_tests(clean, all_tests, work / "clean.log")
        if rc != 0:
            print(f"sabotage.py: the tests fail without a sabotage (pytest exit {rc}, {took:.0f} s):")
            print(tail(work / "clean.log", 30))
            return 1
        print(f"  passed ({took:.0f} s)", flush=True)
        caught = 0
        for i, s in enumerate(chosen, 1):
            tree = work / s.name
            copy_tree(tree)
            (tree / s.path).write_text(texts[s.name])
            print(f"[{i}/{len(chosen)}] {s.name}: {s.what}", flush=True)
            log = work / f"{s.name}.log"
            rc, took = run_tests(tree, list(s.tests), log)
            if rc == 1:
                caught += 1
                failed = [ln for ln in log.read_text().splitlines() if ln.startswith(("FAILED ", "ERROR "))]
                print(f"  CAUGHT ({took:.0f} s): {failed[0] if failed else 'pytest exit 1'}", flush=True)
            else:
                verdict = "MISSED: the tests stayed green" if rc == 0 else f"NOT JUDGED: pytest exit {rc}"
                print(f"  {verdict} ({took:.0f} s)\n{tail(log)}", flush=True)
            shutil.rmtree(tree, ignore_errors=True)
        print(f"{caught} of {len(chosen)} sabotages caught")
        return 0 if caught == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
