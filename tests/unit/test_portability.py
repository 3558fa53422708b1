"""The learner's shell: every script a learner runs works on bash 3.2 (macOS's /bin/bash) with BSD tools.

Scanned: every tracked `*.sh` and `.ci/run`, except offline/ (the stand-in images' entrypoints and helpers,
which run inside the Linux containers they are built into, never on the learner's host). Each construct below
is named with `file:line`. Comments and the bodies of quoted heredocs (text handed to another program, such as
the bench's app.js) are not code and are not scanned; in an unquoted heredoc only `$(...)` is. A line that
must keep a construct says why on the same line: `# portable: REASON` (for example, code run by `sh -c`
inside a Linux container).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from labenv import REPO

pytestmark = pytest.mark.unit

# Being rewritten on another branch: their findings are reported by the test below, not fixed here.
REWRITTEN = ("scripts/lib/", "scripts/run-")

# (name, pattern): what bash 3.2 or BSD/macOS lacks, and where it is used.
CMD = r"(?:^|[\s;&|(`!]|\$\()"  # a command starts here (after a separator, `$(` or a backtick)
RULES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("mapfile/readarray (bash 4)", CMD + r"(?:mapfile|readarray)\b"),
        ("associative array or nameref (bash 4)", CMD + r"(?:declare|local|typeset)(?:\s+-\w+)*\s+-\w*[An]"),
        ("declare -g (bash 4.2)", CMD + r"(?:declare|typeset)(?:\s+-\w+)*\s+-\w*g"),
        ("case modification ${x,,} ${x^^} (bash 4)", r"\$\{[#!]?\w+(?:\[[^]]*\])?(?:\^\^?|,,?)[^}]*\}"),
        ("${x@Q}-style transformation (bash 4.4)", r"\$\{[!#]?\w+(?:\[[^]]*\])?@[QEPAaUuLKk]\}"),
        ("case fall-through ;& or ;;& (bash 4)", r";;&|(?<!;);&"),
        ("|& pipe (bash 4)", r"\|&"),
        ("&>> append (bash 4)", r"&>>"),
        ("sha*sum/md5sum (GNU coreutils; use cksum)", CMD + r"(?:sha\d*sum|md5sum)\b"),
        ("timeout command (GNU coreutils; use a bounded loop)", CMD + r"timeout(?:\s+-\S+)*\s+\d"),
        ("date %N or -d (GNU date)", CMD + r"date\b[^;|&)]*(?:%N|\s-d\b|\s--date\b)"),
        (
            "sed -i without a suffix (GNU and BSD differ; use sed -i.bak)",
            CMD + r"sed(?:\s+-\S+)*\s+-\w*i(?=\s|$)",
        ),
        ("sed --in-place (GNU sed)", CMD + r"sed\b[^;|&]*\s--in-place\b"),
        ("readlink -f (GNU; not on older macOS)", CMD + r"readlink(?:\s+-\w+)*\s+-\w*f"),
        ("stat -c (GNU stat; BSD has -f)", CMD + r"stat(?:\s+-\S+)*\s+(?:-\w*c\b|--format|--printf)"),
        ("grep -P (GNU grep)", CMD + r"[ef]?grep(?:\s+-\S+)*\s+(?:-\w*P|--perl-regexp)"),
        ("xargs -r (GNU xargs)", CMD + r"xargs(?:\s+-\S+)*\s+(?:-\w*r\b|--no-run-if-empty)"),
        ("nproc (GNU coreutils; not on macOS)", CMD + r"nproc\b"),
        ("printf -v into an array element (bash 4.1)", CMD + r"printf\s+-v\s+\w+\["),
        ("printf %(...)T (bash 4.2)", CMD + r"printf\b[^;|&]*%\([^)]*\)T"),
        ("negative array subscript (bash 4.3)", r"\w\[-\d+\]"),
        ("wait -n (bash 4.3)", CMD + r"wait\s+-n\b"),
        ("[[ -v (bash 4.2)", r"\[\[\s+(?:!\s+)?-v\s"),
        ("$EPOCHREALTIME/$EPOCHSECONDS (bash 5)", r"\$\{?EPOCH(?:REALTIME|SECONDS)\b"),
        ("shopt globstar/lastpipe (bash 4)", CMD + r"shopt\s+-s\s+(?:\w+\s+)*(?:globstar|lastpipe)\b"),
    ]
]
WAIVER = re.compile(r"#\s*portable:\s*\S")
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_]\w*)\2")


def scanned_scripts() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.sh", ".ci/run"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed, "git ls-files found no shell scripts: is the repo a git checkout?"
    return sorted(f for f in listed if not f.startswith("offline/"))


def strip_line(line: str, quote: str) -> tuple[str, str, bool]:
    """The code of one line without its comment, and the quote still open at its end ('' if none).
    Quoted text is kept (a `bash -c '...'` string is code); a `#` starts a comment only outside quotes and
    at a word's start. Returns (code, open_quote, had_comment)."""
    out: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if quote == "'":
            if c == "'":
                quote = ""
        elif c == "\\":
            out.append(line[i : i + 2])
            i += 2
            continue
        elif quote == '"':
            if c == '"':
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;&|()"):
            return "".join(out), quote, True
        out.append(c)
        i += 1
    return "".join(out), quote, False


def code_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, code to scan, the whole line) for each line of a script."""
    found: list[tuple[int, str, str]] = []
    quote = ""
    heredocs: list[tuple[str, bool, bool]] = []  # (delimiter, tabs stripped, body expanded)
    for number, line in enumerate(text.splitlines(), 1):
        if heredocs:
            delimiter, dash, expanded = heredocs[0]
            if (line.lstrip("\t") if dash else line) == delimiter:
                heredocs.pop(0)
            elif expanded and "$(" in line:
                found.append((number, line[line.index("$(") :], line))
            continue
        code, quote, _ = strip_line(line, quote)
        if not quote:
            for m in HEREDOC.finditer(code):
                heredocs.append((m[3], m[1] == "-", m[2] == ""))
        found.append((number, code, line))
    return found


def hits_in(text: str) -> list[tuple[int, str, str]]:
    """(line number, rule name, the line) for each construct found in a script's text."""
    return [
        (number, name, line)
        for number, code, line in code_lines(text)
        if not WAIVER.search(line)
        for name, pattern in RULES
        if pattern.search(code)
    ]


def findings(path: str) -> list[str]:
    text = (REPO / path).read_text(encoding="utf-8")
    return [f"{path}:{number}: {name}: {line.strip()}" for number, name, line in hits_in(text)]


def test_scanner_catches_each_construct_and_spares_comments_heredocs_and_waivers() -> None:
    sample = [
        ("mapfile -t lines < f", True),
        ("declare -A RPS=()", True),
        ("local -n ref=$1", True),
        ('echo "${name,,}"', True),
        ("x=$(date +%s.%N)", True),
        ("run timeout 90 npm install", True),
        ("sum=$(sha256sum f | cut -d' ' -f1)", True),
        ("cores=$(nproc)", True),
        ("sed -i 's/a/b/' f", True),
        ("unset 'A[-1]'", True),
        ("[[ -v NAME ]]", True),
        ("sed -i.bak 's/a/b/' f", False),
        ("# mapfile and declare -A are not here", False),
        ("echo hi  # date +%N in a comment", False),
        ('die "the request timed out: --timeout 5s"', False),
        ("x=$(( ${#A[@]} - 1 ))", False),
        ("cores=$(nproc)  # portable: runs inside a Linux container", False),
    ]
    for line, flagged in sample:
        hits = hits_in(line + "\n")
        assert bool(hits) == flagged, (line, hits)
    # a quoted heredoc's body is another program's text; an unquoted one's $(...) runs here
    heredoc = "cat <<'JS'\nconst n = nproc(); date -d x\nJS\ncat <<EOF\ncores: $(nproc)\nEOF\n"
    assert [number for number, *_ in hits_in(heredoc)] == [5]
    # a comment starts at a word's start outside quotes: not inside "a # b" or ${#A[@]}
    assert hits_in("echo 'a # b'; mapfile -t x\n") and hits_in("n=${#A[@]}; nproc\n")


def scan(selected: bool) -> list[str]:
    return [
        hit for path in scanned_scripts() if path.startswith(REWRITTEN) == selected for hit in findings(path)
    ]


def test_scripts_use_only_bash_3_2_and_bsd_tools() -> None:
    hits = scan(selected=False)
    assert not hits, "not portable to macOS's bash 3.2 and BSD tools:\n" + "\n".join(hits)


def test_layout_scripts_and_their_library_use_only_bash_3_2_and_bsd_tools() -> None:
    hits = scan(selected=True)
    assert not hits, "not portable to macOS's bash 3.2 and BSD tools:\n" + "\n".join(hits)
