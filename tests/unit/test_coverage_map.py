"""docs/coverage.md, on its own: rows numbered in order, mapped to scripts that exist (and print the quoted
step) and to tests that exist. The rows against the tutorial's text: tests/tutorial/test_tutorial_map.py."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from coverage_doc import GAP, RAN_CHECKS, form_matches, forms, rows, script_of, unran
from labenv import IMAGE_DEFAULTS, REPO, image

pytestmark = pytest.mark.unit

ERRATA = REPO / "docs" / "errata.md"
TEST_REF = re.compile(r"`tests/[\w/]+\.py::\w+(?:\[[\w-]+\])?`")


def test_rows_are_numbered_1_to_n() -> None:
    mapped = rows()
    assert mapped, "docs/coverage.md has no rows"
    assert [n for n, *_ in mapped] == list(range(1, len(mapped) + 1)), "rows must be numbered 1..N"


def test_every_script_named_exists_and_prints_the_quoted_step() -> None:
    for n, runs_in in ((row.n, row.runs_in) for row in rows()):
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
    for n, note in ((row.n, row.note) for row in rows()):
        for anchor in re.findall(r"errata\.md#([\w-]+)", note):
            assert anchor in anchors, f"row {n}: docs/errata.md has no anchor {anchor!r}"


def test_korean_errata_has_the_same_entries_in_the_same_order() -> None:
    def anchors(path: Path) -> list[str]:
        return re.findall(r'<a id="([\w-]+)"></a>', path.read_text(encoding="utf-8"))

    assert anchors(REPO / "docs" / "errata.ko.md") == anchors(ERRATA)


# --- the "runs as" column: what each script must be seen running (matched in the e2e tests) ---------------


def test_every_row_has_runs_as_forms_of_docker_or_curl_commands() -> None:
    for row in rows():
        found = forms(row)
        assert found, f"row {row.n} has no `runs as` form"
        for form in found:
            assert form[0] in ("docker", "curl"), f"row {row.n}: {form}"
            unknown = [w for w in form if w.startswith("$") and w[1:] not in IMAGE_DEFAULTS]
            assert unknown == [], f"row {row.n}: not an image variable: {unknown}"


def test_form_matching_is_whole_command_with_gaps_globs_and_images() -> None:
    images = {"NGINX_IMAGE": "nginx:1.27"}
    form = ["docker", "run", "-d", "--name", "web", GAP, "-p", "127.0.0.1:*:80", "$NGINX_IMAGE"]
    ran = "docker run -d --name web --label io.docker-net-lab=lab-ports -p 127.0.0.1:24649:80 nginx:1.27"
    assert form_matches(form, ran.split(), images)
    assert form_matches(form, ran.replace(" --label io.docker-net-lab=lab-ports", "").split(), images)
    assert not form_matches(form, ran.replace("127.0.0.1:", "0.0.0.0:").split(), images)  # the binding
    assert not form_matches(form, ran.replace("nginx:1.27", "nginx:latest").split(), images)  # the image
    assert not form_matches(form, (ran + " sleep 1").split(), images)  # the whole command, not a prefix
    assert not form_matches(form, ran.replace("--name web", "--name web2").split(), images)


def printed_for(script: str) -> list[str]:
    """A run of SCRIPT as the map says it goes: each form of its rows, gaps and globs filled in."""
    lines = []
    for row in rows():
        if script_of(row) == script:
            for form in forms(row):
                words = ["--label x=y" if w == GAP else w.replace("*", "1") for w in form]
                lines.append(" ".join(image(w[1:]) if w.startswith("$") else shlex.quote(w) for w in words))
    return lines


@pytest.mark.parametrize("script", sorted(RAN_CHECKS))
def test_unran_finds_exactly_the_row_whose_command_did_not_run(script: str) -> None:
    printed = printed_for(script)
    assert printed, f"no row maps to {script}"
    assert unran(script, printed) == []
    mine = [row for row in rows() if script_of(row) == script]
    dropped = shlex.join(forms(mine[-1])[-1])
    gone = [line for line in printed if line != printed[-1]]
    assert unran(script, gone) == [f"row {mine[-1].n}: {dropped}"]


def test_every_script_the_map_names_has_its_ran_check_in_a_collected_e2e_test() -> None:
    scripts = {script_of(row) for row in rows()}
    assert sorted(scripts) == sorted(RAN_CHECKS), "coverage_doc.RAN_CHECKS must name each script's check"
    ids = collected(sorted({ref.split("::")[0] for ref in RAN_CHECKS.values()}))
    assert [ref for ref in RAN_CHECKS.values() if ref not in ids] == []
    for script, ref in RAN_CHECKS.items():
        path, name = ref.split("::")
        body = (REPO / path).read_text(encoding="utf-8").split(f"def {name.split('[')[0]}(", 1)[1]
        body = body.split("\ndef ", 1)[0]
        call = 'assert_ran_as_mapped(f"scripts/labs/{name}.sh"' if "[" in name and "labs" in script else ""
        assert f'assert_ran_as_mapped("{script}"' in body or (call and call in body), (
            f"{ref} does not call assert_ran_as_mapped for {script}"
        )
