"""docs/coverage.md, read: its rows, and the tutorial's docker/curl commands in the rows' form."""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from labenv import REPO, image

COVERAGE = REPO / "docs" / "coverage.md"
ROW = re.compile(r"^\| (\d+) \| `(.+?)` \| (.+?) \| (.+?) \| (.+?) \| (.+?) \|$")
GAP = "…"  # in a "runs as" form: any words, or none
IMAGE_WORD = re.compile(r"^\$([A-Z]+_IMAGE)$")  # in a "runs as" form: the image that variable names


# For each script the map names: the e2e test that matches its rows' "runs as" forms against a real run's
# printed commands (scriptrun.assert_ran_as_mapped). tests/unit/test_coverage_map.py keeps this complete.
LAB_SECTIONS = ["bridge", "none", "custom", "host", "ipv6", "commands", "ports", "security"]
E2E = "tests/e2e"
SECTION_CHECK = f"{E2E}/test_labs_sections.py::test_section_runs_what_the_map_names"
RAN_CHECKS = {
    **{f"scripts/labs/{name}.sh": f"{SECTION_CHECK}[{name}]" for name in LAB_SECTIONS},
    "scripts/labs/overlay.sh": f"{E2E}/test_labs_more.py::test_overlay_runs_what_the_map_names",
    "scripts/labs/troubleshoot.sh": f"{E2E}/test_labs_more.py::test_troubleshoot_runs_what_the_map_names",
    "scripts/run-3tier.sh": f"{E2E}/test_run_3tier.py::test_3tier_comes_up_and_every_check_passes[postgres]",
    "scripts/run-webapp.sh": f"{E2E}/test_by_hand.py::test_webapp_layout_on_each_engine[mysql]",
}


class Row(NamedTuple):
    n: int
    command: str  # as the tutorial writes it
    runs_in: str  # the script (and the step it prints)
    runs_as: str  # the commands the script runs for it, as `code` forms
    note: str  # fixed form / note
    checked_by: str  # the node ids that assert its outcome


def normalise(command: str) -> str:
    return " ".join(command.replace(r"\|", "|").split())


def rows() -> list[Row]:
    """Each row of the table."""
    found = []
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            found.append(Row(int(m[1]), normalise(m[2]), m[3], m[4], m[5], m[6]))
    return found


def script_of(row: Row) -> str:
    """The script a row runs in: the first `scripts/....sh` its "runs in" cell names."""
    found = re.search(r"`(scripts/[\w/.-]+\.sh)`", row.runs_in)
    assert found, f"row {row.n} names no script"
    return found.group(1)


def forms(row: Row) -> list[list[str]]:
    """The row's "runs as" forms, each as its words."""
    return [shlex.split(code.replace(r"\|", "|")) for code in re.findall(r"`([^`]+)`", row.runs_as)]


def form_matches(form: list[str], words: list[str], images: Mapping[str, str]) -> bool:
    """Does the command WORDS (a printed command, split as bash would) match FORM? Each form word matches
    one word: itself, a glob (`127.0.0.1:*:80`), or `$NAME_IMAGE` the image IMAGES gives that variable;
    GAP matches any run of words, none included. The whole command must be matched."""
    if not form:
        return not words
    head, rest = form[0], form[1:]
    if head == GAP:
        return any(form_matches(rest, words[i:], images) for i in range(len(words) + 1))
    if not words:
        return False
    var = IMAGE_WORD.match(head)
    want = images[var.group(1)] if var else head
    same = words[0] == want if var else fnmatch.fnmatchcase(words[0], want)
    return same and form_matches(rest, words[1:], images)


def unran(script: str, printed: list[str], images: Mapping[str, str] | None = None) -> list[str]:
    """The "runs as" forms of SCRIPT's rows that match none of PRINTED (the numbered commands a run of
    SCRIPT printed, each on one line), as "row N: form". IMAGES: the image variables' values (default: this
    machine's, as labenv.image reads them)."""
    values = dict(images) if images else {}
    commands = [shlex.split(line) for line in printed]
    missing = []
    for row in rows():
        if script_of(row) != script:
            continue
        for form in forms(row):
            needed = {m.group(1) for w in form if (m := IMAGE_WORD.match(w))}
            env = {var: values.get(var) or image(var) for var in needed}
            if not any(form_matches(form, cmd, env) for cmd in commands):
                missing.append(f"row {row.n}: {shlex.join(form)}")
    return missing


def tutorial_commands(text: str) -> list[str]:
    """Lines of ```bash blocks that start with docker or curl, backslash continuations joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            if line.strip().startswith(("docker ", "curl ")):
                commands.append(normalise(line))
    return commands


def tutorial_path(value: str) -> Path:
    """LAB_TUTORIAL's value as a path: absolute, or relative to the repo root."""
    path = Path(value)
    return path if path.is_absolute() else REPO / path
