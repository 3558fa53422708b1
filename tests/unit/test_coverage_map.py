"""docs/coverage.md, on its own: rows numbered in order, mapped to scripts that exist (and print the quoted
step) and to tests that exist. The rows against the tutorial's text: tests/tutorial/test_tutorial_map.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from coverage_doc import rows
from labenv import REPO

pytestmark = pytest.mark.unit

ERRATA = REPO / "docs" / "errata.md"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([\w-]+)\])?`")
NODE_ID = re.compile(r"`(tests/[\w/]+\.py::\w+(?:\[[\w-]+\])?)`")


def test_rows_are_numbered_1_to_n() -> None:
    mapped = rows()
    assert mapped, "docs/coverage.md has no rows"
    assert [n for n, *_ in mapped] == list(range(1, len(mapped) + 1)), "rows must be numbered 1..N"


def test_every_script_named_exists_and_prints_the_quoted_step() -> None:
    for n, _, runs_in, _, _ in rows():
        scripts = re.findall(r"`(scripts/[\w/.-]+\.sh)`", runs_in)
        assert scripts, f"row {n} names no script"
        text = "".join((REPO / s).read_text(encoding="utf-8") for s in scripts if (REPO / s).is_file())
        for s in scripts:
            assert (REPO / s).is_file(), f"row {n}: {s} does not exist"
        for step in re.findall(r"“(.+?)”", runs_in):
            assert step.replace(r"\|", "|") in text, f"row {n}: {scripts} lack the step text {step!r}"


def test_every_test_named_exists() -> None:
    for n, *_, checked_by in rows():
        refs = TEST_REF.findall(checked_by)
        assert refs, f"row {n} names no test"
        for path, name, param in refs:
            file = REPO / path
            assert file.is_file(), f"row {n}: {path} does not exist"
            text = file.read_text(encoding="utf-8")
            assert re.search(rf"^def {name}\(", text, re.M), f"row {n}: no test {name} in {path}"
            if param:  # a parametrized case: named in the test file, or a lab section of that name
                assert param in text or (REPO / "scripts" / "labs" / f"{param}.sh").is_file(), (
                    f"row {n}: {path}::{name}[{param}] names no known case"
                )


def test_every_errata_link_has_its_anchor() -> None:
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', ERRATA.read_text(encoding="utf-8")))
    for n, _, _, note, _ in rows():
        for anchor in re.findall(r"errata\.md#([\w-]+)", note):
            assert anchor in anchors, f"row {n}: docs/errata.md has no anchor {anchor!r}"


def test_korean_errata_has_the_same_entries_in_the_same_order() -> None:
    def anchors(path: Path) -> list[str]:
        return re.findall(r'<a id="([\w-]+)"></a>', path.read_text(encoding="utf-8"))

    assert anchors(REPO / "docs" / "errata.ko.md") == anchors(ERRATA)


def test_every_node_id_named_is_one_pytest_collects() -> None:
    """Each `tests/...::test_...[param]` of the checked-by column, exactly as `pytest --collect-only -q`
    prints it (a parametrized test must name its case). Collection needs no engine."""
    named = {n: NODE_ID.findall(checked_by) for n, *_, checked_by in rows()}
    files = sorted({node.split("::")[0] for ids in named.values() for node in ids})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = set(collected.stdout.split())
    unknown = {n: [node for node in nodes if node not in ids] for n, nodes in named.items()}
    assert {n: nodes for n, nodes in unknown.items() if nodes} == {}
