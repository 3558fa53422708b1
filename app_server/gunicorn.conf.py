"""gunicorn settings for the app (the image runs: gunicorn --config app_server/gunicorn.conf.py ...).

Any of these can be overridden at `docker run` time without a rebuild:  -e GUNICORN_CMD_ARGS="--workers 4".
"""

from __future__ import annotations

import os
import time

# app.js listens on 3000. 0.0.0.0 inside the container, so that `-p 127.0.0.1:3000:3000` and other containers
# on the network reach it; the container's own published address decides who outside can.
bind = "0.0.0.0:3000"

# Sized for a 2-core box: one worker process per core, so Python's GIL never makes one process the bottleneck,
# and 4 threads in each, because a request spends most of its time waiting on the database (a round trip),
# not on the CPU. That is 8 requests in flight and at most 8 database connections (one per thread).
workers = 2
worker_class = "gthread"
threads = 4

# gunicorn's own messages (start, workers, errors) go where `docker logs` reads them. No access log, like
# app.js: in the 3-tier nginx already logs every request at the edge, and a second line per request through
# Docker's log driver cost ~15 % of the app's req/s (extras/bench/results.md). To see each request here:
#   docker run ... -e GUNICORN_CMD_ARGS="--access-logfile -" ...
accesslog = None
errorlog = "-"

# nginx keeps its connections to the app open between requests (nginx/templates: `keepalive`) and closes an
# idle one after 15 s. gunicorn's own limit (its default is 2 s) is longer, so an idle connection is always
# closed by nginx first: with gunicorn closing first, a request nginx sent at that moment would meet a closed
# socket.
keepalive = 20

# On SIGTERM (`docker stop`), workers finish in-flight requests for up to 8 s, inside docker stop's 10 s grace
# before SIGKILL (the Swarm stack's stop_grace_period covers DRAIN_SECONDS on top).
graceful_timeout = 8
# gthread: the master replaces a worker whose main loop has not checked in for this long. It does not stop a
# request's thread stuck in a query: db.py's deadline (QUERY_TIMEOUT, 5 s) cuts that query's connection.
timeout = 30

# No `gunicornc` control socket: nothing here uses it, and the image's user has no home to put it in.
control_socket_disable = True


# DRAIN_SECONDS (default 0): on SIGTERM, go on serving for this long before the graceful stop above starts.
# In a Swarm rolling update the stopping task has already left Docker's DNS; nginx, which re-resolves
# app-server every RESOLVER_VALID (2 s there), needs a moment to stop choosing it and to let its kept
# connections to it go idle. Draining means every request sent to the task meanwhile is still answered.
# SIGINT and SIGQUIT (Ctrl-C) still stop at once, except during a drain, which they follow.
DRAIN_VARIABLE = "DRAIN_SECONDS"


def drain_seconds(environ) -> float:
    """DRAIN_SECONDS as seconds from 0 to 60; ConfigError naming the variable and an example otherwise."""
    from app_server.config import ConfigError

    raw = environ.get(DRAIN_VARIABLE, "").strip() or "0"
    try:
        seconds = float(raw)
    # float() rejects a non-number; the range check below then reports it with the example.
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise ConfigError(
            f'{DRAIN_VARIABLE} must be seconds from 0 to 60, e.g. -e {DRAIN_VARIABLE}=5 (got "{raw}")'
        )
    return seconds


def when_ready(server) -> None:
    """Replace the master's SIGTERM handler with one that drains first, when DRAIN_SECONDS is above 0."""
    seconds = drain_seconds(os.environ)  # checked in on_starting
    if seconds == 0:
        return

    def drain_then_stop() -> None:
        server.log.info("SIGTERM: serving on for %s s (%s) before the graceful stop", seconds, DRAIN_VARIABLE)
        # The master's loop runs this (not a signal handler): the workers keep serving while it sleeps.
        time.sleep(seconds)
        raise StopIteration  # what gunicorn's own handle_term does: a graceful stop of the workers

    server.handle_term = drain_then_stop


def on_starting(server) -> None:
    """Check the app's settings once, in the master, before any worker starts.

    A bad value then ends start-up with exactly one log line naming the variable and exit code 1 — instead of
    each worker dying with a traceback and gunicorn reporting "Worker failed to boot" (exit code 3).
    """
    from app_server.config import ConfigError, load_config

    try:
        load_config(os.environ)
        drain_seconds(os.environ)
    # Only a bad setting is reported this way; anything else is a bug and keeps its traceback.
    except ConfigError as exc:
        server.log.error("%s", exc)
        raise SystemExit(1) from None
