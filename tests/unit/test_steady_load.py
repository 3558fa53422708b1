"""extras/drills/steady_load.py, the drills' load generator, against a tiny server on 127.0.0.1 (no engine).

The drills count failures from its file; these tests prove it records what really happened: each status,
the upstream header, "no answer" when nothing listens, and that SIGTERM ends it early with its file intact.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from labenv import REPO, wait_until

pytestmark = pytest.mark.unit

LOAD = [sys.executable, str(REPO / "extras" / "drills" / "steady_load.py")]


class EveryThirdFails(BaseHTTPRequestHandler):
    """200 twice, then 500; every answer names an upstream, as nginx's X-Upstream-Addr does."""

    count = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with EveryThirdFails.lock:
            EveryThirdFails.count += 1
            status = 500 if EveryThirdFails.count % 3 == 0 else 200
        self.send_response(status)
        self.send_header("X-Upstream-Addr", "10.0.0.7:3000")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EveryThirdFails)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/api/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def lines(out: Path) -> list[list[str]]:
    return [line.split("\t") for line in out.read_text().splitlines()]


def test_records_every_request_with_status_and_upstream(server: str, tmp_path: Path) -> None:
    out = tmp_path / "load.tsv"
    done = subprocess.run([*LOAD, server, "--rate", "20", "--seconds", "1.5", "--out", str(out)], timeout=30)
    assert done.returncode == 0
    rows = lines(out)
    assert len(rows) == 30  # 20 a second for 1.5 s: the schedule, not how fast the server answered
    assert {row[2] for row in rows} == {"200", "500"}
    assert sum(row[2] == "500" for row in rows) == 10
    assert all(row[3] == "10.0.0.7:3000" for row in rows)  # kept for errors too
    starts = sorted(float(row[0]) for row in rows)
    assert all(float(row[1]) >= float(row[0]) for row in rows)
    assert starts[-1] - starts[0] > 1.2  # spread over the run, not sent in one burst


def test_no_answer_is_status_0_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as probe:  # bound for the whole run (nothing else can take it), never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
        out = tmp_path / "load.tsv"
        done = subprocess.run([*LOAD, url, "--rate", "10", "--seconds", "0.5", "--out", str(out)], timeout=30)
    assert done.returncode == 0
    rows = lines(out)
    assert rows and all(row[2] == "0" for row in rows)
    assert all("refused" in row[4].lower() for row in rows), rows


def test_sigterm_stops_it_early_and_keeps_the_file(server: str, tmp_path: Path) -> None:
    out = tmp_path / "load.tsv"
    load = subprocess.Popen([*LOAD, server, "--rate", "20", "--seconds", "60", "--out", str(out)])
    # the load is under way once its first request is on file (each line is flushed as it ends)
    assert wait_until(lambda: out.exists() and lines(out), timeout=20), "no request finished within 20 s"
    began = time.monotonic()
    load.send_signal(signal.SIGTERM)
    assert load.wait(timeout=10) == 0
    assert time.monotonic() - began < 5  # in-flight requests end within their 2 s timeout
    assert 0 < len(lines(out)) < 200  # what was sent before the signal, not 60 s worth (1,200)


def test_bad_rate_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*LOAD, "http://127.0.0.1:1/", "--rate", "0", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--rate takes 0.1 to 200" in result.stderr
