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
from app_server.db import (
    CONNECT_TIMEOUT,
    DB_ERRORS,
    POOL_MAX_SIZE,
    QUERY_TIMEOUT,
    error_message,
    get_db,
    query_one,
)

pytestmark = pytest.mark.integration

MESSAGES = {"mysql": "Connected to MySQL!", "postgres": "Connected to PostgreSQL!"}
ISO_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# Which server session answered a request (a new connection per request would give a new one every time).
SESSION_ID_SQL = {"mysql": "SELECT CONNECTION_ID()", "postgres": "SELECT pg_backend_pid()"}
# One second of the server's time, then the session's id.
SLOW_SESSION_ID_SQL = {
    "mysql": "SELECT CONNECTION_ID() FROM (SELECT SLEEP(1)) AS slept",
    "postgres": "SELECT pg_backend_pid() FROM pg_sleep(1)",
}
# A statement that takes longer than QUERY_TIMEOUT.
SLOW_SQL = {"mysql": "SELECT SLEEP(10)", "postgres": "SELECT pg_sleep(10)"}
# Who stops it: PostgreSQL cancels it itself (statement_timeout, half a second before the deadline), MySQL has
# no such setting here, so the app's deadline cuts the connection.
SLOW_REASON = {
    "mysql": f"no answer from the database within {QUERY_TIMEOUT} s",
    "postgres": "canceling statement due to statement timeout",
}
# Every session of the app's account, as one comma-separated list.
SESSIONS_SQL = {
    "mysql": "SELECT GROUP_CONCAT(ID) FROM information_schema.PROCESSLIST",
    "postgres": "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE usename = current_user",
}
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


def test_closing_the_app_ends_its_database_sessions(database, wait_until) -> None:
    app = create_app(database.app_env())
    probe = create_app(database.app_env())  # asks the server, on a connection of its own

    def sessions() -> list[str]:
        return str(in_a_request(probe, SESSIONS_SQL[database.engine])).split(",")

    try:
        session = str(in_a_request(app, SESSION_ID_SQL[database.engine]))
        assert session in sessions()  # seen while the app holds it
        app.extensions["db"].close()
        assert wait_until(lambda: session not in sessions(), timeout=5), f"{session} still open after close()"
    finally:
        app.extensions["db"].close()
        probe.extensions["db"].close()


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
        # the first request already: the connection the restart closed is noticed and replaced, not used
        first = client.get("/")
        assert first.status_code == 200, first.data
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


def test_concurrent_requests_each_get_a_connection_of_their_own(app, database) -> None:
    """As many requests at once as gunicorn has threads: served side by side, not one after another."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=POOL_MAX_SIZE) as pool:
        futures = [
            pool.submit(in_a_request, app, SLOW_SESSION_ID_SQL[database.engine]) for _ in range(POOL_MAX_SIZE)
        ]
        sessions = [f.result(timeout=30) for f in futures]
    assert len(set(sessions)) == POOL_MAX_SIZE, sessions
    # side by side: in a row they would take POOL_MAX_SIZE s (4); the slack is for a loaded 2-core machine
    assert time.monotonic() - started < POOL_MAX_SIZE - 0.5


def test_a_slow_statement_ends_at_the_deadline_and_the_next_request_is_served(app, database) -> None:
    started = time.monotonic()
    with pytest.raises(DB_ERRORS) as raised:
        in_a_request(app, SLOW_SQL[database.engine])
    took = time.monotonic() - started
    assert QUERY_TIMEOUT - 1 <= took <= QUERY_TIMEOUT + 2, took  # well before the statement's own 10 s
    assert SLOW_REASON[database.engine] in error_message(raised.value)
    assert app.test_client().get("/").status_code == 200


@pytest.mark.parametrize(
    "database", ["postgres"], indirect=True
)  # MySQL has a connection per thread, no pool
def test_every_pooled_connection_taken_is_a_500_saying_the_pool_waited(app, database) -> None:
    """The database is up and answers, but all POOL_MAX_SIZE connections are lent out: the next request
    waits CONNECT_TIMEOUT and its error is the pool's own ("couldn't get a connection"), there being no
    driver error to name."""
    pool = app.extensions["db"]
    taken = [pool.borrow() for _ in range(POOL_MAX_SIZE)]
    try:
        started = time.monotonic()
        response = app.test_client().get("/")
        took = time.monotonic() - started
    finally:
        for conn in taken:
            pool.give_back(conn)
    assert response.status_code == 500, response.data
    assert "couldn't get a connection" in response.get_json()["error"], response.get_json()
    assert took >= CONNECT_TIMEOUT - 0.5, took
    assert app.test_client().get("/").status_code == 200  # given back: served again


def test_one_request_borrows_one_connection_however_often_it_asks(app, database) -> None:
    with app.app_context():
        first = get_db()
        assert get_db() is first  # the same connection for the whole request, given back once at its end
