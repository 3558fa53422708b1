"""gunicorn settings for the app (the image runs: gunicorn --config app_server/gunicorn.conf.py ...).

Any of these can be overridden at `docker run` time without a rebuild:  -e GUNICORN_CMD_ARGS="--workers 4".
"""

from __future__ import annotations

import os

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

# On SIGTERM (`docker stop`), workers finish in-flight requests for up to 8 s, inside docker stop's 10 s grace
# before SIGKILL.
graceful_timeout = 8
# gthread: the master replaces a worker whose main loop has not checked in for this long. It does not stop a
# request's thread stuck in a query: db.py's deadline (QUERY_TIMEOUT, 5 s) cuts that query's connection.
timeout = 30

# No `gunicornc` control socket: nothing here uses it, and the image's user has no home to put it in.
control_socket_disable = True


def on_starting(server) -> None:
    """Check the app's settings once, in the master, before any worker starts.

    A bad value then ends start-up with exactly one log line naming the variable and exit code 1 — instead of
    each worker dying with a traceback and gunicorn reporting "Worker failed to boot" (exit code 3).
    """
    from app_server.config import ConfigError, load_config

    try:
        load_config(os.environ)
    # Only a bad setting is reported this way; anything else is a bug and keeps its traceback.
    except ConfigError as exc:
        server.log.error("%s", exc)
        raise SystemExit(1) from None
