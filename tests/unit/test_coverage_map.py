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
TEST_REF = re.compile(r"`tests/[\w/]+\.py::\w+(?:\[[\w-]+\])?`")


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


def collected(files: list[str]) -> set[str]:
    """The node ids pytest collects from FILES (collection only: no engine, no container)."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"pytest could not collect {files}:\n{run.stdout}{run.stderr}"
    return {line.strip() for line in run.stdout.splitlines() if "::" in line}


def test_every_test_named_is_a_node_id_pytest_collects() -> None:
    """Each row names exact node ids (with the parameter of a parametrized test): a renamed test, a
    parameter that does not exist, or a bare name of a parametrized test fails here."""
    named = {n: [m.strip("`") for m in TEST_REF.findall(checked_by)] for n, *_, checked_by in rows()}
    for n, refs in named.items():
        assert refs, f"row {n} names no test"
    ids = collected(sorted({ref.split("::")[0] for refs in named.values() for ref in refs}))
    unknown = [(n, ref) for n, refs in named.items() for ref in refs if ref not in ids]
    assert unknown == [], f"rows naming node ids pytest does not collect: {unknown}"


def test_every_errata_link_has_its_anchor() -> None:
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', ERRATA.read_text(encoding="utf-8")))
    for n, _, _, note, _ in rows():
        for anchor in re.findall(r"errata\.md#([\w-]+)", note):
            assert anchor in anchors, f"row {n}: docs/errata.md has no anchor {anchor!r}"


def test_korean_errata_has_the_same_entries_in_the_same_order() -> None:
    def anchors(path: Path) -> list[str]:
        return re.findall(r'<a id="([\w-]+)"></a>', path.read_text(encoding="utf-8"))

    assert anchors(REPO / "docs" / "errata.ko.md") == anchors(ERRATA)
