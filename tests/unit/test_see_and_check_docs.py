"""docs/see-and-check.md and its Korean twin hold the same commands and the same real output."""

from __future__ import annotations

import re
import shlex

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

BLOCK = re.compile(r"```(mermaid|bash|text)\n(.*?)```", re.S)


def blocks(name: str) -> list[tuple[str, str]]:
    return BLOCK.findall((REPO / "docs" / name).read_text(encoding="utf-8"))


def words(bash: str) -> list[list[str]]:
    """A bash block's commands, without comments (the twins' comments are in their own language)."""
    joined = bash.replace("\\\n", " ")
    return [shlex.split(ln, comments=True) for ln in joined.splitlines() if shlex.split(ln, comments=True)]


def test_the_twins_hold_the_same_blocks_in_the_same_order() -> None:
    en, ko = blocks("see-and-check.md"), blocks("see-and-check.ko.md")
    assert [kind for kind, _ in en] == [kind for kind, _ in ko]
    for (kind, a), (_, b) in zip(en, ko, strict=True):
        assert (words(a) if kind == "bash" else a) == (words(b) if kind == "bash" else b)


def test_the_commands_to_type_carry_no_lab_label_and_use_the_official_images() -> None:
    typed = [w for kind, text in blocks("see-and-check.md") if kind == "bash" for w in words(text)]
    flat = [word for argv in typed for word in argv]
    assert "--label" not in flat and not any(w.startswith("lab-offline/") for w in flat)
    assert {"postgres:17", "mysql:8.4"} <= set(flat)
    names = {argv[argv.index("--name") + 1] for argv in typed if argv[:2] == ["docker", "run"]}
    assert names == {"database", "app-server", "web-server", "mysql-db", "webapp"}


def test_the_real_output_shows_the_blocked_pair_and_a_fail_with_its_hint() -> None:
    text = dict((kind, []) for kind in ("mermaid", "text"))
    for kind, body in blocks("see-and-check.md"):
        text.setdefault(kind, []).append(body)
    assert any("web_server__frontend_net -. ✗ .-x database__backend_net" in m for m in text["mermaid"])
    assert any("[exit 0]" in t and "FAIL" not in t for t in text["text"])
    assert any(
        "[exit 1]" in t and "FAIL web-server is not on backend-net — hint: run:" in t for t in text["text"]
    )
