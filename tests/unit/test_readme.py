"""The READMEs: short, in step with each other, and their tree is the repo's real tree."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

READMES = ("README.md", "README.ko.md")


def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return out.split()


def tree(readme: str) -> list[str]:
    """The first word of each line of the README's project-structure block (the paths it names)."""
    text = (REPO / readme).read_text()
    match = re.search(r"\n```\n(app_server/.*?)\n```", text, re.S)
    assert match, f"{readme}: no project-structure block starting with app_server/"
    return [line.split()[0] for line in match.group(1).splitlines() if line and not line.startswith(" ")]


def test_readme_is_at_most_160_lines() -> None:
    assert len((REPO / "README.md").read_text().splitlines()) <= 160


def test_readme_opens_with_exactly_the_two_set_up_commands() -> None:
    for readme in READMES:
        first = re.search(r"```bash\n(.*?)\n```", (REPO / readme).read_text(), re.S)
        assert first, readme
        commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
        assert commands == ["scripts/run-3tier.sh", "tools/test.sh"], (readme, commands)


@pytest.mark.parametrize("readme", READMES)
def test_the_tree_is_the_real_tree(readme: str) -> None:
    files = tracked()
    named = tree(readme)
    for path in named:
        assert any(f == path or f.startswith(path) for f in files), (
            f"{readme} names {path}, which git does not track"
        )
    top = {f.split("/")[0] + ("/" if "/" in f else "") for f in files}
    folders = {t for t in top if t.endswith("/") and t not in (".ci/",)} | {".ci/run"}
    missing = sorted(f for f in folders if f not in named)
    assert missing == [], f"{readme}'s tree leaves out {missing}"


def test_both_readmes_name_the_same_commands_and_links() -> None:
    def commands(readme: str) -> set[str]:
        text = (REPO / readme).read_text()
        runs = set(re.findall(r"(?:scripts|tools|extras/\w+)/[\w.-]+\.(?:sh|py)(?: --?[\w-]+)*", text))
        links = set(re.findall(r"\]\(([^)#]+)", text)) - {"README.md", "README.ko.md"}
        links = {re.sub(r"\.ko\.md$", ".md", link) for link in links}
        return runs | links

    english, korean = commands("README.md"), commands("README.ko.md")
    assert english == korean, (
        f"only in README.md: {english - korean}; only in README.ko.md: {korean - english}"
    )


def test_every_relative_link_in_the_docs_points_at_a_tracked_file() -> None:
    files = set(tracked())
    folders = {str(Path(f).parent) for f in files}
    broken = []
    for doc in sorted(f for f in files if f.endswith(".md")):
        for target in re.findall(r"\]\(([^)\s]+)\)", (REPO / doc).read_text()):
            path = target.split("#", 1)[0]
            if not path or re.match(r"[a-z]+:", path):
                continue
            resolved = os.path.normpath(os.path.join(os.path.dirname(doc), path))
            if resolved not in files and resolved not in folders:
                broken.append(f"{doc}: {target}")
    assert broken == []
