"""app_server in-process (Flask's test client) against a real MySQL and PostgreSQL: the answers, readiness,
connection reuse, and surviving a database restart."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from flask import Flask

from app_server import create_app
from app_server.db import POOL_MAX_SIZE, QUERY_TIMEOUT, query_one

pytestmark = pytest.mark.integration

MESSAGES = {"mysql": "Connected to MySQL!", "postgres": "Connected to PostgreSQL!"}
ISO_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# Which server session answered a request (a new connection per request would give a new one every time).
SESSION_ID_SQL = {"mysql": "SELECT CONNECTION_ID()", "postgres": "SELECT pg_backend_pid()"}
# The server's own time zone (conftest starts the databases in Asia/Seoul).
SERVER_TZ_SQL = {"mysql": "SELECT @@system_time_zone", "postgres": "SHOW TimeZone"}


@pytest.fixture
def app(database) -> Iterator[Flask]:
    app = create_app(database.app_env())
    try:
        yield app
    finally:
        app.extensions["db"].close()


def in_a_request(app: Flask, sql: str) -> object:
    """Run one query the way a request does: get_db() borrows, the app context's teardown gives back."""
    with app.app_context():
        return query_one(sql)


def test_get_root_answers_the_databases_time_in_utc(app, database) -> None:
    assert in_a_request(app, SERVER_TZ_SQL[database.engine]) in {"KST", "Asia/Seoul"}  # not UTC by accident
    response = app.test_client().get("/")
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert list(body) == ["message", "time"]
    assert body["message"] == MESSAGES[database.engine]
    assert ISO_UTC_MS.fullmatch(body["time"]), body["time"]
    answered = datetime.strptime(body["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    # The database runs in Asia/Seoul: a time not converted to UTC would be 9 hours off.
    assert abs(answered.timestamp() - database.clock()) < 5


def test_requests_reuse_database_connections(app, database) -> None:
    sessions = [in_a_request(app, SESSION_ID_SQL[database.engine]) for _ in range(10)]
    # Ten requests, one at a time: served by the pool's few connections (MySQL: this thread's one).
    assert len(set(sessions)) <= POOL_MAX_SIZE, sessions


def test_readyz_turns_200_when_the_database_comes_up(database, wait_until) -> None:
    database.stop()
    app = None
    try:
        app = create_app(database.app_env())  # the app starts while the database is down
        client = app.test_client()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.get_json()["status"] == "not ready"
        assert down.get_json()["reason"]
        failed = client.get("/")
        assert failed.status_code == 500
        assert list(failed.get_json()) == ["error"]

        database.start()
        database.wait_ready()
        ready = wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10)
        assert ready, "/readyz still 503 10 s after the database accepted logins"
        assert client.get("/").status_code == 200
    finally:
        if app is not None:
            app.extensions["db"].close()
        database.ensure_running()


def test_after_a_database_restart_the_app_answers_200_within_10_s_of_the_database_being_back(
    app, database, wait_until
) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 200  # a connection is now held (and will break)
    try:
        database.restart()
        database.wait_ready(timeout=120)  # the database's own restart is not what is measured
        back = time.monotonic()
        answered = wait_until(lambda: client.get("/").status_code == 200, timeout=10)
        elapsed = time.monotonic() - back
        assert answered, f"no 200 within 10 s of the database accepting the app again ({elapsed:.1f} s)"
    finally:
        database.ensure_running()


def test_a_frozen_database_gets_every_request_a_500_with_the_reason_within_the_deadline(
    app, database
) -> None:
    """`docker pause` freezes the server while its kernel still acknowledges TCP: no error ever comes by
    itself. Each request (one on the connection this thread already holds, three from new threads that must
    connect or wait for the pool) answers 500 with a reason within QUERY_TIMEOUT + 1 s, and 2 s after the
    unpause every request answers 200 again."""
    client = app.test_client()
    assert client.get("/").status_code == 200  # this thread now holds a connection: the deadline's path
    wrapped = database.container.get_wrapped_container()

    def timed_get() -> tuple[float, int, str]:
        started = time.monotonic()
        response = app.test_client().get("/")
        return time.monotonic() - started, response.status_code, (response.get_json() or {}).get("error", "")

    wrapped.pause()
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            others = [pool.submit(timed_get) for _ in range(3)]
            held = timed_get()
            answers = [held, *(f.result(timeout=QUERY_TIMEOUT + 10) for f in others)]
    finally:
        wrapped.unpause()
    unpaused = time.monotonic()
    assert [status for _, status, _ in answers] == [500] * 4, answers
    assert all(reason for _, _, reason in answers), answers
    assert max(took for took, _, _ in answers) <= QUERY_TIMEOUT + 1, answers
    # the request on a connection that was there (this thread's, or the pool's one) met the deadline
    assert any(f"no answer from the database within {QUERY_TIMEOUT} s" in reason for *_, reason in answers)
    time.sleep(max(0.0, 2 - (time.monotonic() - unpaused)))
    after = [client.get("/").status_code for _ in range(5)]
    after += [f.result() for f in [ThreadPoolExecutor(2).submit(lambda: timed_get()[1]) for _ in range(2)]]
    assert after == [200] * 7, after
