"""The routes: app.js's GET /, plus health endpoints and JSON errors."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app
from werkzeug.exceptions import HTTPException

from .db import DB_ERRORS, error_message, query_one

bp = Blueprint("app", __name__)
# The container's hostname (Docker sets it to the container ID, or the task's in Swarm): sent on every
# response, so the page and the Swarm checks can tell which app-server replica answered.
HOSTNAME = socket.gethostname()


@bp.after_app_request
def served_by(response: Response) -> Response:
    response.headers["X-Served-By"] = HOSTNAME
    return response


def reply(body: dict[str, Any], status: int = 200) -> Response:
    """JSON, keys in the order written, json.dumps spacing: {"message": "...", "time": "..."}, no newline."""
    return Response(json.dumps(body), status=status, mimetype="application/json")


def iso_utc(moment: datetime) -> str:
    """What Express prints for a driver's date: ISO-8601 in UTC, milliseconds, "Z" (2026-11-28T10:00:00.000Z).

    A naive value is MySQL's NOW() in the session time zone, which db.py sets to UTC.
    """
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@bp.get("/")
def index() -> Response:
    """app.js's route: the database's clock, or the driver's error message with HTTP 500."""
    try:
        now = query_one("SELECT NOW()")
    # Unreachable, refused, timed out, restarted: the learner sees why, as app.js's err.message.
    except DB_ERRORS as exc:
        return reply({"error": error_message(exc)}, 500)
    engine_name = current_app.config["DB"].engine_name
    return reply({"message": f"Connected to {engine_name}!", "time": iso_utc(now)})


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. No database, so a database outage never restarts the app."""
    return reply({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: a query succeeds now; otherwise 503 with the driver's reason."""
    try:
        query_one("SELECT 1")
    # Same errors as GET /: not ready until the database answers.
    except DB_ERRORS as exc:
        return reply({"status": "not ready", "reason": error_message(exc)}, 503)
    return reply({"status": "ready"})


def http_error(exc: HTTPException) -> Response:
    """404, 405 (keeping its Allow header) and any other HTTP error as JSON, never an HTML page."""
    response = exc.get_response()
    response.set_data(json.dumps({"error": exc.name}))
    response.mimetype = "application/json"
    return response
