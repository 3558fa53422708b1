#!/usr/bin/env python3
"""Regenerate the printed-command blocks of the docs from real runs of the layout scripts.

    tools/update-commands.py            # runs each layout on each engine (ports 18080 / 13000), then --down

Each block sits between `<!-- printed:NAME -->` and `<!-- /printed -->` in docs/commands.md and
docs/commands.ko.md. The e2e tests check the same blocks against their own runs.
Run with the image variables of your machine (offline: eval "$(tools/offline-images.sh)" first).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "e2e")]

from scriptrun import assert_ok, learner_view, printed_commands, script  # noqa: E402

RUNS = {  # block name: (script, engine, test port, the layout's default port)
    "3tier-postgres": ("run-3tier.sh", "postgres", 18080, 80),
    "3tier-mysql": ("run-3tier.sh", "mysql", 18080, 80),
    "webapp-mysql": ("run-webapp.sh", "mysql", 13000, 3000),
    "webapp-postgres": ("run-webapp.sh", "postgres", 13000, 3000),
}


def replace_block(path: Path, name: str, body: str) -> None:
    text = path.read_text()
    pattern = rf"(<!-- printed:{name} -->\n```bash\n).*?(\n```\n<!-- /printed -->)"
    new, count = re.subn(pattern, lambda m: m.group(1) + body + m.group(2), text, flags=re.S)
    if count != 1:
        sys.exit(f"{path}: no printed:{name} block")
    path.write_text(new)


def main() -> None:
    for name, (layout_script, engine, port, default) in RUNS.items():
        assert_ok(script(layout_script, "--down", "--volumes"))
        try:
            run = script(layout_script, "--db", engine, "--port", str(port))
            assert_ok(run)
            body = learner_view(printed_commands(run.stderr), port, default)
        finally:
            assert_ok(script(layout_script, "--down", "--volumes"))
        for doc in ("docs/commands.md", "docs/commands.ko.md"):
            replace_block(REPO / doc, name, body)
        print(f"updated {name}")


if __name__ == "__main__":
    main()
