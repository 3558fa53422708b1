#!/usr/bin/env python3
"""steady_load.py — a steady, bounded HTTP load for extras/drills/drill.sh, and what each request saw.

Usage: extras/drills/steady_load.py URL --out FILE [--rate 20] [--seconds 240] [--timeout 2]

Sends RATE requests a second to URL (on a fixed schedule, whether or not earlier ones have answered), each
with a TIMEOUT, and writes one tab-separated line per request to FILE as it completes:

    start  end  status  upstream  error

start and end are epoch seconds (the clock `date +%s.%N` reads), status is the HTTP status (0: no HTTP
answer: refused, reset or timed out), upstream is nginx's X-Upstream-Addr header (which app-server address
answered) and error says why a request got no answer. It stops after SECONDS, or earlier on SIGTERM or
SIGINT (drill.sh stops it when the drill is over), waits for the requests in flight (at most TIMEOUT) and
exits 0. At most RATE x TIMEOUT requests are ever in flight. Standard library only (Python 3.11+).
"""

from __future__ import annotations

import argparse
import http.client
import math
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

# No proxy from the environment (http_proxy): the load goes to 127.0.0.1 and nowhere else.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A steady, bounded HTTP load; one line per request.")
    parser.add_argument("url")
    parser.add_argument("--out", required=True, help="the tab-separated result file")
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second (0.1-200)")
    parser.add_argument("--seconds", type=float, default=240.0, help="stop after this long at most")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds each request may take")
    args = parser.parse_args(argv)
    if not 0.1 <= args.rate <= 200 or args.seconds <= 0 or args.timeout <= 0:
        parser.error("--rate takes 0.1 to 200; --seconds and --timeout take positive numbers")
    return args


def one_request(url: str, timeout: float) -> tuple[float, float, int, str, str]:
    """(start, end, status, upstream, error) for one GET."""
    start = time.time()
    status, upstream, error = 0, "", ""
    try:
        with OPENER.open(url, timeout=timeout) as response:
            response.read()
            status, upstream = response.status, response.headers.get("X-Upstream-Addr", "")
    # An HTTP error status is an answer: keep its code and which upstream gave it.
    except urllib.error.HTTPError as exc:
        status, upstream = exc.code, exc.headers.get("X-Upstream-Addr", "") if exc.headers else ""
    # No HTTP answer at all: refused, reset, timed out (OSError), or a broken response (HTTPException).
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(exc).__name__}: {reason}".replace("\t", " ").replace("\n", " ")
    return start, time.time(), status, upstream, error


class Recorder:
    """Writes each finished request as one line, flushed, so a reader sees it while the load goes on."""

    def __init__(self, out: TextIO) -> None:
        self._out, self._lock = out, threading.Lock()
        self.total = self.failed = 0

    def record(self, url: str, timeout: float) -> None:
        start, end, status, upstream, error = one_request(url, timeout)
        with self._lock:
            self.total += 1
            self.failed += status != 200
            self._out.write(f"{start:.3f}\t{end:.3f}\t{status}\t{upstream}\t{error}\n")
            self._out.flush()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # Enough threads for every request that can be in flight: none waits for a free thread.
    workers = math.ceil(args.rate * args.timeout) + 2
    with open(args.out, "w", encoding="utf-8") as out, ThreadPoolExecutor(max_workers=workers) as pool:
        recorder = Recorder(out)
        begin = time.monotonic()
        sent = 0
        while not stop.is_set() and sent / args.rate < args.seconds:
            due = begin + sent / args.rate
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            pool.submit(recorder.record, args.url, args.timeout)
            sent += 1
    print(f"steady_load: {recorder.total} requests, {recorder.failed} without a 200", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
