#!/usr/bin/env python3
"""Regenerate the output blocks of docs/labs.md and docs/labs.ko.md from one real run of each lab section.

    tools/update-labs-doc.py [SECTION...]     # default: every section the docs have a heading for

Each section's first ```text block after its heading (## `NAME` — …) is replaced with what
`scripts/lab.sh NAME` printed: the section and step headers, the numbered commands (as printed, with their
continuation lines), the CHECK lines with their probes and hints, and the summary; the commands' own output
is left out. Run with the image variables of your machine (offline: eval "$(tools/offline-images.sh)").
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "docs" / "labs.md", REPO / "docs" / "labs.ko.md"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEEP = re.compile(
    r"^(### lab: |== .* ==$|  \(\d+\) \$ |  CHECK |      (probe|hint): |      \| |All checks|\d+ check)"
)


def run_section(name: str) -> str:
    result = subprocess.run(
        [str(REPO / "scripts" / "lab.sh"), name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"scripts/lab.sh {name} failed (exit {result.returncode}):\n{result.stdout}")
    kept, continuing = [], False
    for line in ANSI.sub("", result.stdout).splitlines():
        line = line.rstrip()
        if continuing or KEEP.match(line):
            kept.append(line)
            continuing = line.endswith(" \\") and not line.startswith("  CHECK")
    return "\n".join(kept)


def replace_block(text: str, name: str, body: str) -> str:
    pattern = rf"(## `{re.escape(name)}` — .*?\n```text\n).*?(\n```)"
    new, count = re.subn(pattern, lambda m: m.group(1) + body + m.group(2), text, count=1, flags=re.S)
    if count != 1:
        sys.exit(f"no ```text block under the heading of {name}")
    return new


def main() -> None:
    names = sys.argv[1:] or re.findall(r"^## `([\w-]+)` — ", DOCS[0].read_text(), re.M)
    texts = {doc: doc.read_text() for doc in DOCS}
    for name in names:
        body = run_section(name)
        for doc in DOCS:
            texts[doc] = replace_block(texts[doc], name, body)
        print(f"updated {name}")
    for doc, text in texts.items():
        doc.write_text(text)


if __name__ == "__main__":
    main()
